import jwt from 'jsonwebtoken';
import type { Context, Middleware } from 'koa';
import koaJwt from 'koa-jwt';
import { z } from 'zod';
import { forbidden, notFound, unauthorized } from '../src/errors';

export const ROLES = ['admin', 'operator', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

const claimsSchema = z.object({
  sub: z.string().min(1),
  role: z.enum(ROLES),
  account_ids: z.array(z.string()).default([]),
});
export type Claims = z.infer<typeof claimsSchema>;

/** Bearer JWT (HS256) with an expiry and valid claims, or 401 before anything is read. */
export function requireToken(secret: string): Middleware {
  const verify = koaJwt({ secret, algorithms: ['HS256'], key: 'jwt' });
  return async (ctx, next) => {
    await verify(ctx, async () => {
      const payload = ctx.state.jwt as { exp?: unknown } | undefined;
      if (typeof payload?.exp !== 'number') throw unauthorized('The token has no expiry (exp claim); sign one that expires.');
      const claims = claimsSchema.safeParse(payload);
      if (!claims.success) throw unauthorized('The token lacks valid sub, role or account_ids claims.');
      ctx.state.claims = claims.data;
      await next();
    });
  };
}

/**
 * The segments of a request path as any reader of it might take them: percent-decoding repeated,
 * `\` read as `/`, empty and dot segments resolved, trailing dots and spaces dropped, lower case.
 */
export function pathSegments(path: string): string[] {
  let decoded = path;
  for (let round = 0; round < 5; round++) {
    const next = decoded.replace(/(%[0-9a-f]{2})+/gi, decodeLeniently);
    if (next === decoded) break;
    decoded = next;
  }
  const segments: string[] = [];
  for (const raw of decoded.toLowerCase().split(/[/\\]+/)) {
    const segment = withoutTrailingDotsAndSpaces(raw);
    if (raw === '..') segments.pop();
    else if (segment) segments.push(segment);
  }
  return segments;
}

/** One run of escapes; a run that is not UTF-8 (`/%76%31%ff`) is decoded byte by byte as Latin-1. */
function decodeLeniently(run: string): string {
  try {
    return decodeURIComponent(run);
  } catch {
    return run.replace(/%([0-9a-f]{2})/gi, (_escape, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
}

/** A loop rather than a regular expression: `/[.\s]+$/` backtracks quadratically on a long path. */
function withoutTrailingDotsAndSpaces(segment: string): string {
  let end = segment.length;
  while (end > 0 && (segment[end - 1] === '.' || segment[end - 1].trim() === '')) end--;
  return segment.slice(0, end);
}

/** Whether a path is under `/v1` in any spelling: `/V1`, `//v1`, `/%76%31`, `/v1.`, `/v1` itself. */
export const isUnderV1 = (path: string): boolean => pathSegments(path)[0] === 'v1';

/**
 * The token check for every request under `/v1` that reaches it. The app mounts it after the open
 * routes (webhooks, `/v1/openapi.json`), so whatever they did not answer needs a token, however the
 * path is spelled: no route behind it can run first.
 */
export function guardV1(secret: string): Middleware {
  const token = requireToken(secret);
  return async (ctx, next) => {
    if (isUnderV1(ctx.path)) await token(ctx, next);
    else await next();
  };
}

export function claimsOf(ctx: Context): Claims {
  return ctx.state.claims as Claims;
}

/**
 * Access to an account's resources: another account's resource is 404 (its existence is not
 * revealed), a viewer writing is 403.
 */
export function authorize(ctx: Context, accountId: string, access: 'read' | 'write', what = 'Resource'): void {
  const claims = claimsOf(ctx);
  if (claims.role !== 'admin' && !claims.account_ids.includes(accountId)) throw notFound(what);
  if (access === 'write' && claims.role === 'viewer') throw forbidden('Viewers may read but not change anything.');
  // The account a write touched, for the audit log.
  ctx.state.accountId = accountId;
}

/** Tokens always expire: the guard refuses one without `exp`. */
export function signToken(secret: string, claims: Claims, expiresIn: NonNullable<jwt.SignOptions['expiresIn']> = '30d'): string {
  return jwt.sign(claims, secret, { algorithm: 'HS256', expiresIn });
}

/** The admin token `npm start` prints: only in development, never where the API is deployed or tested. */
export function developmentToken(config: { env: string; jwtSecret: string }): string | undefined {
  if (config.env !== 'development') return undefined;
  return signToken(config.jwtSecret, { sub: 'developer', role: 'admin', account_ids: ['dev'] });
}
