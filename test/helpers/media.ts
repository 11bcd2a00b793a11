/** Media for tests: small files that the content sniffer recognises, and a look at the media root. */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

export function png(width = 32, height = 32): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background: { r: 0, g: 120, b: 200, alpha: 1 } } })
    .png()
    .toBuffer();
}

/** A JPEG whose EXIF carries a GPS position and a camera make. */
export function jpegWithGps(width = 64, height = 48): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 40, b: 40 } } })
    .jpeg()
    .withExif({
      IFD0: { Make: 'SpyCam', Model: 'Tracker 9000' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 2976/100', GPSLongitudeRef: 'E', GPSLongitude: '2/1 17/1 4020/100' },
    })
    .toBuffer();
}

const box = (type: string, body: Buffer) => {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + body.length);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, body]);
};
const ftyp = (brand: string, compatible: string[]) =>
  box('ftyp', Buffer.concat([Buffer.from(brand, 'latin1'), Buffer.alloc(4), ...compatible.map((c) => Buffer.from(c, 'latin1'))]));
/** An EBML header with its DocType, then an empty Segment: what WebM and Matroska files open with. */
const ebml = (docType: string) => {
  const body = Buffer.concat([Buffer.from([0x42, 0x82, 0x80 | docType.length]), Buffer.from(docType)]);
  return Buffer.concat([
    Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x80 | body.length]),
    body,
    Buffer.from([0x18, 0x53, 0x80, 0x67, 0x81, 0x00]),
  ]);
};

/** The first bytes of an ISO BMFF file with brand isom: file-type calls it MP4. */
export const mp4Header = () => Buffer.concat([ftyp('isom', ['isom', 'iso2', 'mp41']), box('free', Buffer.alloc(8))]);

/** Tiny files that file-type recognises by content, one per accepted kind, with a recognisable body. */
export const samples = {
  mp4: () => Buffer.concat([mp4Header(), box('mdat', Buffer.from('mp4 sample body '.repeat(64)))]),
  mov: () => Buffer.concat([ftyp('qt  ', ['qt  ']), box('mdat', Buffer.from('mov sample body '.repeat(64)))]),
  webm: () => Buffer.concat([ebml('webm'), Buffer.from('webm sample body '.repeat(64))]),
  mkv: () => Buffer.concat([ebml('matroska'), Buffer.from('mkv sample body '.repeat(64))]),
  pdf: () => Buffer.from(`%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n${'% filler\n'.repeat(64)}trailer\n<< /Root 1 0 R >>\n%%EOF\n`),
  png: () => png(4, 4),
  text: () => Buffer.from('just some text, not a PDF\n'.repeat(20)),
};

/** Every file under a folder (the media root of a test app; partial uploads included), relative to it. */
export function mediaFiles(root: string): string[] {
  try {
    return readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => path.relative(root, path.join(d.parentPath, d.name)))
      .sort();
  } catch {
    return [];
  }
}

/** The storage key a media URL points at (its path after MEDIA_URL, without the query). */
export function keyOf(url: string, mediaUrl = '/media/'): string {
  const { pathname } = new URL(url);
  return pathname.slice(pathname.indexOf(mediaUrl) + mediaUrl.length);
}
