import { startFakeWhatsApp, whatsappWebhook } from '../fakes';
import { describeDialogEndToEnd } from './harness';

const credentials = { phone_number_id: '106540352242922', access_token: 'EAAJB-e2e-token', app_secret: 'e2e-app-secret', verify_token: 'e2e-verify' };

describeDialogEndToEnd('WhatsApp', async () => ({
  platform: 'whatsapp',
  fake: await startFakeWhatsApp({ phoneNumberId: credentials.phone_number_id, accessToken: credentials.access_token }),
  credentials,
  sendMethod: 'messages',
  chat: (n) => `1650555100${n}`,
  command: (_bot, chat, id, name) =>
    whatsappWebhook({ phoneNumberId: credentials.phone_number_id, from: chat, id: `wamid.${id}`, text: `/${name}`, appSecret: credentials.app_secret }),
  text: (_bot, chat, id, text) =>
    whatsappWebhook({ phoneNumberId: credentials.phone_number_id, from: chat, id: `wamid.${id}`, text, appSecret: credentials.app_secret }),
  button: (_bot, chat, id, value, label) =>
    whatsappWebhook({
      phoneNumberId: credentials.phone_number_id,
      from: chat,
      id: `wamid.${id}`,
      buttonReply: { id: value, title: label },
      appSecret: credentials.app_secret,
    }),
  chatOf: (call) => call.body.to as string | undefined,
  textOf: (call) => {
    const body = call.body as { text?: { body: string }; interactive?: { body: { text: string } } };
    return body.text?.body ?? body.interactive?.body.text;
  },
  buttonsOf: (call) =>
    ((call.body as { interactive?: { action: { buttons?: { reply: { id: string } }[] } } }).interactive?.action.buttons ?? []).map((button) => button.reply.id),
  permanentFailure: { status: 400, code: 131026, description: 'Message undeliverable' },
  permanentDescription: 'Message undeliverable (code 131026)',
}));
