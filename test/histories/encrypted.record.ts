/**
 * Records `encrypted.booking-completed.json`: a booking run with payload encryption on, for the
 * replay test's codec block (replay.test.ts). Like record.ts, run it when the workflow gains
 * behaviour worth pinning, never to "fix" a failing replay.
 *
 *   npx tsx test/histories/encrypted.record.ts
 *
 * The client (signals, updates, queries) and the worker both run the codec with the test key of
 * encrypted.ts, on Temporal's time-skipping test server.
 */
import { Client } from '@temporalio/client';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createTimeSkippingEnv, startHarness } from '../dialog/harness';
import { bookingScenario } from '../dialog/scenarios';
import { startFakeTelegram } from '../fakes';
import { eventually } from '../support/stack';
import { ENCRYPTED_HISTORY_KEYS, ENCRYPTED_PREFIX, encryptedHistoryConverter } from './encrypted';
import { historyToJson } from './json';

async function main() {
  const tg = await startFakeTelegram();
  const env = await createTimeSkippingEnv();
  const client = new Client({ connection: env.connection, namespace: env.namespace, dataConverter: encryptedHistoryConverter() });
  const h = await startHarness({ telegram: tg, scenario: bookingScenario, dbKind: 'sqlite', temporal: { client, connection: env.nativeConnection } });
  try {
    // The harness made its worker before the keys were in its config: a new one takes them.
    h.config.payloadKeys = ENCRYPTED_HISTORY_KEYS;
    await h.stopWorker();
    await h.startWorker();

    for (const text of ['/start', 'Anna', 'many', '4', '18']) await h.send(1, text);
    await eventually(() => h.textsTo(1).length >= 6 || undefined, 30_000, '6 replies');
    await eventually(async () => (await h.state(1)).version >= 5 || undefined, 30_000, 'revision 5');

    const history = await client.workflow.getHandle(h.workflowId(1)).fetchHistory();
    const file = path.join(__dirname, `${ENCRYPTED_PREFIX}booking-completed.json`);
    writeFileSync(file, historyToJson(history));
    console.log(`${path.basename(file)}: ${history.events?.length} events`);
  } finally {
    await h.close();
    await env.teardown();
    await tg.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
