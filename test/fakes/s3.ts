import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Fake S3-compatible server (path-style `/<bucket>/<key>`, as MinIO and R2 are addressed):
 * PutObject, GetObject, HeadObject, DeleteObject and the multipart upload calls, with S3's XML
 * error bodies. Every request must carry a valid Signature Version 4 `Authorization` header for
 * the given access key and secret (the signature is recomputed, as S3 does).
 *
 *   const s3 = await startFakeS3({ bucket: 'media', accessKeyId: 'AKIA...', secretAccessKey: '...' });
 *   // S3_ENDPOINT = s3.url, S3_BUCKET = 'media'
 *   s3.objects.get('ab/ab12....jpg')  // { body, contentType }
 *   s3.calls                          // [{ operation: 'PutObject', key, headers }, ...]
 */
export interface FakeS3Options {
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  region?: string;
}

export interface S3Call {
  /** S3's operation name: `PutObject`, `GetObject`, `HeadObject`, `DeleteObject`, `CreateMultipartUpload`, `UploadPart`, ... */
  operation: string;
  key: string;
  status: number;
  /** Header names lower-cased. */
  headers: Record<string, string>;
}

export interface StoredObject {
  body: Buffer;
  contentType: string;
  cacheControl?: string;
}

export interface FakeS3 {
  readonly url: string;
  readonly objects: Map<string, StoredObject>;
  readonly calls: S3Call[];
  callsTo(operation: string): S3Call[];
  close(): Promise<void>;
}

const xml = (root: string, fields: Record<string, string>) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<${root}>${Object.entries(fields)
    .map(([name, value]) => `<${name}>${value}</${name}>`)
    .join('')}</${root}>`;

/** RFC 3986 encoding, as SigV4 canonical query strings use it. */
const encode = (value: string) => encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
const sha256Hex = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const etagOf = (data: Buffer) => `"${createHash('md5').update(data).digest('hex')}"`;

export async function startFakeS3(options: FakeS3Options): Promise<FakeS3> {
  const region = options.region ?? 'us-east-1';
  const objects = new Map<string, StoredObject>();
  const uploads = new Map<string, { key: string; contentType: string; cacheControl?: string; parts: Map<number, Buffer> }>();
  const calls: S3Call[] = [];

  /** Null when the request is signed with our key and secret; otherwise S3's error code and message. */
  function authProblem(request: IncomingMessage, url: URL, body: Buffer): [number, string, string] | null {
    const header = request.headers.authorization ?? '';
    const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(
      header,
    );
    if (!match) return [400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed; expected AWS4-HMAC-SHA256.'];
    const [, accessKey, date, signedRegion, signedHeaders, signature] = match as unknown as [string, string, string, string, string, string];
    if (accessKey !== options.accessKeyId) return [403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.'];
    if (signedRegion !== region)
      return [400, 'AuthorizationHeaderMalformed', `The authorization header is malformed; the region '${signedRegion}' is wrong; expecting '${region}'`];
    const payloadHash = String(request.headers['x-amz-content-sha256'] ?? '');
    if (payloadHash !== 'UNSIGNED-PAYLOAD' && payloadHash !== sha256Hex(body)) {
      return [400, 'XAmzContentSHA256Mismatch', 'The provided x-amz-content-sha256 header does not match what was computed.'];
    }
    const canonicalQuery = [...url.searchParams]
      .map(([name, value]) => [encode(name), encode(value)])
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, value]) => `${name}=${value}`)
      .join('&');
    const canonicalHeaders = signedHeaders
      .split(';')
      .map(
        (name) =>
          `${name}:${String(request.headers[name] ?? '')
            .trim()
            .replace(/\s+/g, ' ')}\n`,
      )
      .join('');
    const canonicalRequest = [request.method, url.pathname, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join('\n');
    const scope = `${date}/${region}/s3/aws4_request`;
    const stringToSign = ['AWS4-HMAC-SHA256', String(request.headers['x-amz-date']), scope, sha256Hex(canonicalRequest)].join('\n');
    const signingKey = hmac(hmac(hmac(hmac(`AWS4${options.secretAccessKey}`, date), region), 's3'), 'aws4_request');
    if (hmac(signingKey, stringToSign).toString('hex') !== signature) {
      return [
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      ];
    }
    return null;
  }

  function operationOf(method: string, query: URLSearchParams): string {
    if (method === 'POST' && query.has('uploads')) return 'CreateMultipartUpload';
    if (method === 'POST' && query.has('uploadId')) return 'CompleteMultipartUpload';
    if (method === 'PUT' && query.has('uploadId')) return 'UploadPart';
    if (method === 'DELETE' && query.has('uploadId')) return 'AbortMultipartUpload';
    return { PUT: 'PutObject', GET: 'GetObject', HEAD: 'HeadObject', DELETE: 'DeleteObject' }[method] ?? `${method} object`;
  }

  function handle(request: IncomingMessage, response: ServerResponse, body: Buffer): void {
    const url = new URL(request.url ?? '/', 'http://fake');
    const [, bucket = '', ...keyParts] = url.pathname.split('/');
    const key = decodeURIComponent(keyParts.join('/'));
    const method = request.method ?? 'GET';
    const operation = operationOf(method, url.searchParams);
    const requestId = randomBytes(8).toString('hex').toUpperCase();

    const reply = (status: number, headers: Record<string, string | number> = {}, payload?: Buffer | string) => {
      calls.push({ operation, key, status, headers: Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, String(value)])) });
      response.writeHead(status, { 'x-amz-request-id': requestId, ...headers });
      response.end(method === 'HEAD' ? undefined : payload);
    };
    const fail = (status: number, code: string, message: string) =>
      reply(
        status,
        { 'content-type': 'application/xml' },
        xml('Error', { Code: code, Message: message, ...(key ? { Key: key } : {}), BucketName: bucket, RequestId: requestId }),
      );

    const denied = authProblem(request, url, body);
    if (denied) return fail(...denied);
    if (bucket !== options.bucket) return fail(404, 'NoSuchBucket', 'The specified bucket does not exist');
    if (!key) return fail(400, 'InvalidRequest', 'This fake serves object operations only.');

    const uploadId = url.searchParams.get('uploadId') ?? '';
    const upload = uploads.get(uploadId);
    switch (operation) {
      case 'PutObject': {
        const contentType = request.headers['content-type'] ?? 'binary/octet-stream';
        objects.set(key, { body, contentType, ...(request.headers['cache-control'] ? { cacheControl: request.headers['cache-control'] } : {}) });
        return reply(200, { etag: etagOf(body) });
      }
      case 'GetObject':
      case 'HeadObject': {
        const object = objects.get(key);
        if (!object) return method === 'HEAD' ? reply(404) : fail(404, 'NoSuchKey', 'The specified key does not exist.');
        return reply(
          200,
          {
            'content-type': object.contentType,
            'content-length': object.body.length,
            etag: etagOf(object.body),
            'last-modified': new Date(0).toUTCString(),
            ...(object.cacheControl ? { 'cache-control': object.cacheControl } : {}),
          },
          object.body,
        );
      }
      case 'DeleteObject':
        objects.delete(key);
        return reply(204);
      case 'CreateMultipartUpload': {
        const id = randomBytes(16).toString('base64url');
        uploads.set(id, {
          key,
          contentType: request.headers['content-type'] ?? 'binary/octet-stream',
          ...(request.headers['cache-control'] ? { cacheControl: request.headers['cache-control'] } : {}),
          parts: new Map(),
        });
        return reply(200, { 'content-type': 'application/xml' }, xml('InitiateMultipartUploadResult', { Bucket: bucket, Key: key, UploadId: id }));
      }
      case 'UploadPart': {
        if (!upload || upload.key !== key) return fail(404, 'NoSuchUpload', 'The specified upload does not exist.');
        upload.parts.set(Number(url.searchParams.get('partNumber')), body);
        return reply(200, { etag: etagOf(body) });
      }
      case 'CompleteMultipartUpload': {
        if (!upload || upload.key !== key) return fail(404, 'NoSuchUpload', 'The specified upload does not exist.');
        const listed = [...body.toString('utf8').matchAll(/<Part>[\s\S]*?<\/Part>/g)].map((part) => ({
          number: Number(/<PartNumber>(\d+)<\/PartNumber>/.exec(part[0])?.[1]),
          etag: /<ETag>(.*?)<\/ETag>/.exec(part[0])?.[1]?.replace(/&quot;/g, '"'),
        }));
        const bodies: Buffer[] = [];
        for (const part of listed) {
          const bytes = upload.parts.get(part.number);
          if (!bytes || etagOf(bytes) !== part.etag) return fail(400, 'InvalidPart', 'One or more of the specified parts could not be found.');
          bodies.push(bytes);
        }
        if (listed.length === 0 || listed.some((part, index) => index > 0 && part.number <= (listed[index - 1] as { number: number }).number)) {
          return fail(400, 'InvalidPartOrder', 'The list of parts was not in ascending order.');
        }
        // S3's minimum part size: every part but the last is at least 5 MiB.
        if (bodies.slice(0, -1).some((part) => part.length < 5 * 1024 * 1024))
          return fail(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.');
        uploads.delete(uploadId);
        const whole = Buffer.concat(bodies);
        objects.set(key, { body: whole, contentType: upload.contentType, ...(upload.cacheControl ? { cacheControl: upload.cacheControl } : {}) });
        return reply(
          200,
          { 'content-type': 'application/xml' },
          xml('CompleteMultipartUploadResult', { Bucket: bucket, Key: key, ETag: `"${sha256Hex(whole).slice(0, 32)}-${bodies.length}"` }),
        );
      }
      case 'AbortMultipartUpload':
        uploads.delete(uploadId);
        return reply(204);
      default:
        return fail(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    }
  }

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => handle(request, response, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    objects,
    calls,
    callsTo: (operation) => calls.filter((call) => call.operation === operation),
    close: () =>
      new Promise((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
