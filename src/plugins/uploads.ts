import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import fp from 'fastify-plugin';
import multipart from '@fastify/multipart';
import { fileTypeFromBuffer } from 'file-type';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import type { Storage } from '../storage/index.js';
import { HttpError, invalidField, tooLarge } from '../shared/errors.js';
import { processImage } from '../shared/images.js';

export type UploadKind = 'image' | 'video' | 'pdf';

/** A file field of a route: what it must be and the folder it is stored under. */
export interface UploadField {
  kind: UploadKind;
  folder: string;
}

export interface StoredUpload {
  key: string;
  size: number;
  contentType: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** File fields this route accepts as multipart/form-data, by field name. */
    uploads?: Record<string, UploadField>;
  }
  interface FastifyRequest {
    /** Files this request stored; removed again unless the response succeeds. */
    uploads: Record<string, StoredUpload>;
  }
}

interface StoredFormat {
  /** The extension of the stored key, from which the media route derives Content-Type. */
  ext: string;
  contentType: string;
}

/** Accepted formats by what file-type calls the bytes; m4v is MP4 with another brand. */
const STREAMED: Record<Exclude<UploadKind, 'image'>, { formats: Record<string, StoredFormat>; label: string }> = {
  video: {
    formats: {
      mp4: { ext: 'mp4', contentType: 'video/mp4' },
      m4v: { ext: 'mp4', contentType: 'video/mp4' },
      webm: { ext: 'webm', contentType: 'video/webm' },
      mov: { ext: 'mov', contentType: 'video/quicktime' },
      mkv: { ext: 'mkv', contentType: 'video/x-matroska' },
    },
    label: 'Upload a valid video: MP4, WebM, QuickTime or Matroska.',
  },
  pdf: { formats: { pdf: { ext: 'pdf', contentType: 'application/pdf' } }, label: 'Upload a valid PDF document.' },
};

/** What file-type needs to tell every accepted format apart. */
const SAMPLE_BYTES = 4100;

/**
 * Reads the first SAMPLE_BYTES of a part (however busboy chunks them: the first chunk of a
 * file may be a few bytes) and returns them with a lazy stream of the whole part that fails
 * once it passes `limit` bytes. The stream pulls from the part only as storage writes, so
 * memory stays at a few chunks whatever the size.
 */
async function sniff(file: Readable, limit: number, onExceeded: () => Error): Promise<{ sample: Buffer; body: Readable }> {
  const chunks = file[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const head: Buffer[] = [];
  let size = 0;
  while (size < SAMPLE_BYTES) {
    const next = await chunks.next();
    if (next.done) break;
    head.push(next.value);
    size += next.value.length;
  }
  const sample = Buffer.concat(head);
  const rest = { [Symbol.asyncIterator]: () => chunks };
  async function* whole() {
    let seen = sample.length;
    if (seen > limit) throw onExceeded();
    yield sample;
    for await (const chunk of rest) {
      seen += chunk.length;
      if (seen > limit) throw onExceeded();
      yield chunk;
    }
  }
  return { sample, body: Readable.from(whole(), { objectMode: false }) };
}

/** A failure of the disk or the network behind storage, not of the request. */
const isSystemError = (error: unknown): boolean => typeof (error as { syscall?: unknown }).syscall === 'string';

const fileTooLarge = (field: string, limit: number) => tooLarge(`File "${field}" is larger than the limit of ${limit} bytes.`);

async function uploadsPlugin(app: FastifyInstance, opts: { config: Config; storage: Storage }) {
  const { config, storage } = opts;
  const limitOf = (kind: UploadKind) =>
    kind === 'image' ? config.limits.thumbnailBytes : kind === 'video' ? config.limits.videoBytes : config.limits.attachmentBytes;

  await app.register(multipart, { throwFileSizeLimit: false });
  app.decorateRequest('uploads', null as unknown as Record<string, StoredUpload>);

  /**
   * REQUEST_TIMEOUT bounds the time to receive a body, for every request but a file upload
   * (a large video on a slow link may take longer: it is cut only when its connection falls
   * silent, IDLE_TIMEOUT on the server). Node's own requestTimeout cannot tell the two apart.
   * The deadline also bounds the rest of a body that is read and dropped after an early answer.
   */
  app.addHook('onRequest', async (request, reply) => {
    const { headers } = request;
    const hasBody = headers['transfer-encoding'] !== undefined || Number(headers['content-length'] ?? 0) > 0;
    if (!hasBody || request.raw.complete) return;
    // isMultipart() is only known once the body parser ran; the header says it now.
    const multipartBody = /^multipart\/form-data\b/i.test(headers['content-type'] ?? '');
    if (request.routeOptions.config.uploads && multipartBody) return;
    let received = false;
    const deadline = setTimeout(() => {
      if (received || request.raw.complete) return;
      request.log.info('request body not received within REQUEST_TIMEOUT; closing the connection');
      if (reply.sent) {
        request.raw.destroy();
        return;
      }
      void reply
        .code(408)
        .header('connection', 'close')
        .header('x-error-code', 'request_timeout')
        .send({ detail: 'The request body was not received in time.' });
    }, config.timeouts.requestMs);
    deadline.unref();
    const done = () => {
      received = true;
      clearTimeout(deadline);
    };
    request.raw.once('end', done);
    request.raw.once('close', done);
  });

  async function store(field: string, spec: UploadField, file: Readable & { truncated?: boolean }): Promise<StoredUpload> {
    const limit = limitOf(spec.kind);
    if (spec.kind === 'image') {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of file) {
        size += (chunk as Buffer).length;
        if (size > limit) throw fileTooLarge(field, limit);
        chunks.push(chunk as Buffer);
      }
      const image = await processImage(Buffer.concat(chunks));
      if (!image) throw invalidField(field, 'Upload a valid image: JPEG, PNG, WebP or GIF.');
      const key = `${spec.folder}/${randomUUID()}.${image.ext}`;
      const written = await storage.put(key, image.data, image.contentType);
      return { key, size: written, contentType: image.contentType };
    }
    const { formats, label } = STREAMED[spec.kind];
    const { sample, body } = await sniff(file, limit, () => fileTooLarge(field, limit));
    const detected = await fileTypeFromBuffer(sample);
    const format = detected && Object.hasOwn(formats, detected.ext) ? formats[detected.ext] : undefined;
    if (!format) {
      file.destroy();
      throw invalidField(field, label);
    }
    const key = `${spec.folder}/${randomUUID()}.${format.ext}`;
    const written = await storage.put(key, body, format.contentType);
    if (file.truncated) {
      await storage.delete(key);
      throw fileTooLarge(field, limit);
    }
    return { key, size: written, contentType: format.contentType };
  }

  /**
   * Multipart bodies are read here, before validation: text parts become the body that the
   * route's schema validates, file parts stream to storage after their bytes are judged.
   */
  app.addHook('preValidation', async (request: FastifyRequest) => {
    if (!request.isMultipart()) return;
    // As DRF's MultiPartParser: every route with a body takes its fields as multipart too;
    // only the routes that declare file fields take files.
    const fields = request.routeOptions.config.uploads ?? {};
    request.uploads = {};
    const body: Record<string, unknown> = {};
    const maxFile = Math.max(0, ...Object.values(fields).map((f) => limitOf(f.kind)));
    // Text fields together get the JSON body's limit; busboy holds at most one field past it.
    const textLimit = config.limits.bodyBytes;
    let textBytes = 0;
    try {
      const parts = request.parts({
        limits: { fileSize: maxFile + 1, files: Math.max(1, Object.keys(fields).length), fields: 50, fieldSize: textLimit, parts: 100 },
      });
      for await (const part of parts) {
        const spec = Object.hasOwn(fields, part.fieldname) ? fields[part.fieldname] : undefined;
        if (part.type === 'field') {
          if (part.valueTruncated) {
            throw invalidField(part.fieldname, `Ensure this field has no more than ${textLimit} bytes.`, 'max_length');
          }
          textBytes += Buffer.byteLength(part.fieldname) + Buffer.byteLength(String(part.value));
          if (textBytes > textLimit) throw tooLarge('Request body is too large.');
          // An empty value for a file field clears it, as a browser form sends it.
          body[part.fieldname] = spec ? (part.value === '' ? null : part.value) : part.value;
          if (spec && part.value !== '')
            throw invalidField(part.fieldname, 'The submitted data was not a file. Check the encoding type on the form.');
          continue;
        }
        if (!spec) throw invalidField(part.fieldname, 'This field does not take a file.');
        if (request.uploads[part.fieldname]) throw invalidField(part.fieldname, 'Only one file may be sent for this field.');
        request.uploads[part.fieldname] = await store(part.fieldname, spec, part.file);
      }
    } catch (error) {
      await discardUploads(request);
      // The rest of the body is read and dropped, so the client gets this answer on a connection that stays usable.
      request.raw.unpipe();
      request.raw.resume();
      if (error instanceof HttpError) throw error;
      if (isSystemError(error)) throw error;
      const code = (error as { code?: string }).code;
      if (code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT') {
        throw tooLarge('Too many parts in the multipart body.');
      }
      throw new HttpError(400, { detail: 'Multipart form parse error.' }, 'parse_error');
    }
    request.body = body;
  });

  async function discardUploads(request: FastifyRequest) {
    const stored = Object.values(request.uploads ?? {});
    request.uploads = {};
    await Promise.all(stored.map((u) => storage.delete(u.key).catch(() => {})));
  }

  // A request that did not succeed keeps none of the files it sent: they are gone before
  // the error reaches the client, and (should the response never be sent) when it ends.
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.uploads && reply.statusCode >= 400) await discardUploads(request);
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    if (request.uploads && reply.statusCode >= 400) await discardUploads(request);
  });
}

export default fp(uploadsPlugin, { name: 'uploads' });
