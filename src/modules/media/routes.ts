import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';

const MediaQuery = Type.Object({
  expires: Type.Optional(Type.String({ description: 'Unix time the signature expires; part of a signed URL' })),
  signature: Type.Optional(Type.String({ description: 'HMAC of the key and expiry; part of a signed URL' })),
});

/**
 * Files under MEDIA_URL. Thumbnails and profile images are public; lesson videos and
 * attachments need the signed URL that lesson responses carry. Exempt from throttling:
 * a video player fetches one file as many range requests (every seek, every buffer
 * refill), and a class behind one address would trip the anonymous rate in minutes;
 * serving costs one HMAC and one stat, no database, and the bytes are bounded by what
 * the API signed. Abuse of bandwidth belongs to the proxy or CDN in front.
 */
export default async function mediaRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { media } = app.services;

  app.get(`${app.config.mediaUrl}*`, {
    schema: {
      tags: ['media'],
      summary: 'A media file: public (thumbnails, profile images) or by signed URL (lesson video, attachment)',
      description:
        'Supports Range (206, 416), Accept-Ranges, ETag and If-None-Match (304). A protected file without a valid, unexpired signature: 403. With STORAGE=s3 and S3_PRESIGNED_REDIRECT=true, a protected file with a valid signature is a 307 to a short-lived presigned URL of the store.',
      querystring: MediaQuery,
      hide: true,
    },
    config: { rateLimit: false, auth: 'public' },
  }, async (request, reply) => {
    const delivery = await media.deliver((request.params as { '*': string })['*'], request.query, request.raw);
    // No body is no body (a null one would be serialised as JSON `null`, e.g. on a redirect).
    return reply.code(delivery.status).headers(delivery.headers).send(delivery.body ?? undefined);
  });
}
