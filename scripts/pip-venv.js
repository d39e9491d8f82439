// Command-line tools from PyPI, each pinned and installed into a virtualenv of its own under ./.tools.
// Plain CommonJS with no dependencies: `npm start` / `npm test` run it before node_modules may exist.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

const TOOLS = path.resolve(__dirname, '..', '.tools');

/** The command `name` as the shell finds it on PATH, or undefined. */
function onPath(name) {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

/**
 * The virtualenv `.tools/<folder>`: `bin(name)` is a command already installed there, `install(name,
 * pkg)` pip-installs the pinned `pkg` (creating the virtualenv first) and answers `bin(name)`, or
 * undefined when there is no Python or pip failed (it says why).
 */
function pipVenv(folder) {
  const venv = path.join(TOOLS, folder);
  const bin = (name) => {
    const file = path.join(venv, 'bin', name);
    return existsSync(file) ? file : undefined;
  };
  const install = (name, pkg) => {
    const python = onPath('python3') || onPath('python');
    if (!python) return undefined;
    try {
      if (!existsSync(path.join(venv, 'bin', 'pip'))) execFileSync(python, ['-m', 'venv', venv], { stdio: 'inherit' });
      console.log(`Installing ${pkg} into .tools/${folder} ...`);
      execFileSync(path.join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', pkg], { stdio: 'inherit' });
    } catch (error) {
      console.error(`pip install ${pkg} failed: ${error.message}`);
      return undefined;
    }
    return bin(name);
  };
  return { bin, install };
}

module.exports = { onPath, pipVenv };
