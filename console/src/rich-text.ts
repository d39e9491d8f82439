/**
 * A `format: "markdown"` bot message as the guest sees it, in preact elements (never as HTML):
 * backslash escapes of ASCII punctuation become the character, `**bold**` <strong>, `*italic*` and
 * `_italic_` <em>, `` `code` `` <code>. The rest of the subset (links, strike, lists) shows as written.
 */
import { html } from 'htm/preact';
import type { ComponentChildren } from 'preact';

const PUNCTUATION = /[!-/:-@[-`{-~]/;
/** Nesting deeper than this shows as written (a crafted text cannot build a deep element tree). */
const MAX_DEPTH = 4;

const isWord = (char: string | undefined) => char !== undefined && /[\p{L}\p{N}]/u.test(char);
const isSpace = (char: string | undefined) => char === undefined || /\s/.test(char);

/** Where the emphasis opened by `marker` at `from` closes (the index of its closing marker), if it does. */
function closerOf(source: string, from: number, marker: string): number | undefined {
  for (let index = from + marker.length; index < source.length; index++) {
    const char = source[index];
    if (char === '\\') index++;
    else if (char === '`') index = Math.max(index, source.indexOf('`', index + 1));
    else if (source.startsWith(marker, index) && index > from + marker.length && !isSpace(source[index - 1])) {
      if (marker === '*' && source[index + 1] === '*') index++;
      else if (marker !== '_' || !isWord(source[index + marker.length])) return index;
    } else if (marker === '*' && source.startsWith('**', index)) index++;
  }
  return undefined;
}

function parse(source: string, depth: number): ComponentChildren[] {
  const nodes: ComponentChildren[] = [];
  let text = '';
  const flush = () => {
    if (text) nodes.push(text);
    text = '';
  };
  for (let index = 0; index < source.length; index++) {
    const char = source[index];
    if (char === '\\' && PUNCTUATION.test(source[index + 1] ?? '')) {
      text += source[++index];
      continue;
    }
    if (char === '`') {
      const end = source.indexOf('`', index + 1);
      if (end > index + 1) {
        flush();
        nodes.push(html`<code>${source.slice(index + 1, end)}</code>`);
        index = end;
        continue;
      }
    }
    const marker = source.startsWith('**', index) ? '**' : char === '*' || char === '_' ? char : undefined;
    const opens = marker !== undefined && depth < MAX_DEPTH && !isSpace(source[index + marker.length]) && !(marker === '_' && isWord(source[index - 1]));
    const end = opens ? closerOf(source, index, marker) : undefined;
    if (marker === undefined || end === undefined) {
      text += char;
      continue;
    }
    flush();
    const inner = parse(source.slice(index + marker.length, end), depth + 1);
    nodes.push(marker === '**' ? html`<strong>${inner}</strong>` : html`<em>${inner}</em>`);
    index = end + marker.length - 1;
  }
  flush();
  return nodes;
}

export function markdownText(source: string): ComponentChildren[] {
  return parse(source, 0);
}
