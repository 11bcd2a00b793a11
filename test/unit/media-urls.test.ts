import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createMediaUrls, isPublicKey } from '../../src/modules/media/urls.js';

const config = { mediaUrl: '/media/', secretKey: 'k'.repeat(48), mediaUrlTtl: 3600 };
const at = (seconds: number) => () => seconds * 1000;

describe('media URLs', () => {
  it('knows the public folders; every other folder is protected', () => {
    assert.equal(isPublicKey('thumbnails/a.png'), true);
    assert.equal(isPublicKey('profile-images/a.png'), true);
    for (const key of ['videos/a.mp4', 'attachments/a.pdf', 'thumbnails', 'thumbnailsx/a.png', 'x/thumbnails/a.png', 'new-folder/a']) {
      assert.equal(isPublicKey(key), false, key);
    }
  });

  it('builds public URLs, and null for no file', () => {
    const urls = createMediaUrls(config);
    assert.equal(urls.publicUrl('https://h', 'thumbnails/a.png'), 'https://h/media/thumbnails/a.png');
    assert.equal(urls.publicUrl('https://h', null), null);
    assert.equal(urls.signedUrl('https://h', null), null);
  });

  it('signs with an expiry rounded down to a step of a tenth of the TTL (at most 300 s), never past the TTL', () => {
    const urls = createMediaUrls(config, at(1_000_000));
    const url = new URL(urls.signedUrl('https://h', 'videos/a.mp4') ?? '');
    assert.equal(url.origin + url.pathname, 'https://h/media/videos/a.mp4');
    assert.equal(url.searchParams.get('expires'), String(Math.floor((1_000_000 + 3600) / 300) * 300));
    assert.match(url.searchParams.get('signature') ?? '', /^[A-Za-z0-9_-]{43}$/);
    // A short TTL has a short step: 50 s → 5 s steps.
    const short = createMediaUrls({ ...config, mediaUrlTtl: 50 }, at(1_000_003));
    assert.equal(new URL(short.signedUrl('https://h', 'videos/a.mp4') ?? '').searchParams.get('expires'), String(1_000_050));
    // A TTL under ten seconds still has a step of one second.
    const tiny = createMediaUrls({ ...config, mediaUrlTtl: 3 }, at(1_000_000.9));
    assert.equal(new URL(tiny.signedUrl('https://h', 'videos/a.mp4') ?? '').searchParams.get('expires'), String(1_000_003));
    // A long TTL's step stops at five minutes.
    const long = createMediaUrls({ ...config, mediaUrlTtl: 86400 }, at(1_000_100));
    assert.equal(
      new URL(long.signedUrl('https://h', 'videos/a.mp4') ?? '').searchParams.get('expires'),
      String(Math.floor((1_000_100 + 86400) / 300) * 300),
    );
    // The same URL for a caller within one step, another in the next.
    const a = createMediaUrls(config, at(1_000_200)).signedUrl('https://h', 'videos/a.mp4');
    const b = createMediaUrls(config, at(1_000_201)).signedUrl('https://h', 'videos/a.mp4');
    const c = createMediaUrls(config, at(1_000_500)).signedUrl('https://h', 'videos/a.mp4');
    assert.equal(a, b);
    assert.notEqual(a, c);
  });

  it('checks a signature: valid, missing, invalid (malformed, other key, other expiry, other secret) and expired', () => {
    const urls = createMediaUrls(config, at(1_000_000));
    const url = new URL(urls.signedUrl('https://h', 'videos/a.mp4') ?? '');
    const expires = url.searchParams.get('expires') ?? '';
    const signature = url.searchParams.get('signature') ?? '';
    assert.equal(urls.checkSignature('videos/a.mp4', expires, signature), 'valid');
    assert.equal(urls.checkSignature('videos/a.mp4', undefined, signature), 'missing');
    assert.equal(urls.checkSignature('videos/a.mp4', expires, undefined), 'missing');
    assert.equal(urls.checkSignature('videos/a.mp4', `${expires}x`, signature), 'invalid');
    assert.equal(urls.checkSignature('videos/a.mp4', '1234567890123', signature), 'invalid', 'more than 12 digits');
    assert.equal(urls.checkSignature('videos/a.mp4', expires, `${signature}A`), 'invalid');
    assert.equal(urls.checkSignature('videos/a.mp4', expires, `${signature.slice(1)}=`), 'invalid');
    assert.equal(urls.checkSignature('videos/b.mp4', expires, signature), 'invalid');
    assert.equal(urls.checkSignature('videos/a.mp4', String(Number(expires) + 300), signature), 'invalid');
    const flipped = signature.slice(0, -1) + (signature.endsWith('A') ? 'B' : 'A');
    assert.equal(urls.checkSignature('videos/a.mp4', expires, flipped), 'invalid');
    const otherSecret = createMediaUrls({ ...config, secretKey: 'z'.repeat(48) }, at(1_000_000));
    assert.equal(otherSecret.checkSignature('videos/a.mp4', expires, signature), 'invalid');
    // Expired at the very second of its expiry, valid the millisecond before.
    assert.equal(createMediaUrls(config, () => Number(expires) * 1000 - 1).checkSignature('videos/a.mp4', expires, signature), 'valid');
    assert.equal(createMediaUrls(config, () => Number(expires) * 1000).checkSignature('videos/a.mp4', expires, signature), 'expired');
  });
});
