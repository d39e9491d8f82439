/**
 * The raw Temporal floor: the shape of a dialog (one long-lived workflow per chat, a signal per
 * message, one activity per message) with nothing of the product in it.
 */
import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import type { FloorActivities } from './floor-activities';

export const pingSignal = defineSignal<[string]>('ping');

const { noop } = proxyActivities<FloorActivities>({ startToCloseTimeout: '30 seconds' });

export async function noopWorkflow(): Promise<void> {
  const queue: string[] = [];
  setHandler(pingSignal, (id) => void queue.push(id));
  for (;;) {
    await condition(() => queue.length > 0);
    await noop(queue.shift() as string);
  }
}
