/**
 * `npm run build:workflows [file]`: bundles the dialog workflows once, into `dist/workflow-bundle.js`
 * by default. A worker started with WORKFLOW_BUNDLE=<file> loads it instead of bundling them itself
 * (about 2.5 s and a core's worth of webpack at every start). Rebuild it with every change to the
 * workflow code; the Docker image does so as it is built.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleDialogWorkflows } from '../worker';

async function main() {
  const file = path.resolve(process.argv[2] ?? 'dist/workflow-bundle.js');
  const started = performance.now();
  const code = await bundleDialogWorkflows();
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, code);
  console.log(
    `Wrote ${path.relative(process.cwd(), file)} (${Math.round(code.length / 1024)} KiB) in ${((performance.now() - started) / 1000).toFixed(1)} s. Start workers with WORKFLOW_BUNDLE=${file}`,
  );
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
