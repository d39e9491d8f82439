import type { UserInput } from '../../engine/types';

export type MediaInput = Extract<UserInput, { kind: 'media' }>['media'];

/** What a payload says about a file a user sent; values of the wrong type are dropped. */
export interface DeclaredFile {
  /** The platform's id of the file, when it names files by id. */
  id?: unknown;
  /** Where the bytes are, when the payload says. */
  url?: unknown;
  mime?: unknown;
  /** Bytes, as the platform declares them: checked against the limits before any download. */
  size?: unknown;
  caption?: string;
}

/** The media type a declared MIME type suggests; the stored copy's type comes from the bytes. */
export function mediaTypeOf(mime: string | undefined): MediaInput['type'] {
  if (mime?.startsWith('image/')) return 'image';
  if (mime?.startsWith('video/')) return 'video';
  if (mime?.startsWith('audio/')) return 'audio';
  return 'document';
}

/** A declared file as a media input, or null when it names neither an id nor a URL. */
export function declaredMedia(file: DeclaredFile): MediaInput | null {
  const id = typeof file.id === 'string' && file.id !== '' ? file.id : undefined;
  const url = typeof file.url === 'string' && file.url !== '' ? file.url : undefined;
  if (!id && !url) return null;
  const mime = typeof file.mime === 'string' && file.mime !== '' ? file.mime : undefined;
  const size = typeof file.size === 'number' && Number.isSafeInteger(file.size) && file.size >= 0 ? file.size : undefined;
  return {
    type: mediaTypeOf(mime),
    ...(id ? { media_id: id } : {}),
    ...(mime ? { mime } : {}),
    ...(url ? { url } : {}),
    ...(size !== undefined ? { size } : {}),
    ...(file.caption ? { caption: file.caption } : {}),
  };
}
