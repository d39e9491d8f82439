import { DeleteObjectCommand, GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';
import { checkedKey, isPrivateKey, type MediaStorage, publicMediaUrl } from './storage';

export interface S3Settings {
  bucket: string;
  /** An S3-compatible endpoint (MinIO, R2, ...); addressed path-style. Unset: AWS S3 itself. */
  endpoint?: string;
  region: string;
  /** Unset: the SDK's default chain (environment, instance role, ...). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Base of public object URLs (a CDN or a public bucket); unset: served by the API at `/media/...`. */
  publicUrl?: string;
}

/** Multipart part size: the S3 minimum, so an upload holds at most a few parts in memory at once. */
const PART_SIZE = 5 * 1024 * 1024;

export function s3Client(settings: S3Settings): S3Client {
  return new S3Client({
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint, forcePathStyle: true } : {}),
    ...(settings.accessKeyId && settings.secretAccessKey
      ? { credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey } }
      : {}),
    // Many S3-compatible stores refuse the SDK's default CRC32 trailers; S3 itself does not need them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** The key is not there; a missing bucket (also a 404) is a configuration error and is thrown. */
function isMissing(error: unknown): boolean {
  return error instanceof S3ServiceException && error.name === 'NoSuchKey';
}

/**
 * A bucket. Objects are written through multipart uploads of 5 MB parts (one PutObject when the
 * file is smaller), so a large file is never held whole in memory; reads stream the response body.
 */
export function s3Storage(settings: S3Settings, publicBaseUrl: string, client: S3Client = s3Client(settings)): MediaStorage {
  const publicUrl = settings.publicUrl?.replace(/\/+$/, '');
  return {
    async put(key, body, contentType) {
      await new Upload({
        client,
        params: { Bucket: settings.bucket, Key: checkedKey(key), Body: body, ContentType: contentType, CacheControl: 'public, max-age=31536000, immutable' },
        partSize: PART_SIZE,
        queueSize: 2,
      }).done();
    },
    async get(key) {
      try {
        const object = await client.send(new GetObjectCommand({ Bucket: settings.bucket, Key: checkedKey(key) }));
        if (!object.Body || object.ContentLength === undefined) throw new Error(`S3 answered GetObject ${key} without a body or length`);
        return { body: object.Body as Readable, size: object.ContentLength };
      } catch (error) {
        if (isMissing(error)) return null;
        throw error;
      }
    },
    async delete(key) {
      // S3 answers 204 for a key that is not there, as the local folder ignores a missing file.
      await client.send(new DeleteObjectCommand({ Bucket: settings.bucket, Key: checkedKey(key) }));
    },
    // Files users sent go through the API, which checks the URL's signature.
    url: (key) => (publicUrl && !isPrivateKey(key) ? `${publicUrl}/${checkedKey(key)}` : publicMediaUrl(publicBaseUrl, checkedKey(key))),
  };
}
