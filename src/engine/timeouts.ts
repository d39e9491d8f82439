/** How long the engine waits for an answer before reminding, resetting, abandoning or jumping. */
import { parseDuration } from './durations';
import { renderTemplate } from './templates';
import type { DialogState, Scenario, TimeoutPolicy } from './types';

/**
 * The timeout of the step the dialog waits on: the step's own `timeout`, else `settings.timeout`.
 * Null when there is none, the dialog is not active or not waiting for input, or every reminder
 * has been sent and nothing else is to happen.
 */
export function timeoutPolicy(scenario: Scenario, state: DialogState): TimeoutPolicy | null {
  if (state.status !== 'active' || state.currentStep === null) return null;
  const step = scenario.steps[state.currentStep];
  if (!step || !step.expected_input) return null;
  const setting = step.timeout ?? scenario.settings?.timeout;
  if (!setting) return null;
  const afterMs = parseDuration(setting.after);
  if (afterMs === null) return null;
  const isRemind = setting.action === 'remind';
  const policy: TimeoutPolicy = {
    afterMs,
    action: setting.action,
    maxReminders: isRemind ? setting.max_reminders ?? 1 : 0,
    then: isRemind ? setting.then ?? 'none' : 'none',
  };
  if (setting.message !== undefined) policy.message = { text: renderTemplate(setting.message, state.collectedData) };
  if (setting.step !== undefined) policy.step = setting.step;
  // Beyond the maximum means the timeout has run its course (see advance.ts, settleAfterTimeout).
  if (state.reminders > policy.maxReminders) return null;
  if (isRemind && state.reminders >= policy.maxReminders && policy.then === 'none') return null;
  return policy;
}
