import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import cors from '@fastify/cors';
import { Redis } from 'ioredis';
import type { Config } from './config.js';
import type { Database } from './db/index.js';
import authPlugin from './plugins/auth.js';
import docsPlugin from './plugins/docs.js';
import { decimalIds } from './shared/schemas.js';
import errorsPlugin, { contractClientErrors, contractFrameworkErrors, withRedactedUrls } from './plugins/errors.js';
import rateLimitsPlugin from './plugins/rate-limits.js';
import uploadsPlugin from './plugins/uploads.js';
import { createLocalStorage } from './storage/local.js';
import { createS3Storage } from './storage/s3.js';
import type { Storage } from './storage/index.js';
import { createRevocationList } from './modules/auth/revocation.js';
import { createAuthService } from './modules/auth/service.js';
import type { AuthService } from './modules/auth/service.js';
import { createTokens } from './modules/auth/tokens.js';
import authRoutes from './modules/auth/routes.js';
import { createMediaService } from './modules/media/service.js';
import type { MediaService } from './modules/media/service.js';
import mediaRoutes from './modules/media/routes.js';
import { createLessonsService } from './modules/lessons/service.js';
import type { LessonsService } from './modules/lessons/service.js';
import lessonRoutes from './modules/lessons/routes.js';
import { createEnrollmentsService } from './modules/enrollments/service.js';
import type { EnrollmentsService } from './modules/enrollments/service.js';
import enrollmentRoutes from './modules/enrollments/routes.js';
import { createReviewsService } from './modules/reviews/service.js';
import type { ReviewsService } from './modules/reviews/service.js';
import reviewRoutes from './modules/reviews/routes.js';
import { createCategoriesService } from './modules/categories/service.js';
import type { CategoriesService } from './modules/categories/service.js';
import categoryRoutes from './modules/categories/routes.js';
import { createCoursesService } from './modules/courses/service.js';
import type { CoursesService } from './modules/courses/service.js';
import courseRoutes from './modules/courses/routes.js';
import { createUsersService } from './modules/users/service.js';
import type { UsersService } from './modules/users/service.js';
import userRoutes from './modules/users/routes.js';
import healthRoutes from './modules/health/routes.js';

export interface Services {
  auth: AuthService;
  users: UsersService;
  media: MediaService;
  storage: Storage;
  lessons: LessonsService;
  enrollments: EnrollmentsService;
  reviews: ReviewsService;
  courses: CoursesService;
  categories: CategoriesService;
}

declare module 'fastify' {
  interface FastifyInstance {
    config: Readonly<Config>;
    database: Database;
    services: Services;
  }
}

export interface BuildOptions {
  database: Database;
  logger?: FastifyServerOptions['logger'];
  storage?: Storage;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Static security headers: what helmet would set for a JSON API, at the cost of one hook. */
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-site',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
};

export async function buildApp(config: Readonly<Config>, options: BuildOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: withRedactedUrls(options.logger ?? { level: config.logLevel }),
    bodyLimit: config.limits.bodyBytes,
    trustProxy: config.trustProxy,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 200 },
    ajv: { customOptions: { allErrors: true, coerceTypes: 'array', removeAdditional: true, useDefaults: true }, plugins: [decimalIds] },
    // Errors raised outside the request lifecycle answer in the contract's format too.
    frameworkErrors: contractFrameworkErrors(SECURITY_HEADERS),
    clientErrorHandler: contractClientErrors(SECURITY_HEADERS),
    // The errors plugin answers requests that arrive while closing (503 in the contract's format).
    return503OnClosing: false,
    // A connection silent this long while a request is open is closed (slow uploads included);
    // the time to receive a body is bounded by the uploads plugin, per route.
    connectionTimeout: config.timeouts.idleMs,
    // requestTimeout 0 here too: Node checks headersTimeout against its own default otherwise.
    http: { headersTimeout: config.timeouts.headersMs, requestTimeout: 0, connectionsCheckingInterval: 1000 },
  });

  const { database } = options;
  const db = database.db;
  const redis = config.redisUrl ? new Redis(config.redisUrl, { maxRetriesPerRequest: 2 }) : undefined;
  const revocations = createRevocationList({ accessTokenTtl: config.accessTokenTtl, redis });
  const tokens = createTokens(config.secretKey, { access: config.accessTokenTtl, refresh: config.refreshTokenTtl });

  // Services reach one another through this object, at call time, so creation order and
  // mutual needs (sessions ask whether a user is active; users end sessions) do not matter.
  const services = {} as Services;
  services.storage = options.storage ?? (config.s3 ? createS3Storage(config.s3) : createLocalStorage(config.mediaRoot));
  services.media = createMediaService({ config, storage: services.storage });
  services.auth = createAuthService({
    db,
    tokens,
    revocations,
    accessTokenTtl: config.accessTokenTtl,
    refreshTokenTtl: config.refreshTokenTtl,
    findActiveUser: (id) => services.users.findActive(id),
  });
  services.users = createUsersService({
    db,
    storage: services.storage,
    auth: services.auth,
    media: services.media,
    instructorAutoApprove: config.instructorAutoApprove,
  });
  services.lessons = createLessonsService({
    db,
    storage: services.storage,
    media: services.media,
    courses: () => services.courses,
    enrollments: () => services.enrollments,
  });
  services.enrollments = createEnrollmentsService({ db, services });
  services.reviews = createReviewsService({ db, services });
  services.courses = createCoursesService({ db, services });
  services.categories = createCategoriesService({ db, catalogChanged: () => services.courses.catalogChanged() });
  // Listen before loading, so no revocation falls between the two.
  await revocations.listening;
  await services.auth.loadRecentRevocations();

  app.decorate('config', config);
  app.decorate('database', database);
  app.decorate('services', services);

  app.addHook('onClose', async () => {
    await revocations.close();
    redis?.disconnect();
    await database.close();
  });

  // Only JSON and multipart (on routes with file fields) are spoken here.
  app.removeContentTypeParser('text/plain');
  app.addHook('onRequest', async (request, reply) => {
    reply.headers(SECURITY_HEADERS);
    reply.header('x-request-id', request.id);
  });

  await app.register(errorsPlugin);
  if (config.corsOrigins.length > 0) await app.register(cors, { origin: config.corsOrigins, exposedHeaders: ['x-request-id', 'retry-after'] });
  await app.register(authPlugin, { auth: services.auth });
  await app.register(rateLimitsPlugin, { config, redis });
  await app.register(uploadsPlugin, { config, storage: services.storage });
  await app.register(docsPlugin);

  await app.register(healthRoutes);
  await app.register(authRoutes);
  await app.register(userRoutes);
  await app.register(categoryRoutes);
  await app.register(courseRoutes);
  await app.register(lessonRoutes);
  await app.register(mediaRoutes);
  await app.register(enrollmentRoutes);
  await app.register(reviewRoutes);
  return app;
}
