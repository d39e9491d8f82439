import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { advance, initialState, validateScenarioText } from '../../src/engine';
import type { AdvanceResult, EngineInput, Scenario } from '../../src/engine';
import { events, last, play, press, say, sent } from './helpers';

const EXAMPLES = join(__dirname, '../../examples');

function load(name: string): Scenario {
  const result = validateScenarioText(readFileSync(join(EXAMPLES, name), 'utf8'));
  if (!result.scenario) throw new Error(`${name}: ${JSON.stringify(result.errors)}`);
  return result.scenario;
}

const allSent = (results: AdvanceResult[]) => results.flatMap((result) => sent(result.effects));

describe('examples', () => {
  // `*.tests.json` are the examples' conversation tests (conversations.test.ts), not scenarios.
  const files = readdirSync(EXAMPLES).filter((file) => file.endsWith('.json') && !file.endsWith('.tests.json'));

  it('include the four restaurant scenarios', () => {
    expect(files.sort()).toEqual(['delivery-status.json', 'feedback.json', 'menu.json', 'table-booking.json']);
  });

  it.each(files)('%s is valid', (file) => {
    const result = validateScenarioText(readFileSync(join(EXAMPLES, file), 'utf8'));
    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(true);
  });
});

describe('table-booking.json', () => {
  const scenario = load('table-booking.json');

  it('books a table for a small party', () => {
    const results = play(scenario, [
      { type: 'start' },
      say('A'),
      say('Anna Karenina'),
      say('31.02.2026'),
      say('24.12.2026'),
      say('4'),
      say('19:30'),
      say('07911 123456'),
    ]);
    expect(allSent(results)).toEqual([
      "Welcome to Trattoria GET INN! Let's book you a table.",
      'What name should the booking be under?',
      'Letters only, please (2 to 50 of them).',
      'Which day, Anna Karenina? For example 24.12.2026.',
      'Please send a date, for example 2025-12-31 or 31.12.2025.',
      'How many guests?',
      'What time suits you on 2026-12-24?',
      'Your phone number, in case we need to reach you?',
      'Booked: 4 guests on 2026-12-24 at 19:30, under Anna Karenina. See you soon!',
    ]);
    const final = last(results).state;
    expect(final.status).toBe('completed');
    expect(final.collectedData.booking).toEqual({ name: 'Anna Karenina', date: '2026-12-24', time: '19:30', guests: 4 });
    expect(final.collectedData.phone).toBe('+447911123456');
  });

  it.each<[string, string]>([
    ['12', 'For 12 guests a manager confirms the table personally.'],
    ['25', '25 guests is a private event! Our events manager will call you back today, or call us on +44 20 7946 0958.'],
  ])('hands a party of %s to a manager', (guests, message) => {
    const results = play(scenario, [{ type: 'start' }, say('Bob'), say('2026-12-24'), say(guests)]);
    const final = last(results);
    expect(sent(final.effects)).toEqual([message, 'A manager will reply here shortly.']);
    expect(final.effects.find((effect) => effect.type === 'handoff')).toEqual({ type: 'handoff', step: 'manager', reason: 'large party' });
    expect(final.state.status).toBe('handoff');
  });

  it('/reset starts the booking again from the welcome, with fresh answers', () => {
    const results = play(scenario, [{ type: 'start' }, say('Bob'), say('2026-12-24'), say('/reset')]);
    expect(sent(last(results).effects)).toEqual(["Welcome to Trattoria GET INN! Let's book you a table.", 'What name should the booking be under?']);
    expect(last(results).state.collectedData.date).toBeUndefined();
    expect(last(results).state.collectedData.user_name).toBeUndefined();
  });

  it('reminds once after 30 minutes, then abandons', () => {
    const results = play(scenario, [{ type: 'start' }, { type: 'timeout' }, { type: 'timeout' }]);
    expect(sent(results[1].effects)).toEqual(['Still there, friend? Just answer the last question to carry on.']);
    expect(results[2].state.status).toBe('abandoned');
  });
});

describe('menu.json', () => {
  const scenario = load('menu.json');

  it('shows a section with an album of three photos and goes back to the menu', () => {
    const results = play(scenario, [{ type: 'start' }, press('mains'), say('back to the menu'), say('starters'), press('done')]);
    const mains = results[1].effects.find((effect) => effect.type === 'send');
    expect(mains?.type === 'send' && mains.message.media?.map((item) => item.url)).toEqual([
      'https://cdn.example.com/menu/risotto.jpg',
      'https://cdn.example.com/menu/tagliata.jpg',
      'https://cdn.example.com/menu/sea-bass.jpg',
    ]);
    expect(sent(results[2].effects)).toEqual(['What would you like to see?']);
    const starters = results[3].effects.find((effect) => effect.type === 'send');
    expect(starters?.type === 'send' && starters.message.media).toEqual([
      { type: 'image', url: 'https://cdn.example.com/menu/burrata.jpg', caption: 'Burrata' },
    ]);
    expect(sent(last(results).effects)).toEqual(['Enjoy your meal! Send /start to see the menu again.']);
    expect(last(results).state.status).toBe('completed');
  });
});

describe('feedback.json', () => {
  const scenario = load('feedback.json');

  it('follows up on a low score and collects an e-mail', () => {
    const results = play(scenario, [{ type: 'start' }, say('7'), press('2'), say('Cold soup'), say('Yes, please'), say('Anna@Example.com')]);
    expect(allSent(results)).toEqual([
      'How was your visit? 1 is poor, 5 is excellent.',
      'Please pick a score from 1 to 5.',
      "We're sorry to hear that. What went wrong?",
      'May our manager contact you about it?',
      'Your e-mail address?',
      'Thank you. Our manager will write to Anna@example.com within a day.',
    ]);
    expect(last(results).state.collectedData).toMatchObject({ rating: 2, problem: 'Cold soup', contact_me: 'yes', email: 'Anna@example.com' });
  });

  it('thanks a happy guest and asks for a review', () => {
    const [, result] = play(scenario, [{ type: 'start' }, press('5')]);
    expect(sent(result.effects)).toEqual(['Wonderful, thank you! Would you leave us a review?']);
    expect(result.state.status).toBe('completed');
  });

  it('thanks a middling score without follow-up', () => {
    const [, result] = play(scenario, [{ type: 'start' }, say('3')]);
    expect(sent(result.effects)).toEqual(['Thank you for your 3/5!']);
  });

  it('gives up after a day without an answer', () => {
    const [, result] = play(scenario, [{ type: 'start' }, { type: 'timeout' }]);
    expect(result.state.status).toBe('abandoned');
  });
});

describe('delivery-status.json', () => {
  const scenario = load('delivery-status.json');
  const reply = (value: unknown): EngineInput => ({ type: 'action_result', step: 'lookup', ok: true, value: value as never });

  it('looks the order up and tells where it is', () => {
    const [, asked] = play(scenario, [{ type: 'start' }, say('GI-10428')]);
    expect(last(asked.effects)).toEqual({
      type: 'http_request',
      step: 'lookup',
      request: { method: 'GET', url: 'https://delivery.example.com/api/orders/GI-10428', headers: { Accept: 'application/json' }, timeout_ms: 5000 },
    });
    const answered = advance(scenario, asked.state, reply({ status: 'on_the_way', eta_minutes: 12, courier: { name: 'Sam' } }));
    expect(sent(answered.effects)).toEqual(['Order GI-10428 is on its way with Sam, arriving in about 12 minutes.', 'Check another order?']);
    const preparing = advance(scenario, asked.state, reply({ status: 'cooking' }));
    expect(sent(preparing.effects)[0]).toBe('Order GI-10428 is being prepared (cooking).');
    const odd = advance(scenario, asked.state, reply({ status: 'lost' }));
    expect(sent(odd.effects)[0]).toBe('Order GI-10428: lost. Call us if anything looks wrong.');
    const done = advance(scenario, answered.state, press('no'));
    expect(sent(done.effects)).toEqual(['Thanks for ordering with us!']);
    expect(done.state.status).toBe('completed');
  });

  it('says so when the lookup fails, and can try again', () => {
    const results = play(scenario, [{ type: 'start' }, say('nonsense'), say('GI-1')]);
    expect(sent(results[1].effects)).toEqual(["That doesn't look like an order number: two letters and digits, like GI-10428."]);
    const failed = advance(scenario, results[1].state, say('GI-999'));
    const afterFailure = advance(scenario, failed.state, { type: 'action_result', step: 'lookup', ok: false, error: 'HTTP 404' });
    expect(events(afterFailure.effects)[0]).toMatchObject({ kind: 'error', code: 'http_request_failed' });
    expect(sent(afterFailure.effects)).toEqual(["I couldn't find order GI-999 right now.", 'Check another order?']);
    const again = advance(scenario, afterFailure.state, say('yes'));
    expect(sent(again.effects)).toEqual(['Please send your order number (for example GI-10428).']);
    expect(again.state.collectedData.order).toBeNull();
    expect(advance(scenario, initialState(), { type: 'start' }).state.currentStep).toBe('ask_order');
  });
});
