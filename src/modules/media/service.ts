import type { Config } from '../../config.js';
import { HttpError, forbidden, notFound } from '../../shared/errors.js';
import { isValidKey } from '../../storage/index.js';
import type { Delivery, ReadRequest, Storage } from '../../storage/index.js';
import { createMediaUrls, isPublicKey } from './urls.js';
import type { MediaUrls, SignatureCheck } from './urls.js';

export interface MediaServiceDeps {
  config: Pick<Config, 'mediaUrl' | 'secretKey' | 'mediaUrlTtl' | 's3'>;
  storage: Storage;
  now?: () => number;
}

export type MediaService = ReturnType<typeof createMediaService>;

/** Keys are random per upload: what is under one never changes, so caches may keep it. */
const PUBLIC_CACHE = 'public, max-age=31536000, immutable';

const REFUSALS: Record<Exclude<SignatureCheck, 'valid'>, string> = {
  missing: 'This file is protected: fetch it through the signed URL the API returns.',
  invalid: 'The signature of this media URL is invalid.',
  expired: 'This media URL has expired; fetch the lesson again for a new one.',
};

export function createMediaService(deps: MediaServiceDeps) {
  const { storage } = deps;
  const now = deps.now ?? Date.now;
  const urls: MediaUrls = createMediaUrls(deps.config, now);
  const s3 = deps.config.s3;
  const presign = s3?.presignedRedirect ? storage.presign?.bind(storage) : undefined;
  if (s3?.presignedRedirect && !presign) throw new Error('S3_PRESIGNED_REDIRECT needs a storage that presigns URLs');

  /**
   * A protected file as a redirect to a presigned URL of the store: the bytes go from the store
   * to the client, not through Node. The presigned URL never outlives the signed URL it answers
   * (MEDIA_URL_TTL still bounds access). The redirect may be kept by the browser that asked
   * for half of that life, so a kept redirect still leads to a live URL; never by a shared cache.
   */
  async function redirectTo(presign: NonNullable<Storage['presign']>, key: string, expires: number, request: ReadRequest): Promise<Delivery> {
    const lifetime = Math.max(1, Math.min(s3?.presignedTtl ?? 1, expires - Math.floor(now() / 1000)));
    const location = await presign(key, {
      method: request.method === 'HEAD' ? 'HEAD' : 'GET',
      expiresIn: lifetime,
      cacheControl: `private, max-age=${lifetime}`,
    });
    return {
      status: 307,
      headers: {
        Location: location,
        'Cache-Control': `private, max-age=${Math.floor(lifetime / 2)}`,
        'Cross-Origin-Resource-Policy': 'cross-origin',
      },
      body: null,
    };
  }

  return {
    ...urls,

    /**
     * A media file as HTTP: public folders to anyone, every other folder only with a valid
     * signature (checked before the storage is asked, so a guessed key learns nothing).
     * Range, ETag and conditional requests are the storage's; errors are JSON. With
     * S3_PRESIGNED_REDIRECT a protected file that passed the check is a 307 to the store.
     */
    async deliver(key: string, query: { expires?: string | undefined; signature?: string | undefined }, request: ReadRequest): Promise<Delivery> {
      if (!isValidKey(key)) throw notFound();
      const isPublic = isPublicKey(key);
      if (!isPublic) {
        const check = urls.checkSignature(key, query.expires, query.signature);
        if (check !== 'valid') throw forbidden(REFUSALS[check]);
        if (presign) return redirectTo(presign, key, Number(query.expires), request);
      }
      const delivery = await storage.deliver(key, asOrigin(request));
      if (!delivery) throw notFound();
      if (delivery.status === 416) throw new HttpError(416, { detail: 'Requested range not satisfiable.' }, 'range_not_satisfiable', stringHeaders(delivery.headers));
      if (delivery.status === 412) throw new HttpError(412, { detail: 'Precondition failed.' }, 'precondition_failed');
      // A signed URL may be cached by the browser that holds it, never past its expiry, never by a shared cache.
      const cacheControl = isPublic
        ? PUBLIC_CACHE
        : `private, max-age=${Math.max(0, Number(query.expires) - Math.floor(now() / 1000))}`;
      return {
        ...delivery,
        headers: {
          ...delivery.headers,
          'Cache-Control': cacheControl,
          // Media is embedded by front ends on other origins (<img>, <video>); the API's same-site default would block them.
          'Cross-Origin-Resource-Policy': 'cross-origin',
        },
      };
    },
  };
}

/**
 * The request as the origin should judge it. `Cache-Control: no-cache` and `Pragma` in a
 * request are directives to caches on the way, not to the origin, which still answers a
 * matching If-None-Match with 304 (RFC 9110 §13.1.2); fetch() adds them to every
 * conditional request it sends, and the local storage's freshness check would otherwise
 * answer those with the whole body.
 */
function asOrigin(request: ReadRequest): ReadRequest {
  const headers = { ...request.headers };
  delete headers['cache-control'];
  delete headers.pragma;
  return { method: request.method, headers };
}

function stringHeaders(headers: Record<string, string | number>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
}
