import { formatValue, parseTemplate, renderTemplate, renderValue, templateReferences } from '../../src/engine';
import type { CollectedData } from '../../src/engine';

const data: CollectedData = {
  name: 'Anna',
  guests: 4,
  price: 0.1 + 0.2,
  big: 1234567.5,
  negative_zero: -0,
  yes: true,
  no: false,
  empty: '',
  nothing: null,
  when: '2026-12-24',
  at: '2026-12-24T18:30:00Z',
  restaurant: { name: 'Trattoria', address: { city: 'London' } },
  items: [{ name: 'Pizza' }, { name: 'Pasta' }],
  tags: ['a', 'b'],
};

describe('renderTemplate', () => {
  test.each<[string, string]>([
    ['Hello {{name}}!', 'Hello Anna!'],
    ['{{ name }}', 'Anna'],
    ['{{restaurant.name}} in {{restaurant.address.city}}', 'Trattoria in London'],
    ['{{items.0.name}} and {{items.1.name}}', 'Pizza and Pasta'],
    ['{{items.2.name}}', ''],
    ['{{items.x}}', ''],
    ['{{missing}}', ''],
    ['{{missing|friend}}', 'friend'],
    ['{{missing | dear friend }}', 'dear friend'],
    ['{{missing|}}', ''],
    ['{{empty|fallback}}', 'fallback'],
    ['{{nothing|fallback}}', 'fallback'],
    ['{{name|fallback}}', 'Anna'],
    ['{{guests}} guests', '4 guests'],
    ['{{price}}', '0.3'],
    ['{{big}}', '1234567.5'],
    ['{{negative_zero}}', '0'],
    ['{{yes}}/{{no}}', 'yes/no'],
    ['{{when}}', '2026-12-24'],
    ['{{at}}', '2026-12-24 18:30'],
    ['{{restaurant.address}}', '{"city":"London"}'],
    ['{{tags}}', '["a","b"]'],
    ['\\{{name}}', '{{name}}'],
    ['a \\{{ b }} c', 'a {{ b }} c'],
    ['{{name', '{{name'],
    ['{{}}', '{{}}'],
    ['{{two words}}', '{{two words}}'],
    ['no templates', 'no templates'],
    ['', ''],
    ['{{name}}{{guests}}', 'Anna4'],
    ['}} {{name}} }}', '}} Anna }}'],
  ])('%j → %j', (template, expected) => {
    expect(renderTemplate(template, data)).toBe(expected);
  });
});

describe('formatValue', () => {
  test.each<[unknown, string]>([
    [undefined, ''],
    [null, ''],
    [true, 'yes'],
    [false, 'no'],
    [42, '42'],
    [1e21, '1e+21'],
    [Number.NaN, ''],
    ['text', 'text'],
    [[1, 2], '[1,2]'],
    [{ a: 1 }, '{"a":1}'],
  ])('%p → %j', (value, expected) => {
    expect(formatValue(value as never)).toBe(expected);
  });
});

describe('renderValue', () => {
  it('keeps the type of a value that is exactly one placeholder', () => {
    expect(renderValue('{{guests}}', data)).toBe(4);
    expect(renderValue('{{restaurant.address}}', data)).toEqual({ city: 'London' });
    expect(renderValue('{{missing}}', data)).toBeNull();
    expect(renderValue('{{missing|none}}', data)).toBe('none');
  });

  it('renders strings inside objects and arrays', () => {
    expect(renderValue({ who: 'Mr {{name}}', list: ['{{guests}}', 3], flag: true }, data)).toEqual({ who: 'Mr Anna', list: [4, 3], flag: true });
  });

  it('does not share structure with the data', () => {
    const copy = renderValue('{{restaurant}}', data) as { name: string };
    copy.name = 'changed';
    expect((data.restaurant as { name: string }).name).toBe('Trattoria');
  });
});

describe('parseTemplate', () => {
  it('reports unclosed and invalid placeholders with their offsets', () => {
    expect(parseTemplate('ok {{a b}} and {{c').problems).toEqual([
      { offset: 3, message: expect.stringMatching(/not a variable path/) },
      { offset: 15, message: expect.stringMatching(/never closed/) },
    ]);
  });

  it('lists references', () => {
    expect(templateReferences('{{a.b}} \\{{x}} {{c|d}}')).toEqual([
      { path: 'a.b', offset: 0, hasFallback: false },
      { path: 'c', offset: 15, hasFallback: true },
    ]);
  });
});
