/**
 * Local fake platform servers and builders of signed inbound webhooks, for tests.
 *
 *   const tg = await startFakeTelegram();           // TELEGRAM_API_BASE = tg.url
 *   tg.failNext({ status: 429, retryAfter: 1 });    // or {status: 500}, {status: 403, description: '...'}
 *   const req = telegramUpdate({ updateId: 1, chatId: 42, text: '/start', secret });
 *   await request(app).post(`/v1/webhooks/telegram/${botId}`).set(req.headers).send(req.body);
 *   const [sent] = await tg.waitForCalls(1, { method: 'sendMessage' });   // sent.body.text, ...
 *   await tg.close();
 *
 * Fakes: startFakeTelegram, startFakeWhatsApp, startFakeMessenger, startFakeSlack, startFakeDiscord
 * (each takes optional expected credentials; wrong ones are refused as the platform refuses them).
 * Builders: telegramUpdate / telegramRequest; whatsappWebhook / messengerWebhook / metaRequest /
 * signMeta / metaHandshakeQuery; slackMessageWebhook / slackButtonWebhook / slackUrlVerification /
 * signSlack; discordKeyPair + discordRequest(discordCommand | discordButton | discordPing) / signDiscord.
 * startFakeDiscordGateway (a WebSocket Gateway: HELLO, IDENTIFY/READY, heartbeats, RESUME, dispatches) + discordGatewayMessage.
 *
 * Every fake records `calls` ({method, httpMethod, path, query, headers, body, rawBody, status,
 * response, ok}; `ok` is the platform's own notion of success, e.g. Slack's `ok:false` on HTTP 200),
 * answers with the platform's real JSON shapes, and takes `failNext({status, retryAfter?,
 * description?, code?, subcode?, method?, times?, after?})`; `method` is the platform's call name
 * (`sendMessage`, `messages`, `chat.postMessage`, `createFollowupMessage`, ...). Builders return
 * `{body, rawBody, headers}`: send `body` byte for byte, since the signatures cover it;
 * `toWebhookRequest` turns one into the adapter's input.
 */
export * from './server';
export * from './telegram';
export * from './meta';
export * from './slack';
export * from './discord';
export * from './discord-gateway';
