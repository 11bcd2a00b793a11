import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { Config } from '../../config.js';

/**
 * Folders whose objects anyone may fetch by key. Every other folder (lesson videos and
 * attachments, and any folder added later) needs a signed URL: protection is the default.
 */
export const PUBLIC_FOLDERS: ReadonlySet<string> = new Set(['thumbnails', 'profile-images']);

export const isPublicKey = (key: string): boolean => PUBLIC_FOLDERS.has(key.slice(0, key.indexOf('/')));

export type SignatureCheck = 'valid' | 'missing' | 'invalid' | 'expired';

export interface MediaUrls {
  /** Absolute URL of a public object (thumbnails, profile images), or null. */
  publicUrl(origin: string, key: string | null): string | null;
  /** Absolute URL of a protected object, signed for this key and expiring; or null. */
  signedUrl(origin: string, key: string | null): string | null;
  /** Whether `expires` and `signature` from a URL's query string grant the object under key. */
  checkSignature(key: string, expires: string | undefined, signature: string | undefined): SignatureCheck;
}

/** Unix seconds as signedUrl writes them: plain decimal, no leading zero, so one expiry has one spelling. */
const EXPIRES = /^[1-9]\d{0,11}$/;
const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Signed media URLs: `<origin><MEDIA_URL><key>?expires=<unix seconds>&signature=<HMAC>`.
 * The HMAC covers the storage key and the expiry, under a key derived from SECRET_KEY for
 * this purpose alone (a token signature can never pass for a media signature or back).
 * Keys are random per upload, so a URL names one file of one lesson: replacing the file
 * retires every URL that was handed out for the old one.
 *
 * Expiry is rounded up to a step (a tenth of the lifetime, at most five minutes) and the
 * lifetime shortened by that much, so that the same caller gets the same URL for a while
 * and a browser or CDN can cache the bytes, while no URL lives longer than MEDIA_URL_TTL.
 */
export function createMediaUrls(
  config: Pick<Config, 'mediaUrl' | 'secretKey' | 'mediaUrlTtl'>,
  now: () => number = Date.now,
): MediaUrls {
  const signingKey = Buffer.from(hkdfSync('sha256', config.secretKey, 'learning-platform', 'media-url-signature-v1', 32));
  const step = Math.max(1, Math.min(300, Math.floor(config.mediaUrlTtl / 10)));
  // The HMAC covers the expiry exactly as written in the URL: what is checked is what was signed.
  const sign = (key: string, expires: string) =>
    createHmac('sha256', signingKey).update(`${key}\n${expires}`).digest('base64url');

  return {
    publicUrl: (origin, key) => (key === null ? null : `${origin}${config.mediaUrl}${key}`),

    signedUrl(origin, key) {
      if (key === null) return null;
      const nowSeconds = Math.floor(now() / 1000);
      const expires = String(Math.floor((nowSeconds + config.mediaUrlTtl) / step) * step);
      return `${origin}${config.mediaUrl}${key}?expires=${expires}&signature=${sign(key, expires)}`;
    },

    checkSignature(key, expires, signature) {
      if (expires === undefined || signature === undefined) return 'missing';
      if (!EXPIRES.test(expires) || !SIGNATURE.test(signature)) return 'invalid';
      const expected = Buffer.from(sign(key, expires));
      if (!timingSafeEqual(expected, Buffer.from(signature))) return 'invalid';
      return Number(expires) * 1000 <= now() ? 'expired' : 'valid';
    },
  };
}

/** A URL with the values of its signature and expiry replaced, for logs: a signed URL in a log grants the file. */
export function redactSignedUrl(url: string): string {
  return url.replace(/([?&](?:signature|expires)=)[^&#]*/gi, '$1[redacted]');
}
