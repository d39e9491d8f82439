/**
 * One message, timed, through each side: the product (webhook → dialog workflow → fake Telegram)
 * and the raw Temporal floor (signal-with-start → no-op activity).
 */
import { request } from 'undici';
import { telegramUpdate } from '../test/fakes';
import type { BenchStack } from './stack';

/** How long one message may take before the bench gives up on it (counted as lost). */
const REPLY_TIMEOUT_MS = 60_000;

export const now = () => performance.now();

export interface OneResult {
  ackMs: number;
  totalMs: number;
  doneAt: number;
}

/** Sends one message in `chat` and resolves when it was handled; a load loop calls it over and over. */
export type Send = (chat: number) => Promise<OneResult>;

/**
 * Replies arriving at the fake Telegram, matched to the message that asked for them. Each message
 * text carries its id and the echo scenario answers `Got <text>`, so a duplicate send is seen as one.
 */
export function replyTracker(stack: BenchStack) {
  const waiting = new Map<string, { id: string; resolve: (at: number) => void }[]>();
  let seen = 0;
  let unexpected = 0;
  const timer = setInterval(() => {
    const calls = stack.tg.calls;
    const at = now();
    for (; seen < calls.length; seen++) {
      const call = calls[seen];
      if (call.method !== 'sendMessage') continue;
      const queue = waiting.get(String(call.body.chat_id));
      const said = /^Got (m\d+)$/.exec(String(call.body.text))?.[1];
      const index = queue ? (said ? queue.findIndex((w) => w.id === said) : 0) : -1;
      if (!queue || index < 0 || index >= queue.length) {
        unexpected += 1;
        continue;
      }
      const [waiter] = queue.splice(index, 1);
      waiter.resolve(at);
    }
    // The fake keeps every call; forget them once read so a long run stays small.
    if (calls.length > 10_000) {
      stack.tg.reset();
      seen = 0;
    }
  }, 2);

  return {
    /** Resolves with the time the reply to message `id` in `chat` reached the platform. */
    expect(chat: number, id: string): Promise<number> {
      const key = String(chat);
      const queue = waiting.get(key) ?? [];
      waiting.set(key, queue);
      return new Promise<number>((resolve, reject) => {
        const entry = { id, resolve: (at: number) => (clearTimeout(timeout), resolve(at)) };
        const timeout = setTimeout(() => {
          const index = queue.indexOf(entry);
          if (index >= 0) queue.splice(index, 1);
          reject(new Error(`no reply to ${id} in chat ${chat} within ${REPLY_TIMEOUT_MS} ms`));
        }, REPLY_TIMEOUT_MS);
        queue.push(entry);
      });
    },
    get unexpected() {
      return unexpected;
    },
    stop: () => clearInterval(timer),
  };
}

export type Tracker = ReturnType<typeof replyTracker>;

/** One user message through the product: webhook, dialog workflow, send to the fake platform. */
export function productMessenger(stack: BenchStack, tracker: Tracker): Send {
  let nextUpdateId = 1;
  return async (chat) => {
    const updateId = nextUpdateId++;
    const id = `m${updateId}`;
    const update = telegramUpdate({ updateId, chatId: chat, text: id, secret: stack.secret });
    const replied = tracker.expect(chat, id);
    replied.catch(() => undefined);
    const started = now();
    // undici's request, not fetch: the load runs on the same two cores as the product, and fetch
    // costs three times the CPU per call.
    const response = await request(stack.webhookUrl, { method: 'POST', headers: update.headers, body: update.body });
    await response.body.dump();
    const ackMs = now() - started;
    if (response.statusCode !== 200) throw new Error(`webhook answered ${response.statusCode}`);
    const doneAt = await replied;
    return { ackMs, totalMs: doneAt - started, doneAt };
  };
}

/** One message through raw Temporal: signal-with-start of the no-op workflow, one no-op activity. */
export function floorMessenger(stack: BenchStack): Send {
  const waiting = new Map<string, (at: number) => void>();
  // Whichever floor worker ran the activity reports it.
  stack.floorDone.on('done', (id: string) => {
    waiting.get(id)?.(now());
    waiting.delete(id);
  });
  let next = 1;
  return async (chat) => {
    const id = `f${next++}`;
    const done = new Promise<number>((resolve, reject) => {
      const timeout = setTimeout(() => reject(new Error(`floor message ${id} not done within ${REPLY_TIMEOUT_MS} ms`)), REPLY_TIMEOUT_MS);
      waiting.set(id, (at) => (clearTimeout(timeout), resolve(at)));
    });
    done.catch(() => undefined);
    const started = now();
    await stack.client.workflow.signalWithStart('noopWorkflow', {
      workflowId: `floor-${chat}`,
      taskQueue: stack.floorQueue,
      signal: 'ping',
      signalArgs: [id],
    });
    const ackMs = now() - started;
    const doneAt = await done;
    return { ackMs, totalMs: doneAt - started, doneAt };
  };
}

/** `send`, noting each chat it got an answer for in `started` (in the order they were started). */
export function noting(started: Set<number>, send: Send): Send {
  return async (chat) => {
    const result = await send(chat);
    started.add(chat);
    return result;
  };
}
