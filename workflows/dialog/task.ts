/**
 * What the current workflow task holds. A turn's delivery runs first as a local activity inside
 * the task (./delivery.ts), so queued messages can run one after another in one task; the task
 * ends when the workflow waits on something outside it (an activity, a timer, the next message).
 */

/**
 * Local deliveries per task at most. Past this many the turn's delivery goes to the activity, which
 * ends the task: a burst must not keep one task open past its timeout (the server would give it to
 * another attempt).
 */
const LOCAL_TURNS_PER_TASK = 5;

export class WorkflowTask {
  /**
   * Local deliveries since the workflow last waited outside the task. Counted by the workflow, not
   * read from the history length: when the SDK continues a run in memory (./sdk-workarounds.ts) the
   * length changes under turns that a replay sees in one task, and a replay must count the same.
   */
  localTurns = 0;

  mayDeliverLocally(): boolean {
    return this.localTurns < LOCAL_TURNS_PER_TASK;
  }

  countLocalTurn(): void {
    this.localTurns += 1;
  }

  /** Waits on something that ends the task. */
  async outside<T>(wait: Promise<T>): Promise<T> {
    try {
      return await wait;
    } finally {
      this.localTurns = 0;
    }
  }
}
