/** A whole stack whose media live in a fake S3 bucket, with a fake Telegram and a temporary MEDIA_DIR. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type FakeTelegram, startFakeTelegram } from '../fakes';
import { type FakeS3, startFakeS3 } from '../fakes/s3';
import { type Stack, startStack } from '../support/stack';

export const S3_CREDENTIALS = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

export interface S3MediaStack {
  stack: Stack;
  s3: FakeS3;
  tg: FakeTelegram;
  /** Where the stack keeps work files (media themselves go to the bucket). */
  mediaDir: string;
  close(): Promise<void>;
}

export async function startS3MediaStack(): Promise<S3MediaStack> {
  const tg = await startFakeTelegram();
  const s3 = await startFakeS3({ bucket: 'bot-media', region: 'eu-central-1', ...S3_CREDENTIALS });
  const stack = await startStack({ db: 'sqlite', apiBases: { telegram: tg.url } });
  const mediaDir = mkdtempSync(path.join(os.tmpdir(), 'media-s3-'));
  stack.config.mediaDir = mediaDir;
  stack.config.s3 = { bucket: 'bot-media', endpoint: s3.url, region: 'eu-central-1', ...S3_CREDENTIALS };
  return {
    stack,
    s3,
    tg,
    mediaDir,
    async close() {
      await stack.close();
      await s3.close();
      await tg.close();
      rmSync(mediaDir, { recursive: true, force: true });
    },
  };
}
