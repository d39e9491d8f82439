import { Readable } from 'node:stream';
import { unprocessable } from '../errors';
import { PlatformApiError, PlatformNetworkError } from '../platforms/errors';
import { scrubError } from '../platforms/shared/http';
import { callGraph } from '../platforms/shared/meta';
import { callTelegram } from '../platforms/telegram/api';
import type { PlatformContext, PlatformName } from '../platforms/types';

export interface Download {
  body: Readable;
  fileName?: string;
}

/** How the platform names a file a user sent: its own id (Telegram, WhatsApp) or a URL (Messenger, Slack, Discord). */
export interface IncomingFile {
  mediaId?: string;
  url?: string;
}

export interface DownloadContext extends PlatformContext {
  /** Where file URLs of payloads may be fetched from (`Config.fileSources`). */
  fileSources: { slack: string; discord: string; messenger: readonly string[] };
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
 * The bytes of a file a user sent, from the platform that holds it. Null when the input lacks what
 * the platform needs.
 * - Telegram: `getFile`, then `$BASE/file/bot<token>/<file_path>` (bots may download up to 20 MB).
 * - WhatsApp: `GET $BASE/{media-id}` for the file's short-lived URL, then that URL, both with the
 *   access token as bearer.
 * - Messenger: the attachment's `payload.url` (a signed CDN URL: no token is sent to it).
 * - Slack: the file's `url_private_download` with the bot token as bearer.
 * - Discord: the attachment's `url` (a signed CDN URL: no token is sent to it).
 * Messenger, Slack and Discord URLs come from the payload, so they are fetched only from the
 * platform's own file hosts (Slack and Discord without following redirects): the bot token goes
 * nowhere else, and a payload cannot make the worker fetch other addresses.
 */
export async function downloadIncoming(
  ctx: DownloadContext,
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
    const url = onHosts(file.url, ctx.fileSources.messenger, platform);
    // Meta's CDN may move a file between its own hosts; no credentials go with it.
    return withFileName(await fetchBytes(ctx, { platform, method: 'downloadAttachment', url, secrets: [] }), url);
  }
  if (platform === 'slack' && file.url) {
    const url = onOrigin(file.url, ctx.fileSources.slack, platform);
    const token = credentials.bot_token;
    const headers = { authorization: `Bearer ${token}` };
    return withFileName(await fetchBytes(ctx, { platform, method: 'downloadFile', url, headers, secrets: [token], redirects: false }), url);
  }
  if (platform === 'discord' && file.url) {
    const url = onOrigin(file.url, ctx.fileSources.discord, platform);
    return withFileName(await fetchBytes(ctx, { platform, method: 'downloadAttachment', url, secrets: [], redirects: false }), url);
  }
  return null;
}

const hostRefused = (platform: PlatformName, hosts: string) =>
  unprocessable('file_host_refused', `The file is not on ${platform}'s file host (${hosts}), so it was not downloaded.`);

function parsed(text: string): URL | undefined {
  const url = URL.canParse(text) ? new URL(text) : undefined;
  return url && (url.protocol === 'https:' || url.protocol === 'http:') && url.username === '' && url.password === '' ? url : undefined;
}

/** The URL, when it is on the platform's file origin (exact scheme, host and port). */
function onOrigin(text: string, origin: string, platform: PlatformName): string {
  const url = parsed(text);
  if (url?.origin !== origin) throw hostRefused(platform, origin);
  return url.href;
}

/** The URL, when its host is one of the hosts or a subdomain of one. */
function onHosts(text: string, hosts: readonly string[], platform: PlatformName): string {
  const url = parsed(text);
  if (!url || !hosts.some((host) => url.hostname === host || url.hostname.endsWith(`.${host}`))) throw hostRefused(platform, hosts.join(', '));
  return url.href;
}

function withFileName(body: Readable, url: string): Download {
  let name = '';
  try {
    name = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
  } catch {
    // A malformed escape: the file goes without a name.
  }
  return name ? { body, fileName: name } : { body };
}

/** A GET whose body is streamed, not read: files may be tens of megabytes. */
async function fetchBytes(
  ctx: PlatformContext,
  request: {
    platform: PlatformName;
    method: string;
    url: string;
    headers?: Record<string, string>;
    secrets: readonly string[];
    /** False: a redirect is a refusal (its status), not followed. */
    redirects?: boolean;
  },
): Promise<Readable> {
  let response: Response;
  try {
    response = await (ctx.fetch ?? fetch)(request.url, {
      headers: request.headers,
      signal: AbortSignal.timeout(ctx.timeoutMs ?? 60_000),
      redirect: request.redirects === false ? 'manual' : 'follow',
    });
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
