import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { type FakeTelegram, startFakeTelegram, telegramUpdate } from '../fakes';
import { eventually, type Stack, startStack } from '../support/stack';
import { bookingScenario } from './scenarios';

/**
 * A real worker process is killed with SIGKILL while a dialog is mid-step (its reply is being
 * retried after a platform error) and a new process takes over: the dialog goes on, nothing is lost
 * and nothing is sent twice.
 */
describe('a worker killed in the middle of a dialog', () => {
  let tg: FakeTelegram;
  let stack: Stack;
  let worker: ChildProcess | undefined;

  beforeAll(async () => {
    tg = await startFakeTelegram();
    stack = await startStack({ db: 'postgres', apiBases: { telegram: tg.url }, worker: false });
  });
  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      worker.kill('SIGKILL');
      await once(worker, 'exit');
    }
    await stack.close();
    await tg.close();
  });

  const kill = async (child: ChildProcess) => {
    child.kill('SIGKILL');
    const [, signal] = await once(child, 'exit');
    expect(signal).toBe('SIGKILL');
  };

  it('goes on after the kill with every reply sent exactly once', async () => {
    const bot = await stack.createBot({ platform: 'telegram', credentials: { token: '7000002:AAH-kill-test' }, scenario: bookingScenario });
    const secret = bot.webhookSecret as string;
    const chat = 2001;
    const post = (updateId: number, text: string) => {
      const update = telegramUpdate({ updateId, chatId: chat, text, secret });
      return stack.http.post(`/v1/webhooks/telegram/${bot.id}`).set(update.headers).send(update.body);
    };
    const delivered = () => tg.calls.filter((c) => c.method === 'sendMessage' && c.status === 200).map((c) => c.body.text);

    worker = stack.spawnWorkerProcess();
    expect((await post(1, '/start')).status).toBe(200);
    await eventually(() => delivered().length >= 2 || undefined, 60_000, 'the first replies from the first worker');

    // The next reply fails at the platform; while its activity waits to be retried, the worker dies.
    tg.failNext({ status: 502, method: 'sendMessage', description: 'Bad Gateway', times: 2 });
    expect((await post(2, 'Anna')).status).toBe(200);
    await tg.waitForCalls(1, { method: 'sendMessage', ok: false }, 30_000);
    await kill(worker);

    // Messages keep arriving while no worker runs: Temporal holds them.
    expect((await post(3, '3')).status).toBe(200);
    worker = stack.spawnWorkerProcess();
    await eventually(() => delivered().length >= 4 || undefined, 60_000, 'the replies held while no worker ran');
    // Between messages: the turn that sent the last reply has been recorded too.
    await eventually(
      async () => (await stack.http.get(`/v1/bots/${bot.id}/dialogs/telegram/${chat}`).set(bot.headers)).body.version >= 3 || undefined,
      30_000,
      'turn 3 recorded',
    );

    // Killed again between messages; the dialog finishes on a third process.
    await kill(worker);
    worker = stack.spawnWorkerProcess();
    const press = telegramUpdate({ updateId: 4, chatId: chat, callbackData: '18', buttonText: '18:00', secret });
    expect((await stack.http.post(`/v1/webhooks/telegram/${bot.id}`).set(press.headers).send(press.body)).status).toBe(200);
    await eventually(() => delivered().length >= 5 || undefined, 60_000, 'the confirmation');

    expect(delivered()).toEqual(['Welcome to Chez Anna!', 'Your name?', 'How many guests, Anna?', 'When?', 'Booked for 3 at 18:00, Anna.']);
    const state = await stack.http.get(`/v1/bots/${bot.id}/dialogs/telegram/${chat}`).set(bot.headers);
    expect(state.body).toMatchObject({ status: 'completed', collected_data: { user_name: 'Anna', guests: 3, time: '18', booked: true } });
  }, 180_000);
});
