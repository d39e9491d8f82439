/**
 * Records histories of real dialog runs into test/histories/*.json for the replay test
 * (replay.test.ts). Run it when the workflow gains behaviour worth pinning, never to "fix" a failing
 * replay: a replay failure means the change would break running dialogs (see docs/durability.md).
 *
 *   npx tsx test/histories/record.ts [label]
 *
 * A label prefixes the file names (`<label>.booking-completed.json`), so histories of an older
 * workflow version stay beside the new ones and keep being replayed.
 *
 * It runs the real workflow and activities on Temporal's time-skipping test server, an in-memory
 * SQLite database and a fake Telegram, and writes one file per run (continue-as-new makes several).
 */
import { historyToJson } from './json';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { resetUpdate, closeUpdate, updateStateUpdate } from '../../workflows/messages';
import { startFakeTelegram } from '../fakes';
import { eventually } from '../support/stack';
import { type Harness, startHarness } from '../dialog/harness';
import { bookingScenario } from '../dialog/scenarios';

const OUT = __dirname;
const LABEL = process.argv[2];

const scenario = {
  ...bookingScenario,
  settings: { ...bookingScenario.settings, timeout: { after: '30m', action: 'remind', message: 'Still there?', max_reminders: 1, then: 'abandon' } },
  steps: {
    ...bookingScenario.steps,
    ask_guests: { ...bookingScenario.steps.ask_guests, conditions: [{ condition: 'guests > 8', next_step: 'large_party' }] },
    large_party: { id: 'large_party', type: 'action', action: { type: 'handoff', reason: 'large party' }, message: { text: 'A manager will call you.' } },
  },
};

/** Writes every run of the dialog, oldest first (following continue-as-new back from the current run). */
async function save(h: Harness, chat: number, scenarioName: string): Promise<number> {
  const name = LABEL ? `${LABEL}.${scenarioName}` : scenarioName;
  const histories = [];
  let runId: string | undefined = (await h.client.workflow.getHandle(h.workflowId(chat)).describe()).runId;
  while (runId) {
    const history = await h.client.workflow.getHandle(h.workflowId(chat), runId).fetchHistory();
    histories.unshift(history);
    runId = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
  }
  for (const [i, history] of histories.entries()) {
    const closed = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes;
    if (i < histories.length - 1 && !closed) {
      // The time-skipping server sometimes keeps a run that continued as new without the events of
      // its last workflow task; such a file would replay nothing.
      console.log(`run ${i + 1} of ${name}: its last workflow task is missing, not written`);
      continue;
    }
    const file = path.join(OUT, histories.length > 1 ? `${name}.run${i + 1}.json` : `${name}.json`);
    writeFileSync(file, historyToJson(history));
    console.log(`${path.basename(file)}: ${history.events?.length} events`);
  }
  return histories.length;
}

async function main() {
  const tg = await startFakeTelegram();
  const h = await startHarness({ telegram: tg, scenario, dbKind: 'sqlite' });
  const env = h.env as NonNullable<Harness['env']>;
  const replies = (chat: number, n: number) => eventually(() => h.textsTo(chat).length >= n || undefined, 30_000, `${n} replies to ${chat}`);
  const revision = (chat: number, n: number) => eventually(async () => (await h.state(chat)).version >= n || undefined, 30_000, `revision ${n} of ${chat}`);
  try {
    // A booking from /start to the end, with an invalid answer on the way.
    for (const text of ['/start', 'Anna', 'many', '4', '18']) await h.send(1, text);
    await replies(1, 6);
    await revision(1, 5);
    await save(h, 1, 'booking-completed');

    // Timers: a reminder, then abandoned; the user comes back and starts over; a large party hands off.
    await h.send(2, '/start');
    await replies(2, 2);
    await env.sleep('31 minutes');
    await replies(2, 3);
    await env.sleep('31 minutes');
    await eventually(async () => (await h.state(2)).status === 'abandoned' || undefined, 30_000, 'abandoned');
    for (const text of ['hello', 'Bea', '12']) await h.send(2, text);
    await replies(2, 7);
    await revision(2, 6);
    await save(h, 2, 'timeouts-abandon-handoff');

    // Operator work: a state update, a reset to the checkpoint, a full reset, a close.
    for (const text of ['/start', 'Cy']) await h.send(3, text);
    await replies(3, 3);
    await revision(3, 2);
    const handle = h.client.workflow.getHandle(h.workflowId(3));
    const current = await h.state(3);
    await handle.executeUpdate(updateStateUpdate, { args: [{ current_step: 'pick_time', collected_data: { ...current.collected_data, guests: 5 }, expected_version: current.version }] });
    await handle.executeUpdate(resetUpdate, { args: [{ to_checkpoint: true }] });
    await handle.executeUpdate(resetUpdate, { args: [{ to_checkpoint: false }] });
    await handle.executeUpdate(closeUpdate, { args: [{ reason: 'merged', merged_into: 'dialog:other:whatsapp:1' }] });
    await save(h, 3, 'operator-update-reset-close');

    // A long dialog: continue-as-new at the workflow's own limit (its runs hold that limit's patch
    // marker), carrying state and queued messages.
    // Half the messages wait for the previous turn: the time-skipping server drops the events of a
    // run whose first workflow task runs local activities and continues as new at once.
    await h.send(4, '/start');
    for (let i = 0; i < 100; i++) {
      await h.send(4, i % 2 === 0 ? 'Dan' : '/reset');
      if (i % 2 === 1) await revision(4, i + 2);
    }
    await revision(4, 101);
    const runs = await save(h, 4, 'continue-as-new');
    if (runs < 2) throw new Error('expected the long dialog to continue as new');
  } finally {
    await h.close();
    await tg.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
