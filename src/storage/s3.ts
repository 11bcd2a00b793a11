import { Transform } from 'node:stream';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { S3Config } from '../config.js';
import { assertKey } from './index.js';
import type { Delivery, ListedObject, PresignRequest, ReadRequest, Storage } from './index.js';

const header = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(', ') : value);

/** S3 status codes that answer a conditional or ranged read rather than report a failure. */
const statusOf = (error: unknown): number | undefined => (error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined);

/**
 * Any S3-compatible store. Uploads stream through multipart uploads (memory bounded by the part
 * size, aborted on failure so nothing is left); reads pass Range and the If-* headers straight to
 * GetObject, so the store answers 206/304/412/416 itself.
 */
export function createS3Storage(config: S3Config): Storage {
  const client = new S3Client({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint, forcePathStyle: true } : {}),
    ...(config.accessKeyId && config.secretAccessKey
      ? { credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } }
      : {}),
  });
  const Bucket = config.bucket;

  return {
    async put(key, body, contentType) {
      assertKey(key);
      let written = 0;
      let counted: Buffer | Transform = body as Buffer;
      if (!Buffer.isBuffer(body)) {
        counted = new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            written += chunk.length;
            callback(null, chunk);
          },
        });
        // A failing source destroys the counter, which fails (and aborts) the upload.
        pipeline(body, counted).catch(() => {});
      }
      const upload = new Upload({
        client,
        params: { Bucket, Key: key, Body: counted, ContentType: contentType },
        queueSize: 2,
        partSize: 8 * 1024 * 1024,
        leavePartsOnError: false,
      });
      try {
        await upload.done();
      } catch (error) {
        await client.send(new DeleteObjectCommand({ Bucket, Key: key })).catch(() => {});
        throw error;
      }
      return Buffer.isBuffer(body) ? body.length : written;
    },

    async delete(key) {
      assertKey(key);
      await client.send(new DeleteObjectCommand({ Bucket, Key: key }));
    },

    async stat(key) {
      assertKey(key);
      try {
        const head = await client.send(new HeadObjectCommand({ Bucket, Key: key }));
        return { size: head.ContentLength ?? 0, modified: head.LastModified ?? new Date(0) };
      } catch (error) {
        if (statusOf(error) === 404) return null;
        throw error;
      }
    },

    /**
     * Objects only: an upload cut by a crash is an unfinished multipart upload, which S3 never
     * lists as an object; a bucket lifecycle rule (AbortIncompleteMultipartUpload) removes those.
     */
    async *list(folder): AsyncGenerator<ListedObject> {
      let ContinuationToken: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix: `${folder}/`, ContinuationToken }));
        for (const object of page.Contents ?? []) {
          if (object.Key) yield { name: object.Key, partial: false, modified: object.LastModified ?? new Date() };
        }
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken);
    },

    async remove(listed) {
      await this.delete(listed.name);
    },

    /**
     * Query-string SigV4: the URL alone grants the read, for GET or HEAD as signed (the method is
     * part of the signature). The store answers Range and If-* itself and sends `cacheControl`.
     */
    async presign(key, { method, expiresIn, cacheControl }: PresignRequest) {
      assertKey(key);
      const command =
        method === 'HEAD'
          ? new HeadObjectCommand({ Bucket, Key: key, ResponseCacheControl: cacheControl })
          : new GetObjectCommand({ Bucket, Key: key, ResponseCacheControl: cacheControl });
      return getSignedUrl(client, command, { expiresIn });
    },

    async deliver(key, request: ReadRequest): Promise<Delivery | null> {
      assertKey(key);
      const h = request.headers;
      const conditions = {
        IfNoneMatch: header(h['if-none-match']),
        IfMatch: header(h['if-match']),
        IfModifiedSince: h['if-modified-since'] ? new Date(h['if-modified-since']) : undefined,
        IfUnmodifiedSince: h['if-unmodified-since'] ? new Date(h['if-unmodified-since']) : undefined,
      };
      try {
        if (request.method === 'HEAD') {
          const head = await client.send(new HeadObjectCommand({ Bucket, Key: key, ...conditions }));
          return {
            status: 200,
            headers: objectHeaders(head.ContentType, head.ContentLength, head.ETag, head.LastModified),
            body: null,
          };
        }
        const object = await client.send(new GetObjectCommand({ Bucket, Key: key, Range: header(h.range), ...conditions }));
        const headers = objectHeaders(object.ContentType, object.ContentLength, object.ETag, object.LastModified);
        if (object.ContentRange) headers['Content-Range'] = object.ContentRange;
        return { status: object.ContentRange ? 206 : 200, headers, body: object.Body as Readable };
      } catch (error) {
        const status = statusOf(error);
        if (status === 404) return null;
        if (status === 304 || status === 412) return { status, headers: {}, body: null };
        if (status === 416) {
          const size = (await this.stat(key))?.size;
          return { status, headers: size === undefined ? {} : { 'Content-Range': `bytes */${size}` }, body: null };
        }
        throw error;
      }
    },
  };
}

function objectHeaders(type?: string, length?: number, etag?: string, modified?: Date): Record<string, string | number> {
  const headers: Record<string, string | number> = { 'Accept-Ranges': 'bytes' };
  if (type) headers['Content-Type'] = type;
  if (length !== undefined) headers['Content-Length'] = length;
  if (etag) headers.ETag = etag;
  if (modified) headers['Last-Modified'] = modified.toUTCString();
  return headers;
}
