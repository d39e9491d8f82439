import { parseDuration } from '../../src/engine';

describe('parseDuration', () => {
  test.each<[string, number | null]>([
    ['30s', 30_000],
    ['30m', 1_800_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    [' 5 m ', 300_000],
    ['0s', null],
    ['1.5h', null],
    ['10', null],
    ['m', null],
    ['1w', null],
    ['-1m', null],
    ['', null],
    ['99999999999999999d', null],
  ])('%j → %p', (text, expected) => {
    expect(parseDuration(text)).toBe(expected);
  });
});
