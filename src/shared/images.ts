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
  const target = detected && Object.hasOwn(IMAGE_FORMATS, detected.ext)
    ? IMAGE_FORMATS[detected.ext as keyof typeof IMAGE_FORMATS]
    : undefined;
  if (!target) return null;
  try {
    const data = await sharp(input, { failOn: 'error', animated: target.format === 'gif', limitInputPixels: 40_000_000 })
      .rotate()
      .resize({ width: MAX_IMAGE_SIDE, height: MAX_IMAGE_SIDE, fit: 'inside', withoutEnlargement: true })
      .toFormat(target.format)
      .toBuffer();
    return { data, ext: target.ext, contentType: target.contentType };
  } catch {
    return null;
  }
}
