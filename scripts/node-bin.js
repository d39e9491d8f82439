// Finds (or installs into ./.tools/node24) Node.js 24 LTS, and a better-sqlite3 addon built for it:
// node_modules holds the addon for the Node.js that ran `npm ci`, and a process can only load one built
// for its own ABI. Plain CommonJS with no dependencies, like temporal-bin.js.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, renameSync, rmSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const DIR = path.join(ROOT, '.tools', 'node24');
// Pinned so every machine tests the same release; the registry's node-<platform>-<arch> packages are
// the official binaries (bin/node) with their headers (include/node), and no install scripts.
const VERSION = '24.22.3';
const NODE = path.join(DIR, 'bin', 'node');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function installedVersion() {
  const found = spawnSync(NODE, ['--version'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

/** Unpacks the registry tarball next to DIR, then moves it in place, so an interrupted install is never taken for a finished one. */
function installNode() {
  const spec = `node-${process.platform}-${process.arch}@${VERSION}`;
  console.log(`Installing Node.js ${VERSION} (${spec} from the npm registry) into .tools/node24 ...`);
  const download = mkdtempSync(path.join(os.tmpdir(), 'node24-'));
  const partial = `${DIR}.partial`;
  try {
    const packed = execFileSync(npm, ['pack', spec, '--ignore-scripts', '--json', '--pack-destination', download], { cwd: download, encoding: 'utf8' });
    const [{ filename }] = JSON.parse(packed);
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(partial, { recursive: true });
    execFileSync('tar', ['-xzf', path.join(download, filename), '-C', partial, '--strip-components=1'], { stdio: 'inherit' });
    rmSync(DIR, { recursive: true, force: true });
    renameSync(partial, DIR);
  } finally {
    rmSync(download, { recursive: true, force: true });
  }
}

/** npm's own node-gyp: the one `npm run` names, else the one next to the `npm` on PATH. */
function nodeGyp() {
  if (process.env.npm_config_node_gyp) return process.env.npm_config_node_gyp;
  const found = spawnSync('sh', ['-c', `command -v ${npm}`], { encoding: 'utf8' });
  if (found.status !== 0) throw new Error('npm is not on PATH, and its node-gyp builds better-sqlite3 for Node.js 24');
  return path.join(path.dirname(realpathSync(found.stdout.trim())), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
}

/**
 * Builds node_modules' better-sqlite3 sources (SQLite included) against DIR's headers, in a folder of
 * its own: nothing in node_modules changes, and no download is needed.
 */
function betterSqlite3Binding() {
  const source = path.join(ROOT, 'node_modules', 'better-sqlite3');
  const { version } = JSON.parse(readFileSync(path.join(source, 'package.json'), 'utf8'));
  const dir = path.join(DIR, `better-sqlite3@${version}`);
  const binding = path.join(dir, 'build', 'Release', 'better_sqlite3.node');
  if (existsSync(binding) && loads(binding)) return binding;
  console.log(`Building better-sqlite3 ${version} for Node.js ${VERSION} into .tools/node24 ...`);
  rmSync(dir, { recursive: true, force: true });
  for (const part of ['binding.gyp', 'src', 'deps']) cpSync(path.join(source, part), path.join(dir, part), { recursive: true });
  // Under `npm run`, npm hands its config to node-gyp as npm_config_* variables, and a machine's
  // npmrc may name Node.js 20's headers there (`nodedir=/usr`): that would win over the flag.
  const env = { ...process.env, npm_config_nodedir: DIR };
  const build = spawnSync(NODE, [nodeGyp(), 'rebuild', '--release', `--nodedir=${DIR}`], { cwd: dir, encoding: 'utf8', env });
  if (build.status !== 0) {
    process.stderr.write(`${build.stdout ?? ''}${build.stderr ?? ''}`);
    throw new Error('node-gyp could not build better-sqlite3 for Node.js 24: its output is above');
  }
  if (!loads(binding)) throw new Error(`the better-sqlite3 addon built for Node.js ${VERSION} does not load in it (headers of another Node.js?)`);
  return binding;
}

/** Whether Node.js 24 loads the addon: one built against other headers fails here, not in the tests. */
function loads(binding) {
  return spawnSync(NODE, ['-e', `require(${JSON.stringify(binding)})`], { stdio: 'ignore' }).status === 0;
}

/** Node.js 24 (`node`) and the better-sqlite3 addon for it (`betterSqlite3Binding`), installed when missing. */
function findNode24() {
  if (installedVersion() !== `v${VERSION}`) installNode();
  if (installedVersion() !== `v${VERSION}`) throw new Error(`.tools/node24/bin/node does not run as Node.js ${VERSION}`);
  return { node: NODE, betterSqlite3Binding: betterSqlite3Binding() };
}

module.exports = { findNode24, NODE24_VERSION: VERSION };

if (require.main === module) console.log(JSON.stringify(findNode24()));
