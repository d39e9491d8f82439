import type { SendProgress, SendResult } from '../types';

/** What one platform call of a message delivered. */
export interface PartOutcome {
  messageIds: string[];
  /** Telegram: the file id of each media item the call carried (null where it went as a link). */
  mediaFileIds?: (string | null)[];
  /**
   * How many parts the call covered, when more than the caller planned: a media item that went as
   * a link together with its caption covers the caption's part too.
   */
  parts?: number;
}

/**
 * Numbers the platform calls of one message and skips those an earlier attempt delivered.
 *
 * A message is a fixed sequence of parts (media items, caption messages, text chunks), computed from
 * the message alone, so a retry of the same message numbers them the same. `part()` runs a call
 * unless its parts are all below `progress.done`, and reports each completed call to
 * `progress.onPartSent` with the running count, which the caller records (a Temporal heartbeat) and
 * hands back as `done` on the next attempt. Typing indicators are not parts.
 */
export class MessageParts {
  private position = 0;
  private readonly ids: string[] = [];
  private readonly fileIds: (string | null)[] = [];

  constructor(private readonly progress: SendProgress | undefined) {}

  private get done(): number {
    return this.progress?.done ?? 0;
  }

  /** Whether an earlier attempt delivered nothing from the next part on. */
  untouched(): boolean {
    return this.position >= this.done;
  }

  /** Runs `send` for the next `count` parts, unless all of them were delivered before; true when it ran. */
  async part(send: () => Promise<PartOutcome>, count = 1): Promise<boolean> {
    if (this.position + count <= this.done) {
      this.position += count;
      return false;
    }
    this.record(await send(), count);
    return true;
  }

  /** Records a call the adapter made itself for the next `count` parts (an album). */
  record(outcome: PartOutcome, count: number): void {
    this.position += outcome.parts ?? count;
    this.ids.push(...outcome.messageIds);
    if (outcome.mediaFileIds) this.fileIds.push(...outcome.mediaFileIds);
    this.progress?.onPartSent({
      partsSent: this.position,
      messageIds: outcome.messageIds,
      ...(outcome.mediaFileIds ? { mediaFileIds: outcome.mediaFileIds } : {}),
    });
  }

  /** What this attempt sent (only this attempt's ids: the caller merges them with earlier attempts'). */
  result(withMediaFileIds: boolean): SendResult {
    return withMediaFileIds ? { messageIds: [...this.ids], mediaFileIds: [...this.fileIds] } : { messageIds: [...this.ids] };
  }
}
