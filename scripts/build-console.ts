/**
 * `npm run build:console [-- --if-stale]`: the operator console's page, served by the API at
 * `/console`. esbuild bundles console/src/main.ts (and what it imports, the engine's pure modules
 * among them) into console/dist/app.js, minified with a source map, and minifies index.html's
 * stylesheet beside it. `--if-stale` builds only when an input changed since the last build (the
 * inputs esbuild read are kept in console/dist/.inputs.json); `npm start` and `npm test` run it so.
 */
import { build, transform } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const SOURCE = path.join(ROOT, 'console', 'src');
const DIST = path.join(ROOT, 'console', 'dist');
const INPUTS = path.join(DIST, '.inputs.json');
const OUTPUTS = ['index.html', 'app.js', 'style.css'].map((name) => path.join(DIST, name));

/** Whether a build is missing or older than any input it was made from. */
function stale(): boolean {
  if (![...OUTPUTS, INPUTS].every((file) => existsSync(file))) return true;
  const builtAt = Math.min(...OUTPUTS.map((file) => statSync(file).mtimeMs));
  const inputs = JSON.parse(readFileSync(INPUTS, 'utf8')) as string[];
  return inputs.some((file) => !existsSync(path.join(ROOT, file)) || statSync(path.join(ROOT, file)).mtimeMs > builtAt);
}

async function main() {
  if (process.argv.includes('--if-stale') && !stale()) return;
  const started = performance.now();
  mkdirSync(DIST, { recursive: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [path.join(SOURCE, 'main.ts')],
    outfile: path.join(DIST, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
  });
  const style = await transform(readFileSync(path.join(SOURCE, 'style.css'), 'utf8'), { loader: 'css', minify: true });
  writeFileSync(path.join(DIST, 'style.css'), style.code);
  copyFileSync(path.join(SOURCE, 'index.html'), path.join(DIST, 'index.html'));
  const inputs = [...Object.keys(result.metafile.inputs), 'console/src/index.html', 'console/src/style.css', 'scripts/build-console.ts'];
  writeFileSync(INPUTS, `${JSON.stringify(inputs, null, 2)}\n`);
  const size = statSync(path.join(DIST, 'app.js')).size;
  console.log(`Built the console into console/dist (app.js ${Math.round(size / 1024)} KiB) in ${((performance.now() - started) / 1000).toFixed(1)} s.`);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
