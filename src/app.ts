import { randomUUID } from 'node:crypto';
import Fastify, { LogController } from 'fastify';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import cors from '@fastify/cors';
import type { Config } from './config.js';
import type { Database } from './db/index.js';
import authPlugin from './plugins/auth.js';
import docsPlugin from './plugins/docs.js';
import { decimalIds } from './shared/schemas.js';
import errorsPlugin, { contractClientErrors, contractFrameworkErrors, withRedactedUrls } from './plugins/errors.js';
import formsPlugin from './plugins/forms.js';
import metricsPlugin from './plugins/metrics.js';
import { OPENAPI_KEYWORDS } from './shared/openapi.js';
import rateLimitsPlugin from './plugins/rate-limits.js';
import uploadsPlugin from './plugins/uploads.js';
import { createLocalStorage } from './storage/local.js';
import { createFileCleanup } from './storage/cleanup.js';
import type { FileCleanup } from './storage/cleanup.js';
import { createS3Storage } from './storage/s3.js';
import type { Storage } from './storage/index.js';
import { createRevocationList } from './modules/auth/revocation.js';
import { createAuthService, recentRevocations } from './modules/auth/service.js';
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
import { runExclusive } from './db/exclusive.js';
import { createJobs } from './shared/jobs.js';
import { connectRedis } from './shared/redis.js';
import type { Jobs } from './shared/jobs.js';
import { createEventsService } from './modules/events/service.js';
import type { EventsService } from './modules/events/service.js';
import { createAuditService } from './modules/audit/service.js';
import { createAnalyticsService } from './modules/analytics/service.js';
import type { AnalyticsService } from './modules/analytics/service.js';
import analyticsRoutes from './modules/analytics/routes.js';
import type { AuditService } from './modules/audit/service.js';
import { createQuizzesService } from './modules/quizzes/service.js';
import type { QuizzesService } from './modules/quizzes/service.js';
import quizRoutes from './modules/quizzes/routes.js';
import { createCertificatesService } from './modules/certificates/service.js';
import type { CertificatesService } from './modules/certificates/service.js';
import certificateRoutes from './modules/certificates/routes.js';
import { createPdfRenderer } from './modules/certificates/renderer.js';
import auditRoutes from './modules/audit/routes.js';
import { systemResolver } from './modules/events/addresses.js';
import type { Resolver } from './modules/events/addresses.js';
import webhookRoutes from './modules/events/routes.js';
import { createSender } from './modules/events/sender.js';
import { createWebhooksService } from './modules/events/webhooks.js';
import type { WebhooksService } from './modules/events/webhooks.js';
import { createDeliveryWorker } from './modules/events/worker.js';
import type { DeliveryWorker } from './modules/events/worker.js';
import { createPrivacyService } from './modules/privacy/service.js';
import type { PrivacyService } from './modules/privacy/service.js';
import privacyRoutes from './modules/privacy/routes.js';
import { createSectionsService } from './modules/sections/service.js';
import type { SectionsService } from './modules/sections/service.js';
import sectionRoutes from './modules/sections/routes.js';

export interface Services {
  auth: AuthService;
  users: UsersService;
  media: MediaService;
  storage: Storage;
  files: FileCleanup;
  lessons: LessonsService;
  enrollments: EnrollmentsService;
  reviews: ReviewsService;
  courses: CoursesService;
  categories: CategoriesService;
  events: EventsService;
  audit: AuditService;
  quizzes: QuizzesService;
  certificates: CertificatesService;
  webhooks: WebhooksService;
  webhookWorker: DeliveryWorker;
  privacy: PrivacyService;
  sections: SectionsService;
  analytics: AnalyticsService;
}

declare module 'fastify' {
  interface FastifyInstance {
    config: Readonly<Config>;
    database: Database;
    services: Services;
    jobs: Jobs;
  }
}

export interface BuildOptions {
  database: Database;
  logger?: FastifyServerOptions['logger'];
  storage?: Storage;
  /** The webhook worker's clock and resolver (tests move time and play DNS), and whether it polls by itself. */
  webhooks?: { now?: () => Date; resolve?: Resolver; autoStart?: boolean; pollMs?: number };
}

/**
 * PostgreSQL connections of the webhook worker, besides the API's pool: one for its pass
 * (dispatch, claims) and one for recording the attempts that end meanwhile.
 */
export const WORKER_POOL_SIZE = 2;

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

/** Every method the API uses, the headers clients send, and the ones they read. */
const CORS = (origin: string[]) => ({
  origin,
  methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
  allowedHeaders: ['Authorization', 'Content-Type', 'If-None-Match', 'If-Match', 'X-Request-Id'],
  exposedHeaders: ['X-Request-Id', 'Retry-After', 'ETag', 'X-Error-Code'],
  maxAge: 600,
});

export async function buildApp(config: Readonly<Config>, options: BuildOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: withRedactedUrls(options.logger ?? { level: config.logLevel }),
    // One line per request instead of Fastify's two (see the onResponse hook below).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.limits.bodyBytes,
    trustProxy: config.trustProxy,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 200 },
    ajv: {
      customOptions: { allErrors: true, coerceTypes: 'array', removeAdditional: true, useDefaults: true, keywords: OPENAPI_KEYWORDS },
      plugins: [decimalIds],
    },
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
  const redis = config.redisUrl ? connectRedis(config.redisUrl, app.log) : undefined;
  const revocations = createRevocationList({
    accessTokenTtl: config.accessTokenTtl,
    redis,
    reload: () => recentRevocations(db, config.accessTokenTtl),
    warn: (err, message) => app.log.warn({ err }, message),
  });
  const tokens = createTokens(config.secretKey, { access: config.accessTokenTtl, refresh: config.refreshTokenTtl });

  // Each service names what it needs of the others as a port; a port is looked up when
  // called, so creation order and mutual needs (sessions ask whether a user is active; users
  // end sessions) do not matter.
  const services = {} as Services;
  const storage = options.storage ?? (config.s3 ? createS3Storage(config.s3) : createLocalStorage(config.mediaRoot));
  const media = createMediaService({ config, storage });
  // Files a change drops are recorded in its transaction and deleted after the commit.
  const files = createFileCleanup({ db, storage });
  const events = createEventsService();
  const pdfRenderer = createPdfRenderer();
  const audit = createAuditService({ db, users: () => services.users });
  const webhookClock = options.webhooks?.now ?? (() => new Date());
  const resolve = options.webhooks?.resolve ?? systemResolver;
  // The worker's own connections (PostgreSQL): on the API's pool its claims and records queued
  // behind every waiting request, and delivery all but stopped under write load (issue 16's
  // benchmark: 2–4 deliveries/s against 21–35 events/s at 32 connections).
  const workerDatabase = database.dedicated(WORKER_POOL_SIZE, 'lp-webhook-worker');
  const webhookWorker = createDeliveryWorker({
    db: workerDatabase.db,
    sender: createSender({ resolve, allowPrivate: config.webhookAllowPrivate, timeoutMs: 10_000 }),
    now: webhookClock,
    concurrency: 8,
    perEndpoint: 4,
    leaseMs: 60_000,
    pollMs: options.webhooks?.pollMs ?? 1000,
    log: app.log,
  });
  Object.assign(services, {
    storage,
    files,
    media,
    events,
    audit,
    webhookWorker,
    webhooks: createWebhooksService({
      db,
      audit,
      users: () => services.users,
      resolve,
      allowPrivate: config.webhookAllowPrivate,
      now: webhookClock,
      wake: () => webhookWorker.wake(),
    }),
    privacy: createPrivacyService({
      db,
      storage,
      audit,
      users: () => services.users,
      auth: () => services.auth,
      enrollments: () => services.enrollments,
      webhooks: () => services.webhooks,
      quizzes: () => services.quizzes,
      certificates: () => services.certificates,
    }),
    auth: createAuthService({
      db,
      tokens,
      revocations,
      accessTokenTtl: config.accessTokenTtl,
      refreshTokenTtl: config.refreshTokenTtl,
      audit,
      users: () => services.users,
    }),
    users: createUsersService({
      db,
      files,
      media,
      audit,
      auth: () => services.auth,
      instructorAutoApprove: config.instructorAutoApprove,
    }),
    categories: createCategoriesService({ db, audit, catalogChanged: () => services.courses.catalogChanged() }),
    courses: createCoursesService({
      db,
      events,
      audit,
      files,
      media,
      users: () => services.users,
      categories: () => services.categories,
      lessons: () => services.lessons,
      enrollments: () => services.enrollments,
      sections: () => services.sections,
      reviews: () => services.reviews,
    }),
    lessons: createLessonsService({
      db,
      files,
      media,
      courses: () => services.courses,
      enrollments: () => services.enrollments,
      sections: () => services.sections,
    }),
    sections: createSectionsService({ db, courses: () => services.courses }),
    enrollments: createEnrollmentsService({
      db,
      events,
      quizzes: () => services.quizzes,
      certificates: () => services.certificates,
      courses: () => services.courses,
      lessons: () => services.lessons,
      users: () => services.users,
    }),
    reviews: createReviewsService({
      db,
      events,
      audit,
      courses: () => services.courses,
      enrollments: () => services.enrollments,
      users: () => services.users,
    }),
    quizzes: createQuizzesService({
      db,
      events,
      courses: () => services.courses,
      lessons: () => services.lessons,
      enrollments: () => services.enrollments,
      users: () => services.users,
    }),
    certificates: createCertificatesService({ db, events, audit, users: () => services.users, render: pdfRenderer.render }),
    analytics: createAnalyticsService({ db }),
  } satisfies Services);
  // Listen before loading, so no revocation falls between the two.
  await revocations.listening;
  await services.auth.loadRecentRevocations();

  app.decorate('config', config);
  app.decorate('database', database);
  app.decorate('services', services);

  const jobs = createJobs(app.log);
  jobs.add({
    name: 'prune-sessions',
    intervalMs: 60 * 60 * 1000,
    run: () => runExclusive(db, 'prune-sessions', (conn) => services.auth.pruneExpiredSessions(conn)),
  });
  app.decorate('jobs', jobs);
  app.addHook('onReady', async () => jobs.start());

  app.addHook('onClose', async () => {
    await jobs.stop();
    await webhookWorker.stop();
    await workerDatabase.close();
    await pdfRenderer.close();
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
  // At debug level a request is also logged as it arrives (long uploads, shutdown diagnosis).
  app.addHook('onRequest', async (request) => {
    request.log.debug({ method: request.method, url: request.url.split('?')[0] ?? request.url }, 'incoming request');
  });
  // A request that recorded an event (committed by now) wakes the delivery worker.
  app.addHook('onResponse', async (request, reply) => {
    if (events.takeRecorded()) webhookWorker.wake();
    const ms = Math.round(reply.elapsedTime * 10) / 10;
    const path = request.url.split('?')[0] ?? request.url;
    request.log.info(
      { method: request.method, url: path, statusCode: reply.statusCode, responseTime: ms },
      `${request.method} ${path} ${reply.statusCode} ${ms}ms`,
    );
  });

  await app.register(errorsPlugin);
  if (config.corsOrigins.length > 0) await app.register(cors, CORS(config.corsOrigins));
  await app.register(authPlugin, { auth: services.auth });
  await app.register(rateLimitsPlugin, { config, redis });
  await app.register(uploadsPlugin, { config, storage: services.storage });
  await app.register(formsPlugin);
  await app.register(docsPlugin);
  await app.register(metricsPlugin, { token: config.metricsToken, database });

  await app.register(healthRoutes, { redis });
  await app.register(authRoutes);
  await app.register(userRoutes);
  await app.register(categoryRoutes);
  await app.register(courseRoutes);
  await app.register(lessonRoutes);
  await app.register(mediaRoutes);
  await app.register(enrollmentRoutes);
  await app.register(reviewRoutes);
  await app.register(quizRoutes);
  await app.register(certificateRoutes);
  await app.register(webhookRoutes);
  await app.register(auditRoutes);
  await app.register(privacyRoutes);
  if (options.webhooks?.autoStart ?? config.webhookWorker) app.addHook('onReady', async () => webhookWorker.start());
  await app.register(sectionRoutes);
  await app.register(analyticsRoutes);
  return app;
}
