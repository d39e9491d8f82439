import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Where media files live. Keys are content-addressed (`ab/ab12....jpg`, the SHA-256 of the bytes),
 * so a key never changes meaning and may be cached forever.
 */
export interface MediaStorage {
  put(key: string, body: Readable, contentType: string): Promise<void>;
  /** The stored bytes, or null when there is no such key. */
  get(key: string): Promise<{ body: Readable; size: number } | null>;
  delete(key: string): Promise<void>;
  /** The address platforms fetch the file from; for a private key the API's, still to be signed. */
  url(key: string): string;
}

/** `ab/<64 hex>.<ext>`: a file anyone may fetch (what operators upload for bots to send). */
export const PUBLIC_KEY = /^([0-9a-f]{2})\/\1[0-9a-f]{62}\.[a-z0-9]{2,4}$/;

/** `private/ab/<64 hex>.<ext>`: a file a user sent (and copies made of it), served only by signed URL. */
export const PRIVATE_KEY = /^private\/([0-9a-f]{2})\/\1[0-9a-f]{62}\.[a-z0-9]{2,4}$/;

/** The only shapes of key this module writes or serves. */
export function isStorageKey(key: string): boolean {
  return PUBLIC_KEY.test(key) || PRIVATE_KEY.test(key);
}

export type Visibility = 'public' | 'private';

export function contentKey(sha256: string, ext: string, visibility: Visibility = 'public'): string {
  return `${visibility === 'private' ? 'private/' : ''}${sha256.slice(0, 2)}/${sha256}.${ext}`;
}

export function isPrivateKey(key: string): boolean {
  return PRIVATE_KEY.test(key);
}

/** Where the API serves a file; private files need the signature `signedUrl` adds. */
export function publicMediaUrl(publicBaseUrl: string, key: string): string {
  return `${publicBaseUrl}/media/${key}`;
}

export function checkedKey(key: string): string {
  if (!isStorageKey(key)) throw new Error(`not a media storage key: ${key}`);
  return key;
}

/** A folder (`MEDIA_DIR`). Writes go to a temporary name first, so a reader never sees half a file. */
export function localStorage(root: string, publicBaseUrl: string): MediaStorage {
  const fileOf = (key: string) => path.join(root, checkedKey(key));
  return {
    async put(key, body) {
      const target = fileOf(key);
      await mkdir(path.dirname(target), { recursive: true });
      const partial = `${target}.${randomUUID()}.part`;
      try {
        await pipeline(body, createWriteStream(partial));
        await rename(partial, target);
      } finally {
        await rm(partial, { force: true });
      }
    },
    async get(key) {
      const file = fileOf(key);
      try {
        const info = await stat(file);
        return { body: createReadStream(file), size: info.size };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
    },
    async delete(key) {
      await rm(fileOf(key), { force: true });
    },
    url: (key) => publicMediaUrl(publicBaseUrl, checkedKey(key)),
  };
}
