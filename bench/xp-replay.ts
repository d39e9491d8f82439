import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJson } from '../test/histories/json';
import { SHARED_WORKFLOW_MODULES, sdkTuning } from '../worker';

async function main() {
  const files = process.argv.slice(2);
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), preloadModules: SHARED_WORKFLOW_MODULES, logger: { info() {}, warn() {}, error() {}, debug() {}, trace() {}, log() {} } as never });
  const tuning = sdkTuning();
  for (const file of files) {
    const history = historyFromJson(JSON.parse(readFileSync(path.resolve(file), 'utf8')));
    for (const n of [20, 200]) {
      const started = process.hrtime.bigint();
      const cpu0 = process.cpuUsage();
      const runs = (async function* () {
        for (let i = 0; i < n; i++) yield { workflowId: `r${i}`, history };
      })();
      for await (const result of Worker.runReplayHistories({ workflowBundle, ...tuning } as never, runs)) if (result.error) throw result.error;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const cpu = process.cpuUsage(cpu0);
      console.log(`${path.basename(file)} events=${history.events?.length} n=${n}: ${(ms / n).toFixed(2)} ms wall, ${((cpu.user + cpu.system) / 1000 / n).toFixed(2)} ms cpu per replay`);
    }
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
