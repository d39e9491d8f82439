import { startFakeTelegram, telegramUpdate } from '../fakes';
import { describeDialogEndToEnd } from './harness';

describeDialogEndToEnd('Telegram', async () => ({
  platform: 'telegram',
  fake: await startFakeTelegram(),
  credentials: { token: '7000001:AAH-e2e-token' },
  sendMethod: 'sendMessage',
  chat: (n) => String(5000 + n),
  command: (bot, chat, id, name) => telegramUpdate({ updateId: Number(id.slice(-9)), chatId: chat, text: `/${name}`, secret: bot.webhookSecret }),
  text: (bot, chat, id, text) => telegramUpdate({ updateId: Number(id.slice(-9)), chatId: chat, text, secret: bot.webhookSecret }),
  button: (bot, chat, id, value, label) =>
    telegramUpdate({ updateId: Number(id.slice(-9)), chatId: chat, callbackData: value, buttonText: label, secret: bot.webhookSecret }),
  chatOf: (call) => String(call.body.chat_id),
  textOf: (call) => call.body.text as string | undefined,
  buttonsOf: (call) =>
    ((call.body.reply_markup as { inline_keyboard?: { callback_data: string }[][] } | undefined)?.inline_keyboard ?? [])
      .flat()
      .map((button) => button.callback_data),
  permanentFailure: { status: 403, description: 'Forbidden: bot was blocked by the user' },
  permanentDescription: 'Forbidden: bot was blocked by the user',
  forge: (request) => ({ ...request, headers: { ...request.headers, 'x-telegram-bot-api-secret-token': 'guessed-secret' } }),
}));
