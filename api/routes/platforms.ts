import { z } from 'zod';
import { platformStatusRepository } from '../../src/db/platform-status';
import { AppError, conflict, notFound, unprocessable } from '../../src/errors';
import { connectionFailureOf } from '../../src/platforms/connection-failure';
import { adapters, isPlatformName, PLATFORMS } from '../../src/platforms';
import type { PlatformName } from '../../src/platforms/types';
import { windowSettings } from '../../src/platforms/window';
import type { Services } from '../deps';
import { ApiRouter } from '../openapi';
import { jsonValue, pageOf, platformConnectionSchema, platformName } from '../schemas';
import { parse, parseBody } from '../validation';
import { platformFailure, registerWebhook, supportedAdapter, unregisterWebhook } from '../webhook-registration';

function platformParam(value: string): PlatformName {
  if (!isPlatformName(value)) throw notFound('Platform connection');
  return value;
}

/** The settings the engine reads are checked (the 24-hour window's, src/platforms/window.ts); others are kept as given. */
const settings = z
  .object({ whatsapp_template: windowSettings.whatsapp_template.optional(), messenger_tag: windowSettings.messenger_tag.optional() })
  .catchall(jsonValue);
/** One shape per platform, each with its adapter's own credentials schema (CONTRACT.md §2 Platforms). */
const platformInput = z.discriminatedUnion(
  'platform',
  PLATFORMS.map((platform) =>
    z
      .object({ platform: z.literal(platform), credentials: adapters[platform].credentialsSchema, settings: settings.optional() })
      .meta({ id: `${platform[0].toUpperCase()}${platform.slice(1)}ConnectionRequest` }),
  ) as unknown as [
    z.ZodObject<{ platform: z.ZodLiteral<PlatformName>; credentials: z.ZodType<Record<string, string>>; settings: z.ZodOptional<typeof settings> }>,
  ],
);
const anyCredentials = z.union(PLATFORMS.map((platform) => adapters[platform].credentialsSchema) as unknown as [z.ZodType<Record<string, string>>]);
const platformUpdate = z
  .object({ credentials: anyCredentials.optional().describe('the credentials of the platform in the path'), settings: settings.optional() })
  .strict();

/**
 * Credentials are checked by the adapter's own schema; the error names fields, never their values.
 * Credentials of another platform than the path's are well-formed but wrong here: 422.
 */
function checkCredentials(platform: PlatformName, credentials: unknown): Record<string, string> {
  try {
    return parse<z.ZodType<Record<string, string>>>(supportedAdapter(platform).credentialsSchema, credentials, 'credentials');
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    throw unprocessable('credentials_mismatch', `These are not ${platform} credentials: ${error.message}`, error.details);
  }
}

const registration = z.object({
  url: z.string(),
  registered: z.boolean().describe('whether the platform calls the URL now'),
  instructions: z.string().optional().describe('what is left to set in the platform’s console'),
});

export function platformRoutes(s: Services): ApiRouter {
  const router = new ApiRouter();

  const connectionFor = async (botId: string, platform: PlatformName) => {
    const connection = await s.platforms.get(botId, platform);
    if (!connection) throw notFound('Platform connection');
    return connection;
  };

  router.op(
    'get',
    '/v1/platforms',
    {
      summary: 'Platforms this build supports and the JSON schema of each one’s credentials',
      tag: 'platforms',
      success: {
        status: 200,
        schema: z.object({
          items: z.array(
            z.object({
              platform: platformName,
              available: z.boolean(),
              credentials_schema: z.record(z.string(), z.unknown()).nullable().describe('JSON Schema of the credentials; null when unavailable'),
            }),
          ),
        }),
      },
      errors: [],
    },
    (ctx) => {
      ctx.body = {
        items: PLATFORMS.map((platform) => {
          const adapter = adapters[platform];
          return {
            platform,
            available: Boolean(adapter),
            credentials_schema: adapter ? z.toJSONSchema(adapter.credentialsSchema, { io: 'input', unrepresentable: 'any' }) : null,
          };
        }),
      };
    },
  );

  router.op(
    'post',
    '/v1/bots/:botId/platforms',
    {
      summary: 'Connect a platform (credentials checked, then stored encrypted)',
      tag: 'platforms',
      body: platformInput,
      success: { status: 201, schema: platformConnectionSchema },
      errors: [400, 403, 404, 409, 422],
    },
    async (ctx) => {
      const bot = await s.botFor(ctx, ctx.params.botId, 'write');
      const input = parseBody(ctx, platformInput);
      ctx.status = 201;
      ctx.body = await s.platforms.create({ bot_id: bot.id, platform: input.platform, credentials: input.credentials, settings: input.settings });
    },
  );

  router.op(
    'get',
    '/v1/bots/:botId/platforms',
    {
      summary: 'List the bot’s platform connections (never their credentials)',
      tag: 'platforms',
      success: { status: 200, schema: pageOf(platformConnectionSchema) },
      errors: [404],
    },
    async (ctx) => {
      const bot = await s.botFor(ctx, ctx.params.botId, 'read');
      const items = await s.platforms.list(bot.id);
      ctx.body = { items, total: items.length, limit: items.length, offset: 0 };
    },
  );

  router.op(
    'get',
    '/v1/bots/:botId/platforms/:platform',
    { summary: 'Get a platform connection', tag: 'platforms', success: { status: 200, schema: platformConnectionSchema }, errors: [404] },
    async (ctx) => {
      const bot = await s.botFor(ctx, ctx.params.botId, 'read');
      ctx.body = await connectionFor(bot.id, platformParam(ctx.params.platform));
    },
  );

  router.op(
    'put',
    '/v1/bots/:botId/platforms/:platform',
    {
      summary: 'Replace credentials (checked and sealed again; a registered webhook is registered with them first) or settings',
      tag: 'platforms',
      body: platformUpdate,
      success: { status: 200, schema: platformConnectionSchema },
      errors: [400, 403, 404, 422, 502],
    },
    async (ctx) => {
      const bot = await s.botFor(ctx, ctx.params.botId, 'write');
      const platform = platformParam(ctx.params.platform);
      const connection = await connectionFor(bot.id, platform);
      const input = parseBody(ctx, platformUpdate);
      // Checked as sent: the union above keeps only the fields of the first platform they fit.
      const credentials = input.credentials
        ? checkCredentials(platform, (ctx.request as unknown as { body: { credentials: unknown } }).body.credentials)
        : undefined;
      // New credentials may be another platform account: the webhook must point there before we switch.
      const registered = credentials && connection.webhook_registered && (await registerWebhook(s, bot.id, platform, credentials)).registered;
      ctx.body = await s.platforms.update(bot.id, platform, { credentials, settings: input.settings, status: registered ? 'connected' : undefined });
    },
  );

  router.op(
    'delete',
    '/v1/bots/:botId/platforms/:platform',
    {
      summary: 'Disconnect a platform (refused for the last platform of an active bot); its webhook is unregistered where the platform allows it',
      tag: 'platforms',
      success: { status: 204 },
      errors: [403, 404, 409],
    },
    async (ctx) => {
      const bot = await s.botFor(ctx, ctx.params.botId, 'write');
      const platform = platformParam(ctx.params.platform);
      await connectionFor(bot.id, platform);
      if (bot.status === 'active' && (await s.platforms.list(bot.id)).length === 1) {
        throw conflict('bot_active', 'This is the active bot’s only platform; deactivate the bot first.');
      }
      // A platform refusing does not keep the connection: the webhook then starts nothing (no credentials).
      const unregistration = await unregisterWebhook(s, bot.id, platform);
      if (unregistration.error) ctx.state.log.warn({ bot_id: bot.id, platform, error: unregistration.error }, 'webhook not unregistered');
      await s.platforms.delete(bot.id, platform);
      ctx.status = 204;
    },
  );

  router.op(
    'post',
    '/v1/bots/:botId/platforms/:platform/test',
    {
      summary: 'Call the platform with the stored credentials (Telegram getMe, ...); its answer sets the connection’s status',
      tag: 'platforms',
      success: { status: 200, schema: z.object({ ok: z.literal(true), info: z.record(z.string(), z.unknown()) }) },
      errors: [403, 404, 422, 502],
    },
    async (ctx) => {
      const bot = await s.botFor(ctx, ctx.params.botId, 'write');
      const platform = platformParam(ctx.params.platform);
      const secrets = await s.platforms.secrets(bot.id, platform);
      if (!secrets) throw notFound('Platform connection');
      const status = platformStatusRepository(s.db);
      try {
        ctx.body = await supportedAdapter(platform).testConnection({ apiBase: s.config.apiBases[platform] }, secrets.credentials);
      } catch (error) {
        const failure = connectionFailureOf(error, 'connection');
        if (failure) await status.recordFailure(bot.id, platform, failure);
        throw platformFailure(error);
      }
      await status.recordSuccess(bot.id, platform);
    },
  );

  router.op(
    'post',
    '/v1/bots/:botId/platforms/:platform/webhook',
    {
      summary: 'Register PUBLIC_BASE_URL/v1/webhooks/{platform}/{bot_id} with the platform (or say where to paste it)',
      tag: 'platforms',
      success: { status: 200, schema: registration },
      errors: [403, 404, 422, 502],
    },
    async (ctx) => {
      const bot = await s.botFor(ctx, ctx.params.botId, 'write');
      ctx.body = await registerWebhook(s, bot.id, platformParam(ctx.params.platform));
    },
  );

  return router;
}
