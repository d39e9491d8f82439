// swagger-ui-dist ships no types; the API serves Swagger UI's files from this folder.
declare module 'swagger-ui-dist' {
  export function getAbsoluteFSPath(): string;
}
