/**
 * The console's finer points in a real headless Chromium against the whole product: commands and
 * markdown messages in the transcripts, the connection test's sentences, the editor's diagnostics
 * selecting their line, and the dialogs list as cards at phone width.
 */
import type { Locator } from 'playwright-core';
import type { FakeTelegram } from '../fakes';
import { button, type ConsoleStack, consoleStackPerFile, link, PHONE, scrollsHorizontally } from '../support/browser';
import { eventually } from '../support/stack';

jest.setTimeout(60_000);

/** A name asked, then a markdown greeting with the name in it (escaped by the engine, shown literally). */
const scenario = {
  version: '1.0',
  name: 'Greeting',
  start_step: 'ask_name',
  steps: {
    ask_name: {
      type: 'message',
      message: { text: 'Hello! What is your name?' },
      expected_input: { type: 'text', variable: 'user_name' },
      next_step: 'greet',
    },
    greet: { type: 'message', message: { text: 'Welcome, **dear** {{user_name}}!', format: 'markdown' } },
  },
};
const HOSTILE_NAME = 'a_b *c* <b>x</b>';

let ui: ConsoleStack;
let telegram: FakeTelegram;
consoleStackPerFile((started) => ({ ui, telegram } = started));

const createBot = (name: string) => ui.stack.createBot({ platform: 'telegram', credentials: { token: '7000001:AAH-details-token' }, scenario, name });

/** The greeting's text as shown, and every element inside it (only the bold word may be one). */
async function shownGreeting(log: Locator) {
  const text = log.getByRole('listitem').filter({ hasText: 'Welcome,' }).locator('.text');
  await text.waitFor();
  return text.evaluate((element) => ({
    text: element.textContent,
    elements: [...element.querySelectorAll('*')].map((child) => `${child.tagName.toLowerCase()}: ${child.textContent ?? ''}`),
  }));
}
/** The editor's textarea, as far as these tests read it (the server's tsconfig has no DOM types). */
interface TextField {
  selectionStart: number;
  selectionEnd: number;
  setSelectionRange(start: number, end: number): void;
  ownerDocument: { activeElement: unknown };
}

const GREETING = { text: `Welcome, dear ${HOSTILE_NAME}!`, elements: ['strong: dear'] };

test('a command shows as typed and a markdown message as the guest sees it, in Try it and in the transcript', async () => {
  const bot = await createBot('Markdown bot');
  const page = await ui.signIn('operator');
  await page.goto(`/console/#/bots/${bot.id}/try`);
  const chat = page.getByRole('log', { name: 'Test chat' });
  await chat.waitFor();
  const send = async (text: string) => {
    await page.getByLabel('Message').fill(text);
    await button(page, 'Send').click();
  };
  await send('/start');
  await chat.filter({ hasText: 'What is your name?' }).waitFor();
  await send(HOSTILE_NAME);
  expect(await shownGreeting(chat)).toEqual(GREETING);
  // The command as the guest typed it; the guest's own hostile text as written.
  await chat.getByText('/start', { exact: true }).waitFor();
  await chat.getByText(HOSTILE_NAME, { exact: true }).waitFor();
  expect(await chat.locator('b').count()).toBe(0);

  // The same dialog's page: its transcript reads the same.
  const chatId = ((await page.locator('.chat code').first().textContent()) ?? '').trim();
  expect(chatId).not.toBe('');
  await page.goto(`/console/#/bots/${bot.id}/dialogs/console/${chatId}`);
  const transcript = page.getByRole('log', { name: 'Transcript' });
  expect(await shownGreeting(transcript)).toEqual(GREETING);
  expect(await transcript.getByText('/start', { exact: true }).count()).toBe(1);
  expect(await transcript.getByText('start', { exact: true }).count()).toBe(0);
  await transcript.getByText(HOSTILE_NAME, { exact: true }).waitFor();
  expect(await transcript.locator('b').count()).toBe(0);
  expect(await transcript.textContent()).not.toContain('\\');
  await page.context().close();
});

test('Test connection says which bot account answered, and why a test failed', async () => {
  const bot = await createBot('Connection bot');
  const page = await ui.signIn('operator');
  await page.goto(`/console/#/bots/${bot.id}/platforms`);
  const row = page
    .getByRole('table', { name: 'Platform connections' })
    .getByRole('row')
    .filter({ has: page.getByRole('rowheader', { name: 'telegram' }) });
  await row.waitFor();
  const result = row.getByRole('status');

  await button(page, 'Test connection').click();
  await result.filter({ hasText: /^Connected: / }).waitFor();
  expect(await result.textContent()).toBe(`Connected: @${telegram.bot.username}`);

  // Telegram refusing the token (401), as it answers a revoked one.
  telegram.failNext({ method: 'getMe', status: 401, description: 'Unauthorized' });
  await button(page, 'Test connection').click();
  await result.filter({ hasText: /^Connection test failed: / }).waitFor();
  const failure = (await result.textContent()) ?? '';
  // The platform's own reason, in a sentence; never the token.
  expect(failure).toMatch(/^Connection test failed: \S.*\bUnauthorized\b/);
  expect(failure).not.toContain('[object');
  expect(failure).not.toContain('AAH-details-token');
  expect(telegram.callsTo('getMe').at(-1)?.status).toBe(401);
  await page.context().close();
});

test('clicking a diagnostic selects its line in the editor; typing keeps the caret where it is', async () => {
  const bot = await createBot('Editor bot');
  const page = await ui.signIn('operator');
  await page.goto(`/console/#/bots/${bot.id}/scenarios`);
  await button(page, 'New scenario').click();
  const editor = page.getByLabel('Scenario JSON');
  const text = JSON.stringify(scenario, null, 2);
  await editor.fill(text);
  await page.getByText('No problems found').waitFor();

  // The operator types a letter into a key, by keyboard: `next_step` becomes the unknown `nexxt_step`.
  const caret = text.indexOf('"next_step"') + '"nex'.length;
  await editor.evaluate((element, at) => (element as TextField).setSelectionRange(at, at), caret);
  await page.keyboard.type('x');
  const lines = (await editor.inputValue()).split('\n');
  const line = lines.findIndex((entry) => entry.includes('"nexxt_step"')) + 1;
  expect(line).toBeGreaterThan(1);
  const diagnostic = page
    .getByRole('list', { name: 'Diagnostics' })
    .getByRole('button')
    .filter({ hasText: new RegExp(`^line ${line}, column \\d+: `) });
  await diagnostic.waitFor();

  // The diagnostics arrived while typing: focus and caret stayed where the operator typed.
  const selection = () =>
    editor.evaluate((element) => {
      const field = element as TextField;
      return { focused: field.ownerDocument.activeElement === field, start: field.selectionStart, end: field.selectionEnd };
    });
  expect(await selection()).toEqual({ focused: true, start: caret + 1, end: caret + 1 });

  // Clicking the diagnostic selects exactly its line.
  const lineStart = lines.slice(0, line - 1).reduce((offset, entry) => offset + entry.length + 1, 0);
  await diagnostic.click();
  expect(await selection()).toEqual({ focused: true, start: lineStart, end: lineStart + lines[line - 1].length });
  await page.context().close();
});

test('at phone width (375 px) the dialogs list shows each dialog as a card that fits the screen', async () => {
  const bot = await createBot('Phone bot');
  const chatId = `phone-${Date.now()}`;
  const sent = await ui.stack.http.post(`/v1/bots/${bot.id}/console/messages`).set(bot.headers).send({ chat_id: chatId, text: 'Hi' });
  expect(sent.status).toBe(202);
  await eventually(async () => {
    const history = await ui.stack.http.get(`/v1/bots/${bot.id}/dialogs/console/${chatId}/history`).set(bot.headers);
    return history.status === 200 && (history.body.items as unknown[]).length >= 2;
  });

  const page = await ui.signIn('operator', PHONE);
  await page.goto(`/console/#/bots/${bot.id}/dialogs`);
  const row = page
    .getByRole('table', { name: 'Dialogs' })
    .getByRole('row')
    .filter({ has: link(page, chatId) });
  await row.getByRole('cell').filter({ hasText: 'messages' }).waitFor();
  expect(await scrollsHorizontally(page)).toBe(false);

  const layout = await row.evaluate((tr) => {
    const frame = tr.closest('.table-wrap') ?? tr.closest('table');
    /** Where a cell's value (its text, without its label) is drawn. */
    const value = (label: string) => {
      const cell = tr.querySelector(`td[data-label="${label}"]`);
      const range = tr.ownerDocument.createRange();
      range.selectNodeContents(cell);
      const box = range.getBoundingClientRect();
      return { text: (cell?.textContent ?? '').trim(), left: box.left, right: box.right, top: box.top, width: box.width };
    };
    return {
      viewport: tr.ownerDocument.documentElement.clientWidth,
      frameScrolls: frame ? frame.scrollWidth > frame.clientWidth : true,
      chatBottom: tr.querySelector('th').getBoundingClientRect().bottom,
      guest: value('Guest'),
      last: value('Last message'),
    };
  });
  expect(layout.viewport).toBe(PHONE.width);
  expect(layout.frameScrolls).toBe(false);
  expect(layout.guest.text).toBe('Console');
  expect(layout.last.text).toMatch(/\(2 messages\)$/);
  for (const shown of [layout.guest, layout.last]) {
    expect(shown.width).toBeGreaterThan(0);
    expect(shown.left).toBeGreaterThanOrEqual(0);
    expect(shown.right).toBeLessThanOrEqual(layout.viewport);
    // A card: the values stand below the chat id, not beside it in a wide row.
    expect(shown.top).toBeGreaterThanOrEqual(layout.chatBottom);
  }
  await page.context().close();
});
