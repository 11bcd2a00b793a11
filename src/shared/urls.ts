import type { FastifyRequest } from 'fastify';

/** `scheme://host` of the request, for the absolute URLs the contract returns. */
export const originOf = (request: FastifyRequest): string => `${request.protocol}://${request.host}`;
