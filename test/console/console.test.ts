/**
 * The operator console in a real headless Chromium against the whole product (API, database,
 * Temporal and its dialog worker): what an operator does, found by the accessible names
 * docs/console.md lists.
 */
import type { Page } from 'playwright-core';
import type { Test } from 'supertest';
import { absent, button, type ConsoleStack, consoleStackPerFile, link, PHONE, scrollsHorizontally } from '../support/browser';
import { eventually } from '../support/stack';

jest.setTimeout(60_000);

/** A small booking walk: a text answer, then a button, then a step that waits. */
const scenario = {
  version: '1.0',
  name: 'Terrace',
  start_step: 'ask_name',
  steps: {
    ask_name: {
      type: 'message',
      message: { text: 'Hello! What is your name?' },
      expected_input: { type: 'text', variable: 'guest_name' },
      next_step: 'ask_place',
    },
    ask_place: {
      type: 'message',
      message: { text: 'Nice to meet you, {{guest_name}}. Inside or on the terrace?' },
      buttons: [
        { text: 'Inside', value: 'inside' },
        { text: 'Terrace', value: 'terrace' },
      ],
      expected_input: { type: 'button', variable: 'place' },
      next_step: 'ask_wishes',
    },
    ask_wishes: {
      type: 'message',
      message: { text: 'A {{place}} table for {{guest_name}}. Any wishes?' },
      expected_input: { type: 'text', variable: 'wishes' },
      next_step: 'thanks',
    },
    thanks: { type: 'message', message: { text: 'Thank you, {{guest_name}}!' } },
  },
};
const scenarioText = JSON.stringify(scenario, null, 2);
/** The same file with a misspelt key (`nex_step`): an error at that key's line. */
const brokenText = scenarioText.replace('"next_step": "ask_place"', '"nex_step": "ask_place"');
const brokenLine = brokenText.split('\n').findIndex((line) => line.includes('"nex_step"')) + 1;

let ui: ConsoleStack;
consoleStackPerFile((started) => ({ ui } = started));

/**
 * Through the API: an active bot on (fake) Telegram with the scenario as its active default, a draft
 * second scenario, and one console dialog waiting at its first question.
 */
async function seedBot(name: string) {
  const bot = await ui.stack.createBot({ platform: 'telegram', credentials: { token: '7000001:AAH-console-token' }, scenario, name });
  const draft = await ui.stack.http
    .post(`/v1/bots/${bot.id}/scenarios`)
    .set(bot.headers)
    .send({ name: 'draft', scenario_data: { ...scenario, name: 'Draft' } });
  expect(draft.status).toBe(201);
  const chatId = `seed-${Date.now()}`;
  const message = await ui.stack.http.post(`/v1/bots/${bot.id}/console/messages`).set(bot.headers).send({ chat_id: chatId, text: 'Hi' });
  expect(message.status).toBe(202);
  await eventually(async () => {
    const history = await ui.stack.http.get(`/v1/bots/${bot.id}/dialogs/console/${chatId}/history`).set(bot.headers);
    return history.status === 200 && (history.body.items as unknown[]).length >= 2;
  });
  return { ...bot, chatId };
}

test('an operator creates a bot, fixes and activates a scenario, walks it in Try it, and edits and erases the dialog', async () => {
  const page = await ui.signIn('operator');
  await link(page, 'Bots').click();
  await page.getByRole('heading', { name: 'Bots' }).waitFor();

  // A bot; its name is shown as text, never as markup.
  const botName = 'Terrace <b>bot</b>';
  await button(page, 'New bot').click();
  await page.getByLabel('Name', { exact: true }).fill(botName);
  await page.getByLabel('Description').fill('Bookings on the terrace');
  await button(page, 'Create bot').click();
  const created = await eventually(async () => {
    const list = await ui.stack.http.get(`/v1/accounts/${ui.account}/bots`).set(ui.stack.auth('operator', [ui.account]));
    return (list.body.items as { id: string; name: string }[]).find((bot) => bot.name === botName);
  });
  await link(page, 'Bots').click();
  await page.getByRole('link', { name: botName }).click();

  // Activating the bot without a platform: the API's 409 reason.
  await button(page, 'Activate').click();
  await page.getByRole('alert').filter({ hasText: 'missing: a connected platform' }).waitFor();

  // A scenario with an error, marked at its line; fixed, saved and activated.
  await link(page, 'Scenarios').click();
  await page.getByRole('heading', { name: 'Scenarios' }).waitFor();
  await button(page, 'New scenario').click();
  const editor = page.getByLabel('Scenario JSON');
  await editor.fill(brokenText);
  const diagnostics = page.getByRole('list', { name: 'Diagnostics' });
  await diagnostics
    .getByRole('listitem')
    .filter({ hasText: new RegExp(`^line ${brokenLine}, column \\d+: `) })
    .waitFor();
  // The line-number gutter marks that line (and only that one) as an error.
  expect(await page.locator('.gutter .error').allInnerTexts()).toEqual([String(brokenLine)]);
  expect(await button(page, 'Save version').isDisabled()).toBe(true);
  await editor.fill(scenarioText);
  await absent(diagnostics.getByRole('listitem').filter({ hasText: `line ${brokenLine},` }));
  await eventually(() => button(page, 'Save version').isEnabled(), 15_000, 'Save version to be enabled');
  await button(page, 'Save version').click();
  await button(page, 'Activate').first().waitFor();
  await button(page, 'Activate').first().click();
  await page.getByRole('list', { name: 'Scenario versions' }).getByRole('listitem').filter({ hasText: 'active' }).waitFor();
  const versions = await ui.stack.http.get(`/v1/bots/${created.id}/scenarios`).set(ui.stack.auth('operator', [ui.account]));
  expect(versions.body.items).toEqual([
    expect.objectContaining({ version: 1, is_active: true, is_default: true, scenario_data: expect.objectContaining({ start_step: 'ask_name' }) }),
  ]);

  // The live dialogs list, open in a second tab before the chat starts.
  const watcher = await ui.signIn('operator');
  await watcher.goto(`/console/#/bots/${created.id}/dialogs`);
  const dialogs = watcher.getByRole('table', { name: 'Dialogs' });
  await dialogs.waitFor();
  await absent(dialogs.getByRole('link'));

  // Try it: a text answer, then a bot button, each answered by the real workflow.
  await link(page, 'Try it').click();
  expect(await page.getByLabel('Scenario', { exact: true }).locator('option').first().textContent()).toMatch(/\(default\)/);
  const chat = page.getByRole('log', { name: 'Test chat' });
  const send = async (text: string) => {
    await page.getByLabel('Message').fill(text);
    await button(page, 'Send').click();
  };
  await send('Hi');
  await chat.filter({ hasText: 'Hello! What is your name?' }).waitFor();
  await send('Ann');
  await chat.filter({ hasText: 'Nice to meet you, Ann. Inside or on the terrace?' }).waitFor();
  await chat.getByRole('button', { name: 'Terrace' }).click();
  await chat.filter({ hasText: 'A terrace table for Ann. Any wishes?' }).waitFor();

  // The dialog appeared in the other tab without a reload.
  const row = dialogs.getByRole('row').filter({ hasText: 'console' });
  await row.waitFor(); // one row: a second would fail the locator's strictness
  await row.filter({ hasText: 'ask_wishes' }).waitFor();
  const chatId = (await row.getByRole('link').textContent())?.trim() ?? '';
  expect(chatId).not.toBe('');
  const dialogPath = `/v1/bots/${created.id}/dialogs/console/${encodeURIComponent(chatId)}`;
  const headers = ui.stack.auth('operator', [ui.account]);
  expect((await ui.stack.http.get(dialogPath).set(headers)).body.collected_data).toMatchObject({ guest_name: 'Ann', place: 'terrace' });

  // The dialog page: transcript, data, and a state edit the workflow takes.
  await row.getByRole('link').click();
  await watcher.getByRole('heading', { name: chatId }).waitFor();
  await watcher.getByRole('log', { name: 'Transcript' }).filter({ hasText: 'Ann' }).waitFor();
  const stateField = watcher.getByLabel('State (JSON)');
  const state = JSON.parse(await stateField.inputValue()) as { collected_data: Record<string, unknown> };
  expect(state.collected_data).toMatchObject({ guest_name: 'Ann', place: 'terrace' });
  state.collected_data.guest_name = 'Beatrice';
  await stateField.fill(JSON.stringify(state, null, 2));
  await button(watcher, 'Save state').click();
  await watcher.getByRole('region', { name: 'Collected data' }).filter({ hasText: 'Beatrice' }).waitFor();
  const edited = await ui.stack.http.get(dialogPath).set(headers);
  expect(edited.body.collected_data).toMatchObject({ guest_name: 'Beatrice', place: 'terrace' });

  // Erase, confirmed: gone from the list and from the API.
  await button(watcher, 'Erase').click();
  await button(watcher, 'Erase for good').click();
  await link(watcher, 'Dialogs').click();
  await dialogs.waitFor();
  await absent(dialogs.getByRole('link', { name: chatId }));
  const list = await ui.stack.http.get(`/v1/bots/${created.id}/dialogs`).set(headers);
  expect(list.body.items).toEqual([]);
  expect((await ui.stack.http.get(`${dialogPath}/history`).set(headers)).body.items ?? []).toEqual([]);

  // The token lived in the page's memory only: nothing stored, and a reload asks for it again.
  expect(await page.evaluate('[localStorage.length, sessionStorage.length, document.cookie]')).toEqual([0, 0, '']);
  await page.reload();
  await page.getByLabel('API token').waitFor();
  await page.context().close();
  await watcher.context().close();
});

/** Every write control of the console (the contract's list, and the two that open the scenario editor). */
const WRITE_BUTTONS = [
  'New bot',
  'Activate',
  'Deactivate',
  'New scenario',
  'Edit as new version',
  'Save version',
  'Make default',
  'Save state',
  'Reset',
  'Close dialog',
  'Erase',
  'Send',
  'Test connection',
];

/** Visits every screen of the seeded bot, calling `onScreen` once each has loaded. */
async function walkScreens(page: Page, bot: { chatId: string }, onScreen: (screen: string) => Promise<void>) {
  await link(page, 'Bots').click();
  await page.getByRole('link', { name: 'Viewer bot' }).waitFor();
  await onScreen('Bots');
  await page.getByRole('link', { name: 'Viewer bot' }).click();
  await page.getByRole('heading', { name: 'At a glance' }).waitFor();
  await onScreen('bot');
  await link(page, 'Platforms').click();
  await page.getByRole('table', { name: 'Platform connections' }).getByRole('rowheader', { name: 'telegram' }).waitFor();
  await onScreen('Platforms');
  await link(page, 'Scenarios').click();
  await page.getByRole('link', { name: 'main v1' }).click();
  await page.getByRole('heading', { name: 'Graph' }).waitFor();
  await onScreen('Scenarios');
  await link(page, 'Dialogs').click();
  const row = page.getByRole('table', { name: 'Dialogs' }).getByRole('link', { name: bot.chatId });
  await row.click();
  await page.getByRole('log', { name: 'Transcript' }).filter({ hasText: 'What is your name?' }).waitFor();
  await onScreen('dialog');
  await link(page, 'Try it').click();
  await page.getByRole('log', { name: 'Test chat' }).waitFor();
  await onScreen('Try it');
}

test('a viewer is offered no write control, and the API refuses the writes anyway', async () => {
  const bot = await seedBot('Viewer bot');

  // An operator is offered each of them somewhere (so their absence below means something).
  const operator = await ui.signIn('operator');
  const offered = new Set<string>();
  const collect = async () => {
    for (const name of WRITE_BUTTONS) if ((await button(operator, name).count()) > 0) offered.add(name);
  };
  await walkScreens(operator, bot, async (screen) => {
    await collect();
    if (screen === 'Scenarios') {
      await button(operator, 'Edit as new version').click();
      await collect();
    }
  });
  expect([...offered].sort()).toEqual([...WRITE_BUTTONS].sort());
  await operator.context().close();

  const viewer = await ui.signIn('viewer');
  await walkScreens(viewer, bot, async (screen) => {
    const shown = [];
    for (const name of WRITE_BUTTONS) if ((await button(viewer, name).count()) > 0) shown.push(name);
    expect([screen, shown]).toEqual([screen, []]);
  });
  await viewer.context().close();

  // The same writes straight at the API with the viewer's token: 403 every one, nothing changed.
  const token = ui.stack.auth('viewer', [ui.account]);
  const dialog = `/v1/bots/${bot.id}/dialogs/console/${bot.chatId}`;
  const writes: [string, () => Test][] = [
    ['create bot', () => ui.stack.http.post(`/v1/accounts/${ui.account}/bots`).send({ name: 'Not allowed' })],
    ['activate bot', () => ui.stack.http.post(`/v1/bots/${bot.id}/activate`).send({})],
    ['deactivate bot', () => ui.stack.http.post(`/v1/bots/${bot.id}/deactivate`).send({})],
    ['validate and save a version', () => ui.stack.http.post(`/v1/bots/${bot.id}/scenarios`).send({ name: 'main', scenario_data: scenario })],
    ['activate a version', () => ui.stack.http.post(`/v1/scenarios/${bot.scenarioId}/activate`).send({ active: true, default: true })],
    ['test connection', () => ui.stack.http.post(`/v1/bots/${bot.id}/platforms/telegram/test`).send({})],
    ['save state', () => ui.stack.http.put(dialog).send({ collected_data: { guest_name: 'Mallory' }, expected_version: 1 })],
    ['reset', () => ui.stack.http.delete(`${dialog}?confirm=true`)],
    ['erase', () => ui.stack.http.post(`${dialog}/erase?confirm=true`)],
    ['send in Try it', () => ui.stack.http.post(`/v1/bots/${bot.id}/console/messages`).send({ chat_id: bot.chatId, text: 'Hi' })],
  ];
  for (const [what, write] of writes) expect([what, (await write().set(token)).status]).toEqual([what, 403]);
  const after = await ui.stack.http.get(dialog).set(bot.headers);
  expect(after.body).toMatchObject({ status: 'active', current_step: 'ask_name' });
  expect((await ui.stack.http.get(`/v1/bots/${bot.id}`).set(bot.headers)).body.status).toBe('active');
});

test('at phone width (375 px) Bots and Dialogs do not scroll sideways', async () => {
  const bot = await seedBot(`A rather long bot name for a small phone screen ${'x'.repeat(40)}`);
  const page = await ui.signIn('operator', PHONE);
  await link(page, 'Bots').click();
  await page.getByRole('link', { name: /A rather long bot name/ }).waitFor();
  expect(await scrollsHorizontally(page)).toBe(false);
  await page.goto(`/console/#/bots/${bot.id}/dialogs`);
  await page.getByRole('table', { name: 'Dialogs' }).getByRole('link', { name: bot.chatId }).waitFor();
  expect(await scrollsHorizontally(page)).toBe(false);
  await page.context().close();
});
