/**
 * The tests' fake Telegram Bot API as a standalone server, for trying the product without Telegram:
 * `npx tsx scripts/fake-telegram.ts`, then `TELEGRAM_API_BASE=<printed URL> npm start`.
 * Prints every call it receives (the secret_token of setWebhook too: that is what Telegram would
 * send back in X-Telegram-Bot-Api-Secret-Token).
 */
import { startFakeTelegram } from '../test/fakes';

async function main() {
  const tg = await startFakeTelegram();
  console.log(`Fake Telegram Bot API at ${tg.url}  (TELEGRAM_API_BASE=${tg.url})`);
  let printed = 0;
  setInterval(() => {
    for (const call of tg.calls.slice(printed)) console.log(`${call.method} ${JSON.stringify(call.body)}`);
    printed = tg.calls.length;
  }, 200);
  process.on('SIGINT', () => void tg.close().then(() => process.exit(0)));
}

void main();
