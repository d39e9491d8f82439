import { advance, DEFAULT_ERROR_MESSAGES, DEFAULT_HELP_MESSAGE, initialState } from '../../src/engine';
import type { DialogState, JsonValue, Scenario } from '../../src/engine';
import { MAX_VALUE_BYTES } from '../../src/engine/bounds';
import { command, deepFreeze, events, kinds, last, play, press, say, scenario, sent, validScenario } from './helpers';

const booking: Scenario = scenario({
  start_step: 'welcome',
  variables: { guests: { type: 'number', default: 2 }, tags: { type: 'array', default: ['new'] } },
  settings: { help_message: 'Help for {{user_name|guest}}' },
  steps: {
    welcome: { type: 'message', message: { text: 'Welcome!' }, next_step: 'ask_name' },
    ask_name: {
      type: 'message',
      checkpoint: true,
      message: { text: 'Your name?' },
      expected_input: { type: 'text', variable: 'user_name', min_length: 2, error_message: 'Too short, {{user_name|friend}}.' },
      next_step: 'ask_guests',
    },
    ask_guests: {
      type: 'message',
      message: { text: 'How many guests, {{user_name}}?' },
      expected_input: { type: 'number', variable: 'guests', min_value: 1, max_value: 20, max_attempts: 3 },
      conditions: [
        { condition: 'guests > 8', next_step: 'large' },
        { condition: 'guests > 4', next_step: 'medium' },
      ],
      next_step: 'pick_time',
    },
    pick_time: {
      type: 'message',
      message: { text: 'When?' },
      buttons: [
        { text: '18:00', value: '18' },
        { text: '20:00', value: '20' },
      ],
      expected_input: { type: 'button', variable: 'time' },
      next_step: 'confirm',
    },
    medium: { type: 'message', message: { text: 'A big table then.' }, next_step: 'pick_time' },
    large: { type: 'message', message: { text: 'Large party of {{guests}}.' } },
    confirm: {
      type: 'action',
      action: { type: 'set_variable', variable: 'booked', value: '{{user_name}} at {{time}}' },
      message: { text: 'Booked: {{booked}}' },
      next_step: 'bye',
    },
    bye: { type: 'action', action: { type: 'end' }, message: { text: 'Bye {{user_name}}' } },
  },
});

describe('initialState', () => {
  it('is an active dialog that has not started', () => {
    expect(initialState()).toEqual({ status: 'active', currentStep: null, collectedData: {}, checkpointStep: null, attempts: 0, reminders: 0 });
  });
});

describe('starting', () => {
  it('runs the start step, moves on automatically and waits at the first question', () => {
    const { state, effects } = advance(booking, initialState(), { type: 'start' });
    expect(sent(effects)).toEqual(['Welcome!', 'Your name?']);
    expect(kinds(effects)).toEqual(['step_entered', 'auto_transition', 'step_entered']);
    expect(events(effects)[1]).toEqual({ kind: 'auto_transition', from: 'welcome', to: 'ask_name' });
    expect(state).toEqual({
      status: 'active',
      currentStep: 'ask_name',
      collectedData: { guests: 2, tags: ['new'] },
      checkpointStep: 'ask_name',
      attempts: 0,
      reminders: 0,
    });
  });

  it.each([['hi'], ['/start']])('a first message %j starts the dialog without being taken as an answer', (text) => {
    const { state, effects } = advance(booking, initialState(), say(text));
    expect(sent(effects)).toEqual(['Welcome!', 'Your name?']);
    expect(state.collectedData).toEqual({ guests: 2, tags: ['new'] });
  });

  it.each(['completed', 'abandoned', 'failed'] as const)('a message to a %s dialog starts it again with fresh data', (status) => {
    const ended: DialogState = { ...initialState(), status, currentStep: null, collectedData: { user_name: 'Old' } };
    const { state, effects } = advance(booking, ended, say('hello again'));
    expect(state.status).toBe('active');
    expect(state.currentStep).toBe('ask_name');
    expect(state.collectedData).toEqual({ guests: 2, tags: ['new'] });
    expect(sent(effects)[0]).toBe('Welcome!');
  });

  it('fails cleanly when the start step does not exist', () => {
    const broken = scenario({ start_step: 'nowhere', steps: { a: { type: 'message' } } });
    const { state, effects } = advance(broken, initialState(), { type: 'start' });
    expect(state.status).toBe('failed');
    expect(events(effects)).toContainEqual(expect.objectContaining({ kind: 'error', code: 'unknown_step' }));
  });
});

describe('answers', () => {
  it('stores a valid answer, completes the step and runs the next one', () => {
    const [, result] = play(booking, [{ type: 'start' }, say('Anna')]);
    expect(events(result.effects)).toEqual([
      { kind: 'variable_set', variable: 'user_name', value: 'Anna', step: 'ask_name' },
      { kind: 'step_completed', step: 'ask_name' },
      { kind: 'step_entered', step: 'ask_guests' },
    ]);
    expect(sent(result.effects)).toEqual(['How many guests, Anna?']);
    expect(result.state.currentStep).toBe('ask_guests');
  });

  it('re-asks an invalid answer with the error message and counts the attempt', () => {
    const results = play(booking, [{ type: 'start' }, say('A'), say('B')]);
    expect(sent(results[1].effects)).toEqual(['Too short, friend.']);
    expect(events(results[1].effects)).toEqual([{ kind: 'input_invalid', step: 'ask_name', error: 'Too short, {{user_name|friend}}.', attempts: 1 }]);
    expect(results[2].state).toMatchObject({ currentStep: 'ask_name', attempts: 2 });
    expect(results[2].effects.filter((effect) => effect.type === 'send')[0]).toEqual({
      type: 'send',
      step: 'ask_name',
      message: { text: 'Too short, friend.' },
    });
  });

  it('uses the default error message of the type when the step has none', () => {
    const results = play(booking, [{ type: 'start' }, say('Anna'), say('many')]);
    expect(sent(last(results).effects)).toEqual(['Please send a number.']);
  });

  it('moves on without storing after max_attempts invalid answers', () => {
    const results = play(booking, [{ type: 'start' }, say('Anna'), say('x'), say('y'), say('z')]);
    const final = last(results);
    expect(sent(final.effects)).toEqual(['When?']);
    expect(final.state.collectedData.guests).toBe(2);
    expect(final.state.currentStep).toBe('pick_time');
    expect(final.state.attempts).toBe(0);
    expect(kinds(final.effects)[0]).toBe('input_invalid');
  });

  it('takes the first true condition, logging each evaluation', () => {
    const [, , large] = play(booking, [{ type: 'start' }, say('Anna'), say('12')]);
    expect(events(large.effects).filter((event) => event.kind === 'condition_evaluated')).toEqual([
      { kind: 'condition_evaluated', step: 'ask_guests', condition: 'guests > 8', result: true },
    ]);
    expect(sent(large.effects)).toEqual(['Large party of 12.']);
    expect(large.state.status).toBe('completed');
    expect(large.state.currentStep).toBeNull();
    expect(last(events(large.effects))).toEqual({ kind: 'dialog_completed', step: 'large' });

    const [, , medium] = play(booking, [{ type: 'start' }, say('Anna'), say('6')]);
    expect(sent(medium.effects)).toEqual(['A big table then.', 'When?']);

    const [, , small] = play(booking, [{ type: 'start' }, say('Anna'), say('3')]);
    expect(sent(small.effects)).toEqual(['When?']);
    expect(small.state.currentStep).toBe('pick_time');
  });

  it('sends buttons with the message and accepts a press, a typed label or a typed value', () => {
    const results = play(booking, [{ type: 'start' }, say('Anna'), say('2')]);
    const sendEffect = results[2].effects.find((effect) => effect.type === 'send');
    expect(sendEffect).toEqual({
      type: 'send',
      step: 'pick_time',
      message: {
        text: 'When?',
        buttons: [
          { text: '18:00', value: '18' },
          { text: '20:00', value: '20' },
        ],
      },
    });
    for (const input of [press('20'), say('20:00'), say(' 20 ')]) {
      const done = advance(booking, results[2].state, input);
      expect(done.state.collectedData.time).toBe('20');
    }
    const wrong = advance(booking, results[2].state, say('19:00'));
    expect(wrong.state.currentStep).toBe('pick_time');
    expect(sent(wrong.effects)).toEqual(['Please choose one of the options.']);
  });

  it('runs set_variable with templates, sends the action message and ends', () => {
    const results = play(booking, [{ type: 'start' }, say('Anna'), say('2'), press('18')]);
    const final = last(results);
    expect(sent(final.effects)).toEqual(['Booked: Anna at 18', 'Bye Anna']);
    expect(final.state.collectedData.booked).toBe('Anna at 18');
    expect(final.state.status).toBe('completed');
    expect(last(events(final.effects))).toEqual({ kind: 'dialog_completed', step: 'bye' });
  });

  it('counts a button press as text on a text step', () => {
    const [, result] = play(booking, [{ type: 'start' }, press('Bob')]);
    expect(result.state.collectedData.user_name).toBe('Bob');
  });

  it('treats an unknown command as text', () => {
    const [, result] = play(booking, [{ type: 'start' }, command('menu')]);
    expect(result.state.collectedData.user_name).toBe('/menu');
  });
});

describe('commands', () => {
  const atGuests = () => last(play(booking, [{ type: 'start' }, say('Anna'), say('x')])).state;

  it.each([[command('start')], [say('/start')], [say('/START@my_bot')], [command('/start')]])('/start restarts with fresh data (%j)', (input) => {
    const { state, effects } = advance(booking, atGuests(), input);
    expect(kinds(effects)[0]).toBe('command');
    expect(state.collectedData).toEqual({ guests: 2, tags: ['new'] });
    expect(state.currentStep).toBe('ask_name');
    expect(sent(effects)).toEqual(['Welcome!', 'Your name?']);
  });

  it('/help sends the help message and stays', () => {
    const before = atGuests();
    const { state, effects } = advance(booking, before, say('/help'));
    expect(sent(effects)).toEqual(['Help for Anna']);
    expect(state).toEqual({ ...before, reminders: 0 });
  });

  it('/help without a help_message sends the default', () => {
    const plain = scenario({ start_step: 'q', steps: { q: { type: 'message', expected_input: { type: 'text', variable: 'a' }, next_step: 'q' } } });
    const [, help] = play(plain, [{ type: 'start' }, command('help')]);
    expect(sent(help.effects)).toEqual([DEFAULT_HELP_MESSAGE]);
  });

  it.each([[command('reset')], [say('/reset')], [say('/Reset@my_bot')]])(
    '/reset starts over from the start step with fresh data, not at the checkpoint (%j)',
    (input) => {
      const { state, effects } = advance(booking, atGuests(), input);
      expect(events(effects)[0]).toEqual({ kind: 'command', command: 'reset' });
      expect(state).toMatchObject({
        status: 'active',
        currentStep: 'ask_name',
        collectedData: { guests: 2, tags: ['new'] },
        attempts: 0,
        checkpointStep: 'ask_name',
      });
      expect(sent(effects)).toEqual(['Welcome!', 'Your name?']);
    },
  );

  it.each<[string, () => DialogState]>([
    ['new', () => initialState()],
    ['completed', () => last(play(booking, [{ type: 'start' }, say('Anna'), say('2'), press('18')])).state],
    ['abandoned', () => ({ ...atGuests(), status: 'abandoned' })],
    ['failed', () => ({ ...atGuests(), status: 'failed' })],
  ])('/help on a %s dialog sends the help message and starts nothing', (_, dialog) => {
    const before = dialog();
    const { state, effects } = advance(booking, before, say('/help'));
    expect(sent(effects)).toEqual([before.collectedData.user_name ? `Help for ${before.collectedData.user_name as string}` : 'Help for guest']);
    expect(kinds(effects)).toEqual(['command']);
    expect(state).toEqual(before);
  });

  it('/reset and /start restart a finished dialog alike', () => {
    const done = last(play(booking, [{ type: 'start' }, say('Anna'), say('2'), press('18')])).state;
    const reset = advance(booking, done, say('/reset'));
    const start = advance(booking, done, say('/start'));
    expect(reset.state).toEqual(start.state);
    expect(reset.state).toMatchObject({ status: 'active', currentStep: 'ask_name', collectedData: { guests: 2, tags: ['new'] } });
  });
});

describe('conditional messages', () => {
  const conditional = scenario({
    start_step: 'ask',
    steps: {
      ask: { type: 'message', expected_input: { type: 'number', variable: 'n' }, next_step: 'show' },
      show: {
        type: 'conditional_message',
        variants: [
          { condition: 'n > 10', message: { text: 'big {{n}}' }, buttons: [{ text: 'OK', value: 'ok' }] },
          { condition: 'n > 5', message: { text: 'medium' } },
        ],
        default_message: { text: 'small' },
        buttons: [{ text: 'Fine', value: 'fine' }],
        expected_input: { type: 'button', variable: 'answer' },
        next_step: 'ask',
      },
    },
  });

  it.each<[string, string, string[]]>([
    ['20', 'big 20', ['ok']],
    ['7', 'medium', ['fine']],
    ['1', 'small', ['fine']],
  ])('n=%s sends %j with the right buttons', (n, text, values) => {
    const [, result] = play(conditional, [{ type: 'start' }, say(n)]);
    const message = result.effects.find((effect) => effect.type === 'send');
    expect(message).toMatchObject({ message: { text } });
    expect(message?.type === 'send' && message.message.buttons?.map((button) => button.value)).toEqual(values);
    const accepted = advance(conditional, result.state, press(values[0]));
    expect(accepted.state.collectedData.answer).toBe(values[0]);
    const refused = advance(conditional, result.state, press(values[0] === 'ok' ? 'fine' : 'ok'));
    expect(refused.state.attempts).toBe(1);
  });
});

describe('http_request actions', () => {
  const lookup = scenario({
    start_step: 'ask',
    steps: {
      ask: { type: 'message', expected_input: { type: 'text', variable: 'id' }, next_step: 'fetch' },
      fetch: {
        type: 'action',
        action: {
          type: 'http_request',
          method: 'POST',
          url: 'https://api.example.com/orders/{{id}}',
          headers: { 'X-Order': '{{id}}' },
          body: { order: '{{id}}', fixed: 1 },
          variable: 'order',
          timeout_ms: 3000,
          on_error_step: 'sorry',
        },
        message: { text: 'Status: {{order.status}}' },
        next_step: 'done',
      },
      done: { type: 'message', message: { text: 'Done' } },
      sorry: { type: 'message', message: { text: 'Sorry' } },
    },
  });

  const waiting = () => last(play(lookup, [{ type: 'start' }, say('A1')]));

  it('asks the workflow to run the request, as the last effect, and waits', () => {
    const result = waiting();
    expect(last(result.effects)).toEqual({
      type: 'http_request',
      step: 'fetch',
      request: { method: 'POST', url: 'https://api.example.com/orders/A1', headers: { 'X-Order': 'A1' }, body: { order: 'A1', fixed: 1 }, timeout_ms: 3000 },
    });
    expect(result.state).toMatchObject({ status: 'active', currentStep: 'fetch' });
  });

  it('stores the reply, sends the step message and goes on', () => {
    const result = advance(lookup, waiting().state, { type: 'action_result', step: 'fetch', ok: true, value: { status: 'cooking' } });
    expect(result.state.collectedData.order).toEqual({ status: 'cooking' });
    expect(sent(result.effects)).toEqual(['Status: cooking', 'Done']);
    expect(result.state.status).toBe('completed');
  });

  it('on failure logs an error, stores null and goes to on_error_step', () => {
    const result = advance(lookup, waiting().state, { type: 'action_result', step: 'fetch', ok: false, error: 'HTTP 503' });
    expect(events(result.effects)[0]).toEqual({ kind: 'error', step: 'fetch', code: 'http_request_failed', message: 'HTTP 503' });
    expect(result.state.collectedData.order).toBeNull();
    expect(sent(result.effects)).toEqual(['Sorry']);
  });

  it('on failure without on_error_step goes on by the usual resolution', () => {
    const withoutFallback = scenario({
      ...lookup,
      steps: { ...lookup.steps, fetch: { ...lookup.steps.fetch, action: { type: 'http_request', url: 'u', variable: 'order' } } },
    });
    const result = advance(withoutFallback, waiting().state, { type: 'action_result', step: 'fetch', ok: false, error: 'timeout' });
    expect(sent(result.effects)).toEqual(['Done']);
  });

  it('ignores a result for another step and messages while the request runs', () => {
    const state = waiting().state;
    const stray = advance(lookup, state, { type: 'action_result', step: 'ask', ok: true, value: 1 });
    expect(stray.state).toEqual(state);
    expect(events(stray.effects)).toEqual([expect.objectContaining({ kind: 'error', code: 'unexpected_action_result' })]);
    const message = advance(lookup, state, say('hello?'));
    expect(message.state).toEqual(state);
    expect(events(message.effects)).toEqual([{ kind: 'message_ignored', step: 'fetch', reason: 'awaiting_action' }]);
  });
});

describe('handoff', () => {
  const handoff = scenario({
    start_step: 'human',
    steps: { human: { type: 'action', action: { type: 'handoff', reason: 'complaint' }, message: { text: 'A manager will reply.' } } },
  });

  it('hands the dialog to a human and stays silent until /start, /reset or an operator reset; /help still helps', () => {
    const [started, later] = play(handoff, [{ type: 'start' }, say('anyone?')]);
    expect(started.effects.filter((effect) => effect.type !== 'event')).toEqual([
      { type: 'handoff', step: 'human', reason: 'complaint' },
      { type: 'send', step: 'human', message: { text: 'A manager will reply.' } },
    ]);
    expect(started.state).toMatchObject({ status: 'handoff', currentStep: 'human' });
    expect(later.effects).toEqual([{ type: 'event', event: { kind: 'message_ignored', step: 'human', reason: 'handoff' } }]);
    expect(later.state).toEqual(started.state);
    const help = advance(handoff, started.state, say('/help'));
    expect(sent(help.effects)).toEqual([DEFAULT_HELP_MESSAGE]);
    expect(help.state).toEqual(started.state);
    expect(advance(handoff, started.state, say('/start')).effects.some((effect) => effect.type === 'handoff')).toBe(true);
    expect(advance(handoff, started.state, say('/reset')).effects.some((effect) => effect.type === 'handoff')).toBe(true);
    expect(advance(handoff, started.state, { type: 'reset', toCheckpoint: false }).state.status).toBe('handoff');
  });
});

describe('auto-transition limit', () => {
  const loop = (max?: number) =>
    scenario({
      start_step: 'a',
      ...(max ? { settings: { max_auto_transitions: max } } : {}),
      steps: { a: { type: 'message', message: { text: 'a' }, next_step: 'b' }, b: { type: 'message', next_step: 'a' } },
    });

  it.each([
    [undefined, 25],
    [3, 3],
  ])('stops after max_auto_transitions (%p → %d) with an error and a failed dialog', (max, limit) => {
    const { state, effects } = advance(loop(max), initialState(), { type: 'start' });
    expect(kinds(effects).filter((kind) => kind === 'auto_transition')).toHaveLength(limit);
    expect(last(events(effects))).toMatchObject({ kind: 'error', code: 'max_auto_transitions' });
    expect(state.status).toBe('failed');
  });

  it('allows exactly max_auto_transitions', () => {
    const chain = scenario({
      start_step: 's0',
      settings: { max_auto_transitions: 3 },
      steps: {
        s0: { type: 'message', next_step: 's1' },
        s1: { type: 'message', next_step: 's2' },
        s2: { type: 'message', next_step: 's3' },
        s3: { type: 'message' },
      },
    });
    expect(advance(chain, initialState(), { type: 'start' }).state.status).toBe('completed');
  });
});

describe('operator changes', () => {
  const atGuests = () => last(play(booking, [{ type: 'start' }, say('Anna')])).state;

  it('set_state moves the dialog and merges the data without sending anything', () => {
    const { state, effects } = advance(
      booking,
      { ...atGuests(), attempts: 2 },
      { type: 'set_state', currentStep: 'pick_time', collectedData: { user_name: 'Zed', note: { vip: true } } },
    );
    expect(effects).toEqual([]);
    expect(state).toMatchObject({ currentStep: 'pick_time', attempts: 0, status: 'active' });
    expect(state.collectedData).toEqual({ guests: 2, tags: ['new'], user_name: 'Zed', note: { vip: true } });
  });

  it('set_state removes a key set to null and keeps the others', () => {
    const { state } = advance(booking, atGuests(), { type: 'set_state', collectedData: { tags: null, guests: 3 } });
    expect(state.collectedData).toEqual({ guests: 3, user_name: 'Anna' });
    expect(Object.prototype.hasOwnProperty.call(state.collectedData, 'tags')).toBe(false);
  });

  it('set_state with replaceData replaces the data whole, nulls included; the step stays', () => {
    const { state } = advance(booking, atGuests(), { type: 'set_state', collectedData: { only: 1, gone: null }, replaceData: true });
    expect(state.currentStep).toBe('ask_guests');
    expect(state.collectedData).toEqual({ only: 1, gone: null });
  });

  it('set_state stores a merged key named __proto__ as data', () => {
    const change = JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, JsonValue>;
    const { state } = advance(booking, atGuests(), { type: 'set_state', collectedData: change });
    expect(Object.getOwnPropertyDescriptor(state.collectedData, '__proto__')?.value).toEqual({ polluted: true });
    expect(Object.getPrototypeOf(state.collectedData)).toBe(Object.prototype);
  });

  it('set_state refuses data that would pass the bounds once merged, and changes nothing', () => {
    const half = 'x'.repeat(MAX_VALUE_BYTES - 100);
    let state = atGuests();
    for (const name of ['a', 'b', 'c']) state = advance(booking, state, { type: 'set_state', collectedData: { [name]: half } }).state;
    expect(Object.keys(state.collectedData)).toEqual(expect.arrayContaining(['a', 'b', 'c']));
    // Each change alone is under every bound; the data with it is not.
    const { state: after, effects } = advance(booking, state, { type: 'set_state', currentStep: 'pick_time', collectedData: { d: half, e: half } });
    expect(after).toEqual(state);
    expect(events(effects)).toEqual([expect.objectContaining({ kind: 'error', code: 'data_too_large' })]);
    // Removing keys in the same change makes room.
    const room = advance(booking, state, { type: 'set_state', collectedData: { a: null, b: null, d: half, e: half } });
    expect(Object.keys(room.state.collectedData).sort()).toEqual(['c', 'd', 'e', 'guests', 'tags', 'user_name']);
  });

  it('set_state refuses a step that is only a property of every object', () => {
    const before = atGuests();
    const { state, effects } = advance(booking, before, { type: 'set_state', currentStep: 'constructor' });
    expect(state).toEqual(before);
    expect(events(effects)).toEqual([expect.objectContaining({ kind: 'error', code: 'unknown_step' })]);
  });

  it('set_state refuses an unknown step', () => {
    const before = atGuests();
    const { state, effects } = advance(booking, before, { type: 'set_state', currentStep: 'nope' });
    expect(state).toEqual(before);
    expect(events(effects)).toEqual([expect.objectContaining({ kind: 'error', code: 'unknown_step' })]);
  });

  it('a message after set_state to a step that does not wait runs that step', () => {
    const moved = advance(booking, atGuests(), { type: 'set_state', currentStep: 'medium' }).state;
    const { state, effects } = advance(booking, moved, say('hi'));
    expect(sent(effects)).toEqual(['A big table then.', 'When?']);
    expect(state.currentStep).toBe('pick_time');
  });

  it('reset to the checkpoint keeps data; a full reset starts over', () => {
    const toCheckpoint = advance(booking, atGuests(), { type: 'reset', toCheckpoint: true });
    expect(toCheckpoint.state).toMatchObject({ currentStep: 'ask_name', collectedData: { user_name: 'Anna' } });
    const full = advance(booking, atGuests(), { type: 'reset', toCheckpoint: false });
    expect(full.state).toMatchObject({ currentStep: 'ask_name', collectedData: { guests: 2, tags: ['new'] } });
    expect(sent(full.effects)).toEqual(['Welcome!', 'Your name?']);
  });

  it('reset to a named checkpoint goes there, keeping the data, from wherever the dialog is', () => {
    const twoCheckpoints = scenario({
      ...booking,
      steps: { ...booking.steps, ask_guests: { ...booking.steps.ask_guests, checkpoint: true } },
    });
    const atTime = last(play(twoCheckpoints, [{ type: 'start' }, say('Anna'), say('2')])).state;
    expect(atTime).toMatchObject({ currentStep: 'pick_time', checkpointStep: 'ask_guests' });
    const { state, effects } = advance(twoCheckpoints, atTime, { type: 'reset', toCheckpoint: 'ask_name' });
    expect(state).toMatchObject({ status: 'active', currentStep: 'ask_name', checkpointStep: 'ask_name', collectedData: { user_name: 'Anna', guests: 2 } });
    expect(sent(effects)).toEqual(['Your name?']);
    const done = last(play(twoCheckpoints, [say('Anna'), say('2'), press('18')], atTime)).state;
    expect(done.status).toBe('completed');
    expect(advance(twoCheckpoints, done, { type: 'reset', toCheckpoint: 'ask_guests' }).state).toMatchObject({ status: 'active', currentStep: 'ask_guests' });
  });

  it.each(['pick_time', 'nope', 'constructor'])('reset to %s, not a checkpoint, changes nothing', (step) => {
    const before = atGuests();
    const { state, effects } = advance(booking, before, { type: 'reset', toCheckpoint: step });
    expect(state).toEqual(before);
    expect(events(effects)).toEqual([expect.objectContaining({ kind: 'error', code: 'not_a_checkpoint' })]);
  });

  it('a dialog on a step the scenario lacks starts over with an error event', () => {
    const lost: DialogState = { ...initialState(), currentStep: 'removed_step', collectedData: { x: 1 } };
    const { state, effects } = advance(booking, lost, say('hello'));
    expect(kinds(effects)[0]).toBe('error');
    expect(state.currentStep).toBe('ask_name');
  });
});

describe('time answers', () => {
  const dinner = validScenario(
    scenario({
      start_step: 'ask_time',
      steps: {
        ask_time: {
          type: 'message',
          message: { text: 'What time?' },
          expected_input: { type: 'time', variable: 'time', min_value: '18:00', max_value: '22:30' },
          conditions: [{ condition: 'time >= "21:00"', next_step: 'late' }],
          next_step: 'booked',
        },
        late: { type: 'message', message: { text: 'A late table at {{time}}.' } },
        booked: { type: 'message', message: { text: 'A table at {{time}}.' } },
      },
    }),
  );

  it('re-asks a number or a time outside the window, stores HH:MM and compares times in conditions', () => {
    const results = play(dinner, [{ type: 'start' }, say('4'), say('5pm'), say('9:15 pm')]);
    expect(sent(results[1].effects)).toEqual([DEFAULT_ERROR_MESSAGES.time]);
    expect(sent(results[2].effects)).toEqual([DEFAULT_ERROR_MESSAGES.time]);
    expect(sent(last(results).effects)).toEqual(['A late table at 21:15.']);
    expect(last(results).state).toMatchObject({ status: 'completed', collectedData: { time: '21:15' } });
  });

  it('takes the next step for an earlier time', () => {
    const results = play(dinner, [{ type: 'start' }, say('19h30')]);
    expect(sent(last(results).effects)).toEqual(['A table at 19:30.']);
  });
});

describe('purity', () => {
  it('never modifies its arguments and gives deep-equal results for equal inputs', () => {
    const frozenScenario = deepFreeze(JSON.parse(JSON.stringify(booking)) as Scenario);
    const inputs = [{ type: 'start' } as const, say('Anna'), say('x'), say('12'), command('reset'), say('Bo'), say('2'), press('18')];
    let state = deepFreeze(initialState());
    for (const input of inputs) {
      const first = advance(frozenScenario, state, deepFreeze(input));
      const second = advance(frozenScenario, JSON.parse(JSON.stringify(state)), JSON.parse(JSON.stringify(input)));
      expect(second).toEqual(first);
      state = deepFreeze(first.state);
    }
    expect(state.status).toBe('completed');
  });

  it('stores a variable named __proto__ as data, not as a prototype', () => {
    const odd = scenario({ start_step: 'q', steps: { q: { type: 'message', expected_input: { type: 'text', variable: '__proto__' }, next_step: 'q' } } });
    const [, answered] = play(odd, [{ type: 'start' }, say('x')]);
    expect(Object.getOwnPropertyDescriptor(answered.state.collectedData, '__proto__')?.value).toBe('x');
    expect(Object.getPrototypeOf(answered.state.collectedData)).toBe(Object.prototype);
  });

  it('does not share objects between the result and the scenario', () => {
    const { state } = advance(booking, initialState(), { type: 'start' });
    (state.collectedData.tags as string[]).push('mutated');
    expect(booking.variables?.tags.default).toEqual(['new']);
  });
});
