import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { attachmentInput } from '../../src/platforms/discord/attachments';
import { normalizeGatewayMessage } from '../../src/platforms/discord/inbound';
import {
  discordCommand,
  discordKeyPair,
  type DiscordAttachmentObject,
  discordRequest,
  type FakeDiscord,
  type FakeSlack,
  type SignedRequest,
  slackFileShareWebhook,
  slackMessageWebhook,
  snowflake,
  startFakeDiscord,
  startFakeSlack,
} from '../fakes';
import { loadConfig } from '../../src/config';
import { configProblems } from '../support/config';
import { eventually, type Stack, startStack } from '../support/stack';
import { jpeg, pdf, receiptScenario } from './files';

const slackCredentials = { bot_token: 'xoxb-files-token-0001', signing_secret: 'files-signing-secret' };
const keys = discordKeyPair();
const APP = '1160000000000000007';
const discordCredentials = { application_id: APP, bot_token: 'discord-files-bot-token', public_key: keys.publicKeyHex };
const USER = '80351110224678912';
const MB = 1024 * 1024;

type Bot = Awaited<ReturnType<Stack['createBot']>>;

/** Every file under a folder, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((entry) => statSync(path.join(dir, entry)).isFile());
}

describe('files users send on Slack and Discord', () => {
  let slack: FakeSlack;
  let discord: FakeDiscord;
  /** The same fakes' file routes on other origins: nothing may be fetched from them. */
  let strangerSlack: FakeSlack;
  let strangerDiscord: FakeDiscord;
  let stack: Stack;
  let mediaDir: string;

  beforeAll(async () => {
    slack = await startFakeSlack({ botToken: slackCredentials.bot_token });
    discord = await startFakeDiscord({ botToken: discordCredentials.bot_token, applicationId: APP });
    strangerSlack = await startFakeSlack();
    strangerDiscord = await startFakeDiscord();
    stack = await startStack({ db: 'sqlite', apiBases: { slack: slack.url, discord: discord.url } });
    mediaDir = mkdtempSync(path.join(os.tmpdir(), 'media-incoming-slack-discord-'));
    stack.config.mediaDir = mediaDir;
    stack.config.fileSources = { ...stack.config.fileSources, slack: slack.url, discord: discord.url };
  });
  afterAll(async () => {
    await stack.close();
    await Promise.all([slack.close(), discord.close(), strangerSlack.close(), strangerDiscord.close()]);
    rmSync(mediaDir, { recursive: true, force: true });
  });

  async function dialogOf(bot: Bot, platform: string, chat: string) {
    return (await stack.http.get(`/v1/bots/${bot.id}/dialogs/${platform}/${chat}`).set(bot.headers)).body;
  }
  async function userHistory(bot: Bot, platform: string, chat: string) {
    return eventually(async () => {
      const res = await stack.http.get(`/v1/bots/${bot.id}/dialogs/${platform}/${chat}/history?message_type=user`).set(bot.headers);
      return res.body.total >= 2 ? res.body.items : undefined;
    });
  }

  describe('Slack', () => {
    let bot: Bot;
    const post = (req: SignedRequest) => stack.http.post(`/v1/webhooks/slack/${bot.id}`).set(req.headers).send(req.body);
    const signingSecret = slackCredentials.signing_secret;

    beforeAll(async () => {
      bot = await stack.createBot({ platform: 'slack', credentials: slackCredentials, scenario: receiptScenario });
    });

    /** Starts the receipt scenario in a chat, then shares the files; resolves with the bot's second reply. */
    async function share(chat: string, files: object[], text?: string): Promise<string> {
      const before = slack.callsTo('chat.postMessage').length;
      await post(slackMessageWebhook({ channel: chat, user: 'U0ANNA', text: '/start', signingSecret }));
      await slack.waitForCalls(before + 1, { method: 'chat.postMessage' }, 20_000);
      expect((await post(slackFileShareWebhook({ channel: chat, user: 'U0ANNA', files, ...(text ? { text } : {}), signingSecret }))).status).toBe(200);
      const replies = await slack.waitForCalls(before + 2, { method: 'chat.postMessage' }, 20_000);
      return replies[before + 1]?.body.text as string;
    }

    it('a shared JPEG is downloaded with the bot token from url_private_download and stored before the step takes it', async () => {
      const chat = 'D0FILES01';
      const bytes = await jpeg(90, 60);
      const file = slack.putFile(bytes, 'lunch.jpg', 'image/jpeg');

      expect(await share(chat, [file], 'lunch')).toBe('Got it (image).');
      const downloads = slack.callsTo('downloadFile');
      expect(downloads).toHaveLength(1);
      expect(downloads[0]).toMatchObject({ ok: true, path: new URL(file.url_private_download).pathname });
      expect(downloads[0]?.headers.authorization).toBe(`Bearer ${slackCredentials.bot_token}`);

      const receipt = (await dialogOf(bot, 'slack', chat)).collected_data.receipt;
      expect(receipt).toMatchObject({ type: 'image', mime: 'image/jpeg', caption: 'lunch', platform_file_id: file.id });
      expect(receipt.media_id).not.toBe(file.id);
      const media = await stack.http.get(`/v1/media/${receipt.media_id}`).set(bot.headers);
      expect(media.body).toMatchObject({ id: receipt.media_id, source: 'incoming', type: 'image', width: 90, height: 60, size: bytes.length });
      expect(receipt.url).toBe(media.body.url);
      expect(filesUnder(mediaDir).some((name) => statSync(path.join(mediaDir, name)).size === bytes.length)).toBe(true);
      const signed = new URL(media.body.url);
      const served = await stack.http.get(`${signed.pathname}${signed.search}`);
      expect(served.status).toBe(200);
      expect(Buffer.compare(served.body as Buffer, bytes)).toBe(0);

      const history = await userHistory(bot, 'slack', chat);
      expect(history[1].payload.media).toMatchObject({ media_id: receipt.media_id, platform_file_id: file.id });
      expect(history[1].payload.store_error).toBeUndefined();
      expect(slack.callsTo('downloadFile')).toHaveLength(1);
    });

    it('a file URL on another host is not fetched: the step keeps the input and the history says why', async () => {
      const chat = 'D0FILES02';
      slack.reset();
      const file = strangerSlack.putFile(await jpeg(20, 20), 'elsewhere.jpg', 'image/jpeg');

      expect(await share(chat, [file])).toBe('Got it (image).');
      expect(strangerSlack.calls).toEqual([]);
      expect(slack.callsTo('downloadFile')).toEqual([]);

      const receipt = (await dialogOf(bot, 'slack', chat)).collected_data.receipt;
      expect(receipt).toEqual({ type: 'image', media_id: file.id, mime: 'image/jpeg', url: file.url_private_download, size: file.size });
      const history = await userHistory(bot, 'slack', chat);
      expect(history[1].payload.store_error).toBe(`The file is not on slack's file host (${slack.url}), so it was not downloaded.`);
    });

    it('a declared size over the limit is refused without a download', async () => {
      const chat = 'D0FILES03';
      slack.reset();
      const file = { ...slack.putFile(await jpeg(20, 20), 'huge.jpg', 'image/jpeg'), size: 11 * MB };

      expect(await share(chat, [file])).toBe('Got it (image).');
      expect(slack.callsTo('downloadFile')).toEqual([]);
      const history = await userHistory(bot, 'slack', chat);
      expect(history[1].payload.store_error).toBe('The image is larger than the 10 MB limit for image files.');
      expect(history[1].payload.media).not.toHaveProperty('platform_file_id');
    });

    it('a redirect from the file host is not followed: the token stays on the file host', async () => {
      const chat = 'D0FILES05';
      slack.reset();
      const elsewhere = strangerSlack.putFile(await jpeg(20, 20), 'moved.jpg', 'image/jpeg');
      const seen: (string | undefined)[] = [];
      const redirecting = createServer((request, response) => {
        seen.push(request.headers.authorization);
        response.writeHead(302, { location: elsewhere.url_private_download }).end();
      });
      await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
      const origin = `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}`;
      stack.config.fileSources = { ...stack.config.fileSources, slack: origin };
      try {
        const file = { ...elsewhere, url_private_download: `${origin}/files-pri/T0GETINN1-${elsewhere.id}/download/moved.jpg` };
        expect(await share(chat, [file])).toBe('Got it (image).');
        expect(seen).toEqual([`Bearer ${slackCredentials.bot_token}`]);
        expect(strangerSlack.calls).toEqual([]);
        const history = await userHistory(bot, 'slack', chat);
        expect(history[1].payload.store_error).toBe('slack downloadFile failed (302): HTTP 302');
      } finally {
        stack.config.fileSources = { ...stack.config.fileSources, slack: slack.url };
        redirecting.close();
      }
    });

    it("Slack's sign-in page (a token without access to the file) is refused by sniffing, once", async () => {
      const chat = 'D0FILES04';
      slack.reset();
      const file = slack.putFile(pdf('Receipt 7'), 'receipt.pdf', 'application/pdf', 'xoxb-another-workspace');

      expect(await share(chat, [file])).toBe('Got it (document).');
      const downloads = slack.callsTo('downloadFile');
      expect(downloads).toHaveLength(1);
      expect(downloads[0]).toMatchObject({ status: 200, ok: false });
      const history = await userHistory(bot, 'slack', chat);
      expect(history[1].payload.store_error).toMatch(/^The file is not an accepted media type/);
      expect((await dialogOf(bot, 'slack', chat)).collected_data.receipt).not.toHaveProperty('platform_file_id');
    });
  });

  describe('Discord', () => {
    let bot: Bot;
    const post = (req: SignedRequest) => stack.http.post(`/v1/webhooks/discord/${bot.id}`).set(req.headers).send(req.body);

    beforeAll(async () => {
      bot = await stack.createBot({ platform: 'discord', credentials: discordCredentials, scenario: receiptScenario });
    });

    /** `/start`, then `/answer file:` with the attachment; resolves with the bot's second reply. */
    async function answerWithFile(chat: string, attachment: DiscordAttachmentObject, text?: string): Promise<string> {
      const before = discord.callsTo('createFollowupMessage').length;
      await post(discordRequest(discordCommand({ applicationId: APP, channelId: chat, userId: USER, name: 'start' }), keys));
      await discord.waitForCalls(before + 1, { method: 'createFollowupMessage' }, 20_000);
      const options = [{ name: 'file', type: 11, value: attachment.id }, ...(text ? [{ name: 'text', type: 3, value: text }] : [])];
      const command = discordCommand({
        applicationId: APP,
        channelId: chat,
        userId: USER,
        name: 'answer',
        options,
        resolved: { attachments: { [attachment.id]: attachment } },
      });
      const answered = await post(discordRequest(command, keys));
      expect(answered.body).toEqual({ type: 5 });
      const replies = await discord.waitForCalls(before + 2, { method: 'createFollowupMessage' }, 20_000);
      return replies[before + 1]?.body.content as string;
    }

    it('an attachment of `/answer file:` is downloaded from the CDN without credentials and stored', async () => {
      const chat = '1170000000000000101';
      const bytes = await jpeg(64, 32);
      const attachment = discord.putAttachment(bytes, 'table 4.jpg', 'image/jpeg', chat);

      expect(await answerWithFile(chat, attachment, 'our table')).toBe('Got it (image).');
      const downloads = discord.callsTo('downloadAttachment');
      expect(downloads).toHaveLength(1);
      expect(downloads[0]?.status).toBe(200);
      expect(downloads[0]?.headers.authorization).toBeUndefined();

      const receipt = (await dialogOf(bot, 'discord', chat)).collected_data.receipt;
      expect(receipt).toMatchObject({ type: 'image', mime: 'image/jpeg', caption: 'our table', platform_url: attachment.url });
      const media = await stack.http.get(`/v1/media/${receipt.media_id}`).set(bot.headers);
      expect(media.body).toMatchObject({ id: receipt.media_id, source: 'incoming', type: 'image', width: 64, height: 32, size: bytes.length });
      expect(receipt.url).toBe(media.body.url);

      const history = await userHistory(bot, 'discord', chat);
      expect(history[1].payload.media).toMatchObject({ media_id: receipt.media_id, platform_url: attachment.url });
      expect(discord.callsTo('downloadAttachment')).toHaveLength(1);
    });

    it('an attachment URL on another host is not fetched', async () => {
      const chat = '1170000000000000102';
      discord.reset();
      const attachment = strangerDiscord.putAttachment(await jpeg(20, 20), 'x.jpg', 'image/jpeg', chat);

      expect(await answerWithFile(chat, attachment)).toBe('Got it (image).');
      expect(strangerDiscord.calls).toEqual([]);
      expect(discord.callsTo('downloadAttachment')).toEqual([]);
      const history = await userHistory(bot, 'discord', chat);
      expect(history[1].payload.store_error).toBe(`The file is not on discord's file host (${discord.url}), so it was not downloaded.`);
      expect((await dialogOf(bot, 'discord', chat)).collected_data.receipt).toEqual({
        type: 'image',
        mime: 'image/jpeg',
        url: attachment.url,
        size: attachment.size,
      });
    });

    it("a declared size past the bot's media quota is refused without a download", async () => {
      const chat = '1170000000000000103';
      discord.reset();
      const quota = stack.config.mediaQuotaBytes;
      stack.config.mediaQuotaBytes = 1000;
      try {
        const attachment = discord.putAttachment(pdf('Menu'), 'menu.pdf', 'application/pdf', chat);
        expect(await answerWithFile(chat, { ...attachment, size: 5000 })).toBe('Got it (document).');
        expect(discord.callsTo('downloadAttachment')).toEqual([]);
        const history = await userHistory(bot, 'discord', chat);
        expect(history[1].payload.store_error).toMatch(/^The bot's media would exceed its quota of 1000 bytes/);
      } finally {
        stack.config.mediaQuotaBytes = quota;
      }
    });
  });

  describe('the file sources', () => {
    const env = { NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32), ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64') };

    it("default to the platforms' own file hosts; Slack and Discord take an origin, never a path", () => {
      expect(loadConfig(env).fileSources).toEqual({
        slack: 'https://files.slack.com',
        discord: 'https://cdn.discordapp.com',
        messenger: ['fbcdn.net', 'fbsbx.com'],
      });
      const custom = {
        SLACK_FILES_BASE: 'http://127.0.0.1:9001/',
        DISCORD_CDN_BASE: 'HTTPS://CDN.example:443',
        MESSENGER_FILES_HOSTS: 'CDN.Example, 127.0.0.1',
      };
      expect(loadConfig({ ...env, ...custom }).fileSources).toEqual({
        slack: 'http://127.0.0.1:9001',
        discord: 'https://cdn.example',
        messenger: ['cdn.example', '127.0.0.1'],
      });
      const wrong = {
        SLACK_FILES_BASE: 'https://files.slack.com/files-pri',
        DISCORD_CDN_BASE: 'https://user@cdn.discordapp.com',
        MESSENGER_FILES_HOSTS: 'https://fbcdn.net',
      };
      expect(configProblems({ ...env, ...wrong })).toEqual([
        'SLACK_FILES_BASE: expected an origin: scheme, host and port without a path (Slack file host)',
        'DISCORD_CDN_BASE: expected an origin: scheme, host and port without a path (Discord CDN)',
      ]);
      expect(configProblems({ ...env, MESSENGER_FILES_HOSTS: 'https://fbcdn.net' })).toEqual([
        'MESSENGER_FILES_HOSTS: expected host names without scheme, port or path, separated by commas (not https://fbcdn.net)',
      ]);
    });
  });

  describe('Discord attachments as media inputs', () => {
    const attachment = {
      id: '1234567890123456789',
      filename: 'receipt.png',
      size: 48213,
      url: 'https://cdn.discordapp.com/attachments/1170000000000000101/1234567890123456789/receipt.png?ex=6560&is=655f&hm=ab12&',
      proxy_url: 'https://media.discordapp.net/attachments/1170000000000000101/1234567890123456789/receipt.png?ex=6560&is=655f&hm=ab12&',
      content_type: 'image/png',
      width: 640,
      height: 480,
    };

    it('keeps the CDN url, the declared type and size, and drops values of the wrong type', () => {
      expect(attachmentInput(attachment, 'lunch')).toEqual({
        kind: 'media',
        media: { type: 'image', mime: 'image/png', url: attachment.url, size: 48213, caption: 'lunch' },
      });
      expect(attachmentInput({ ...attachment, content_type: 'application/pdf', size: '9e9' })).toEqual({
        kind: 'media',
        media: { type: 'document', mime: 'application/pdf', url: attachment.url },
      });
      expect(attachmentInput({ ...attachment, url: 42 })).toBeNull();
      expect(attachmentInput('https://cdn.discordapp.com/x.png')).toBeNull();
    });

    it('a Gateway MESSAGE_CREATE with an attachment is a media input, its text the caption', () => {
      const channelId = '1170000000000000201';
      const message = {
        id: snowflake(),
        channel_id: channelId,
        type: 0,
        content: 'our receipt',
        author: { id: USER, username: 'anna', global_name: 'Anna', discriminator: '0', avatar: null },
        attachments: [attachment],
        embeds: [],
        mentions: [],
        mention_roles: [],
        pinned: false,
        mention_everyone: false,
        tts: false,
        timestamp: new Date().toISOString(),
        edited_timestamp: null,
        flags: 0,
        components: [],
      };
      const incoming = normalizeGatewayMessage(message, { channelIds: new Set() });
      expect(incoming).toMatchObject({
        platform: 'discord',
        chatId: channelId,
        messageId: message.id,
        input: { kind: 'media', media: { type: 'image', mime: 'image/png', url: attachment.url, size: 48213, caption: 'our receipt' } },
      });
    });
  });
});
