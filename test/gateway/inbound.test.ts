import { channelIdsOf } from '../../gateway';
import { SLASH_COMMANDS, registerSlashCommands } from '../../src/platforms/discord/commands';
import { normalizeGatewayMessage } from '../../src/platforms/discord/inbound';
import { MAX_INPUT_CHARACTERS } from '../../src/engine/bounds';
import { discordGatewayMessage, startFakeDiscord } from '../fakes';

const SELF = '1160000000000000001';
const DM = '1170000000000000001';
const LISTED = '1180000000000000001';
const USER = '80351110224678912';
const listening = { selfId: SELF, channelIds: new Set([LISTED]) };
const normalize = (message: Record<string, unknown>) => normalizeGatewayMessage(message as never, listening);

describe('normalizeGatewayMessage', () => {
  it('a direct message → text input in the DM channel, its id the dedupe key, the author as user', () => {
    const message = discordGatewayMessage({ id: '1180000000000000099', channelId: DM, userId: USER, content: '  Anna  ' });
    expect(normalize(message)).toEqual({
      platform: 'discord',
      chatId: DM,
      messageId: '1180000000000000099',
      user: { id: USER, name: 'Anna', username: 'anna' },
      input: { kind: 'text', text: 'Anna' },
      sentAt: expect.stringMatching(/^20\d\d-/),
    });
  });

  it('a typed /command is a command; a mention of the bot in front is left out', () => {
    expect(normalize(discordGatewayMessage({ channelId: DM, userId: USER, content: '/start now' }))?.input).toEqual({
      kind: 'command',
      command: 'start',
      args: 'now',
    });
    const mention = discordGatewayMessage({ channelId: LISTED, guildId: '1', userId: USER, content: `<@${SELF}> <@!${SELF}> 4` });
    expect(normalize(mention)?.input).toEqual({ kind: 'text', text: '4' });
  });

  it('guild messages only from listed channels; never bots, itself, webhooks, system messages or empty ones', () => {
    expect(normalize(discordGatewayMessage({ channelId: '1180000000000000002', guildId: '1', userId: USER, content: 'hi' }))).toBeNull();
    expect(normalize(discordGatewayMessage({ channelId: LISTED, guildId: '1', userId: USER, content: 'hi' }))).not.toBeNull();
    expect(normalize(discordGatewayMessage({ channelId: DM, userId: USER, content: 'hi', bot: true }))).toBeNull();
    expect(normalize(discordGatewayMessage({ channelId: DM, userId: SELF, content: 'hi' }))).toBeNull();
    expect(normalize({ ...discordGatewayMessage({ channelId: DM, userId: USER, content: 'hi' }), webhook_id: '5' })).toBeNull();
    expect(normalize(discordGatewayMessage({ channelId: DM, userId: USER, content: 'hi', type: 7 }))).toBeNull();
    expect(normalize(discordGatewayMessage({ channelId: DM, userId: USER, content: '   ' }))).toBeNull();
    expect(normalize(discordGatewayMessage({ channelId: DM, userId: USER, content: 'hi', type: 19 }))).not.toBeNull();
  });

  it('refuses malformed payloads and cuts a long text', () => {
    for (const broken of [
      null,
      'x',
      {},
      { id: '1', channel_id: DM },
      { ...discordGatewayMessage({ channelId: DM, userId: USER, content: 'hi' }), id: '1 OR 1' },
    ]) {
      expect(normalizeGatewayMessage(broken as never, listening)).toBeNull();
    }
    const long = normalize(discordGatewayMessage({ channelId: DM, userId: USER, content: 'a'.repeat(50_000) }));
    expect(long?.input).toEqual({ kind: 'text', text: 'a'.repeat(MAX_INPUT_CHARACTERS) });
  });

  it('an attachment is a media input with the text as caption', () => {
    const attachment = { id: '1', filename: 'menu.png', size: 10, url: 'https://cdn.discordapp.com/attachments/1/1/menu.png', content_type: 'image/png' };
    const input = normalize(discordGatewayMessage({ channelId: DM, userId: USER, content: 'my menu', attachments: [attachment] }))?.input;
    expect(input).toMatchObject({ kind: 'media', media: { type: 'image', url: attachment.url, caption: 'my menu' } });
  });
});

describe('channel_ids setting', () => {
  it('keeps the snowflakes of a list, nothing else', () => {
    expect([...channelIdsOf({ channel_ids: [LISTED, 'general', 5, '1'.repeat(21)] })]).toEqual([LISTED]);
    expect(channelIdsOf({ channel_ids: 'x' }).size).toBe(0);
    expect(channelIdsOf({}).size).toBe(0);
  });
});

describe('slash command registration', () => {
  it('overwrites the global commands with a list Discord accepts, with the bot token', async () => {
    const rest = await startFakeDiscord({ botToken: 'bot-token-1', applicationId: SELF });
    try {
      await registerSlashCommands({ apiBase: rest.url }, { application_id: SELF, bot_token: 'bot-token-1' });
      const [call] = rest.callsTo('bulkOverwriteGlobalApplicationCommands');
      expect(call).toMatchObject({ httpMethod: 'PUT', path: `/applications/${SELF}/commands`, ok: true });
      expect(call.body.value).toEqual(SLASH_COMMANDS);
      await expect(registerSlashCommands({ apiBase: rest.url }, { application_id: SELF, bot_token: 'wrong' })).rejects.toMatchObject({ status: 401 });
    } finally {
      await rest.close();
    }
  });
});
