import sharp, { type SharpOptions } from 'sharp';
import { AppError } from '../errors';

/**
 * The most pixels an image may have, all frames of an animation together (CONTRACT.md §2 Tenancy
 * and safety). A PNG of 16000×16000 is a few kilobytes but a gigabyte once decoded.
 */
export const MAX_IMAGE_PIXELS = 40_000_000;

/**
 * How every decode opens an image: one frame, and libvips itself refuses more pixels than the
 * limit, should a file get past the header check below.
 */
export const DECODE_OPTIONS: SharpOptions = { animated: false, limitInputPixels: MAX_IMAGE_PIXELS };

export interface ImageHeader {
  /** As a viewer shows it (EXIF rotation applied); one frame of an animation. */
  width: number;
  height: number;
  frames: number;
  /** Width × height × frames: what decoding all of it would cost. */
  pixels: number;
}

/**
 * The dimensions the file declares, read from its header without decoding any pixel data; null
 * when there is no readable header (the decode would fail too).
 */
export async function readImageHeader(input: Buffer | string): Promise<ImageHeader | null> {
  let meta;
  try {
    meta = await sharp(input, { limitInputPixels: false }).metadata();
  } catch {
    return null;
  }
  const frames = Math.max(1, meta.pages ?? 1);
  const frameHeight = meta.pageHeight ?? meta.height;
  return {
    width: meta.autoOrient?.width ?? meta.width,
    height: meta.autoOrient?.height ?? frameHeight,
    frames,
    pixels: meta.width * frameHeight * frames,
  };
}

export function isTooLarge(header: ImageHeader): boolean {
  return header.pixels > MAX_IMAGE_PIXELS;
}

export const imageTooLarge = (header: ImageHeader) =>
  new AppError(
    422,
    'image_too_large',
    `The image has ${header.width}×${header.height} pixels${header.frames > 1 ? ` in each of ${header.frames} frames` : ''}, over the limit of ${MAX_IMAGE_PIXELS / 1_000_000} megapixels.`,
    { width: header.width, height: header.height, frames: header.frames, pixels: header.pixels, limit: MAX_IMAGE_PIXELS },
  );
