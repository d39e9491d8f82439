// Finds (or installs into ./.tools) Schemathesis, the API fuzzer test/adversarial/fuzz.test.ts runs
// against /v1/openapi.json. Plain CommonJS with no dependencies, like temporal-bin.js.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const VENV = path.join(ROOT, '.tools', 'schemathesis');
// Pinned so every machine fuzzes with the same generator and checks.
const PACKAGE = 'schemathesis==4.32.5';

function onPath(name) {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

function venvBin() {
  const file = path.join(VENV, 'bin', 'schemathesis');
  return existsSync(file) ? file : undefined;
}

function pipInstall() {
  const python = onPath('python3') || onPath('python');
  if (!python) return undefined;
  try {
    if (!existsSync(path.join(VENV, 'bin', 'pip'))) execFileSync(python, ['-m', 'venv', VENV], { stdio: 'inherit' });
    console.log(`Installing ${PACKAGE} into .tools/schemathesis ...`);
    execFileSync(path.join(VENV, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', PACKAGE], { stdio: 'inherit' });
  } catch (error) {
    console.error(`pip install ${PACKAGE} failed: ${error.message}`);
    return undefined;
  }
  return venvBin();
}

/**
 * The `schemathesis` command: SCHEMATHESIS_PATH, then ./.tools, then a pip install into ./.tools
 * when `install` is set (not PATH: another version there would fuzz differently).
 */
function findSchemathesis({ install = true } = {}) {
  if (process.env.SCHEMATHESIS_PATH) return process.env.SCHEMATHESIS_PATH;
  return venvBin() || (install ? pipInstall() : undefined);
}

module.exports = { findSchemathesis, SCHEMATHESIS_PACKAGE: PACKAGE };

if (require.main === module) console.log(JSON.stringify({ schemathesis: findSchemathesis() }));
