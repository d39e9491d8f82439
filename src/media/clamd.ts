import net from 'node:net';
import type { Readable } from 'node:stream';

export type ScanResult = { clean: true } | { clean: false; signature: string };

/** clamd could not be reached or answered something else than a verdict. */
export class ScannerUnavailableError extends Error {
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'ScannerUnavailableError';
  }
}

/** clamd's default StreamMaxLength is 25 MB; chunks stay far below it and below the socket buffers. */
const CHUNK = 64 * 1024;

/**
 * Scan a stream with clamd's INSTREAM command: `zINSTREAM\0`, then chunks each prefixed with its
 * length as a 4-byte big-endian integer, then a zero length. clamd answers `stream: OK` or
 * `stream: <signature> FOUND` (or `... ERROR`, e.g. over its size limit), NUL-terminated.
 */
export async function scanStream(address: string, body: Readable, timeoutMs = 60_000): Promise<ScanResult> {
  const separator = address.lastIndexOf(':');
  const host = address.slice(0, separator);
  const port = Number(address.slice(separator + 1));

  const socket = net.connect({ host, port });
  socket.setTimeout(timeoutMs);
  const reply: Buffer[] = [];
  const finished = new Promise<string>((resolve, reject) => {
    socket.on('data', (data) => reply.push(data));
    socket.on('end', () => resolve(Buffer.concat(reply).toString('utf8')));
    socket.on('timeout', () => socket.destroy(new Error(`clamd at ${address} did not answer within ${timeoutMs} ms`)));
    socket.on('error', reject);
  });
  // Until the reply settles, a failed write is reported by `finished`, not thrown twice.
  finished.catch(() => undefined);

  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    await write(socket, Buffer.from('zINSTREAM\0', 'latin1'));
    for await (const data of body) {
      const buffer = data as Buffer;
      for (let offset = 0; offset < buffer.length; offset += CHUNK) {
        const chunk = buffer.subarray(offset, offset + CHUNK);
        const length = Buffer.alloc(4);
        length.writeUInt32BE(chunk.length);
        await write(socket, Buffer.concat([length, chunk]));
      }
    }
    await write(socket, Buffer.alloc(4));
    const text = (await finished).replace(/\0/g, '').trim();
    return parseReply(text, address);
  } catch (error) {
    socket.destroy();
    if (error instanceof ScannerUnavailableError) throw error;
    throw new ScannerUnavailableError(`virus scanner at ${address} is unavailable: ${(error as Error).message}`, error);
  } finally {
    socket.destroy();
  }
}

function parseReply(text: string, address: string): ScanResult {
  if (/^stream: OK$/.test(text)) return { clean: true };
  const found = /^stream: (.+) FOUND$/.exec(text);
  if (found?.[1]) return { clean: false, signature: found[1] };
  throw new ScannerUnavailableError(`virus scanner at ${address} answered "${text || '(nothing)'}" instead of a verdict`);
}

function write(socket: net.Socket, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.write(data, (error) => (error ? reject(error) : resolve()));
  });
}
