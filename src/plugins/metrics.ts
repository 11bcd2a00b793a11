import { createHash, timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import type { Database } from '../db/index.js';
import { unauthorized } from '../shared/errors.js';

/**
 * Prometheus metrics at GET /metrics (text format), served only when METRICS_TOKEN is set and
 * only to `Authorization: Bearer <METRICS_TOKEN>` (unset: 404, as any unknown path; a wrong or
 * missing token: 401). One registry per app:
 * - `http_requests_total` and `http_request_duration_seconds` by method, route pattern and status;
 * - the process's own (`nodejs_eventloop_lag_seconds`, heap, GC, handles) from prom-client;
 * - `db_ping_seconds` (a trivial query, timed at scrape) and `db_up`;
 * - whatever other modules register: `app.metrics.registerGauge({ name, help, collect })`
 *   (webhook deliveries pending and failed, for example), read at each scrape.
 */

export interface GaugeSource {
  name: string;
  help: string;
  /** Read at each scrape: one value, or one per label set. */
  collect: () => Promise<number | { labels: Record<string, string>; value: number }[]> | number;
  labelNames?: string[];
}

export interface Metrics {
  registry: Registry;
  registerGauge(source: GaugeSource): void;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics;
  }
}

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const digest = (value: string) => createHash('sha256').update(value).digest();

async function metricsPlugin(app: FastifyInstance, opts: { token: string | undefined; database: Database }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const metrics: Metrics = {
    registry,
    registerGauge(source) {
      const gauge = new Gauge({
        name: source.name,
        help: source.help,
        labelNames: source.labelNames ?? [],
        registers: [registry],
        async collect() {
          const value = await source.collect();
          if (typeof value === 'number') {
            this.set(value);
            return;
          }
          this.reset();
          for (const entry of value) this.set(entry.labels, entry.value);
        },
      });
      void gauge;
    },
  };
  app.decorate('metrics', metrics);

  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer HTTP requests',
    labelNames: ['method', 'route', 'status'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    // The route's pattern, never the raw URL: one series per route, whatever ids are asked for.
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = { method: request.method, route, status: String(reply.statusCode) };
    requests.inc(labels);
    duration.observe(labels, reply.elapsedTime / 1000);
  });

  const up = new Gauge({ name: 'db_up', help: "1 when the database answered the scrape's ping", registers: [registry] });
  new Gauge({
    name: 'db_ping_seconds',
    help: 'Time the database took to answer a trivial query at scrape',
    registers: [registry],
    async collect() {
      const started = process.hrtime.bigint();
      try {
        await opts.database.ping();
        up.set(1);
      } catch {
        up.set(0);
      }
      this.set(Number(process.hrtime.bigint() - started) / 1e9);
    },
  });

  if (!opts.token) return;
  const expected = digest(`Bearer ${opts.token}`);
  app.get(
    '/metrics',
    {
      schema: { hide: true },
      config: { rateLimit: false },
      logLevel: 'warn',
      // A route hook runs before the auth plugin judges the header as a JWT: this route's bearer is the metrics token.
      onRequest: async (request) => {
        const given = request.headers.authorization ?? '';
        if (!timingSafeEqual(digest(given), expected)) throw unauthorized('A valid metrics token is required.', 'not_authenticated');
        request.authFailure = null;
      },
    },
    async (_request, reply) => {
      reply.header('content-type', registry.contentType);
      return registry.metrics();
    },
  );
}

export default fp(metricsPlugin, { name: 'metrics' });
