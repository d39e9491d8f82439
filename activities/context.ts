import { Context } from '@temporalio/activity';

/** The context of the activity running now; undefined when the function is called outside Temporal. */
export function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}
