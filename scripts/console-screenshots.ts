/**
 * `npm run console:screenshots`: the console's screens as docs/console/*.png, for the README and
 * docs/console.md. Runs the product like the browser tests do (test/support/browser.ts: the API, a
 * dialog worker, an in-memory Temporal dev server and SQLite database, a fake Telegram), seeds a
 * bot with the example table-booking scenario and a few dialogs, then captures each screen in
 * headless Chromium.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { startFakeTelegram, telegramUpdate } from '../test/fakes';
import { PHONE, startConsoleStack } from '../test/support/browser';
import { eventually } from '../test/support/stack';
import { startDevServer } from './embedded-temporal';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain CommonJS helper, like scripts/temporal-bin.js
const { findChromium, chromiumMissing } = require('./chromium-bin') as { findChromium: () => string | undefined; chromiumMissing: () => string };

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'docs', 'console');
const scenario = JSON.parse(readFileSync(path.join(ROOT, 'examples', 'table-booking.json'), 'utf8')) as unknown;

async function main() {
  const chromium = findChromium();
  if (!chromium) throw new Error(chromiumMissing());
  process.env.CHROMIUM_PATH = chromium;
  mkdirSync(OUT, { recursive: true });

  const temporal = await startDevServer({ quiet: true });
  process.env.TEST_TEMPORAL_ADDRESS = temporal.address;
  const telegram = await startFakeTelegram();
  const ui = await startConsoleStack({ apiBases: { telegram: telegram.url } });
  try {
    await capture(ui, telegram);
  } finally {
    await ui.close();
    await telegram.close();
    await temporal.stop();
  }
}

async function capture(ui: Awaited<ReturnType<typeof startConsoleStack>>, telegram: Awaited<ReturnType<typeof startFakeTelegram>>) {
  const { stack } = ui;
  const bot = await stack.createBot({ platform: 'telegram', credentials: { token: '7000001:AAH-demo-token' }, scenario, name: 'Trattoria GET INN' });
  const draft = await stack.http
    .post(`/v1/accounts/${ui.account}/bots`)
    .set(bot.headers)
    .send({ name: 'Delivery status', description: 'Where is my order? (draft)' });
  if (draft.status !== 201) throw new Error(`create bot answered ${draft.status}`);

  // Guests on Telegram, at different steps of the booking.
  let update = 1000;
  const guest = async (chatId: string, firstName: string, texts: string[]) => {
    for (const text of texts) {
      const request = telegramUpdate({ updateId: update++, chatId, text, firstName, secret: bot.webhookSecret });
      const response = await stack.http.post(`/v1/webhooks/telegram/${bot.id}`).set(request.headers).send(request.body);
      if (response.status !== 200) throw new Error(`webhook answered ${response.status}`);
    }
  };
  await guest('5001', 'Anna', ['/start', 'Anna Karenina', '24.12.2026', '4']);
  await guest('5002', 'Marco', ['/start', 'Marco Polo']);
  await guest('5003', 'Chiara', ['/start', 'Chiara', '31.12.2026', '12']);
  await eventually(() => telegram.calls.filter((call) => call.method === 'sendMessage').length >= 10, 30_000, 'the bot to answer the guests');
  await eventually(async () => {
    const dialog = await stack.http.get(`/v1/bots/${bot.id}/dialogs/telegram/5001`).set(bot.headers);
    return (dialog.body as { current_step?: string }).current_step === 'pick_time';
  });

  const shoot = async (page: Page, name: string, fullPage = true) => {
    await page.evaluate('document.fonts.ready');
    await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage });
    console.log(`docs/console/${name}.png`);
  };
  const at = async (page: Page, route: string, ready: (page: Page) => Promise<void>) => {
    await page.goto(`/console/#/${route}`);
    await ready(page);
  };

  const login = await ui.openConsole();
  await login.getByLabel('API token').waitFor();
  await shoot(login, 'login', false);

  const page = await ui.signIn('operator');
  await at(page, 'bots', (p) => p.getByRole('link', { name: /Trattoria GET INN/ }).waitFor());
  await shoot(page, 'bots');

  await at(page, `bots/${bot.id}/platforms`, (p) => p.getByRole('table', { name: 'Platform connections' }).waitFor());
  await page.getByRole('button', { name: 'Test connection' }).first().click();
  await page.getByRole('status').filter({ hasText: /\S/ }).first().waitFor();
  await shoot(page, 'platforms');

  await at(page, `bots/${bot.id}/scenarios/${bot.scenarioId}`, (p) => p.getByRole('heading', { name: 'Graph' }).waitFor());
  await page.getByRole('table', { name: 'Steps' }).waitFor();
  await shoot(page, 'scenario-graph');

  await page.getByRole('button', { name: 'Edit as new version' }).click();
  const editor = page.getByLabel('Scenario JSON');
  const text = await editor.inputValue();
  await editor.fill(text.replace('"next_step": "ask_date"', '"next_step": "ask_dat"'));
  const diagnostic = page.getByRole('list', { name: 'Diagnostics' }).getByRole('listitem').first();
  const line = Number(/^line (\d+),/.exec(await diagnostic.innerText())?.[1] ?? 1);
  // The caret (and so the textarea's scroll, which the gutter follows) ten lines below the error.
  await editor.press('Control+Home');
  for (let down = 1; down < line + 10; down++) await editor.press('ArrowDown');
  await page.locator('section.editor').screenshot({ path: path.join(OUT, 'scenario-editor.png') });
  console.log('docs/console/scenario-editor.png');

  await at(page, `bots/${bot.id}/dialogs`, (p) => p.getByRole('link', { name: '5001' }).waitFor());
  await shoot(page, 'dialogs');

  await page.getByRole('link', { name: '5001' }).click();
  await page.getByRole('log').filter({ hasText: 'How many guests?' }).waitFor();
  await shoot(page, 'dialog');

  await at(page, `bots/${bot.id}/try`, (p) => p.getByLabel('Message').waitFor());
  const send = async (message: string, reply: string) => {
    await page.getByLabel('Message').fill(message);
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.getByRole('log', { name: 'Test chat' }).filter({ hasText: reply }).waitFor();
  };
  await send('/start', 'What name should the booking be under?');
  await send('Luca', 'Which day, Luca?');
  await send('24.12.2026', 'How many guests?');
  await send('2', 'What time suits you');
  await shoot(page, 'try-it');

  const phone = await ui.signIn('operator', PHONE);
  await at(phone, `bots/${bot.id}/dialogs`, (p) => p.getByRole('link', { name: '5001' }).waitFor());
  await shoot(phone, 'phone-dialogs');
  if (ui.problems.length > 0) throw new Error(`the pages reported problems:\n${ui.problems.join('\n')}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
