import { conditionVariables, evaluateCondition, InvalidConditionError, parseCondition } from '../../src/engine';
import type { CollectedData } from '../../src/engine';

const data: CollectedData = {
  guests: 9,
  count_text: '12',
  name: 'Anna',
  status: 'on_the_way',
  confirmed: true,
  declined: false,
  empty: '',
  nothing: null,
  zero: 0,
  tags: ['vegan', 'kids', 3],
  order: { status: 'delivered', items: [{ name: 'Pizza', qty: 2 }] },
  date: '2026-12-24',
  quote: "it's",
};

describe('evaluateCondition', () => {
  test.each<[string, boolean]>([
    // == and != (numeric when both sides are numbers or numeric strings)
    ['guests == 9', true],
    ['guests == 9.0', true],
    ['guests == "9"', true],
    ['count_text == 12', true],
    ['guests != 9', false],
    ['guests != 10', true],
    ['name == Anna', true],
    ['name == anna', false],
    ["name == 'Anna'", true],
    ['name == "Anna"', true],
    ['status == on_the_way', true],
    ['confirmed == true', true],
    ['declined == false', true],
    ['confirmed == "true"', true],
    ['nothing == null', true],
    ['missing == null', true],
    ['missing != null', false],
    ['name == null', false],
    ['quote == "it\'s"', true],
    ["quote == 'it\\'s'", true],
    // ordering
    ['guests > 8', true],
    ['guests > 9', false],
    ['guests >= 9', true],
    ['guests < 10', true],
    ['guests <= 8', false],
    ['count_text > 9', true],
    ['count_text > "9"', true],
    ['date >= "2026-12-01"', true],
    ['date < "2026-12-24"', false],
    ['name > Bob', false],
    ['missing > 1', false],
    ['missing < 1', false],
    ['guests > -1', true],
    ['guests < 1e2', true],
    // contains
    ['tags contains vegan', true],
    ['tags contains meat', false],
    ['tags contains 3', true],
    ['name contains nn', true],
    ['name contains NN', true],
    ['order contains status', true],
    ['missing contains x', false],
    // exists
    ['name exists', true],
    ['missing exists', false],
    ['nothing exists', false],
    ['empty exists', true],
    ['order.items.0.name exists', true],
    ['order.items.5.name exists', false],
    // in
    ['status in [received, on_the_way]', true],
    ['status in ["received", "cooking"]', false],
    ['guests in [1, 9, 12]', true],
    ['guests in []', false],
    ['status not in [received, cooking]', true],
    ['order.status in [delivered]', true],
    // and / or / not / parentheses
    ['guests > 8 and confirmed', true],
    ['guests > 8 and declined', false],
    ['guests > 10 or confirmed', true],
    ['not declined', true],
    ['not not confirmed', true],
    ['not (guests > 8 and confirmed)', false],
    ['(guests > 10 or name == Anna) and not declined', true],
    ['guests > 10 or name == Bob and confirmed', false],
    ['confirmed or guests > 100 and declined', true],
    ['GUESTS > 8 AND confirmed', false],
    ['guests > 8 AND confirmed', true],
    // truthiness of a bare operand
    ['confirmed', true],
    ['declined', false],
    ['empty', false],
    ['zero', false],
    ['tags', true],
    ['missing', false],
    // nested paths and array indexes
    ['order.items.0.qty == 2', true],
    ['order.items.0.name == Pizza', true],
  ])('%s → %s', (condition, expected) => {
    expect(evaluateCondition(condition, data)).toBe(expected);
  });

  it('accepts a parsed condition', () => {
    const parsed = parseCondition('guests > 8');
    if (!parsed.ok) throw new Error('should parse');
    expect(evaluateCondition(parsed.ast, data)).toBe(true);
  });

  it('throws a typed error for a condition that does not parse', () => {
    expect(() => evaluateCondition('guests >', data)).toThrow(InvalidConditionError);
  });
});

describe('parseCondition errors carry the column', () => {
  test.each<[string, number, RegExp]>([
    ['', 1, /empty/],
    ['guests >', 9, /expected a value/],
    ['guests = 8', 8, /'=='/],
    ['guests > 8 && ok', 12, /'and'/],
    ['guests > 8 || ok', 12, /'or'/],
    ['!ok', 1, /'not'/],
    ['(guests > 8', 12, /expected '\)'/],
    ['guests > 8)', 11, /no matching opening/],
    ['name == "Anna', 9, /never closed/],
    ["name == 'a\\qb'", 11, /unknown escape/],
    ['status in received', 11, /expected '\['/],
    ['status in [a b]', 14, /expected ',' or '\]'/],
    ['guests > 8 confirmed', 12, /unexpected 'confirmed'/],
    ['guests > and', 10, /keyword 'and'/],
    ['name == #', 9, /unexpected character '#'/],
    ['order. == 1', 6, /ends with a dot/],
    ['and', 1, /keyword/],
  ])('%j fails at column %d', (condition, column, message) => {
    const parsed = parseCondition(condition);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error.column).toBe(column);
    expect(parsed.error.message).toMatch(message);
  });
});

describe('conditionVariables', () => {
  it('lists variables on the left of comparisons, not bare words on the right', () => {
    const parsed = parseCondition('(guests > 8 and status in [a, b]) or not order.status exists or flag or x contains y');
    if (!parsed.ok) throw new Error('should parse');
    expect(conditionVariables(parsed.ast).map((variable) => variable.path)).toEqual(['guests', 'status', 'order.status', 'flag', 'x']);
  });

  it('reports 1-based columns', () => {
    const parsed = parseCondition('  guests > 8');
    if (!parsed.ok) throw new Error('should parse');
    expect(conditionVariables(parsed.ast)).toEqual([{ path: 'guests', column: 3 }]);
  });
});
