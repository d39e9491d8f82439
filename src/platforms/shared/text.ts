/**
 * Split a text into chunks of at most `limit` UTF-16 code units (how Telegram, Discord and Messenger
 * count), cutting at the last paragraph break, else line break, else space within the limit; a
 * single word longer than the limit is cut hard, never inside a surrogate pair.
 */
export function splitText(text: string, limit: number): string[] {
  const chunks: string[] = [];
  let rest = text;
  while (rest.length > limit) {
    const window = rest.slice(0, limit + 1);
    let cut = lastBreak(window, '\n\n', limit);
    if (cut <= 0) cut = lastBreak(window, '\n', limit);
    if (cut <= 0) cut = lastWhitespace(window, limit);
    if (cut <= 0) {
      cut = limit;
      if (isHighSurrogate(rest.charCodeAt(cut - 1))) cut -= 1;
    }
    const chunk = rest.slice(0, cut).trimEnd();
    if (chunk.length > 0) chunks.push(chunk);
    rest = rest.slice(cut).replace(/^\s+/, '');
  }
  if (rest.length > 0 || chunks.length === 0) chunks.push(rest);
  return chunks;
}

function lastBreak(window: string, separator: string, limit: number): number {
  const index = window.lastIndexOf(separator, limit);
  return index;
}

function lastWhitespace(window: string, limit: number): number {
  for (let index = Math.min(limit, window.length - 1); index > 0; index -= 1) {
    if (/\s/.test(window[index] ?? '')) return index;
  }
  return -1;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** Shorten to `limit` UTF-16 code units, marking the cut with an ellipsis. */
export function truncate(text: string, limit: number): string {
  if (text.length <= limit) return text;
  let cut = limit - 1;
  if (isHighSurrogate(text.charCodeAt(cut - 1))) cut -= 1;
  return `${text.slice(0, cut)}…`;
}

/** Shorten to `limit` UTF-8 bytes without breaking a character. */
export function truncateBytes(text: string, limit: number): string {
  if (Buffer.byteLength(text, 'utf8') <= limit) return text;
  let result = '';
  let bytes = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char, 'utf8');
    if (bytes + size > limit) break;
    result += char;
    bytes += size;
  }
  return result;
}

/** `/start@MyBot payload` → `{command: 'start', args: 'payload'}`; null when the text is not a command. */
export function parseCommand(text: string): { command: string; args?: string } | null {
  const match = /^\/([A-Za-z0-9_]{1,64})(?:@\w+)?(?:\s+([\s\S]*))?$/.exec(text.trim());
  if (!match?.[1]) return null;
  const args = match[2]?.trim();
  return args ? { command: match[1].toLowerCase(), args } : { command: match[1].toLowerCase() };
}
