/**
 * Rich text of `format: "markdown"` messages (docs/scenario-format.md): one small markdown subset,
 * parsed once into styled spans, cut into chunks that each stand on their own, and rendered in each
 * platform's own markup. Activity side only: neither the engine nor workflow code imports this.
 */
import MarkdownIt from 'markdown-it';
import type { PlatformName } from '../types';

export type Style = 'bold' | 'italic' | 'strike' | 'code';

/** Outer to inner: spans open their styles in this order, so styles shared by neighbours stay open. */
const STYLE_ORDER: readonly Style[] = ['bold', 'italic', 'strike', 'code'];

/**
 * A run of text with one set of styles (in `STYLE_ORDER`), maybe a link. Styled runs never hold a
 * line break: breaks, paragraph gaps and list markers are unstyled runs of their own.
 */
export interface Span {
  text: string;
  styles: Style[];
  link?: string;
}

const parser = new MarkdownIt('commonmark', { html: false, linkify: false, typographer: false });
parser.enable('strikethrough');
parser.disable(['heading', 'lheading', 'blockquote', 'code', 'fence', 'hr', 'reference', 'image', 'html_block', 'html_inline']);
// Every link parses, so that one to a refused scheme shows its text rather than its markup.
parser.validateLink = () => true;

const LINK_SCHEMES = /^(https?|mailto|tel):/i;

type Token = MarkdownIt.Token;

class Spans {
  readonly list: Span[] = [];

  push(text: string, styles: Style[], link?: string): void {
    if (text === '') return;
    const last = this.list[this.list.length - 1];
    if (last && last.link === link && sameStyles(last.styles, styles)) last.text += text;
    else this.list.push(link === undefined ? { text, styles: [...styles] } : { text, styles: [...styles], link });
  }
}

function sameStyles(a: readonly Style[], b: readonly Style[]): boolean {
  return a.length === b.length && a.every((style, index) => style === b[index]);
}

/**
 * The subset: paragraphs and line breaks, `**bold**`, `*italic*` / `_italic_`, `~~strike~~`,
 * `` `code` ``, `[text](url)` and `<url>` links (http, https, mailto and tel; any other shows as its
 * text), bullet and numbered lists (`• item`, `1. item`, nested ones indented). Everything else
 * (headings, quotes, code blocks, rules, images, HTML) stays as the text it was written as.
 */
export function parseMarkdown(source: string): Span[] {
  const spans = new Spans();
  const lists: { ordered: boolean; next: number }[] = [];
  let marker: string | undefined;
  let itemLine = 0;
  let nextLine: number | undefined;
  const indent = () => '   '.repeat(Math.max(0, lists.length - 1));
  // Blocks written on adjacent lines stay on adjacent lines; a blank line between them stays one.
  const startBlock = (line: number, end: number) => {
    if (nextLine !== undefined) spans.push(line > nextLine ? '\n\n' : '\n', []);
    nextLine = end;
    if (lists.length > 0) spans.push(indent() + (marker ?? '   '), []);
    marker = undefined;
  };
  for (const token of parser.parse(source, {})) {
    switch (token.type) {
      case 'bullet_list_open':
      case 'ordered_list_open':
        lists.push({ ordered: token.type === 'ordered_list_open', next: Number(token.attrGet('start') ?? 1) });
        break;
      case 'bullet_list_close':
      case 'ordered_list_close':
        lists.pop();
        break;
      case 'list_item_open': {
        const list = lists[lists.length - 1];
        marker = list?.ordered ? `${list.next++}. ` : '• ';
        itemLine = token.map?.[0] ?? itemLine;
        break;
      }
      case 'list_item_close':
        if (marker !== undefined) startBlock(itemLine, itemLine + 1);
        break;
      case 'inline':
        startBlock(token.map?.[0] ?? 0, token.map?.[1] ?? 0);
        inline(token.children ?? [], spans);
        break;
    }
  }
  return spans.list;
}

function inline(tokens: Token[], spans: Spans): void {
  const depth: Record<Style, number> = { bold: 0, italic: 0, strike: 0, code: 0 };
  let link: string | undefined;
  let linkStyles: Style[] = [];
  // Inside a link, the link's text keeps the styles around the link; styles within it are dropped.
  const styles = () => (link !== undefined ? linkStyles : STYLE_ORDER.filter((style) => depth[style] > 0));
  for (const token of tokens) {
    switch (token.type) {
      case 'text':
        spans.push(token.content, styles(), link);
        break;
      case 'code_inline':
        spans.push(token.content, link !== undefined ? linkStyles : ['code'], link);
        break;
      case 'softbreak':
      case 'hardbreak':
        if (link !== undefined) spans.push(' ', linkStyles, link);
        else spans.push('\n', []);
        break;
      case 'strong_open':
      case 'strong_close':
        depth.bold += token.nesting;
        break;
      case 'em_open':
      case 'em_close':
        depth.italic += token.nesting;
        break;
      case 's_open':
      case 's_close':
        depth.strike += token.nesting;
        break;
      case 'link_open': {
        const href = String(token.attrGet('href') ?? '');
        if (LINK_SCHEMES.test(href)) {
          linkStyles = styles();
          link = href;
        }
        break;
      }
      case 'link_close':
        link = undefined;
        break;
    }
  }
}

/** How one platform writes styles, text, code and links. */
interface Dialect {
  marks: Record<Style, readonly [open: string, close: string]>;
  /** Text outside code, escaped so that it shows as written. */
  text(text: string): string;
  /** Text of a code span; null when the platform cannot show it as code (it then goes as text). */
  code(text: string): string | null;
  link(text: string, url: string): string;
}

const ZERO_WIDTH_SPACE = '\u200b';

/**
 * Slack, WhatsApp and Messenger have no escape character: a literal `*`, `_`, `~` or backtick gets a
 * zero-width space on each side, so it can neither open nor close a style.
 */
function unpaired(text: string): string {
  return text.replace(/[*_~`]/g, `${ZERO_WIDTH_SPACE}$&${ZERO_WIDTH_SPACE}`);
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const slackText = (text: string) => unpaired(escapeSlack(text));

/** Discord takes a backslash before any punctuation; these are the ones its markdown reads. */
function escapeDiscord(text: string): string {
  return text.replace(/[\\*_~`|<>#[\]()-]/g, '\\$&').replace(/(?<=\d)\./g, '\\.');
}

/**
 * A link where the platform cannot show one: `text (address)`, or the address alone when it is the
 * text; a mailto or tel address without its scheme.
 */
function linkAsText(text: string, url: string, escape: (text: string) => string, escapeAddress = escape): string {
  const address = url.replace(/^(mailto|tel):/i, '');
  return text === address || text === url ? escapeAddress(address) : `${escape(text)} (${escapeAddress(address)})`;
}

const isWebLink = (url: string) => /^https?:/i.test(url);

const metaDialect: Dialect = {
  marks: { bold: ['*', '*'], italic: ['_', '_'], strike: ['~', '~'], code: ['```', '```'] },
  text: unpaired,
  code: (text) => (text.includes('`') ? null : text),
  // The address stays as it is, so that the app still recognizes it as a link.
  link: (text, url) => linkAsText(text, url, unpaired, (address) => address),
};

const DIALECTS: Record<PlatformName, Dialect> = {
  telegram: {
    marks: { bold: ['<b>', '</b>'], italic: ['<i>', '</i>'], strike: ['<s>', '</s>'], code: ['<code>', '</code>'] },
    text: escapeHtml,
    code: escapeHtml,
    // Telegram's own link detection covers e-mail addresses and phone numbers.
    link: (text, url) => (isWebLink(url) ? `<a href="${escapeHtml(url)}">${escapeHtml(text)}</a>` : linkAsText(text, url, escapeHtml)),
  },
  slack: {
    marks: { bold: ['*', '*'], italic: ['_', '_'], strike: ['~', '~'], code: ['`', '`'] },
    text: slackText,
    code: (text) => (text.includes('`') ? null : escapeSlack(text)),
    link: (text, url) => (/^tel:/i.test(url) ? linkAsText(text, url, slackText) : `<${escapeSlack(url)}|${slackText(text)}>`),
  },
  whatsapp: metaDialect,
  messenger: metaDialect,
  discord: {
    marks: { bold: ['**', '**'], italic: ['*', '*'], strike: ['~~', '~~'], code: ['`', '`'] },
    text: escapeDiscord,
    code: (text) => (text.includes('`') ? null : text),
    // `<url>` keeps Discord from adding a preview of every link.
    link: (text, url) =>
      !isWebLink(url)
        ? linkAsText(text, url, escapeDiscord)
        : text === url
          ? `<${url}>`
          : `[${escapeDiscord(text)}](<${url.replace(/\(/g, '%28').replace(/\)/g, '%29')}>)`,
  },
};

/** Spans in the platform's markup; every style opened is closed again, innermost first. */
export function renderSpans(spans: readonly Span[], platform: PlatformName): string {
  const dialect = DIALECTS[platform];
  let open: Style[] = [];
  let out = '';
  for (const span of spans) {
    let styles = span.styles;
    let body: string;
    const code = styles.includes('code') && span.link === undefined ? dialect.code(span.text) : null;
    if (code !== null) body = code;
    else {
      styles = styles.filter((style) => style !== 'code');
      body = span.link !== undefined ? dialect.link(span.text, span.link) : dialect.text(span.text);
    }
    let kept = 0;
    while (kept < open.length && kept < styles.length && open[kept] === styles[kept]) kept += 1;
    for (const style of open.slice(kept).reverse()) out += dialect.marks[style][1];
    for (const style of styles.slice(kept)) out += dialect.marks[style][0];
    out += body;
    open = styles;
  }
  for (const style of [...open].reverse()) out += dialect.marks[style][1];
  return out;
}

/** Words with the whitespace after them; a link stays whole. */
function atomsOf(span: Span): Span[] {
  if (span.link !== undefined) return [span];
  return (span.text.match(/\S+\s*|\s+/gu) ?? []).map((text) => ({ text, styles: span.styles }));
}

/** A chunk as it is sent: no whitespace at either end, neighbours of the same style joined. */
function finish(atoms: readonly Span[]): Span[] {
  const trimmed = atoms.map((atom) => ({ ...atom }));
  while (trimmed.length > 0 && (trimmed[0].text = trimmed[0].text.trimStart()) === '') trimmed.shift();
  while (trimmed.length > 0 && (trimmed[trimmed.length - 1].text = trimmed[trimmed.length - 1].text.trimEnd()) === '') trimmed.pop();
  const joined = new Spans();
  for (const atom of trimmed) {
    if (atom.link !== undefined) joined.list.push(atom);
    else joined.push(atom.text, atom.styles);
  }
  return joined.list;
}

/** An atom too long for a chunk of its own: a link loses its address, a word is cut in two. */
function halve(atom: Span): Span[] {
  if (atom.link !== undefined) return atomsOf({ text: atom.text, styles: atom.styles });
  const characters = Array.from(atom.text);
  if (characters.length < 2) throw new Error('a chunk limit too small for a single character');
  const middle = Math.ceil(characters.length / 2);
  return [
    { text: characters.slice(0, middle).join(''), styles: atom.styles },
    { text: characters.slice(middle).join(''), styles: atom.styles },
  ];
}

/** Where to cut before `end`: after the last paragraph gap, else line break, else space, else at `end`. */
function cutBefore(atoms: readonly Span[], start: number, end: number): number {
  for (const gap of [/\n\s*\n\s*$/, /\n\s*$/, /\s$/]) {
    for (let cut = end; cut > start; cut -= 1) if (atoms[cut - 1].link === undefined && gap.test(atoms[cut - 1].text)) return cut;
  }
  return end;
}

/**
 * Spans cut into chunks whose rendering is at most `limit` characters (UTF-16 code units), each
 * valid markup on its own: a style cut in two is closed and opened again, a link or an escape is
 * never cut. Cuts fall where `splitText` puts them: paragraph gap, line break, space, else anywhere.
 */
export function splitSpans(spans: readonly Span[], platform: PlatformName, limit: number): Span[][] {
  const atoms = spans.flatMap(atomsOf);
  const chunks: Span[][] = [];
  let start = 0;
  const fits = (end: number) => renderSpans(finish(atoms.slice(start, end)), platform).length <= limit;
  while (start < atoms.length) {
    if (!fits(start + 1)) {
      atoms.splice(start, 1, ...halve(atoms[start]));
      continue;
    }
    let low = start + 1;
    // A rendering holds at least the atoms' text: past `limit` characters of it, nothing can fit.
    let high = low;
    for (let size = atoms[start].text.trim().length; high < atoms.length && (size += atoms[high].text.trim().length) <= limit;) high += 1;
    while (low < high) {
      const middle = Math.ceil((low + high) / 2);
      if (fits(middle)) low = middle;
      else high = middle - 1;
    }
    const end = low < atoms.length ? cutBefore(atoms, start, low) : low;
    const chunk = finish(atoms.slice(start, end));
    if (chunk.length > 0) chunks.push(chunk);
    start = end;
  }
  return chunks;
}

/**
 * A markdown text as the platform's messages: rendered chunks of at most `limit` characters, the
 * last one at most `lastLimit` (a body that carries buttons). A text that renders to nothing is one
 * empty chunk, which the platform refuses as it refuses any empty text.
 */
export function markdownChunks(source: string, platform: PlatformName, limit: number, lastLimit = limit): string[] {
  const chunks = splitSpans(parseMarkdown(source), platform, limit);
  const last = chunks.pop();
  if (last) chunks.push(...(lastLimit < limit ? splitSpans(last, platform, lastLimit) : [last]));
  return chunks.length > 0 ? chunks.map((chunk) => renderSpans(chunk, platform)) : [''];
}
