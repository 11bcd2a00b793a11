import sharp from 'sharp';
import { fileTypeFromBuffer } from 'file-type';

/** Accepted image formats, by what the bytes are, and what each is stored as. */
const IMAGE_FORMATS = {
  jpg: { format: 'jpeg', ext: 'jpg', contentType: 'image/jpeg' },
  png: { format: 'png', ext: 'png', contentType: 'image/png' },
  webp: { format: 'webp', ext: 'webp', contentType: 'image/webp' },
  gif: { format: 'gif', ext: 'gif', contentType: 'image/gif' },
} as const;

export const MAX_IMAGE_SIDE = 2048;

/**
 * Frames kept of an animated GIF; later frames are dropped. Decoding costs per frame, and a
 * few megabytes of GIF can hold hundreds of thousands of tiny frames (seconds of CPU each).
 */
export const MAX_GIF_FRAMES = 100;

/** Pixels decoded at most, all kept frames together. */
const MAX_INPUT_PIXELS = 40_000_000;

export interface ProcessedImage {
  data: Buffer;
  ext: string;
  contentType: string;
}

/**
 * Judges an image by its bytes and re-encodes it: metadata (EXIF, GPS, ICC comments) is
 * dropped because sharp writes none unless asked, orientation is applied first, and the
 * size is bounded. Returns null for anything that is not a whole JPEG, PNG, WebP or GIF.
 */
export async function processImage(input: Buffer): Promise<ProcessedImage | null> {
  const detected = await fileTypeFromBuffer(input);
  const target =
    detected && Object.hasOwn(IMAGE_FORMATS, detected.ext) ? IMAGE_FORMATS[detected.ext as keyof typeof IMAGE_FORMATS] : undefined;
  if (!target) return null;
  try {
    const pages = target.format === 'gif' ? await framesToKeep(input) : 1;
    const data = await sharp(input, { failOn: 'error', pages, limitInputPixels: MAX_INPUT_PIXELS })
      .rotate()
      .resize({ width: MAX_IMAGE_SIDE, height: MAX_IMAGE_SIDE, fit: 'inside', withoutEnlargement: true })
      .toFormat(target.format)
      .toBuffer();
    return { data, ext: target.ext, contentType: target.contentType };
  } catch {
    return null;
  }
}

/**
 * How many leading frames of a GIF to decode: all of them up to MAX_GIF_FRAMES, and no
 * more than fit MAX_INPUT_PIXELS together. Reading the header counts frames without
 * decoding them (sharp refuses a page count past the last frame, so it must be known).
 */
async function framesToKeep(input: Buffer): Promise<number> {
  const { pages = 1, width = 1, height = 1 } = await sharp(input, { failOn: 'error', limitInputPixels: MAX_INPUT_PIXELS }).metadata();
  return Math.max(1, Math.min(pages, MAX_GIF_FRAMES, Math.floor(MAX_INPUT_PIXELS / (width * height))));
}
