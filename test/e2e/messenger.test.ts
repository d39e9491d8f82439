import { messengerWebhook, startFakeMessenger } from '../fakes';
import { describeDialogEndToEnd } from './harness';

const credentials = { page_id: '104560000000001', page_access_token: 'EAAG-e2e-token', app_secret: 'e2e-app-secret', verify_token: 'e2e-verify' };

describeDialogEndToEnd('Messenger', async () => ({
  platform: 'messenger',
  fake: await startFakeMessenger({ pageId: credentials.page_id, pageAccessToken: credentials.page_access_token }),
  credentials,
  sendMethod: 'messages',
  chat: (n) => `654321098765432${n}`,
  command: (_bot, chat, id, name) =>
    messengerWebhook({ pageId: credentials.page_id, psid: chat, mid: `m_${id}`, text: `/${name}`, appSecret: credentials.app_secret }),
  text: (_bot, chat, id, text) => messengerWebhook({ pageId: credentials.page_id, psid: chat, mid: `m_${id}`, text, appSecret: credentials.app_secret }),
  button: (_bot, chat, id, value, label) =>
    messengerWebhook({ pageId: credentials.page_id, psid: chat, mid: `m_${id}`, text: label, quickReply: value, appSecret: credentials.app_secret }),
  chatOf: (call) => (call.body as { recipient?: { id: string } }).recipient?.id,
  textOf: (call) => (call.body as { message?: { text?: string } }).message?.text,
  buttonsOf: (call) => ((call.body as { message?: { quick_replies?: { payload: string }[] } }).message?.quick_replies ?? []).map((reply) => reply.payload),
  permanentFailure: { status: 400, code: 551, description: "This person isn't available right now." },
  permanentDescription: "This person isn't available right now. (code 551)",
}));
