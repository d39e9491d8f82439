import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { envSchema } from '../../src/config';
import {
  CONFIG_DOC,
  ENV_EXAMPLE,
  OUTSIDE_SCHEMA,
  renderConfigTables,
  renderEnvExample,
  schemaVariables,
  SYSTEM_VARIABLES,
  withTables,
} from '../../scripts/config-docs';

const ROOT = path.resolve(__dirname, '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

/** Fails with the first line that differs and the command that regenerates the file. */
function expectGenerated(file: string, actual: string, expected: string) {
  if (actual === expected) return;
  const actualLines = actual.split('\n');
  const expectedLines = expected.split('\n');
  const line = expectedLines.findIndex((text, index) => text !== actualLines[index]);
  const at = line < 0 ? actualLines.length : line;
  throw new Error(
    `${file} differs from what src/config.ts generates: run \`npm run docs:config\`.\n` +
      `line ${at + 1}\n  file:      ${actualLines[at] ?? '(end of file)'}\n  generated: ${expectedLines[at] ?? '(end of file)'}`,
  );
}

function sourceFiles(folder: string): string[] {
  return readdirSync(path.join(ROOT, folder), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(ts|js|mjs|cjs)$/.test(entry.name))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** Names read as `process.env.NAME`, `process.env['NAME']` or `const { NAME } = process.env`. */
function variablesRead(folders: string[]): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of folders.flatMap(sourceFiles)) {
    const text = readFileSync(file, 'utf8');
    const names = [
      ...[...text.matchAll(/process\.env(?:\.([A-Z_][A-Z0-9_]*)|\[\s*['"`]([A-Z_][A-Z0-9_]*)['"`]\s*\])/g)].map((m) => m[1] ?? m[2]),
      ...[...text.matchAll(/\{([^}]*)\}\s*=\s*process\.env\b/g)].flatMap((m) => m[1].match(/[A-Z_][A-Z0-9_]*/g) ?? []),
    ];
    for (const name of names) found.set(name, [...(found.get(name) ?? []), path.relative(ROOT, file)]);
  }
  return found;
}

describe('generated configuration docs', () => {
  it('docs/configuration.md holds the table the schema generates', () => {
    const page = read(CONFIG_DOC);
    expectGenerated(CONFIG_DOC, page, withTables(page, renderConfigTables()));
  });

  it('.env.example is the one the schema generates', () => {
    expectGenerated(ENV_EXAMPLE, read(ENV_EXAMPLE), renderEnvExample());
  });

  it('takes every variable, description and default from the schema', () => {
    const variables = schemaVariables();
    expect(variables.map((v) => v.name)).toEqual(Object.keys(envSchema.shape));
    expect(variables.find((v) => v.name === 'PORT')).toEqual({ name: 'PORT', default: '3000', description: 'HTTP port of the API.' });
    expect(renderConfigTables()).toContain('| `PORT` | `3000` | HTTP port of the API. |');
    expect(renderEnvExample()).toContain('# HTTP port of the API.\n# PORT=3000\n');
    expect(variables.find((v) => v.name === 'DATABASE_URL')?.default).toBeUndefined();
  });

  it('documents every variable the application and its scripts read', () => {
    const documented = new Set([...Object.keys(envSchema.shape), ...OUTSIDE_SCHEMA.map((v) => v.name), ...SYSTEM_VARIABLES]);
    const undocumented = [...variablesRead(['src', 'api', 'worker', 'activities', 'scripts'])].filter(([name]) => !documented.has(name));
    expect(undocumented.map(([name, files]) => `${name} (read in ${[...new Set(files)].join(', ')})`)).toEqual([]);
  });

  it('lists outside the schema only variables something reads', () => {
    const read = variablesRead(['src', 'api', 'worker', 'activities', 'scripts', 'test']);
    expect(OUTSIDE_SCHEMA.map((v) => v.name).filter((name) => !read.has(name))).toEqual([]);
    expect(OUTSIDE_SCHEMA.map((v) => v.name).filter((name) => name in envSchema.shape)).toEqual([]);
  });
});
