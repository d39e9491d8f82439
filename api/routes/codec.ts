/**
 * The codec endpoint of the Temporal UI and CLI (Temporal's codec server protocol): `POST
 * /v1/codec/decode` and `/v1/codec/encode` take and give `{"payloads":[{"metadata":{k: base64},
 * "data": base64}]}` and run them through the payload codec the workers use.
 */
import type { Payload } from '@temporalio/common';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { forbidden, unprocessable } from '../../src/errors';
import { PayloadDecryptionError, payloadCodec } from '../../src/temporal/codec';
import { claimsOf } from '../auth';
import type { Services } from '../deps';
import { ApiRouter } from '../openapi';
import { parseBody } from '../validation';

const CODEC_PATHS = new Set(['/v1/codec/encode', '/v1/codec/decode']);

const base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'expected base64');
const payloadJson = z.object({
  metadata: z.record(z.string().max(256), base64).optional().describe('metadata values, base64'),
  data: base64.optional().describe('base64'),
});
const payloadsJson = z.object({ payloads: z.array(payloadJson).max(10_000) });

type PayloadJson = z.infer<typeof payloadJson>;

const fromJson = ({ metadata, data }: PayloadJson): Payload => ({
  metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')])),
  data: Buffer.from(data ?? '', 'base64'),
});

const toBase64 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('base64');

const toJson = ({ metadata, data }: Payload): PayloadJson => ({
  metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([key, value]) => [key, toBase64(value)])),
  data: toBase64(data),
});

/**
 * CORS for the Temporal UI's origin only, on the codec paths: its preflight is answered here, before
 * the token guard (a browser sends no token with it); other origins get no CORS headers at all.
 */
export function codecCors(uiOrigin: string | undefined): Middleware {
  return async (ctx, next) => {
    if (CODEC_PATHS.has(ctx.path)) {
      ctx.vary('Origin');
      if (uiOrigin && ctx.get('origin') === uiOrigin) {
        ctx.set('Access-Control-Allow-Origin', uiOrigin);
        ctx.set('Access-Control-Allow-Credentials', 'true');
        if (ctx.method === 'OPTIONS' && ctx.get('access-control-request-method')) {
          ctx.set('Access-Control-Allow-Methods', 'POST');
          ctx.set('Access-Control-Allow-Headers', 'content-type, authorization, x-namespace');
          ctx.set('Access-Control-Max-Age', '600');
          ctx.status = 204;
          return;
        }
      }
    }
    await next();
  };
}

/** A payload does not say which account's dialog it holds, so only tokens of every account may open one. */
const adminOnly: Middleware = async (ctx, next) => {
  if (claimsOf(ctx).role !== 'admin') throw forbidden('Only admin tokens may use the codec: a payload does not say which account it belongs to.');
  await next();
};

export function codecRoutes(s: Services): ApiRouter {
  const codec = payloadCodec(s.config);
  const router = new ApiRouter();
  const limited = s.rateLimit('codec');
  const spec = (summary: string) => ({
    summary,
    tag: 'codec',
    body: payloadsJson,
    success: { status: 200, schema: payloadsJson },
    errors: [403, 413, 422, 429],
  });

  router.op(
    'post',
    '/v1/codec/decode',
    spec(
      'Decrypt payloads for the Temporal UI or CLI (admin tokens only); payloads that are not encrypted come back unchanged, one sealed with a key not configured is 422',
    ),
    adminOnly,
    limited,
    async (ctx) => {
      const { payloads } = parseBody(ctx, payloadsJson);
      try {
        ctx.body = { payloads: (await codec.decode(payloads.map(fromJson))).map(toJson) };
      } catch (error) {
        if (error instanceof PayloadDecryptionError) throw unprocessable('payload_not_decryptable', `A payload cannot be decrypted: ${error.message}.`);
        throw error;
      }
    },
  );

  router.op(
    'post',
    '/v1/codec/encode',
    spec('Encrypt payloads with the current payload key, as the workers would (admin tokens only); without PAYLOAD_ENCRYPTION_KEY they come back unchanged'),
    adminOnly,
    limited,
    async (ctx) => {
      const { payloads } = parseBody(ctx, payloadsJson);
      ctx.body = { payloads: (await codec.encode(payloads.map(fromJson))).map(toJson) };
    },
  );
  return router;
}
