import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { MediaProcessingActivities } from '../src/dialog/contract';

const { processMedia } = proxyActivities<MediaProcessingActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

const { markMediaFailed } = proxyActivities<MediaProcessingActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

export interface MediaProcessingInput {
  mediaId: string;
}

/** Workflow id of a media file's processing; one at a time per file. */
export const mediaWorkflowId = (mediaId: string) => `media:${mediaId}`;

/**
 * Thumbnail, metadata and platform variants of one uploaded file, as a retried activity. When every
 * attempt failed the record says `failed` with the reason, instead of staying `pending` forever.
 */
export async function mediaProcessingWorkflow(input: MediaProcessingInput): Promise<'ready' | 'failed'> {
  try {
    await processMedia(input);
    return 'ready';
  } catch (error) {
    const cause = error instanceof ActivityFailure ? error.cause : error;
    const reason = cause instanceof ApplicationFailure || cause instanceof Error ? cause.message : String(cause);
    await markMediaFailed({ mediaId: input.mediaId, reason });
    return 'failed';
  }
}
