/**
 * Telegram's `parse_mode: "HTML"` as the Bot API parses it (core.telegram.org/bots/api#html-style):
 * the supported tags and entities, nothing else, so that a renderer's mistake is a 400
 * "can't parse entities" here as it is on Telegram.
 */

export interface TgEntity {
  type: 'bold' | 'italic' | 'underline' | 'strikethrough' | 'spoiler' | 'code' | 'pre' | 'text_link' | 'blockquote' | 'custom_emoji';
  /** UTF-16 code units into the parsed text, as Telegram counts them. */
  offset: number;
  length: number;
  url?: string;
}

export type ParsedHtml = { ok: true; text: string; entities: TgEntity[] } | { ok: false; description: string };

const TAGS: Record<string, TgEntity['type']> = {
  b: 'bold',
  strong: 'bold',
  i: 'italic',
  em: 'italic',
  u: 'underline',
  ins: 'underline',
  s: 'strikethrough',
  strike: 'strikethrough',
  del: 'strikethrough',
  'tg-spoiler': 'spoiler',
  span: 'spoiler',
  code: 'code',
  pre: 'pre',
  a: 'text_link',
  blockquote: 'blockquote',
  'tg-emoji': 'custom_emoji',
};

const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

/** Telegram takes http(s) and its own tg:// links; anything else is refused. */
const LINK = /^(https?:\/\/[^\s]+|tg:\/\/[^\s]+)$/i;

function attributes(source: string): Record<string, string> | null {
  const result: Record<string, string> = {};
  const pattern = /\s*([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/y;
  let index = 0;
  while (index < source.length) {
    if (/^\s*$/.test(source.slice(index))) break;
    pattern.lastIndex = index;
    const match = pattern.exec(source);
    if (!match) return null;
    const value = decodeEntities(match[2] ?? match[3] ?? match[4] ?? '');
    if (value === null) return null;
    result[match[1].toLowerCase()] = value;
    index = pattern.lastIndex;
  }
  return result;
}

function decodeEntities(text: string): string | null {
  let out = '';
  for (let index = 0; index < text.length; index += 1) {
    if (text[index] === '<' || text[index] === '>') return null;
    if (text[index] !== '&') {
      out += text[index];
      continue;
    }
    const entity = /^&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]+);/.exec(text.slice(index));
    if (!entity) return null;
    const name = entity[1];
    const decoded = name.startsWith('#x')
      ? String.fromCodePoint(parseInt(name.slice(2), 16))
      : name.startsWith('#')
        ? String.fromCodePoint(Number(name.slice(1)))
        : NAMED_ENTITIES[name];
    if (decoded === undefined) return null;
    out += decoded;
    index += entity[0].length - 1;
  }
  return out;
}

export function parseTelegramHtml(html: string): ParsedHtml {
  const fail = (index: number, what: string): ParsedHtml => ({
    ok: false,
    description: `Bad Request: can't parse entities: ${what} at byte offset ${Buffer.byteLength(html.slice(0, index), 'utf8')}`,
  });
  let text = '';
  const open: { tag: string; entity: TgEntity }[] = [];
  const entities: TgEntity[] = [];
  let index = 0;
  while (index < html.length) {
    const char = html[index];
    if (char === '&') {
      const entity = /^&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]+);/.exec(html.slice(index));
      const decoded = entity ? decodeEntities(entity[0]) : null;
      if (!entity || decoded === null) return fail(index, 'Character & is reserved and must be escaped as &amp;');
      text += decoded;
      index += entity[0].length;
      continue;
    }
    if (char === '>') return fail(index, 'Character > is reserved and must be escaped as &gt;');
    if (char !== '<') {
      text += char;
      index += 1;
      continue;
    }
    const close = html.indexOf('>', index);
    if (close < 0) return fail(index, 'Unclosed start tag');
    const inner = html.slice(index + 1, close);
    if (inner.startsWith('/')) {
      const name = inner.slice(1).trim().toLowerCase();
      const top = open.pop();
      if (!top) return fail(index, `Unexpected end tag "${name}"`);
      if (top.tag !== name) return fail(index, `Unmatched end tag, expected "</${top.tag}>", found "</${name}>"`);
      top.entity.length = text.length - top.entity.offset;
      if (top.entity.length > 0) entities.push(top.entity);
    } else {
      const name = /^[a-zA-Z-]+/.exec(inner)?.[0]?.toLowerCase() ?? '';
      const type = TAGS[name];
      if (!type) return fail(index, `Unsupported start tag "${name}"`);
      const attrs = attributes(inner.slice(name.length));
      if (attrs === null) return fail(index, `Bad attributes of tag "${name}"`);
      if (name === 'span' && attrs.class !== 'tg-spoiler') return fail(index, 'Tag "span" must have class "tg-spoiler"');
      const parent = open[open.length - 1];
      if (parent && (parent.entity.type === 'code' || parent.entity.type === 'pre') && !(parent.tag === 'pre' && name === 'code')) {
        return fail(index, `Entity "${name}" can't be nested in "${parent.tag}"`);
      }
      const entity: TgEntity = { type, offset: text.length, length: 0 };
      if (name === 'a') {
        if (!attrs.href || !LINK.test(attrs.href)) return fail(index, `Wrong HTTP URL "${attrs.href ?? ''}"`);
        entity.url = attrs.href;
      }
      open.push({ tag: name, entity });
    }
    index = close + 1;
  }
  const unclosed = open.pop();
  if (unclosed) return fail(html.length, `Can't find end tag corresponding to start tag "${unclosed.tag}"`);
  return { ok: true, text, entities: entities.sort((a, b) => a.offset - b.offset) };
}
