import { advance, timeoutPolicy } from '../../src/engine';
import type { DialogState, Scenario, TimeoutSetting } from '../../src/engine';
import { events, kinds, last, play, say, scenario, sent } from './helpers';

function withTimeout(settingsTimeout?: TimeoutSetting, stepTimeout?: TimeoutSetting): Scenario {
  return scenario({
    start_step: 'intro',
    ...(settingsTimeout ? { settings: { timeout: settingsTimeout } } : {}),
    steps: {
      intro: { type: 'message', message: { text: 'Intro' }, next_step: 'ask', checkpoint: true },
      ask: {
        type: 'message',
        message: { text: 'Name?' },
        expected_input: { type: 'text', variable: 'name' },
        next_step: 'ask_more',
        ...(stepTimeout ? { timeout: stepTimeout } : {}),
      },
      ask_more: { type: 'message', message: { text: 'More?' }, expected_input: { type: 'text', variable: 'more' }, next_step: 'ask' },
      later: { type: 'message', message: { text: 'Come back any time.' }, expected_input: { type: 'any', variable: 'x' }, next_step: 'ask' },
    },
  });
}

const waitingAt = (value: Scenario): DialogState => last(play(value, [{ type: 'start' }])).state;

describe('timeoutPolicy', () => {
  it('is null without a timeout, before the start and when the dialog is not active', () => {
    const none = withTimeout();
    expect(timeoutPolicy(none, waitingAt(none))).toBeNull();
    const some = withTimeout({ after: '30m', action: 'abandon' });
    expect(timeoutPolicy(some, { ...waitingAt(some), currentStep: null })).toBeNull();
    for (const status of ['completed', 'abandoned', 'handoff', 'failed'] as const) {
      expect(timeoutPolicy(some, { ...waitingAt(some), status })).toBeNull();
    }
  });

  it('takes settings.timeout, with defaults for reminders', () => {
    const value = withTimeout({ after: '30m', action: 'remind', message: 'Still there?' });
    expect(timeoutPolicy(value, waitingAt(value))).toEqual({
      afterMs: 1_800_000,
      action: 'remind',
      message: { text: 'Still there?' },
      maxReminders: 1,
      then: 'none',
    });
  });

  it('lets a step timeout override the settings', () => {
    const value = withTimeout({ after: '30m', action: 'abandon' }, { after: '2h', action: 'goto', step: 'later' });
    expect(timeoutPolicy(value, waitingAt(value))).toEqual({ afterMs: 7_200_000, action: 'goto', maxReminders: 0, then: 'none', step: 'later' });
  });

  it('is null when reminders are used up and nothing follows', () => {
    const value = withTimeout({ after: '1m', action: 'remind', max_reminders: 2 });
    expect(timeoutPolicy(value, { ...waitingAt(value), reminders: 2 })).toBeNull();
  });

  it('renders the reminder message', () => {
    const value = withTimeout({ after: '1m', action: 'remind', message: 'Hi {{name|there}}' });
    expect(timeoutPolicy(value, waitingAt(value))?.message).toEqual({ text: 'Hi there' });
  });

  it('is null for an unreadable duration', () => {
    const value = withTimeout({ after: 'soon', action: 'abandon' });
    expect(timeoutPolicy(value, waitingAt(value))).toBeNull();
  });
});

describe('timeout input', () => {
  it('reminds up to max_reminders, then abandons', () => {
    const value = withTimeout({ after: '30m', action: 'remind', message: 'Still there?', max_reminders: 2, then: 'abandon' });
    const [, first, second, third] = play(value, [{ type: 'start' }, { type: 'timeout' }, { type: 'timeout' }, { type: 'timeout' }]);
    expect(sent(first.effects)).toEqual(['Still there?']);
    expect(events(first.effects)).toEqual([{ kind: 'reminder_sent', step: 'ask', count: 1 }]);
    expect(second.state.reminders).toBe(2);
    expect(third.state.status).toBe('abandoned');
    expect(events(third.effects)).toEqual([{ kind: 'dialog_abandoned', step: 'ask' }]);
    expect(timeoutPolicy(value, third.state)).toBeNull();
  });

  it('re-sends the question when the reminder has no message', () => {
    const value = withTimeout({ after: '30m', action: 'remind' });
    const [, reminded] = play(value, [{ type: 'start' }, { type: 'timeout' }]);
    expect(sent(reminded.effects)).toEqual(['Name?']);
  });

  it('a user message sets reminders back to zero', () => {
    const value = withTimeout({ after: '30m', action: 'remind', max_reminders: 1, then: 'abandon' });
    const results = play(value, [{ type: 'start' }, { type: 'timeout' }, say('Anna')]);
    expect(last(results).state.reminders).toBe(0);
  });

  it('abandon', () => {
    const value = withTimeout({ after: '1m', action: 'abandon' });
    const [, result] = play(value, [{ type: 'start' }, { type: 'timeout' }]);
    expect(result.state.status).toBe('abandoned');
  });

  it('reset goes back to the checkpoint once, then stays quiet until the user writes', () => {
    const value = withTimeout({ after: '1m', action: 'reset' });
    const [, , reset] = play(value, [{ type: 'start' }, say('Anna'), { type: 'timeout' }]);
    expect(sent(reset.effects)).toEqual(['Intro', 'Name?']);
    expect(reset.state.collectedData.name).toBe('Anna');
    expect(timeoutPolicy(value, reset.state)).toBeNull();
    expect(advance(value, reset.state, { type: 'timeout' }).effects).toEqual([]);
    const answered = advance(value, reset.state, say('Bob'));
    expect(timeoutPolicy(value, answered.state)).not.toBeNull();
  });

  it('then: reset after the reminders', () => {
    const value = withTimeout({ after: '1m', action: 'remind', message: 'Hello?', then: 'reset' });
    const [, , back] = play(value, [{ type: 'start' }, { type: 'timeout' }, { type: 'timeout' }]);
    expect(sent(back.effects)).toEqual(['Intro', 'Name?']);
    expect(timeoutPolicy(value, back.state)).toBeNull();
  });

  it('goto runs the step', () => {
    const value = withTimeout(undefined, { after: '1h', action: 'goto', step: 'later' });
    const [, moved] = play(value, [{ type: 'start' }, { type: 'timeout' }]);
    expect(sent(moved.effects)).toEqual(['Come back any time.']);
    expect(moved.state.currentStep).toBe('later');
    expect(kinds(moved.effects)).toEqual(['step_entered']);
  });

  it('does nothing without a policy', () => {
    const value = withTimeout();
    const state = waitingAt(value);
    expect(advance(value, state, { type: 'timeout' })).toEqual({ state, effects: [] });
  });
});
