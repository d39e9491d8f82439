import { advance, DEFAULT_HELP_MESSAGE, initialState } from '../../src/engine';
import type { DialogState, Scenario } from '../../src/engine';
import { command, deepFreeze, events, kinds, last, play, press, say, scenario, sent } from './helpers';

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
    expect(results[2].effects.filter((effect) => effect.type === 'send')[0]).toEqual({ type: 'send', step: 'ask_name', message: { text: 'Too short, friend.' } });
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
    expect(sendEffect).toEqual({ type: 'send', step: 'pick_time', message: { text: 'When?', buttons: [{ text: '18:00', value: '18' }, { text: '20:00', value: '20' }] } });
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

  it('/reset goes back to the checkpoint, keeping the data', () => {
    const { state, effects } = advance(booking, atGuests(), command('reset'));
    expect(state.currentStep).toBe('ask_name');
    expect(state.collectedData.user_name).toBe('Anna');
    expect(state.attempts).toBe(0);
    expect(sent(effects)).toEqual(['Your name?']);
  });

  it('/reset without a checkpoint goes back to the start step', () => {
    const noCheckpoint = scenario({
      start_step: 'a',
      steps: {
        a: { type: 'message', message: { text: 'A' }, next_step: 'b' },
        b: { type: 'message', message: { text: 'B' }, expected_input: { type: 'text', variable: 'b' }, next_step: 'c' },
        c: { type: 'message', message: { text: 'C' }, expected_input: { type: 'text', variable: 'c' }, next_step: 'a' },
      },
    });
    const results = play(noCheckpoint, [{ type: 'start' }, say('1'), say('/reset')]);
    expect(sent(last(results).effects)).toEqual(['A', 'B']);
    expect(last(results).state.collectedData).toEqual({ b: '1' });
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

  it('hands the dialog to a human and stays silent until /start or a reset', () => {
    const [started, later] = play(handoff, [{ type: 'start' }, say('anyone?')]);
    expect(started.effects.filter((effect) => effect.type !== 'event')).toEqual([
      { type: 'handoff', step: 'human', reason: 'complaint' },
      { type: 'send', step: 'human', message: { text: 'A manager will reply.' } },
    ]);
    expect(started.state).toMatchObject({ status: 'handoff', currentStep: 'human' });
    expect(later.effects).toEqual([{ type: 'event', event: { kind: 'message_ignored', step: 'human', reason: 'handoff' } }]);
    expect(later.state).toEqual(started.state);
    expect(advance(handoff, started.state, say('/help')).effects.every((effect) => effect.type === 'event')).toBe(true);
    expect(advance(handoff, started.state, say('/start')).effects.some((effect) => effect.type === 'handoff')).toBe(true);
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

  it.each([[undefined, 25], [3, 3]])('stops after max_auto_transitions (%p → %d) with an error and a failed dialog', (max, limit) => {
    const { state, effects } = advance(loop(max), initialState(), { type: 'start' });
    expect(kinds(effects).filter((kind) => kind === 'auto_transition')).toHaveLength(limit);
    expect(last(events(effects))).toMatchObject({ kind: 'error', code: 'max_auto_transitions' });
    expect(state.status).toBe('failed');
  });

  it('allows exactly max_auto_transitions', () => {
    const chain = scenario({
      start_step: 's0',
      settings: { max_auto_transitions: 3 },
      steps: { s0: { type: 'message', next_step: 's1' }, s1: { type: 'message', next_step: 's2' }, s2: { type: 'message', next_step: 's3' }, s3: { type: 'message' } },
    });
    expect(advance(chain, initialState(), { type: 'start' }).state.status).toBe('completed');
  });
});

describe('operator changes', () => {
  const atGuests = () => last(play(booking, [{ type: 'start' }, say('Anna')])).state;

  it('set_state moves the dialog and replaces the data without sending anything', () => {
    const { state, effects } = advance(booking, { ...atGuests(), attempts: 2 }, { type: 'set_state', currentStep: 'pick_time', collectedData: { user_name: 'Zed' } });
    expect(effects).toEqual([]);
    expect(state).toMatchObject({ currentStep: 'pick_time', collectedData: { user_name: 'Zed' }, attempts: 0, status: 'active' });
  });

  it('set_state with only data keeps the step', () => {
    const { state } = advance(booking, atGuests(), { type: 'set_state', collectedData: {} });
    expect(state.currentStep).toBe('ask_guests');
    expect(state.collectedData).toEqual({});
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

  it('a dialog on a step the scenario lacks starts over with an error event', () => {
    const lost: DialogState = { ...initialState(), currentStep: 'removed_step', collectedData: { x: 1 } };
    const { state, effects } = advance(booking, lost, say('hello'));
    expect(kinds(effects)[0]).toBe('error');
    expect(state.currentStep).toBe('ask_name');
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
