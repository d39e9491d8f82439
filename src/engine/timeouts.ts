/** How long the engine waits for an answer before reminding, resetting, abandoning or jumping. */
import { TooLarge } from './bounds';
import { parseDuration } from './durations';
import { renderTemplate, templateData } from './templates';
import type { DialogState, Scenario, TimeoutPolicy, TimeoutSetting } from './types';

/** The timeout setting of the step the dialog is on: the step's own `timeout`, else `settings.timeout`. */
export function timeoutSetting(scenario: Scenario, state: DialogState): TimeoutSetting | undefined {
  const step = state.currentStep === null ? undefined : scenario.steps[state.currentStep];
  return step?.timeout ?? scenario.settings?.timeout;
}

/**
 * The timeout of the step the dialog waits on: the step's own `timeout`, else `settings.timeout`.
 * Null when there is none, the dialog is not active or not waiting for input, or every reminder
 * has been sent and nothing else is to happen.
 */
export function timeoutPolicy(scenario: Scenario, state: DialogState): TimeoutPolicy | null {
  if (state.status !== 'active' || state.currentStep === null) return null;
  const step = scenario.steps[state.currentStep];
  if (!step || !step.expected_input) return null;
  const setting = timeoutSetting(scenario, state);
  if (!setting) return null;
  const afterMs = parseDuration(setting.after);
  if (afterMs === null) return null;
  const isRemind = setting.action === 'remind';
  const policy: TimeoutPolicy = {
    afterMs,
    action: setting.action,
    maxReminders: isRemind ? (setting.max_reminders ?? 1) : 0,
    then: isRemind ? (setting.then ?? 'none') : 'none',
  };
  if (setting.message !== undefined) {
    // The workflow asks for the policy outside advance(), to know when to wake: a reminder over the
    // text bound must not fail it here. advance() renders the reminder again and fails the turn.
    try {
      policy.message = { text: renderTemplate(setting.message, templateData(state)) };
    } catch (error) {
      if (!(error instanceof TooLarge)) throw error;
    }
  }
  if (setting.step !== undefined) policy.step = setting.step;
  // Beyond the maximum means the timeout has run its course (see advance.ts, settleAfterTimeout).
  if (state.reminders > policy.maxReminders) return null;
  if (isRemind && state.reminders >= policy.maxReminders && policy.then === 'none') return null;
  return policy;
}
