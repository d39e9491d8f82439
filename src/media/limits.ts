import type { PlatformName } from '../platforms/types';
import { DOC_MIME, DOCX_MIME, type MediaType } from './formats';

const MB = 1024 * 1024;

export interface ImageRule {
  /** Formats (MIME) the platform shows as a picture; anything else is converted to JPEG. */
  mimes: readonly string[];
  maxBytes: number;
  /** Longest side in pixels, where the platform has one. */
  maxSide?: number;
  /** Width + height in pixels (Telegram photos). */
  maxSum?: number;
  /** Longest side over shortest (Telegram photos: 20). */
  maxRatio?: number;
}

export interface FileRule {
  mimes: readonly string[];
  maxBytes: number;
}

export interface PlatformMediaRules {
  image: ImageRule;
  video: FileRule;
  audio: FileRule;
  document: FileRule;
}

const ANY_DOCUMENT = ['application/pdf', DOC_MIME, DOCX_MIME];

/**
 * What each platform takes when it fetches a file from our URL (the adapters send media by URL).
 * Sources: Telegram Bot API "Sending files" (by URL: photos 5 MB, other files 20 MB, documents by
 * URL only PDF, ZIP and GIF; photo width + height at most 10000, ratio at most 20); WhatsApp Cloud
 * API supported media types (images JPEG/PNG 5 MB, video MP4 16 MB, audio MP3/OGG-Opus/AAC 16 MB,
 * documents 100 MB); Messenger attachment limit 25 MB; Slack 1 GB; Discord 10 MB for bots.
 */
export const PLATFORM_MEDIA_RULES: Readonly<Record<PlatformName, PlatformMediaRules>> = {
  telegram: {
    image: { mimes: ['image/jpeg', 'image/png'], maxBytes: 5 * MB, maxSum: 10_000, maxRatio: 20 },
    video: { mimes: ['video/mp4', 'video/quicktime'], maxBytes: 20 * MB },
    audio: { mimes: ['audio/mpeg', 'audio/ogg', 'audio/wav'], maxBytes: 20 * MB },
    document: { mimes: ['application/pdf'], maxBytes: 20 * MB },
  },
  whatsapp: {
    image: { mimes: ['image/jpeg', 'image/png'], maxBytes: 5 * MB },
    video: { mimes: ['video/mp4'], maxBytes: 16 * MB },
    audio: { mimes: ['audio/mpeg', 'audio/ogg'], maxBytes: 16 * MB },
    document: { mimes: ANY_DOCUMENT, maxBytes: 100 * MB },
  },
  messenger: {
    image: { mimes: ['image/jpeg', 'image/png', 'image/gif'], maxBytes: 8 * MB },
    video: { mimes: ['video/mp4', 'video/quicktime'], maxBytes: 25 * MB },
    audio: { mimes: ['audio/mpeg', 'audio/ogg', 'audio/wav'], maxBytes: 25 * MB },
    document: { mimes: ANY_DOCUMENT, maxBytes: 25 * MB },
  },
  slack: {
    image: { mimes: ['image/jpeg', 'image/png', 'image/gif', 'image/webp'], maxBytes: 50 * MB },
    video: { mimes: ['video/mp4', 'video/quicktime'], maxBytes: 50 * MB },
    audio: { mimes: ['audio/mpeg', 'audio/ogg', 'audio/wav'], maxBytes: 50 * MB },
    document: { mimes: ANY_DOCUMENT, maxBytes: 50 * MB },
  },
  discord: {
    image: { mimes: ['image/jpeg', 'image/png', 'image/gif', 'image/webp'], maxBytes: 10 * MB },
    video: { mimes: ['video/mp4', 'video/quicktime'], maxBytes: 10 * MB },
    audio: { mimes: ['audio/mpeg', 'audio/ogg', 'audio/wav'], maxBytes: 10 * MB },
    document: { mimes: ANY_DOCUMENT, maxBytes: 10 * MB },
  },
};

/** Whether a file of this type, format and size may go to the platform as it is. */
export function fitsAsIs(rule: FileRule, mime: string, size: number): boolean {
  return rule.mimes.includes(mime) && size <= rule.maxBytes;
}

export function imageFits(rule: ImageRule, mime: string, size: number, width: number, height: number): boolean {
  if (!rule.mimes.includes(mime) || size > rule.maxBytes) return false;
  if (rule.maxSide !== undefined && Math.max(width, height) > rule.maxSide) return false;
  if (rule.maxSum !== undefined && width + height > rule.maxSum) return false;
  if (rule.maxRatio !== undefined && Math.max(width, height) / Math.max(1, Math.min(width, height)) > rule.maxRatio) return false;
  return true;
}

export function ruleFor(platform: PlatformName, type: MediaType): ImageRule | FileRule {
  return PLATFORM_MEDIA_RULES[platform][type];
}
