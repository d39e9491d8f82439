import { Readable } from 'node:stream';
import { PlatformApiError, PlatformNetworkError } from '../platforms/errors';
import { scrubError } from '../platforms/shared/http';
import { callGraph } from '../platforms/shared/meta';
import { callTelegram } from '../platforms/telegram/api';
import type { PlatformContext, PlatformName } from '../platforms/types';

export interface Download {
  body: Readable;
  fileName?: string;
}

/** How the platform names a file a user sent: its own id (Telegram, WhatsApp) or a URL (Messenger). */
export interface IncomingFile {
  mediaId?: string;
  url?: string;
}

/** WhatsApp Cloud API `GET /{media-id}`: where the bytes are for the next 5 minutes. */
interface WaMediaUrl {
  url: string;
  mime_type: string;
  sha256: string;
  file_size: number;
  id: string;
  messaging_product: 'whatsapp';
}

/**
 * The bytes of a file a user sent, from the platform that holds it. Null for platforms whose
 * download is not built (Slack, Discord) or when the input lacks what the platform needs.
 * - Telegram: `getFile`, then `$BASE/file/bot<token>/<file_path>` (bots may download up to 20 MB).
 * - WhatsApp: `GET $BASE/{media-id}` for the file's short-lived URL, then that URL, both with the
 *   access token as bearer.
 * - Messenger: the attachment's `payload.url` (a signed CDN URL: no token is sent to it).
 */
export async function downloadIncoming(
  ctx: PlatformContext,
  platform: PlatformName,
  credentials: Record<string, string>,
  file: IncomingFile,
): Promise<Download | null> {
  if (platform === 'telegram' && file.mediaId) {
    const token = credentials.token;
    const info = await callTelegram(ctx, token, 'getFile', { file_id: file.mediaId });
    if (!info.file_path) throw new PlatformApiError('telegram', 'getFile', 400, 'the file is not available for download (over 20 MB?)', false);
    const url = `${ctx.apiBase.replace(/\/+$/, '')}/file/bot${token}/${info.file_path}`;
    const body = await fetchBytes(ctx, { platform, method: 'downloadFile', url, secrets: [token] });
    return { body, fileName: info.file_path.split('/').pop() };
  }
  if (platform === 'whatsapp' && file.mediaId) {
    const accessToken = credentials.access_token;
    const media = await callGraph<WaMediaUrl>(ctx, { platform, method: 'getMedia', path: encodeURIComponent(file.mediaId), httpMethod: 'GET', accessToken });
    if (typeof media.url !== 'string') throw new PlatformApiError('whatsapp', 'getMedia', 200, 'the answer carries no media url', false);
    const body = await fetchBytes(ctx, {
      platform,
      method: 'downloadMedia',
      url: media.url,
      headers: { authorization: `Bearer ${accessToken}` },
      secrets: [accessToken],
    });
    return { body };
  }
  if (platform === 'messenger' && file.url) {
    const body = await fetchBytes(ctx, { platform, method: 'downloadAttachment', url: file.url, secrets: [] });
    const name = decodeURIComponent(new URL(file.url).pathname.split('/').pop() ?? '');
    return name ? { body, fileName: name } : { body };
  }
  return null;
}

/** A GET whose body is streamed, not read: files may be tens of megabytes. */
async function fetchBytes(
  ctx: PlatformContext,
  request: { platform: PlatformName; method: string; url: string; headers?: Record<string, string>; secrets: readonly string[] },
): Promise<Readable> {
  let response: Response;
  try {
    response = await (ctx.fetch ?? fetch)(request.url, { headers: request.headers, signal: AbortSignal.timeout(ctx.timeoutMs ?? 60_000) });
  } catch (error) {
    throw new PlatformNetworkError(request.platform, request.method, scrubError(error, request.secrets));
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    const retryable = response.status >= 500 || response.status === 429;
    throw new PlatformApiError(request.platform, request.method, response.status, `HTTP ${response.status}`, retryable);
  }
  return Readable.fromWeb(response.body);
}
