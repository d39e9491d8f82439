/**
 * A dialog's whole life on the run's Temporal dev server: a thousand messages across
 * continue-as-new generations, scenario versions pinned and moved, and work queued inside one dialog.
 */
import { temporal as proto } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { scenariosRepository } from '../../src/db/scenarios';
import type { Scenario } from '../../src/engine/types';
import { closeUpdate, resetUpdate, searchAttributes, stateQuery } from '../../workflows/messages';
import { type FakeTelegram, startFakeTelegram } from '../fakes';
import { eventually, testWorkflowCode } from '../support/stack';
import { connectTemporal, type Harness, startGate, startHarness } from './harness';
import { bookingScenario } from './scenarios';

/** Answers every message with what it got: one reply per message, forever. */
const echoScenario = {
  version: '1.0',
  name: 'Echo',
  start_step: 'echo',
  steps: {
    echo: { id: 'echo', type: 'message', message: { text: 'Got {{last|nothing}}' }, expected_input: { type: 'any', variable: 'last' }, next_step: 'echo' },
  },
};

/**
 * A harness on the run's dev server whose Telegram calls pass a gate (closed, it holds them), set up
 * and torn down with the enclosing describe block.
 */
function gatedHarness(options: { scenario: unknown; historyLimit?: number }) {
  const ctx = {} as { tg: FakeTelegram; temporal: Awaited<ReturnType<typeof connectTemporal>>; gate: Awaited<ReturnType<typeof startGate>>; h: Harness };
  beforeAll(async () => {
    ctx.tg = await startFakeTelegram();
    ctx.gate = await startGate(ctx.tg);
    ctx.temporal = await connectTemporal();
    ctx.h = await startHarness({ ...options, telegram: ctx.tg, apiBase: ctx.gate.url, dbKind: 'sqlite', temporal: ctx.temporal });
  });
  afterAll(async () => {
    ctx.gate?.open();
    await ctx.h?.close();
    await ctx.temporal?.close();
    await ctx.gate?.stop();
    await ctx.tg?.close();
  });
  return ctx;
}

describe('a dialog through a thousand messages (LONG_DIALOG_MESSAGES for more)', () => {
  const MESSAGES = Number(process.env.LONG_DIALOG_MESSAGES ?? 1000);
  // The product's limit, so the test shows several generations in a minute (a turn adds 1 to 5 events).
  const HISTORY_LIMIT = 250;
  let tg: FakeTelegram;
  let temporal: Awaited<ReturnType<typeof connectTemporal>>;
  let h: Harness;

  beforeAll(async () => {
    tg = await startFakeTelegram();
    temporal = await connectTemporal();
    h = await startHarness({ telegram: tg, scenario: echoScenario, dbKind: 'postgres', temporal, historyLimit: HISTORY_LIMIT });
  });
  afterAll(async () => {
    await h?.close();
    await temporal?.close();
    await tg.close();
  });

  it('continues as new with bounded history, answering every message exactly once, in order', async () => {
    const chat = 3001;
    await h.send(chat, '/start', 'start');
    for (let i = 1; i <= MESSAGES; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, MESSAGES - i + 1) }, (_, k) => h.send(chat, `m${i + k}`, `m${i + k}`)));
      // Redeliveries of a few ids already sent: each is dropped by the dialog's window of seen ids.
      await h.send(chat, `m${i}`, `m${i}`);
    }
    const began = Date.now();
    await eventually(() => h.textsTo(chat).length >= MESSAGES + 1, 180_000, `${MESSAGES + 1} replies`).catch((error) => {
      throw new Error(`${(error as Error).message}; got ${h.textsTo(chat).length}`);
    });
    console.log(`replies took ${Date.now() - began} ms`);
    const final = await eventually(
      async () => {
        const s = await h.state(chat);
        return s.version === MESSAGES + 1 ? s : undefined;
      },
      30_000,
      'the last revision',
    );

    const texts = h.textsTo(chat);
    expect(texts).toHaveLength(MESSAGES + 1);
    expect(new Set(texts).size).toBe(MESSAGES + 1);
    // Signals sent concurrently may be accepted in any order within a batch; each is answered once.
    expect(texts.slice(1).sort()).toEqual(Array.from({ length: MESSAGES }, (_, i) => `Got m${i + 1}`).sort());
    expect(final.collected_data.last).toMatch(/^m\d+$/);

    const runs = [];
    for await (const run of h.client.workflow.list({ query: `WorkflowId = '${h.workflowId(chat)}'` })) runs.push(run);
    const running = await h.client.workflow.getHandle(h.workflowId(chat)).describe();
    const lengths = runs.map((r) => (r.runId === running.runId ? running.historyLength : r.historyLength));
    // Signals land in whichever run is current when they arrive, however fast they come; what the
    // workflow itself adds per run is what continue-as-new must bound.
    const own = await Promise.all(
      runs.map(async (r) => {
        const history = await h.client.workflow.getHandle(h.workflowId(chat), r.runId).fetchHistory();
        return (history.events ?? []).filter((e) => !e.workflowExecutionSignaledEventAttributes).length;
      }),
    );
    console.log(`dialog of ${MESSAGES} messages: ${runs.length} runs, history events per run: ${lengths.join(', ')}; without signals: ${own.join(', ')}`);
    expect(runs.length).toBeGreaterThanOrEqual(4);
    for (const length of own) expect(length).toBeLessThan(HISTORY_LIMIT + 100);
    const current = runs.find((r) => r.status.name === 'RUNNING');
    expect(current?.searchAttributes).toMatchObject({ BotId: [h.botId], Platform: ['telegram'], DialogStatus: ['active'], CurrentStep: ['echo'] });

    const rows = await h
      .db('dialog_messages')
      .where({ bot_id: h.botId, chat_id: String(chat) })
      .count<{ n: string }[]>({ n: '*' });
    expect(Number(rows[0].n)).toBe(2 * (MESSAGES + 1));
  }, 240_000);
});

describe('scenario versions and work queued inside a dialog', () => {
  const g = gatedHarness({ scenario: bookingScenario });

  const waitTexts = (chat: number, count: number) =>
    eventually(() => (g.h.textsTo(chat).length >= count ? g.h.textsTo(chat) : undefined), 20_000, `${count} texts to ${chat}`);
  const publish = async (welcome: string) => {
    const scenario = { ...bookingScenario, steps: { ...bookingScenario.steps, welcome: { ...bookingScenario.steps.welcome, message: { text: welcome } } } };
    return scenariosRepository(g.h.db).createVersion({ bot_id: g.h.botId, name: 'main', scenario_data: scenario as Scenario, warnings: [], activate: true });
  };

  it('a running dialog keeps its version; /start, completion and an operator reset move to the active one', async () => {
    const chat = 4001;
    await g.h.send(chat, '/start');
    await waitTexts(chat, 2);
    const v2 = await publish('Welcome (v2)!');
    expect(v2.version).toBe(2);

    await g.h.send(chat, 'Anna');
    await waitTexts(chat, 3);
    expect(await g.h.state(chat)).toMatchObject({ scenario_id: g.h.scenarioId, scenario_version: 1, current_step: 'ask_guests' });

    // /start begins a new conversation: on the active version, with fresh data.
    await g.h.send(chat, '/start');
    await waitTexts(chat, 5);
    expect(g.h.textsTo(chat).slice(3)).toEqual(['Welcome (v2)!', 'Your name?']);
    expect(await g.h.state(chat)).toMatchObject({ scenario_id: v2.id, scenario_version: 2, collected_data: {} });

    // Completed on v2, then v3 is published: the next message starts over on v3.
    await g.h.send(chat, 'Anna');
    await g.h.send(chat, '2');
    await g.h.send(chat, '18');
    await waitTexts(chat, 8);
    expect((await g.h.state(chat)).status).toBe('completed');
    const v3 = await publish('Welcome (v3)!');
    await g.h.send(chat, 'hi');
    await waitTexts(chat, 10);
    expect(g.h.textsTo(chat).slice(8)).toEqual(['Welcome (v3)!', 'Your name?']);
    expect((await g.h.state(chat)).scenario_version).toBe(3);

    // A reset to the checkpoint keeps the version; a full reset takes the active one.
    const v4 = await publish('Welcome (v4)!');
    const handle = g.h.client.workflow.getHandle(g.h.workflowId(chat));
    const toCheckpoint = await handle.executeUpdate(resetUpdate, { args: [{ to_checkpoint: true }] });
    expect(toCheckpoint.scenario_id).toBe(v3.id);
    const fresh = await handle.executeUpdate(resetUpdate, { args: [{ to_checkpoint: false }] });
    expect(fresh).toMatchObject({ scenario_id: v4.id, scenario_version: 4, current_step: 'ask_name', status: 'active' });
    expect(g.h.textsTo(chat).at(-2)).toBe('Welcome (v4)!');

    const started = (await g.h.events(chat)).filter((e: { kind: string }) => e.kind === 'dialog_started');
    expect(started).toHaveLength(4);
  });

  it('messages arriving while a step is sending wait their turn; an update waits for the current step', async () => {
    const chat = 4002;
    g.gate.close();
    await g.h.send(chat, '/start');
    await eventually(() => g.gate.waiting >= 1 || undefined, 20_000, 'the welcome held at the gate');

    // While the welcome is still being sent: three answers and an operator reset arrive.
    await g.h.send(chat, 'Anna');
    await g.h.send(chat, 'many');
    await g.h.send(chat, '4');
    const handle = g.h.client.workflow.getHandle(g.h.workflowId(chat));
    const reset = await handle.startUpdate(resetUpdate, { args: [{ to_checkpoint: true }], waitForStage: 'ACCEPTED' });
    let resetDone = false;
    const resetResult = reset.result().then((r) => {
      resetDone = true;
      return r;
    });
    // The first turn is computed and its replies are held; nothing queued behind it has run.
    expect(await handle.query(stateQuery)).toMatchObject({ version: 1, current_step: 'ask_name' });
    expect(g.gate.waiting).toBe(1);
    expect(resetDone).toBe(false);

    g.gate.open();
    const afterReset = await resetResult;
    // The reset ran after the four queued messages, in arrival order: revision 5, back at ask_name.
    expect(afterReset).toMatchObject({ version: 5, current_step: 'ask_name', collected_data: { user_name: 'Anna', guests: 4 } });
    await waitTexts(chat, 6);
    expect(g.h.textsTo(chat)).toEqual([
      expect.stringMatching(/^Welcome/),
      'Your name?',
      'How many guests, Anna?',
      expect.stringMatching(/number/i),
      'When?',
      'Your name?',
    ]);
    expect(g.gate.heldCount).toBe(1);
  });

  it('search attributes follow the dialog and a close update ends its conversation', async () => {
    const chat = 4003;
    await g.h.send(chat, '/start');
    await waitTexts(chat, 2);
    const handle = g.h.client.workflow.getHandle(g.h.workflowId(chat));
    await eventually(
      async () => {
        const d = await handle.describe();
        return d.typedSearchAttributes.get(searchAttributes.currentStep) === 'ask_name' || undefined;
      },
      10_000,
      'CurrentStep ask_name',
    );
    const closed = await handle.executeUpdate(closeUpdate, { args: [{ reason: 'merged', merged_into: 'dialog:x:whatsapp:1' }] });
    expect(closed).toMatchObject({ status: 'completed', current_step: null });
    const d = await handle.describe();
    expect(d.typedSearchAttributes.get(searchAttributes.dialogStatus)).toBe('completed');
    expect(d.typedSearchAttributes.get(searchAttributes.botId)).toBe(g.h.botId);
    // Nothing personal in them: ids of the bot, the platform, the step and the status only.
    const ours = new Set(Object.values(searchAttributes).map((key) => key.name));
    const values = d.typedSearchAttributes
      .getAll()
      .filter((p) => ours.has(p.key.name))
      .map((p) => String(p.value));
    expect(values.sort()).toEqual([g.h.botId, 'telegram', 'completed', ''].sort());
  });
});

describe('a flood of messages while a reply is in flight', () => {
  // The server's limit of buffered events for a workflow task in flight (history.maximumBufferedEventsBatch).
  const SERVER_BUFFER_LIMIT = 100;
  // A limit the flood alone passes: the run must decide to continue as new the same way on replay.
  const g = gatedHarness({ scenario: echoScenario, historyLimit: SERVER_BUFFER_LIMIT });

  it('the server fails the workflow task to flush its buffer; every message and an update are answered and the history replays', async () => {
    const chat = 5001;
    const messages = SERVER_BUFFER_LIMIT + 20;
    const send = (from: number, count: number) => Promise.all(Array.from({ length: count }, (_, i) => g.h.send(chat, `m${from + i}`, `m${from + i}`)));
    g.gate.close();
    await g.h.send(chat, '/start', 'start');
    // The welcome's local delivery is mid-call: the workflow task stays open while the flood arrives.
    await eventually(() => g.gate.waiting >= 1 || undefined, 20_000, 'the welcome held at the gate');
    const handle = g.h.client.workflow.getHandle(g.h.workflowId(chat));
    await send(1, messages / 2);
    // An operator's update in the middle of it: its acceptance is what a run continued in memory puts
    // where a replay cannot find it.
    const reset = handle.executeUpdate(resetUpdate, { args: [{ to_checkpoint: true }] });
    reset.catch(() => undefined);
    await send(messages / 2 + 1, messages / 2);
    const firstRun = (await handle.describe()).runId;
    const firstRunEvents = (await g.h.client.workflow.getHandle(g.h.workflowId(chat), firstRun).fetchHistory()).events ?? [];
    const failedTaskCauses = firstRunEvents.map((e) => e.workflowTaskFailedEventAttributes?.cause).filter((cause) => cause !== undefined && cause !== null);
    expect(failedTaskCauses).toContain(proto.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND);
    g.gate.open();

    await eventually(() => new Set(g.h.textsTo(chat)).size >= messages + 1 || undefined, 60_000, `${messages + 1} replies`).catch((error) => {
      throw new Error(`${(error as Error).message}; got ${new Set(g.h.textsTo(chat)).size}`);
    });
    expect(new Set(g.h.textsTo(chat).slice(1))).toEqual(new Set(Array.from({ length: messages }, (_, i) => `Got m${i + 1}`)));
    expect((await reset).current_step).toBe('echo');
    expect((await handle.query(stateQuery)).version).toBe(messages + 2);

    // What a worker that lost the dialog from its cache would do: replay every run from its history.
    const runs = [];
    for await (const run of g.h.client.workflow.list({ query: `WorkflowId = '${g.h.workflowId(chat)}'` })) runs.push(run.runId);
    for (const runId of runs) {
      await Worker.runReplayHistory(testWorkflowCode(), await g.h.client.workflow.getHandle(g.h.workflowId(chat), runId).fetchHistory(), runId);
    }
  });
});
