/**
 * The dialog's work, in arrival order: user messages (redeliveries dropped) and operator requests,
 * which wait in the same queue so they never interleave with a turn.
 */
import { condition } from '@temporalio/workflow';
import type { DialogSnapshot } from '../../src/dialog/contract';
import type { IncomingMessage } from '../../src/platforms/types';
import type { CarriedState, CloseRequest, ResetRequest, UpdateStateRequest } from '../messages';
import { nowIso } from './state';

/** How many platform message ids the dialog remembers to drop redeliveries. */
const SEEN_WINDOW = 1000;

export interface MessageItem {
  kind: 'message';
  message: IncomingMessage;
  receivedAt: string;
}

/** An operator request: its update handler waits for `done` or `error`. */
export type OperatorItem = (
  { kind: 'update'; request: UpdateStateRequest } | { kind: 'reset'; request: ResetRequest } | { kind: 'close'; request: CloseRequest }
) & { done?: DialogSnapshot; error?: Error };

export type WorkItem = MessageItem | OperatorItem;

export class WorkQueue {
  private readonly items: WorkItem[];
  /** The ids of the last SEEN_WINDOW messages, oldest first; carried to the next run. */
  readonly seenIds: string[];
  private readonly seen: Set<string>;

  constructor(carried: Pick<CarriedState, 'seenIds' | 'pending'> | undefined) {
    this.seenIds = [...(carried?.seenIds ?? [])];
    this.seen = new Set(this.seenIds);
    this.items = (carried?.pending ?? []).map((message) => ({ kind: 'message', message, receivedAt: nowIso() }));
  }

  get isEmpty(): boolean {
    return this.items.length === 0;
  }

  /** Queues a user message unless its platform id was seen (a redelivered webhook). */
  addMessage(message: IncomingMessage): void {
    if (this.seen.has(message.messageId)) return;
    this.seen.add(message.messageId);
    this.seenIds.push(message.messageId);
    if (this.seenIds.length > SEEN_WINDOW) this.seen.delete(this.seenIds.shift() as string);
    this.items.push({ kind: 'message', message, receivedAt: nowIso() });
  }

  /** Queues an operator request and waits until the dialog has run it. */
  async request(item: OperatorItem): Promise<DialogSnapshot> {
    this.items.push(item);
    await condition(() => item.done !== undefined || item.error !== undefined);
    if (item.error) throw item.error;
    return item.done as DialogSnapshot;
  }

  take(): WorkItem {
    return this.items.shift() as WorkItem;
  }

  /** How many items lead up to the last operator request (0 when none waits). */
  untilLastRequest(): number {
    for (let i = this.items.length - 1; i >= 0; i--) if (this.items[i].kind !== 'message') return i + 1;
    return 0;
  }

  /** The messages still queued, for the next run. */
  pendingMessages(): IncomingMessage[] {
    return this.items.flatMap((item) => (item.kind === 'message' ? [item.message] : []));
  }
}
