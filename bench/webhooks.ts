import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { Webhook } from 'standardwebhooks';
import { createDatabase } from '../src/db/index.js';
import { medianOf } from './load.js';
import type { Measurement } from './load.js';

/**
 * Webhook delivery throughput (issues 11 and 16): the write mix runs without a webhook
 * endpoint, then with one subscribed to every event (`["*"]`, registered by the generated
 * admin, so it receives the events of every course), pointing at a receiver in this process.
 * The receiver answers 204 at once and records when each event arrived; the events' own
 * `created_at` gives the lag from commit to receipt. After the loaded run, the backlog is
 * waited for (the outbox dispatched, no delivery of the endpoint pending), a sample of the
 * deliveries is verified with `standardwebhooks` (the receivers' own library), and the
 * endpoint is deleted, so the data set is left as it was found.
 */

export interface Receipt {
  id: string;
  receivedAt: number;
  /** The event's created_at (its transaction's clock), epoch ms. */
  createdAt: number;
}

interface Sample {
  body: string;
  headers: Record<string, string>;
}

export interface WebhookReceiver {
  url: string;
  receipts: Receipt[];
  samples: Sample[];
  reset(): void;
  close(): Promise<void>;
}

/** Deliveries kept whole (body and headers) for signature checks. */
const SAMPLE_SIZE = 200;

export async function startReceiver(): Promise<WebhookReceiver> {
  const receipts: Receipt[] = [];
  const samples: Sample[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const receivedAt = Date.now();
      const body = Buffer.concat(chunks).toString('utf8');
      const header = (name: string) => String(request.headers[name] ?? '');
      let createdAt = Number.NaN;
      try {
        createdAt = Date.parse((JSON.parse(body) as { created_at: string }).created_at);
      } catch {
        // Counted, with no lag; the signature check of the sample says what is wrong.
      }
      receipts.push({ id: header('webhook-id'), receivedAt, createdAt });
      if (samples.length < SAMPLE_SIZE)
        samples.push({
          body,
          headers: {
            'webhook-id': header('webhook-id'),
            'webhook-timestamp': header('webhook-timestamp'),
            'webhook-signature': header('webhook-signature'),
          },
        });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    receipts,
    samples,
    reset() {
      receipts.length = 0;
      samples.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface DeliveryStats {
  /** Events created during the measured run (every one reaches this endpoint). */
  eventsProduced: number;
  producedPerSecond: number;
  /** Deliveries the receiver got during the measured run, whatever their event's age. */
  deliveredInRun: number;
  deliveredPerSecond: number;
  /** Commit to receipt, ms, of the events created during the measured run. */
  lagP50: number | null;
  lagP99: number | null;
  lagMax: number | null;
  /** From the end of the run until nothing was pending; null when the wait gave up. */
  drainSeconds: number | null;
  pendingLeft: number;
  failed: number;
  /** Receipts of an event already received (delivery is at least once). */
  duplicates: number;
  verified: number;
  sampled: number;
  /** The first signature that did not verify, to say why. */
  verifyFailure?: string;
}

export interface WebhookResult {
  connections: number;
  without: Measurement;
  with: Measurement;
  /** 1 − with ÷ without (req/s); null when either run is flagged. */
  slowdown: number | null;
  delivery: DeliveryStats;
  /** Every round's figures (the reported delivery figures are the median round's). */
  rounds: { without: Measurement; with: Measurement; delivery: DeliveryStats }[];
}

/** The issue's bound: the API may slow down by at most this share with an endpoint registered. */
export const WEBHOOK_SLOWDOWN_TARGET = 0.1;
const DRAIN_TIMEOUT_MS = 180_000;

export interface WebhookRunOptions {
  origin: string;
  databaseUrl: string;
  adminToken: string;
  rounds: number;
  connections: number;
  /** One loaded run of the write mix (warm-up included) against the server. */
  drive: () => Promise<Measurement>;
  status: (text: string) => void;
}

const percentile = (sorted: number[], q: number) =>
  sorted.length === 0 ? null : Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);

async function api(origin: string, token: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${origin}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 300)}`);
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

/** Waits until every event is dispatched and no delivery of the endpoint is pending; seconds waited, or null on timeout. */
async function drain(
  database: ReturnType<typeof createDatabase>,
  endpointId: number,
  status: (text: string) => void,
): Promise<{ seconds: number | null; pending: number; failed: number }> {
  const started = performance.now();
  for (;;) {
    const row = await sql<{ undispatched: number | string; pending: number | string; failed: number | string }>`
      select
        (select count(*) from events where dispatched_at is null) as undispatched,
        (select count(*) from webhook_deliveries where endpoint_id = ${endpointId} and status = 'pending') as pending,
        (select count(*) from webhook_deliveries where endpoint_id = ${endpointId} and status = 'failed') as failed`
      .execute(database.db)
      .then((r) => r.rows[0]!);
    const pending = Number(row.undispatched) + Number(row.pending);
    const elapsed = performance.now() - started;
    if (pending === 0) return { seconds: Math.round(elapsed / 100) / 10, pending: 0, failed: Number(row.failed) };
    if (elapsed > DRAIN_TIMEOUT_MS) return { seconds: null, pending, failed: Number(row.failed) };
    status(`webhooks: ${pending} events and deliveries still pending after the run`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function verify(samples: readonly Sample[], secret: string): { verified: number; failure?: string } {
  const webhook = new Webhook(secret);
  let verified = 0;
  let failure: string | undefined;
  for (const sample of samples) {
    try {
      webhook.verify(sample.body, sample.headers);
      verified++;
    } catch (error) {
      failure ??= `${sample.headers['webhook-id']}: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  return failure === undefined ? { verified } : { verified, failure };
}

function statsOf(
  receipts: readonly Receipt[],
  run: Measurement,
  drained: { seconds: number | null; pending: number; failed: number },
  checked: { verified: number; failure?: string },
  sampled: number,
): DeliveryStats {
  const start = run.startedAt ?? 0;
  const end = run.endedAt ?? 0;
  const seconds = Math.max((end - start) / 1000, 0.001);
  const ofRun = receipts.filter((r) => r.createdAt >= start && r.createdAt <= end);
  const lags = ofRun.map((r) => r.receivedAt - r.createdAt).sort((a, b) => a - b);
  const inRun = receipts.filter((r) => r.receivedAt >= start && r.receivedAt <= end).length;
  const ids = new Set(receipts.map((r) => r.id));
  const produced = new Set(ofRun.map((r) => r.id)).size;
  return {
    eventsProduced: produced,
    producedPerSecond: Math.round(produced / seconds),
    deliveredInRun: inRun,
    deliveredPerSecond: Math.round(inRun / seconds),
    lagP50: percentile(lags, 0.5),
    lagP99: percentile(lags, 0.99),
    lagMax: percentile(lags, 1),
    drainSeconds: drained.seconds,
    pendingLeft: drained.pending,
    failed: drained.failed,
    duplicates: receipts.length - ids.size,
    verified: checked.verified,
    sampled,
    ...(checked.failure === undefined ? {} : { verifyFailure: checked.failure }),
  };
}

/** A run is clean when every request succeeded, the backlog drained, nothing failed and every sampled signature verified. */
export const webhookClean = (r: WebhookResult) =>
  !r.without.flagged &&
  !r.with.flagged &&
  r.rounds.every(
    (round) =>
      round.delivery.drainSeconds !== null &&
      round.delivery.failed === 0 &&
      round.delivery.verified === round.delivery.sampled &&
      round.delivery.sampled > 0,
  );

export async function runWebhooks(options: WebhookRunOptions): Promise<WebhookResult> {
  const receiver = await startReceiver();
  const database = createDatabase(options.databaseUrl, { poolSize: 1 });
  const rounds: WebhookResult['rounds'] = [];
  try {
    for (let round = 0; round < options.rounds; round++) {
      options.status('webhooks: write mix without an endpoint');
      const without = await options.drive();
      receiver.reset();
      const endpoint = (await api(options.origin, options.adminToken, 'POST', '/api/webhooks/', {
        url: receiver.url,
        events: ['*'],
      })) as { id: number; secret: string };
      try {
        options.status('webhooks: write mix with an endpoint for every event');
        const withEndpoint = await options.drive();
        const drained = await drain(database, endpoint.id, options.status);
        const checked = verify(receiver.samples, endpoint.secret);
        rounds.push({
          without,
          with: withEndpoint,
          delivery: statsOf(receiver.receipts, withEndpoint, drained, checked, receiver.samples.length),
        });
      } finally {
        await api(options.origin, options.adminToken, 'DELETE', `/api/webhooks/${endpoint.id}/`);
      }
    }
  } finally {
    await database.close();
    await receiver.close();
  }
  const without = medianOf(rounds.map((r) => r.without));
  const withEndpoint = medianOf(rounds.map((r) => r.with));
  const middle = [...rounds].sort((a, b) => a.with.requestsPerSecond - b.with.requestsPerSecond)[Math.floor((rounds.length - 1) / 2)]!;
  const slowdown =
    without.flagged || withEndpoint.flagged || without.requestsPerSecond === 0
      ? null
      : Math.round((1 - withEndpoint.requestsPerSecond / without.requestsPerSecond) * 1000) / 1000;
  return { connections: options.connections, without, with: withEndpoint, slowdown, delivery: middle.delivery, rounds };
}

export function formatWebhooks(r: WebhookResult): string {
  const d = r.delivery;
  const verdict = r.slowdown === null ? 'FLAGGED' : r.slowdown <= WEBHOOK_SLOWDOWN_TARGET ? 'ok' : 'ABOVE';
  const failures = (m: Measurement) => m.non2xx + m.errors + m.warmupFailures;
  return [
    `write mix (${r.connections} connections) without an endpoint: ${r.without.requestsPerSecond} req/s, p50 ${r.without.p50} ms, p99 ${r.without.p99} ms, ${failures(r.without)} errors`,
    `write mix with an endpoint for every event:  ${r.with.requestsPerSecond} req/s, p50 ${r.with.p50} ms, p99 ${r.with.p99} ms, ${failures(r.with)} errors`,
    `slowdown: ${r.slowdown === null ? '-' : `${(r.slowdown * 100).toFixed(1)} %`} (≤ ${WEBHOOK_SLOWDOWN_TARGET * 100} %: ${verdict})`,
    `events: ${d.eventsProduced} produced in the run (${d.producedPerSecond}/s); ${d.deliveredInRun} delivered during it (${d.deliveredPerSecond}/s)`,
    `delivery lag (commit to receipt): p50 ${d.lagP50 ?? '-'} ms, p99 ${d.lagP99 ?? '-'} ms, max ${d.lagMax ?? '-'} ms`,
    `backlog drained ${d.drainSeconds === null ? `NOT within ${DRAIN_TIMEOUT_MS / 1000}s (${d.pendingLeft} left)` : `${d.drainSeconds}s after the run`}; failed ${d.failed}; duplicates ${d.duplicates}`,
    `signatures verified with standardwebhooks: ${d.verified}/${d.sampled}${d.verifyFailure ? ` (first failure ${d.verifyFailure})` : ''}`,
  ].join('\n');
}
