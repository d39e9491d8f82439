// Finds (or, as root on Debian, installs with apt) Debian's Chromium for the console's browser tests
// (test/console) and `npm run console:screenshots`. Plain CommonJS with no dependencies, like temporal-bin.js.
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');

const DEBIAN_CHROMIUM = '/usr/bin/chromium';
// fonts-dejavu-core: without a font the pages render as boxes in screenshots.
const APT_PACKAGES = ['chromium', 'fonts-dejavu-core'];
const INSTALL_COMMAND = `apt-get update && apt-get install -y --no-install-recommends ${APT_PACKAGES.join(' ')}`;

const canInstall = () => process.platform === 'linux' && process.getuid?.() === 0 && existsSync('/etc/debian_version');

function aptInstall() {
  console.log(`Installing Chromium (${APT_PACKAGES.join(', ')}) with apt-get ...`);
  const options = { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } };
  try {
    execFileSync('apt-get', ['-qq', 'update'], options);
    execFileSync('apt-get', ['-qq', 'install', '-y', '--no-install-recommends', ...APT_PACKAGES], options);
  } catch (error) {
    console.error(`apt-get install chromium failed: ${error.message}`);
  }
}

/**
 * The Chromium binary: CHROMIUM_PATH, then Debian's /usr/bin/chromium, then (with `install`, as
 * root on Debian) an apt-get install. Undefined means: tell the user `chromiumMissing()`.
 */
function findChromium({ install = true } = {}) {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  if (existsSync(DEBIAN_CHROMIUM)) return DEBIAN_CHROMIUM;
  if (!install || !canInstall()) return undefined;
  aptInstall();
  return existsSync(DEBIAN_CHROMIUM) ? DEBIAN_CHROMIUM : undefined;
}

const chromiumMissing = () =>
  `The console's browser tests need Chromium: install it (Debian: \`${INSTALL_COMMAND}\` as root), or set CHROMIUM_PATH to a Chromium or Chrome binary.`;

module.exports = { findChromium, chromiumMissing };

if (require.main === module) {
  const chromium = findChromium();
  if (!chromium) {
    console.error(chromiumMissing());
    process.exit(1);
  }
  console.log(JSON.stringify({ chromium }));
}
