import { randomUUID } from 'node:crypto';
import { Transform } from 'node:stream';
import type { Readable, TransformCallback } from 'node:stream';
import fp from 'fastify-plugin';
import multipart from '@fastify/multipart';
import { fileTypeStream } from 'file-type';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import type { Storage } from '../storage/index.js';
import { HttpError, invalidField, tooLarge, unsupportedMediaType } from '../shared/errors.js';
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

const STREAMED: Record<Exclude<UploadKind, 'image'>, { types: Record<string, string>; label: string }> = {
  video: {
    types: { mp4: 'video/mp4', m4v: 'video/mp4', webm: 'video/webm', mov: 'video/quicktime', mkv: 'video/x-matroska' },
    label: 'Upload a valid video: MP4, WebM, QuickTime or Matroska.',
  },
  pdf: { types: { pdf: 'application/pdf' }, label: 'Upload a valid PDF document.' },
};

class ByteLimit extends Transform {
  private seen = 0;
  constructor(
    private readonly limit: number,
    private readonly onExceeded: () => Error,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
    this.seen += chunk.length;
    if (this.seen > this.limit) callback(this.onExceeded());
    else callback(null, chunk);
  }
}

const fileTooLarge = (field: string, limit: number) =>
  tooLarge(`File "${field}" is larger than the limit of ${limit} bytes.`);

async function uploadsPlugin(app: FastifyInstance, opts: { config: Config; storage: Storage }) {
  const { config, storage } = opts;
  const limitOf = (kind: UploadKind) =>
    kind === 'image' ? config.limits.thumbnailBytes : kind === 'video' ? config.limits.videoBytes : config.limits.attachmentBytes;

  await app.register(multipart, { throwFileSizeLimit: false });
  app.decorateRequest('uploads', null as unknown as Record<string, StoredUpload>);

  async function store(field: string, spec: UploadField, file: Readable & { truncated?: boolean }): Promise<StoredUpload> {
    const limit = limitOf(spec.kind);
    if (spec.kind === 'image') {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of file) {
        size += (chunk as Buffer).length;
        if (size > limit) {
          file.resume();
          throw fileTooLarge(field, limit);
        }
        chunks.push(chunk as Buffer);
      }
      const image = await processImage(Buffer.concat(chunks));
      if (!image) throw invalidField(field, 'Upload a valid image: JPEG, PNG, WebP or GIF.');
      const key = `${spec.folder}/${randomUUID()}.${image.ext}`;
      const written = await storage.put(key, image.data, image.contentType);
      return { key, size: written, contentType: image.contentType };
    }
    const { types, label } = STREAMED[spec.kind];
    const sniffed = await fileTypeStream(file, { sampleSize: 4100 });
    const ext = sniffed.fileType?.ext;
    const contentType = ext ? types[ext] : undefined;
    if (!ext || !contentType) {
      sniffed.resume();
      throw invalidField(field, label);
    }
    const key = `${spec.folder}/${randomUUID()}.${ext}`;
    const limited = sniffed.pipe(new ByteLimit(limit, () => fileTooLarge(field, limit)));
    sniffed.on('error', (error) => limited.destroy(error));
    const written = await storage.put(key, limited, contentType);
    if (file.truncated) {
      await storage.delete(key);
      throw fileTooLarge(field, limit);
    }
    return { key, size: written, contentType };
  }

  /**
   * Multipart bodies are read here, before validation: text parts become the body that the
   * route's schema validates, file parts stream to storage after their bytes are judged.
   */
  app.addHook('preValidation', async (request: FastifyRequest) => {
    if (!request.isMultipart()) return;
    const fields = request.routeOptions.config.uploads;
    if (!fields) throw unsupportedMediaType('Unsupported media type "multipart/form-data" in request.');
    request.uploads = {};
    const body: Record<string, unknown> = {};
    const maxFile = Math.max(...Object.values(fields).map((f) => limitOf(f.kind)));
    try {
      const parts = request.parts({
        limits: { fileSize: maxFile + 1, files: Object.keys(fields).length, fields: 50, fieldSize: config.limits.bodyBytes, parts: 100 },
      });
      for await (const part of parts) {
        const spec = Object.hasOwn(fields, part.fieldname) ? fields[part.fieldname] : undefined;
        if (part.type === 'field') {
          // An empty value for a file field clears it, as a browser form sends it.
          body[part.fieldname] = spec ? (part.value === '' ? null : part.value) : part.value;
          if (spec && part.value !== '') throw invalidField(part.fieldname, 'The submitted data was not a file. Check the encoding type on the form.');
          continue;
        }
        if (!spec) {
          part.file.resume();
          throw invalidField(part.fieldname, 'This field does not take a file.');
        }
        if (request.uploads[part.fieldname]) {
          part.file.resume();
          throw invalidField(part.fieldname, 'Only one file may be sent for this field.');
        }
        request.uploads[part.fieldname] = await store(part.fieldname, spec, part.file);
      }
    } catch (error) {
      await discardUploads(request);
      if (error instanceof HttpError) throw error;
      const code = (error as { code?: string }).code;
      if (code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT') {
        throw tooLarge('Too many parts in the multipart body.');
      }
      throw new HttpError(400, { detail: 'Multipart form parse error.' });
    }
    request.body = body;
  });

  async function discardUploads(request: FastifyRequest) {
    const stored = Object.values(request.uploads ?? {});
    request.uploads = {};
    await Promise.all(stored.map((u) => storage.delete(u.key).catch(() => {})));
  }

  // A request that did not succeed keeps none of the files it sent.
  app.addHook('onResponse', async (request, reply) => {
    if (request.uploads && reply.statusCode >= 400) await discardUploads(request);
  });
}

export default fp(uploadsPlugin, { name: 'uploads' });
