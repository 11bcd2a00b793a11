import autocannon from 'autocannon';
import type { RequestParams } from 'autocannon';

export interface LoadRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadOptions {
  origin: string;
  connections: number;
  seconds: number;
  warmupSeconds: number;
  /** A fresh request for every send: ids, tokens and methods drawn at random. */
  next: () => LoadRequest;
  /**
   * Requests per second over all connections (autocannon's overallRate: each connection sends
   * its share as soon as each second begins, then waits); absent: as fast as answers come.
   */
  rate?: number;
}

export interface Measurement {
  requests: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  /** Responses outside 2xx. */
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  /** Non-2xx responses and errors during the warm-up, which count against the run too. */
  warmupFailures: number;
  /** Any non-2xx or error: such a run is never a success. */
  flagged: boolean;
  /** The first failing response, to say why. */
  firstFailure?: string;
  /** Wall clock (epoch ms) when the measured run began and ended. */
  startedAt?: number;
  endedAt?: number;
}

const TIMEOUT_SECONDS = 10;
const PACED_SAMPLE_MS = 100;

async function fire(options: LoadOptions, seconds: number): Promise<Measurement> {
  let firstFailure: string | undefined;
  const startedAt = Date.now();
  const result = await autocannon({
    url: options.origin,
    connections: options.connections,
    duration: seconds,
    timeout: TIMEOUT_SECONDS,
    // autocannon notices the end of a run only when it takes a sample; paced connections often
    // miss the tick at the deadline and ran a whole second over, so a paced run samples often.
    ...(options.rate === undefined ? {} : { overallRate: options.rate, sampleInt: PACED_SAMPLE_MS }),
    requests: [
      {
        setupRequest: (request: RequestParams): RequestParams => {
          const next = options.next();
          return {
            ...request,
            method: next.method,
            path: next.path,
            headers: { ...(next.body === undefined ? {} : { 'content-type': 'application/json' }), ...next.headers },
            ...(next.body === undefined ? {} : { body: next.body }),
          };
        },
        onResponse: (status, body) => {
          if ((status < 200 || status > 299) && firstFailure === undefined) firstFailure = `${status} ${String(body).slice(0, 300)}`;
        },
      },
    ],
  });
  const endedAt = Date.now();
  const errors = result.errors + result.timeouts;
  if (firstFailure === undefined && errors > 0)
    firstFailure = `${result.errors} connection errors, ${result.timeouts} timeouts (after ${TIMEOUT_SECONDS}s)`;
  const completed = result['2xx'] + result.non2xx;
  return {
    requests: completed,
    requestsPerSecond: Math.round(completed / Math.max(result.duration, 0.001)),
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors,
    warmupFailures: 0,
    flagged: result.non2xx + errors > 0 || completed === 0,
    startedAt,
    endedAt,
    ...(firstFailure === undefined ? {} : { firstFailure }),
  };
}

/**
 * The run with the median throughput of several (its latencies with it); failures of every
 * run count, so one bad run flags the result.
 */
export function medianOf(runs: Measurement[]): Measurement {
  const sorted = [...runs].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  const failures = runs.find((r) => r.firstFailure !== undefined)?.firstFailure;
  return {
    ...median,
    non2xx: runs.reduce((sum, r) => sum + r.non2xx, 0),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
    warmupFailures: runs.reduce((sum, r) => sum + r.warmupFailures, 0),
    flagged: runs.some((r) => r.flagged),
    ...(failures === undefined ? {} : { firstFailure: failures }),
  };
}

/**
 * Drives one scenario over loopback: a warm-up (JIT, caches, connection pools) that is thrown
 * away, then the measured run.
 */
export async function measure(options: LoadOptions): Promise<Measurement> {
  const warmup = options.warmupSeconds > 0 ? await fire(options, options.warmupSeconds) : undefined;
  const measured = await fire(options, options.seconds);
  if (!warmup) return measured;
  const warmupFailures = warmup.non2xx + warmup.errors;
  const firstFailure = measured.firstFailure ?? warmup.firstFailure;
  return {
    ...measured,
    warmupFailures,
    flagged: measured.flagged || warmupFailures > 0,
    ...(firstFailure === undefined ? {} : { firstFailure }),
  };
}
