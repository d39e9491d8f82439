import fc from 'fast-check';
import { adapters } from '../../src/platforms';
import { markdownChunks, parseMarkdown, renderSpans, splitSpans, type Span, type Style } from '../../src/platforms/shared/markdown';
import { PLATFORMS, type PlatformName } from '../../src/platforms/types';
import { escapeMarkdown } from '../../src/engine/templates';
import { startFakeDiscord, startFakeMessenger, startFakeSlack, startFakeTelegram, startFakeWhatsApp, type FakeServer } from '../fakes';
import { parseTelegramHtml } from '../fakes/telegram-html';

const ZWSP = '\u200b';

describe('the markdown subset', () => {
  const plainText = (spans: Span[]) => spans.map((span) => span.text).join('');

  it('reads bold, italic, strike, code and links into styled spans', () => {
    expect(parseMarkdown('A **bold _both_** ~~gone~~ `x*y` [menu](https://chez-anna.example/menu) end')).toEqual([
      { text: 'A ', styles: [] },
      { text: 'bold ', styles: ['bold'] },
      { text: 'both', styles: ['bold', 'italic'] },
      { text: ' ', styles: [] },
      { text: 'gone', styles: ['strike'] },
      { text: ' ', styles: [] },
      { text: 'x*y', styles: ['code'] },
      { text: ' ', styles: [] },
      { text: 'menu', styles: [], link: 'https://chez-anna.example/menu' },
      { text: ' end', styles: [] },
    ]);
  });

  it('keeps links to http, https, mailto and tel, and shows any other as its text', () => {
    const links = (source: string) => parseMarkdown(source).flatMap((span) => (span.link ? [span.link] : []));
    expect(links('[a](http://a.example) [b](mailto:anna@example.com) [c](tel:+441234) <https://d.example>')).toEqual([
      'http://a.example',
      'mailto:anna@example.com',
      'tel:+441234',
      'https://d.example',
    ]);
    for (const refused of ['javascript:alert(1)', 'data:text/html,x', 'file:///etc/passwd', '/relative', 'ftp://x.example']) {
      const spans = parseMarkdown(`[click](${refused})`);
      expect(spans).toEqual([{ text: 'click', styles: [] }]);
    }
  });

  it('writes lists as bullet and numbered lines, nested ones indented, and keeps the gaps the author wrote', () => {
    const source = 'Menu:\n- soup\n- fish\n  1. grilled\n  2. fried\n\n3. three\n4. four\n\nThanks!\nSee you';
    expect(plainText(parseMarkdown(source))).toBe('Menu:\n• soup\n• fish\n   1. grilled\n   2. fried\n\n3. three\n4. four\n\nThanks!\nSee you');
  });

  it('leaves headings, quotes, code blocks, rules, images and HTML as the text they were written as', () => {
    const spans = parseMarkdown('# Title\n\n> quoted\n\n    indented\n\n---\n\n<b>html</b> ![alt](https://x.example/a.png)');
    expect(spans.every((span) => span.styles.length === 0)).toBe(true);
    expect(plainText(spans)).toBe('# Title\n\n> quoted\n\nindented\n\n---\n\n<b>html</b> !alt');
  });

  it('shows an escaped value as typed, whatever markup it holds', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'ab *_~`[]()<>&#!-+.1|\\\n "\'=:/é😀') }), (value) => {
        const spans = parseMarkdown(escapeMarkdown(value));
        expect(spans.filter((span) => span.styles.length > 0 || span.link !== undefined)).toEqual([]);
        const squeeze = (text: string) => text.replace(/\s+/g, ' ').trim();
        expect(squeeze(plainText(spans))).toBe(squeeze(value));
      }),
      { numRuns: 500 },
    );
  });
});

describe('rendering per platform', () => {
  const source = 'Your table is **booked**, _see_ ~~you~~ `A&B` [menu](https://x.example/m?a=1&b=(2)) or [mail](mailto:a@x.example)\n- 1 < 2';
  const rendered = (platform: PlatformName) => renderSpans(parseMarkdown(source), platform);

  it('Telegram: HTML with & < > " escaped', () => {
    expect(rendered('telegram')).toBe(
      'Your table is <b>booked</b>, <i>see</i> <s>you</s> <code>A&amp;B</code> <a href="https://x.example/m?a=1&amp;b=(2)">menu</a> or mail (a@x.example)\n• 1 &lt; 2',
    );
  });

  it('Slack: mrkdwn with <url|text> links', () => {
    expect(rendered('slack')).toBe(
      'Your table is *booked*, _see_ ~you~ `A&amp;B` <https://x.example/m?a=1&amp;b=(2)|menu> or <mailto:a@x.example|mail>\n• 1 &lt; 2',
    );
  });

  it('WhatsApp and Messenger: their own markup, links as text (url)', () => {
    const expected = 'Your table is *booked*, _see_ ~you~ ```A&B``` menu (https://x.example/m?a=1&b=(2)) or mail (a@x.example)\n• 1 < 2';
    expect(rendered('whatsapp')).toBe(expected);
    expect(rendered('messenger')).toBe(expected);
  });

  it('Discord: markdown with masked links and its specials escaped', () => {
    expect(rendered('discord')).toBe(
      'Your table is **booked**, *see* ~~you~~ `A&B` [menu](<https://x.example/m?a=1&b=%282%29>) or mail (a@x.example)\n• 1 \\< 2',
    );
  });

  it('keeps literal markup characters literal where the platform has no escape', () => {
    const literal = parseMarkdown('\\*not bold\\* and \\_not italic\\_');
    expect(renderSpans(literal, 'slack')).toBe(`${ZWSP}*${ZWSP}not bold${ZWSP}*${ZWSP} and ${ZWSP}_${ZWSP}not italic${ZWSP}_${ZWSP}`);
    expect(renderSpans(literal, 'whatsapp')).toBe(renderSpans(literal, 'slack'));
    expect(renderSpans(literal, 'discord')).toBe('\\*not bold\\* and \\_not italic\\_');
    expect(renderSpans(literal, 'telegram')).toBe('*not bold* and _not italic_');
  });

  it('shows a code span holding a backtick as text where backticks cannot nest', () => {
    const spans = parseMarkdown('``a`b``');
    expect(spans).toEqual([{ text: 'a`b', styles: ['code'] }]);
    expect(renderSpans(spans, 'telegram')).toBe('<code>a`b</code>');
    expect(renderSpans(spans, 'discord')).toBe('a\\`b');
    expect(renderSpans(spans, 'slack')).toBe(`a${ZWSP}\`${ZWSP}b`);
  });
});

/**
 * Reads a rendered chunk back as the platform would, failing on any style left open or closed out of
 * order; returns the text a reader sees.
 */
function visibleText(platform: PlatformName, rendered: string): string {
  if (platform === 'telegram') {
    const parsed = parseTelegramHtml(rendered);
    if (!parsed.ok) throw new Error(`${parsed.description}: ${rendered}`);
    return parsed.text;
  }
  const discord = platform === 'discord';
  const markers: [string, string][] = discord
    ? [
        ['**', 'bold'],
        ['*', 'italic'],
        ['~~', 'strike'],
      ]
    : [
        ['*', 'bold'],
        ['_', 'italic'],
        ['~', 'strike'],
      ];
  const codeMark = platform === 'whatsapp' || platform === 'messenger' ? '```' : '`';
  const entities = (text: string) => (platform === 'slack' ? text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&') : text);
  const open: string[] = [];
  let text = '';
  let index = 0;
  const literal = (source: string) => {
    let out = '';
    for (let at = 0; at < source.length; at += 1) {
      if (discord && source[at] === '\\') at += 1;
      else if (!discord && source[at] === ZWSP) continue;
      out += source[at];
    }
    return entities(out);
  };
  while (index < rendered.length) {
    const rest = rendered.slice(index);
    if (!discord && rest.startsWith(ZWSP)) {
      if (!/^\u200b[*_~`]\u200b/.test(rest)) throw new Error(`a stray zero-width space: ${rendered}`);
      text += rest[1];
      index += 3;
      continue;
    }
    if (discord && rest.startsWith('\\')) {
      text += rest[1];
      index += 2;
      continue;
    }
    if (rest.startsWith(codeMark)) {
      const end = rendered.indexOf(codeMark, index + codeMark.length);
      if (end < 0) throw new Error(`an unclosed code span: ${rendered}`);
      text += entities(rendered.slice(index + codeMark.length, end));
      index = end + codeMark.length;
      continue;
    }
    const link = discord
      ? /^\[((?:\\.|[^\\\]])*)\]\(<([^>]*)>\)|^<(https?:[^>]*)>/.exec(rest)
      : platform === 'slack'
        ? /^<([^|>]*)\|([^>]*)>/.exec(rest)
        : null;
    if (link) {
      text += discord ? (link[3] ?? literal(link[1])) : literal(link[2]);
      index += link[0].length;
      continue;
    }
    if (discord && rest.startsWith('*')) {
      // A run of asterisks closes what is open innermost first, then opens bold before italic.
      let run = /^\*+/.exec(rest)![0].length;
      index += run;
      while (run > 0) {
        const top = open[open.length - 1];
        const step = top === 'italic' || (top === 'bold' && run >= 2) ? 'close' : run >= 2 && !open.includes('bold') ? 'bold' : 'italic';
        if (step === 'close') open.pop();
        else if (open.includes(step)) throw new Error(`asterisks out of order: ${rendered}`);
        else open.push(step);
        run -= (step === 'close' ? top : step) === 'bold' ? 2 : 1;
      }
      continue;
    }
    const marker = markers.find(([mark]) => rest.startsWith(mark));
    if (marker) {
      if (open[open.length - 1] === marker[1]) open.pop();
      else if (open.includes(marker[1])) throw new Error(`${marker[1]} closed out of order: ${rendered}`);
      else open.push(marker[1]);
      index += marker[0].length;
      continue;
    }
    if (platform === 'slack') {
      const entity = /^&(amp|lt|gt);/.exec(rest);
      if (!entity && /^[<>&]/.test(rest)) throw new Error(`an unescaped ${rest[0]}: ${rendered}`);
      if (entity) {
        text += entities(entity[0]);
        index += entity[0].length;
        continue;
      }
    }
    text += rest[0];
    index += 1;
  }
  if (open.length > 0) throw new Error(`${open.join(', ')} left open: ${rendered}`);
  return text;
}

describe('splitting a markdown text', () => {
  const LINKS = ['https://chez-anna.example/menu', 'https://x.example/a?b=1&c=2', 'http://y.example/%7Ez'];
  const word = fc.string({ unit: fc.constantFrom(...'ab1.*_~`<>&"\\[]()#-|é😀'), minLength: 1, maxLength: 12 });
  const styles = fc.oneof(fc.subarray(['bold', 'italic', 'strike'] as Style[]), fc.constant(['code'] as Style[]));
  const span: fc.Arbitrary<Span> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ text: fc.array(word, { minLength: 1, maxLength: 20 }).map((words) => words.join(' ')), styles }) },
    { weight: 2, arbitrary: fc.constantFrom(' ', '\n', '\n\n', ' \n', '\n• ').map((text): Span => ({ text, styles: [] })) },
    { weight: 1, arbitrary: fc.record({ text: word.filter((text) => text.length <= 10), styles, link: fc.constantFrom(...LINKS) }) },
  );
  /** What a reader sees of a span on the platform, whitespace aside. */
  const seen = (platform: PlatformName, spans: Span[]) =>
    spans
      .map((item) => (item.link !== undefined && (platform === 'whatsapp' || platform === 'messenger') ? `${item.text} (${item.link})` : item.text))
      .join('')
      .replace(/\s+/g, '');

  it.each(PLATFORMS)('%s: every chunk fits the limit, balances, and together they show the whole text', (platform) => {
    fc.assert(
      fc.property(fc.array(span, { minLength: 1, maxLength: 40 }), fc.integer({ min: 80, max: 400 }), (spans, limit) => {
        const chunks = splitSpans(spans, platform, limit);
        let shown = '';
        for (const chunk of chunks) {
          const rendered = renderSpans(chunk, platform);
          expect(rendered.length).toBeLessThanOrEqual(limit);
          const visible = visibleText(platform, rendered);
          expect(visible.trim()).not.toBe('');
          shown += visible;
        }
        expect(shown.replace(/\s+/g, '')).toBe(seen(platform, spans));
      }),
      { numRuns: 300 },
    );
  });

  it('closes a style at a cut and opens it again in the next chunk', () => {
    const chunks = markdownChunks(`**${'booked '.repeat(40).trim()}**`, 'telegram', 100);
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) {
      expect(chunk).toMatch(/^<b>booked( booked)*<\/b>$/);
      expect(chunk.length).toBeLessThanOrEqual(100);
    }
  });

  it('never cuts inside an escape or a link, and cuts a word too long for a chunk by characters', () => {
    const escapes = markdownChunks('&'.repeat(300), 'telegram', 64);
    expect(escapes.join('')).toBe('&amp;'.repeat(300));
    expect(escapes.every((chunk) => /^(&amp;)+$/.test(chunk) && chunk.length <= 64)).toBe(true);
    const links = markdownChunks('see [the menu](https://chez-anna.example/menu) now '.repeat(10), 'discord', 120);
    for (const chunk of links) expect(chunk.match(/\[/g)?.length ?? 0).toBe(chunk.match(/\]\(<https:\/\/chez-anna\.example\/menu>\)/g)?.length ?? 0);
  });

  it('cuts at a paragraph gap before a line break, and at a line break before a space', () => {
    const paragraphs = markdownChunks(`**${'a'.repeat(30)}**\n\n${'b '.repeat(20)}\n${'c '.repeat(40)}`, 'slack', 100);
    expect(paragraphs[0]).toBe(`*${'a'.repeat(30)}*`);
    expect(paragraphs[1]).toBe('b '.repeat(20).trim());
  });

  it('gives the last chunk its own limit, for a body that carries buttons', () => {
    const chunks = markdownChunks('**word** '.repeat(600), 'whatsapp', 4096, 1024);
    expect(chunks.slice(0, -1).every((chunk) => chunk.length <= 4096)).toBe(true);
    expect(chunks[chunks.length - 1].length).toBeLessThanOrEqual(1024);
  });

  it('is one empty chunk for a text that renders to nothing, as an empty plain text would be', () => {
    expect(markdownChunks('   \n\n  ', 'telegram', 4096)).toEqual(['']);
  });
});

describe('adapters send markdown in their platform markup', () => {
  const message = { text: 'Your table is **booked**, *Anna*!', format: 'markdown' as const, buttons: [{ text: 'OK', value: 'ok' }] };
  const cases: { platform: PlatformName; start: () => Promise<FakeServer>; credentials: Record<string, string>; method: string; chat: string }[] = [
    { platform: 'telegram', start: () => startFakeTelegram(), credentials: { token: '1:md' }, method: 'sendMessage', chat: '42' },
    {
      platform: 'slack',
      start: () => startFakeSlack({ botToken: 'xoxb-md' }),
      credentials: { bot_token: 'xoxb-md', signing_secret: 's' },
      method: 'chat.postMessage',
      chat: 'D0MD',
    },
    {
      platform: 'whatsapp',
      start: () => startFakeWhatsApp({ phoneNumberId: '1065', accessToken: 'wa-md' }),
      credentials: { phone_number_id: '1065', access_token: 'wa-md', app_secret: 's', verify_token: 'v' },
      method: 'messages',
      chat: '16505551000',
    },
    {
      platform: 'messenger',
      start: () => startFakeMessenger({ pageId: '1045', pageAccessToken: 'ms-md' }),
      credentials: { page_id: '1045', page_access_token: 'ms-md', app_secret: 's', verify_token: 'v' },
      method: 'messages',
      chat: '6543',
    },
    {
      platform: 'discord',
      start: () => startFakeDiscord({ botToken: 'dc-md', applicationId: '1160' }),
      credentials: { application_id: '1160', bot_token: 'dc-md', public_key: '00' },
      method: 'createMessage',
      chat: '1170',
    },
  ];
  const EXPECTED: Record<PlatformName, string> = {
    telegram: 'Your table is <b>booked</b>, <i>Anna</i>!',
    slack: 'Your table is *booked*, _Anna_!',
    whatsapp: 'Your table is *booked*, _Anna_!',
    messenger: 'Your table is *booked*, _Anna_!',
    discord: 'Your table is **booked**, *Anna*!',
  };
  const textOf = (body: Record<string, unknown>): unknown =>
    body.content ??
    (body.message as { text?: string } | undefined)?.text ??
    (body.interactive as { body: { text: string } } | undefined)?.body.text ??
    body.text;

  it.each(cases)('$platform', async ({ platform, start, credentials, method, chat }) => {
    const fake = await start();
    try {
      await adapters[platform].send({ apiBase: fake.url }, credentials, chat, message);
      const [call] = fake.callsTo(method);
      expect(call.ok).toBe(true);
      expect(textOf(call.body)).toBe(EXPECTED[platform]);
      if (platform === 'telegram') {
        expect(call.body.parse_mode).toBe('HTML');
        expect(call.response).toMatchObject({
          result: {
            text: 'Your table is booked, Anna!',
            entities: [
              { type: 'bold', offset: 14, length: 6 },
              { type: 'italic', offset: 22, length: 4 },
            ],
          },
        });
      }
      if (platform === 'slack') expect(call.body.mrkdwn).toBe(true);
    } finally {
      await fake.close();
    }
  });

  it('a long Telegram text goes in chunks that Telegram parses, each with parse_mode HTML', async () => {
    const fake = await startFakeTelegram();
    try {
      const text = Array.from({ length: 300 }, (_, index) => `**${index}** & <${index}> [x](https://x.example/${index})`).join('\n');
      await adapters.telegram.send({ apiBase: fake.url }, { token: '1:md' }, '42', { text, format: 'markdown' });
      const calls = fake.callsTo('sendMessage');
      expect(calls.length).toBeGreaterThan(1);
      expect(calls.every((call) => call.ok && call.body.parse_mode === 'HTML')).toBe(true);
    } finally {
      await fake.close();
    }
  });

  it('plain text stays as it was: no parse_mode, no escaping', async () => {
    const fake = await startFakeTelegram();
    try {
      await adapters.telegram.send({ apiBase: fake.url }, { token: '1:md' }, '42', { text: 'a **b** <c> & d' });
      const [call] = fake.callsTo('sendMessage');
      expect(call.body).not.toHaveProperty('parse_mode');
      expect(call.body.text).toBe('a **b** <c> & d');
    } finally {
      await fake.close();
    }
  });

  it('the Telegram fake refuses HTML that Telegram would refuse', () => {
    for (const broken of [
      '<b>open',
      'a </b>',
      '<b><i>x</b></i>',
      '<script>x</script>',
      'a & b',
      'a < b',
      'a > b',
      '<a href="javascript:x">y</a>',
      '<code><b>x</b></code>',
    ]) {
      const parsed = parseTelegramHtml(broken);
      expect({ broken, ok: parsed.ok }).toEqual({ broken, ok: false });
      if (!parsed.ok) expect(parsed.description).toMatch(/^Bad Request: can't parse entities: /);
    }
    expect(parseTelegramHtml('&lt;<b>a&amp;b</b>&#33;&quot;')).toEqual({ ok: true, text: '<a&b!"', entities: [{ type: 'bold', offset: 1, length: 3 }] });
  });
});
