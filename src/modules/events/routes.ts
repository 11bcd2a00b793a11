import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { refuseBeforeBody, userContextOf } from '../../plugins/context.js';
import { PageSchema } from '../../shared/pagination.js';
import {
  DeliveryIdParams,
  RetryAccepted,
  WebhookDeliveryPage,
  WebhookEndpointBody,
  WebhookEndpointCreatedSchema,
  WebhookEndpointPatchBody,
  WebhookEndpointSchema,
  WebhookIdParams,
  WebhookListQuery,
} from './schemas.js';

const tags = ['webhooks'];
const owners = { auth: ['instructor', 'admin'] } as const;

export default async function webhookRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { webhooks } = app.services;

  app.post(
    '/api/webhooks/',
    {
      schema: {
        tags,
        summary: "Register a webhook endpoint (approved instructors: their courses' events; admins: every event)",
        description: 'The response carries the signing `secret`, returned only here.',
        body: WebhookEndpointBody,
        response: { 201: WebhookEndpointCreatedSchema },
      },
      config: owners,
    },
    async (request, reply) => {
      reply.code(201);
      return webhooks.create(userContextOf(request), request.body);
    },
  );

  app.get(
    '/api/webhooks/',
    {
      schema: {
        tags,
        summary: "The caller's webhook endpoints (admins: all)",
        querystring: WebhookListQuery,
        response: { 200: PageSchema(WebhookEndpointSchema) },
      },
      config: owners,
    },
    async (request) => webhooks.list(userContextOf(request), request.query),
  );

  app.get(
    '/api/webhooks/:id/',
    {
      schema: { tags, summary: 'One webhook endpoint', params: WebhookIdParams, response: { 200: WebhookEndpointSchema } },
      config: owners,
    },
    async (request) => webhooks.get(userContextOf(request), request.params.id),
  );

  app.patch(
    '/api/webhooks/:id/',
    {
      schema: {
        tags,
        summary: 'Change a webhook endpoint',
        params: WebhookIdParams,
        body: WebhookEndpointPatchBody,
        response: { 200: WebhookEndpointSchema },
      },
      config: owners,
      preParsing: refuseBeforeBody((ctx, id) => webhooks.checkManaged(ctx, id)),
    },
    async (request) => webhooks.update(userContextOf(request), request.params.id, request.body),
  );

  app.delete(
    '/api/webhooks/:id/',
    {
      schema: {
        tags,
        summary: 'Delete a webhook endpoint and its delivery log',
        params: WebhookIdParams,
        response: { 204: { description: 'Deleted; no body' } },
      },
      config: owners,
    },
    async (request, reply) => {
      await webhooks.remove(userContextOf(request), request.params.id);
      return reply.code(204).send();
    },
  );

  app.get(
    '/api/webhooks/:id/deliveries/',
    {
      schema: {
        tags,
        summary: "The endpoint's deliveries, newest first",
        params: WebhookIdParams,
        querystring: WebhookListQuery,
        response: { 200: WebhookDeliveryPage },
      },
      config: owners,
    },
    async (request) => webhooks.deliveries(userContextOf(request), request.params.id, request.query),
  );

  app.post(
    '/api/webhooks/:id/deliveries/:delivery_id/retry/',
    {
      schema: { tags, summary: 'Attempt a delivery again now', params: DeliveryIdParams, response: { 202: RetryAccepted } },
      config: owners,
    },
    async (request, reply) => {
      reply.code(202);
      return webhooks.retry(userContextOf(request), request.params.id, request.params.delivery_id);
    },
  );
}
