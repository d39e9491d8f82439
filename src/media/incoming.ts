import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { PlatformApiError, PlatformNetworkError } from '../platforms/errors';
import { callTelegram } from '../platforms/telegram/api';
import type { PlatformContext, PlatformName } from '../platforms/types';

export interface Download {
  body: Readable;
  fileName?: string;
}

/**
 * The bytes of a file a user sent, from the platform that holds it: Telegram `getFile`, then
 * `$BASE/file/bot<token>/<file_path>` (bots may download files up to 20 MB). Null for platforms whose download is not built yet.
 */
export async function downloadIncoming(
  ctx: PlatformContext,
  platform: PlatformName,
  credentials: Record<string, string>,
  fileId: string,
): Promise<Download | null> {
  if (platform !== 'telegram') return null;
  const token = credentials.token as string;
  const file = await callTelegram(ctx, token, 'getFile', { file_id: fileId });
  if (!file.file_path) throw new PlatformApiError('telegram', 'getFile', 400, 'the file is not available for download (over 20 MB?)', false);
  const url = `${ctx.apiBase.replace(/\/+$/, '')}/file/bot${token}/${file.file_path}`;
  let response: Response;
  try {
    response = await (ctx.fetch ?? fetch)(url, { signal: AbortSignal.timeout(ctx.timeoutMs ?? 60_000) });
  } catch (error) {
    throw new PlatformNetworkError('telegram', 'downloadFile', new Error(String((error as Error).message).split(token).join('[redacted]')));
  }
  if (!response.ok || !response.body) {
    throw new PlatformApiError('telegram', 'downloadFile', response.status, `HTTP ${response.status}`, response.status >= 500 || response.status === 429);
  }
  return { body: Readable.fromWeb(response.body as unknown as WebReadableStream), fileName: file.file_path.split('/').pop() };
}
