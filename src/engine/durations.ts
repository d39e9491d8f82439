/** Durations in scenario files: a whole number followed by s, m, h or d ("30s", "30m", "2h", "1d"). */

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^\s*(\d+)\s*([smhd])\s*$/;

/** Milliseconds for a duration string, or null when it is not one or is zero. */
export function parseDuration(text: string): number | null {
  const match = DURATION.exec(text);
  if (!match) return null;
  const milliseconds = Number(match[1]) * UNIT_MS[match[2]];
  return milliseconds > 0 && Number.isSafeInteger(milliseconds) ? milliseconds : null;
}
