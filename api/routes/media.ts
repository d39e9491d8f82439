import Router from '@koa/router';
import type { Context } from 'koa';
import { PassThrough } from 'node:stream';
import busboy from 'busboy';
import { z } from 'zod';
import { AppError, badRequest, forbidden, notFound } from '../../src/errors';
import { MAX_UPLOAD_BYTES, MIME_BY_EXT, mediaService, type MediaRow } from '../../src/media';
import type { IngestResult } from '../../src/media/ingest';
import { PRIVATE_KEY, PUBLIC_KEY } from '../../src/media/storage';
import { authorize } from '../auth';
import { ApiRouter } from '../openapi';
import type { Services } from '../deps';
import { platformName, uploadedFile } from '../schemas';
import { page, pagination, parse, parseQuery } from '../validation';

const CAPTION_LIMIT = 4096;

const listQuery = pagination.extend({ type: z.enum(['image', 'video', 'audio', 'document']).optional() });
const variantQuery = z.object({ platform: platformName.optional() });

const mediaSchema = z.object({
  id: z.string(),
  bot_id: z.string(),
  type: z.enum(['image', 'video', 'audio', 'document']),
  mime: z.string(),
  size: z.number().int(),
  width: z.number().int().optional(),
  height: z.number().int().optional(),
  duration: z.number().optional().describe('seconds, audio and video'),
  url: z.string(),
  thumbnail_url: z.string().optional(),
  sha256: z.string(),
  status: z.enum(['pending', 'ready', 'failed']),
  caption: z.string().nullable(),
  source: z.enum(['upload', 'incoming']),
  error: z.string().optional(),
  created_at: z.string(),
  updated_at: z.string(),
  variant: z.object({ platform: z.string(), kind: z.enum(['original', 'converted', 'link', 'pending']) }).optional(),
});
const uploadForm = z.strictObject({
  file: uploadedFile('the file: JPEG, PNG, GIF, WebP, MP4, MOV, MP3, OGG, WAV, PDF, DOC or DOCX'),
  caption: z.string().max(CAPTION_LIMIT).optional(),
});
const pageOfMedia = z.object({ items: z.array(mediaSchema), total: z.number().int(), limit: z.number().int(), offset: z.number().int() });

interface Form {
  file?: IngestResult;
  /** The text fields by name, checked against `uploadForm` once the body is read. */
  fields: Record<string, string>;
}

/**
 * Streams the multipart body: the `file` part goes through the media pipeline as it arrives (no
 * whole-file buffering), the text fields are collected. After a refusal the rest of the body is read
 * and dropped, so the client gets the answer instead of a reset connection.
 */
function readUpload(ctx: Context, ingest: (body: PassThrough) => Promise<IngestResult>): Promise<Form> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: ctx.req.headers, limits: { files: 1, fields: 10, fieldSize: CAPTION_LIMIT * 4, fileSize: MAX_UPLOAD_BYTES + 1 } });
    } catch (error) {
      reject(badRequest(`The multipart body cannot be read: ${(error as Error).message}`));
      return;
    }
    const form: Form = { fields: Object.create(null) as Record<string, string> };
    let upload: Promise<void> | undefined;
    parser.on('file', (name, stream) => {
      if (name !== 'file' || upload) {
        stream.resume();
        return;
      }
      const body = new PassThrough();
      stream.pipe(body);
      upload = ingest(body).then(
        (result) => {
          form.file = result;
        },
        (error) => {
          stream.unpipe(body);
          stream.resume();
          throw error;
        },
      );
      // Settled below; this only keeps Node from reporting the rejection before then.
      upload.catch(() => undefined);
    });
    parser.on('field', (name, value) => {
      form.fields[name] = value;
    });
    parser.on('error', (error) => reject(badRequest(`The multipart body cannot be read: ${(error as Error).message}`)));
    parser.on('close', () => {
      if (!upload) return resolve(form);
      upload.then(() => resolve(form), reject);
    });
    ctx.req.pipe(parser);
  });
}

export function mediaRoutes(s: Services): ApiRouter {
  const router = new ApiRouter();
  const media = mediaService(s);

  /** The record, if the caller may see its bot; 404 otherwise, whether or not it exists. */
  const mediaFor = async (ctx: Context, id: string): Promise<MediaRow> => {
    const record = await media.repo.get(id);
    const bot = record ? await s.bots.get(record.bot_id) : undefined;
    if (!record || !bot) throw notFound('Media');
    authorize(ctx, bot.account_id, 'read', 'Media');
    return record;
  };

  const startProcessing = async (record: MediaRow) => {
    if (record.status === 'ready') return;
    if (record.status === 'failed') await media.repo.markPending(record.id);
    await s.workflows.startMediaProcessing(record.id);
  };

  router.op(
    'post',
    '/v1/bots/:botId/media',
    {
      summary: 'Upload a media file (type sniffed from the bytes, virus-scanned, processed in the background)',
      tag: 'media',
      multipart: uploadForm,
      success: { status: 201, schema: mediaSchema },
      errors: [400, 403, 404, 413, 415, 422, 503],
    },
    async (ctx) => {
      const bot = await s.botFor(ctx, ctx.params.botId, 'write');
      if (ctx.request.type !== 'multipart/form-data') {
        throw new AppError(415, 'unsupported_media_type', 'Upload media as multipart/form-data with the file in the "file" field.');
      }
      const form = await readUpload(ctx, (body) => media.ingest({ botId: bot.id, body, source: 'upload' }));
      if (!form.file) throw badRequest('The multipart body has no "file" part.');
      const { caption } = parse(uploadForm.omit({ file: true }), form.fields, 'form fields');
      let record = form.file.media;
      if (form.file.created && caption) record = await media.repo.setCaption(record.id, caption);
      await startProcessing(record);
      const current = (await media.repo.get(record.id)) as MediaRow;
      ctx.state.log.info(
        { event: 'MEDIA_PROCESSING', bot_id: bot.id, media_id: current.id, type: current.type, size: current.size, created: form.file.created },
        'media uploaded',
      );
      ctx.status = 201;
      ctx.body = media.toJson(current);
    },
  );

  router.op(
    'get',
    '/v1/bots/:botId/media',
    { summary: 'List the media of a bot', tag: 'media', query: listQuery, success: { status: 200, schema: pageOfMedia }, errors: [400, 404] },
    async (ctx) => {
      const bot = await s.botFor(ctx, ctx.params.botId, 'read');
      const q = parseQuery(ctx, listQuery);
      const { items, total } = await media.repo.list(bot.id, q);
      ctx.body = page(
        items.map((item) => media.toJson(item)),
        total,
        q,
      );
    },
  );

  router.op(
    'get',
    '/v1/media/:id',
    {
      summary: 'Get a media record; with ?platform= the variant that platform is sent',
      tag: 'media',
      query: variantQuery,
      success: { status: 200, schema: mediaSchema },
      errors: [400, 404],
    },
    async (ctx) => {
      const { platform } = parseQuery(ctx, variantQuery);
      const record = await mediaFor(ctx, ctx.params.id);
      if (platform === undefined) {
        ctx.body = media.toJson(record);
        return;
      }
      ctx.body = media.toJson(record, { platform, row: await media.repo.variant(record.id, platform) });
    },
  );

  return router;
}

/**
 * Stored files. Operator uploads (and the copies made of them) are public so platforms can fetch
 * them; names are the SHA-256 of the content, so a response never changes and may be cached for
 * good. Files users sent live under `private/` and are served only with a valid, unexpired
 * signature (`src/media/signed-urls.ts`). Nothing but those two name shapes is served.
 */
export function mediaFileRoutes(s: Services): Router {
  const router = new Router();
  const media = mediaService(s);

  const serve = async (ctx: Context, key: string, cacheControl: string) => {
    const file = await media.storage().get(key);
    if (!file) throw notFound('Media file');
    const ext = key.slice(key.lastIndexOf('.') + 1);
    ctx.set('Cache-Control', cacheControl);
    ctx.set('ETag', `"${key.slice(key.lastIndexOf('/') + 1, key.lastIndexOf('.'))}"`);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.status = 200;
    if (ctx.fresh) {
      file.body.destroy();
      ctx.status = 304;
      return;
    }
    ctx.type = MIME_BY_EXT[ext] ?? 'application/octet-stream';
    ctx.length = file.size;
    ctx.body = file.body;
  };

  router.get('/media/:prefix/:name', async (ctx) => {
    const key = `${ctx.params.prefix}/${ctx.params.name}`;
    if (!PUBLIC_KEY.test(key)) throw notFound('Media file');
    await serve(ctx, key, 'public, max-age=31536000, immutable');
  });

  router.get('/media/private/:prefix/:name', async (ctx) => {
    const key = `private/${ctx.params.prefix}/${ctx.params.name}`;
    if (!PRIVATE_KEY.test(key)) throw notFound('Media file');
    const { expires, signature } = ctx.query;
    const now = s.now();
    if (!media.signer.verify(key, expires, signature, now))
      throw forbidden('The link to this file is missing its signature, wrong or expired; get a fresh one from the API.');
    const secondsLeft = Math.max(0, Math.floor(Number(expires) - now / 1000));
    await serve(ctx, key, `private, max-age=${Math.min(secondsLeft, 3600)}`);
  });

  return router;
}
