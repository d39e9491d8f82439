/**
 * Records the baseline histories of the dialog workflow into test/histories/*.json, for the replay
 * test (replay.test.ts): one file per dialog, or one per run when it continued as new. Run it for a
 * new baseline only (docs/durability.md, "Changing workflow code"); never to "fix" a failing replay,
 * which means the change would break running dialogs.
 *
 *   npx tsx test/histories/record.ts
 *
 * It runs the real workflow and activities on Temporal's time-skipping test server, an in-memory
 * SQLite database, a fake Telegram and a local HTTP service for the `http_request` step.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { botsRepository } from '../../src/db/bots';
import { scenariosRepository } from '../../src/db/scenarios';
import type { Scenario } from '../../src/engine/types';
import type { IncomingMessage } from '../../src/platforms/types';
import { botActivatedSignal, closeUpdate, DIALOG_WORKFLOW_TASK_TIMEOUT, resetUpdate, updateStateUpdate, userMessageSignal } from '../../workflows/messages';
import { startFakeTelegram } from '../fakes';
import { jpeg } from '../media/files';
import { eventually } from '../support/stack';
import { type Harness, startHarness } from '../dialog/harness';
import { bookingScenario } from '../dialog/scenarios';
import { historyToJson } from './json';

const booking = {
  ...bookingScenario,
  settings: { ...bookingScenario.settings, timeout: { after: '30m', action: 'remind', message: 'Still there?', max_reminders: 1, then: 'abandon' } },
  steps: {
    ...bookingScenario.steps,
    ask_guests: { ...bookingScenario.steps.ask_guests, conditions: [{ condition: 'guests > 8', next_step: 'large_party' }] },
    large_party: { id: 'large_party', type: 'action', action: { type: 'handoff', reason: 'large party' }, message: { text: 'A manager will call you.' } },
  },
};

/** A second active scenario, started by its trigger: media out, media in, an `http_request`, the end. */
const menu = (loyaltyUrl: string) => ({
  version: '1.0',
  name: 'Menu',
  start_step: 'show',
  settings: { triggers: { commands: ['/menu'], keywords: ['menu'] } },
  steps: {
    show: {
      id: 'show',
      type: 'message',
      message: { text: 'Today:', media: [{ type: 'image', url: 'https://cdn.example.com/menu.jpg' }] },
      next_step: 'ask_receipt',
    },
    ask_receipt: {
      id: 'ask_receipt',
      type: 'message',
      message: { text: 'A photo of your receipt?' },
      expected_input: { type: 'media', variable: 'receipt' },
      next_step: 'points',
    },
    points: { id: 'points', type: 'action', action: { type: 'http_request', url: loyaltyUrl, variable: 'loyalty', on_error_step: 'done' }, next_step: 'done' },
    done: { id: 'done', type: 'action', action: { type: 'end' }, message: { text: 'Points: {{loyalty.points|none}}' } },
  },
});

/** Writes every run of the dialog, oldest first (following continue-as-new back from the current run). */
async function save(h: Harness, chat: number, name: string): Promise<number> {
  const histories = [];
  let runId: string | undefined = (await h.client.workflow.getHandle(h.workflowId(chat)).describe()).runId;
  while (runId) {
    const history = await h.client.workflow.getHandle(h.workflowId(chat), runId).fetchHistory();
    histories.unshift(history);
    runId = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
  }
  for (const [i, history] of histories.entries()) {
    if (i < histories.length - 1 && !history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes) {
      // The time-skipping server sometimes keeps a run that continued as new without the events of
      // its last workflow task; such a file would replay nothing.
      console.log(`run ${i + 1} of ${name}: its last workflow task is missing, not written`);
      continue;
    }
    const file = path.join(__dirname, histories.length > 1 ? `${name}.run${i + 1}.json` : `${name}.json`);
    writeFileSync(file, historyToJson(history));
    console.log(`${path.basename(file)}: ${history.events?.length} events`);
  }
  return histories.length;
}

async function main() {
  const loyalty = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"points":42}'));
  await new Promise<void>((resolve) => loyalty.listen(0, '127.0.0.1', resolve));
  const mediaDir = mkdtempSync(path.join(os.tmpdir(), 'histories-media-'));
  const tg = await startFakeTelegram();
  const h = await startHarness({ telegram: tg, scenario: booking, dbKind: 'sqlite' });
  const env = h.env as NonNullable<Harness['env']>;
  const replies = (chat: number, n: number) => eventually(() => h.textsTo(chat).length >= n || undefined, 30_000, `${n} replies to ${chat}`);
  const revision = (chat: number, n: number) => eventually(async () => (await h.state(chat)).version >= n || undefined, 30_000, `revision ${n} of ${chat}`);
  const signal = (chat: number, input: IncomingMessage['input'], messageId: string) =>
    h.client.workflow.signalWithStart('dialogWorkflow', {
      workflowId: h.workflowId(chat),
      taskQueue: h.config.temporal.taskQueue,
      workflowTaskTimeout: DIALOG_WORKFLOW_TASK_TIMEOUT,
      args: [{ botId: h.botId, platform: 'telegram', chatId: String(chat) }],
      signal: userMessageSignal,
      signalArgs: [{ platform: 'telegram', chatId: String(chat), messageId, input }],
    });
  try {
    // The worker takes the loyalty service's address and the media folder from a config it reads at start.
    h.config.httpRequest.allowedHosts = ['127.0.0.1'];
    h.config.mediaDir = mediaDir;
    await h.stopWorker();
    await h.startWorker();
    const loyaltyUrl = `http://127.0.0.1:${(loyalty.address() as AddressInfo).port}/points`;
    await scenariosRepository(h.db).createVersion({
      bot_id: h.botId,
      name: 'menu',
      scenario_data: menu(loyaltyUrl) as unknown as Scenario,
      warnings: [],
      activate: true,
    });

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
    await handle.executeUpdate(updateStateUpdate, {
      args: [{ current_step: 'pick_time', collected_data: { guests: 5 }, replace_data: false, expected_version: current.version }],
    });
    await handle.executeUpdate(resetUpdate, { args: [{ to_checkpoint: true }] });
    await handle.executeUpdate(resetUpdate, { args: [{ to_checkpoint: false }] });
    await handle.executeUpdate(closeUpdate, { args: [{ reason: 'merged', merged_into: 'dialog:other:whatsapp:1' }] });
    await save(h, 3, 'operator-update-reset-close');

    // A long dialog: continue-as-new at the workflow's own limit, carrying state and queued messages.
    // Half the messages wait for the previous turn: the time-skipping server drops the events of a
    // run whose first workflow task runs local activities and continues as new at once.
    await h.send(4, '/start');
    for (let i = 0; i < 100; i++) {
      await h.send(4, i % 2 === 0 ? 'Dan' : '/reset');
      if (i % 2 === 1) await revision(4, i + 2);
    }
    await revision(4, 101);
    if ((await save(h, 4, 'continue-as-new')) < 2) throw new Error('expected the long dialog to continue as new');

    // Commands: /help changes nothing, /cancel is no command of ours (an answer), /reset starts over.
    for (const text of ['/start', '/help', '/cancel', 'Eve', '/reset']) await h.send(5, text);
    await replies(5, 7);
    await revision(5, 5);
    await save(h, 5, 'commands');

    // A trigger starts the menu scenario mid-booking: a photo out, the user's photo in (stored
    // first), an http_request, the end; a message after the end begins a new conversation.
    for (const text of ['/start', 'Fay', 'menu']) await h.send(6, text);
    await tg.waitForCalls(1, { method: 'sendPhoto' }, 30_000);
    await revision(6, 3);
    await signal(6, { kind: 'media', media: { type: 'image', media_id: tg.putFile(await jpeg(40, 30), 'receipt.jpg') } }, 'photo-1');
    await eventually(async () => (await h.state(6)).status === 'completed' || undefined, 30_000, 'menu completed');
    await h.send(6, 'hi');
    await revision(6, 5);
    await save(h, 6, 'trigger-media-http-end');

    // The bot is deactivated: the due reminder is held until `botActivated`; then the dialog is erased.
    await h.send(7, '/start');
    await replies(7, 2);
    await botsRepository(h.db).update(h.botId, { status: 'inactive' });
    await env.sleep('31 minutes');
    await botsRepository(h.db).update(h.botId, { status: 'active' });
    await h.client.workflow.getHandle(h.workflowId(7)).signal(botActivatedSignal);
    await env.sleep('31 minutes');
    await replies(7, 3);
    await h.client.workflow.getHandle(h.workflowId(7)).terminate('dialog erased');
    await save(h, 7, 'bot-inactive-erased');
  } finally {
    await h.close();
    await tg.close();
    loyalty.close();
    rmSync(mediaDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
