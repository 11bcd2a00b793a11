import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema } from 'fastify';
import type { UploadField } from './uploads.js';

interface ObjectSchema {
  type?: string;
  properties?: Record<string, unknown>;
  required?: string[];
  [key: string]: unknown;
}

/**
 * Routes with file fields take JSON or multipart/form-data with the same names; the schema
 * on the route describes the JSON body, and the multipart twin is derived here for the docs.
 */
function documentUploads(schema: FastifySchema, uploads: Record<string, UploadField>): FastifySchema {
  const body = schema.body as ObjectSchema | undefined;
  if (!body?.properties) return schema;
  const properties: Record<string, unknown> = { ...body.properties };
  for (const [field, spec] of Object.entries(uploads)) {
    const accepted = spec.kind === 'image' ? 'JPEG, PNG, WebP or GIF' : spec.kind === 'video' ? 'MP4, WebM, QuickTime or Matroska' : 'PDF';
    properties[field] = { type: 'string', format: 'binary', description: `${accepted}, judged by content` };
  }
  return {
    ...schema,
    body: {
      content: {
        'application/json': { schema: body },
        'multipart/form-data': { schema: { ...body, properties } },
      },
    },
  };
}

async function docsPlugin(app: FastifyInstance) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Online Learning Platform API',
        version: '1.0.0',
        description: 'Courses, lessons, enrollment, progress and reviews. DRF-compatible conventions.',
      },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
    transform: ({ schema, url, route }) => {
      const uploads = route.config?.uploads;
      return { schema: uploads && schema ? documentUploads(schema, uploads) : schema, url };
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs', uiConfig: { url: '/api/schema/' }, staticCSP: true });
  app.get('/api/schema/', { schema: { hide: true }, config: { rateLimit: false } }, async () => app.swagger());
}

export default fp(docsPlugin, { name: 'docs' });
