/** The `recovery` phase: busy chats while the dialog worker is SIGKILLed and started again. */
import { range, sleep } from '../loops';
import { now } from '../messages';
import type { BenchRun } from './context';

/** Chats kept busy while the worker is killed. */
const RECOVERY_CHATS = 20;

export async function recoveryPhase(run: BenchRun): Promise<void> {
  const { stack, tracker, product } = run;
  run.step('recovery from a SIGKILLed worker');
  const chats = range(40_000_000, RECOVERY_CHATS);
  await Promise.all(chats.map((chat) => product(chat)));
  let killedAt = Infinity;
  let readyAt = Infinity;
  // A reply counts as the recovery's once the killed worker cannot have sent it: its message
  // was posted after the kill, or it came after the new worker was up. (A send the killed worker
  // had on the wire may reach the fake platform a few ms after the kill.)
  const answered = new Map<number, number>();
  let stop = false;
  let errors = 0;
  const loops = chats.map(async (chat) => {
    while (!stop) {
      try {
        const result = await product(chat);
        const posted = result.doneAt - result.totalMs;
        if ((posted > killedAt || result.doneAt > readyAt) && !answered.has(chat)) answered.set(chat, result.doneAt - killedAt);
      } catch {
        errors += 1;
      }
    }
  });
  await sleep(3000);
  const duplicatesBefore = tracker.unexpected;
  killedAt = stack.killWorker();
  await stack.restartWorker();
  readyAt = now();
  const deadline = now() + 120_000;
  while (answered.size < chats.length && now() < deadline) await sleep(50);
  stop = true;
  await Promise.all(loops);
  await sleep(1000);
  run.results.recovery = {
    chats: RECOVERY_CHATS,
    workerReadyMs: readyAt - killedAt,
    firstReplyMs: Math.min(...answered.values()),
    allChatsAnsweredMs: answered.size === chats.length ? Math.max(...answered.values()) : null,
    chatsAnswered: answered.size,
    duplicateSends: tracker.unexpected - duplicatesBefore,
    errors,
  };
}
