import { open } from 'node:fs/promises';
import FileType from 'file-type';

export type MediaType = 'image' | 'video' | 'audio' | 'document';

export interface MediaFormat {
  type: MediaType;
  mime: string;
  /** File extension of stored copies; also what `/media/...` derives the content type from. */
  ext: string;
}

const MB = 1024 * 1024;

/** Upload size limits per type (docs/media.md). */
export const SIZE_LIMITS: Readonly<Record<MediaType, number>> = {
  image: 10 * MB,
  video: 50 * MB,
  audio: 20 * MB,
  document: 20 * MB,
};

/** The most any upload may be before its type is known. */
export const MAX_UPLOAD_BYTES = Math.max(...Object.values(SIZE_LIMITS));

/** How many leading bytes the first look at an upload needs (file-type's own sample size). */
export const SNIFF_BYTES = 4100;

export const DOCX_MIME = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
export const DOC_MIME = 'application/msword';

/** The contract's accepted formats, keyed by what `file-type` calls them. */
const ACCEPTED: Readonly<Record<string, MediaFormat>> = {
  jpg: { type: 'image', mime: 'image/jpeg', ext: 'jpg' },
  png: { type: 'image', mime: 'image/png', ext: 'png' },
  gif: { type: 'image', mime: 'image/gif', ext: 'gif' },
  webp: { type: 'image', mime: 'image/webp', ext: 'webp' },
  mp4: { type: 'video', mime: 'video/mp4', ext: 'mp4' },
  mov: { type: 'video', mime: 'video/quicktime', ext: 'mov' },
  mp3: { type: 'audio', mime: 'audio/mpeg', ext: 'mp3' },
  // Ogg with Vorbis, Opus (Telegram and WhatsApp voice notes) or FLAC inside: all "OGG" to a user.
  ogg: { type: 'audio', mime: 'audio/ogg', ext: 'ogg' },
  opus: { type: 'audio', mime: 'audio/ogg', ext: 'ogg' },
  oga: { type: 'audio', mime: 'audio/ogg', ext: 'ogg' },
  wav: { type: 'audio', mime: 'audio/wav', ext: 'wav' },
  pdf: { type: 'document', mime: 'application/pdf', ext: 'pdf' },
  docx: { type: 'document', mime: DOCX_MIME, ext: 'docx' },
};

const DOC: MediaFormat = { type: 'document', mime: DOC_MIME, ext: 'doc' };

/** Content type of a stored file by its extension; only names this module gave out exist. */
export const MIME_BY_EXT: Readonly<Record<string, string>> = {
  ...Object.fromEntries(Object.values(ACCEPTED).map((f) => [f.ext, f.mime])),
  doc: DOC_MIME,
};

/** Containers that need a look inside before they are a document (or refused). */
type Provisional = { container: 'zip' | 'cfb' };

/**
 * First look at the leading bytes: an accepted format, a container that may hold a Word document,
 * or null (refuse). The type decides the size limit while the rest of the upload streams in.
 */
export async function sniffHead(head: Buffer): Promise<MediaFormat | Provisional | null> {
  const found = await FileType.fromBuffer(head);
  if (!found) return null;
  if (found.ext === 'zip' || found.ext === 'docx') return found.ext === 'docx' ? ACCEPTED.docx : { container: 'zip' };
  if (found.ext === 'cfb') return { container: 'cfb' };
  return ACCEPTED[found.ext] ?? null;
}

export function isProvisional(value: MediaFormat | Provisional): value is Provisional {
  return 'container' in value;
}

/**
 * The final word on a complete file. ZIPs are DOCX only when file-type finds the `word/` part;
 * OLE compound files are DOC only when they hold a `WordDocument` stream (Excel, MSI installers
 * and others share the container).
 */
export async function sniffFile(file: string): Promise<MediaFormat | null> {
  const found = await FileType.fromFile(file);
  if (!found) return null;
  if (found.ext === 'cfb') return (await containsWordStream(file)) ? DOC : null;
  return ACCEPTED[found.ext] ?? null;
}

/** The directory entries of a compound file name their streams in UTF-16LE. */
async function containsWordStream(file: string): Promise<boolean> {
  const needle = Buffer.from('WordDocument', 'utf16le');
  const handle = await open(file, 'r');
  try {
    const chunk = Buffer.alloc(64 * 1024);
    let carry = Buffer.alloc(0);
    let position = 0;
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
      if (bytesRead === 0) return false;
      position += bytesRead;
      const window = Buffer.concat([carry, chunk.subarray(0, bytesRead)]);
      if (window.includes(needle)) return true;
      carry = window.subarray(Math.max(0, window.length - needle.length));
    }
  } finally {
    await handle.close();
  }
}
