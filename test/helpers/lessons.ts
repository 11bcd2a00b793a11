import { readdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { FastifyInstance } from 'fastify';
import { nowIso } from '../../src/shared/time.js';

/** Test setup: an enrollment row written directly, as the enroll endpoint would leave it. */
export async function enroll(app: FastifyInstance, studentId: number, courseId: number): Promise<void> {
  await app.database.db
    .insertInto('enrollments')
    .values({ student_id: studentId, course_id: courseId, enrolled_on: nowIso(), completed_at: null })
    .execute();
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
  png: () =>
    sharp({ create: { width: 4, height: 4, channels: 3, background: '#3366aa' } })
      .png()
      .toBuffer(),
  text: () => Buffer.from('just some text, not a PDF\n'.repeat(20)),
};

export interface FilePart {
  filename: string;
  contentType: string;
  data: Buffer;
}

/** A multipart/form-data body: text fields, then files. */
export function formData(fields: Record<string, string | number | boolean>, files: Record<string, FilePart> = {}) {
  const boundary = `----lessons${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${String(value)}\r\n`));
  }
  for (const [name, file] of Object.entries(files)) {
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${file.filename}"\r\nContent-Type: ${file.contentType}\r\n\r\n`,
      ),
      file.data,
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, boundary };
}

/** Every file under the media root (partial uploads included), relative to it. */
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

/** Polls until check() holds or the time is up; returns whether it held. */
export async function eventually(check: () => boolean, ms = 3000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}
