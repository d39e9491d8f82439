import type { Context } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, ActivityInterceptors, Next } from '@temporalio/worker';
import { activityDuration, activityErrors, platformLabel } from '../src/metrics';

/** The platform an activity works for, from its input (`{platform}` or, a turn's delivery, `{chat: {platform}}`). */
function platformOf(args: unknown[]): string {
  const input = args[0] as { platform?: unknown; chat?: { platform?: unknown } } | undefined;
  return platformLabel(input?.platform ?? input?.chat?.platform);
}

class ActivityMetrics implements ActivityInboundCallsInterceptor {
  constructor(private readonly context: Context) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const activity = this.context.info.activityType;
    const platform = platformOf(input.args);
    const end = activityDuration.startTimer({ activity, platform });
    try {
      const result = await next(input);
      end({ outcome: 'ok' });
      return result;
    } catch (error) {
      end({ outcome: 'error' });
      const type = (error as { type?: unknown }).type;
      activityErrors.inc({ activity, platform, type: typeof type === 'string' ? type : error instanceof Error ? error.name : 'Error' });
      throw error;
    }
  }
}

/** Latency and errors of every activity attempt, per platform, into src/metrics.ts. */
export const activityMetrics = (context: Context): ActivityInterceptors => ({ inbound: new ActivityMetrics(context) });
