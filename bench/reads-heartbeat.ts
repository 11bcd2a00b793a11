import { measure, medianOf } from './load.js';
import type { LoadOptions, Measurement } from './load.js';
import type { HeartbeatStream, Scenario } from './scenarios.js';

/**
 * Issue 11: `PUT /api/lessons/{id}/position/` at 200 requests/s from distinct students while
 * the read scenarios run. Each read scenario is measured alone, then again beside a second
 * load generator that sends the heartbeat at a fixed overall rate (both in this process, both
 * against the project server); the reads should keep 90 % of their throughput, and the
 * heartbeat should see no failure.
 */
export const READS_HEARTBEAT_SCENARIO = 'reads+heartbeat';
export const HEARTBEAT_RATE = 200;
/** Each sends rate ÷ connections a second, so a report may wait up to 1 s ÷ (its share) for its turn. */
export const HEARTBEAT_STREAM_CONNECTIONS = 10;
export const READS_WITH_HEARTBEAT_TARGET = 0.9;

export interface ReadsHeartbeatRun {
  origin: string;
  reads: Scenario[];
  stream: HeartbeatStream;
  /** The heartbeat's requests per second over all its connections. */
  rate: number;
  readConnections: number;
  rounds: number;
  seconds: number;
  warmupSeconds: number;
  status: (text: string) => void;
}

export interface ReadWithHeartbeat {
  scenario: string;
  alone: Measurement;
  with: Measurement;
  /** The heartbeat stream's median run (by its achieved rate). */
  heartbeat: Measurement;
  /** with ÷ alone (req/s); null when any of the three is flagged. */
  ratio: number | null;
}

export interface ReadsHeartbeatResult {
  rate: number;
  streamConnections: number;
  readConnections: number;
  students: number;
  pairs: number;
  results: ReadWithHeartbeat[];
}

/** The read run and the heartbeat run side by side: same warm-up, same measured seconds. */
async function besideHeartbeat(read: LoadOptions, heartbeat: LoadOptions): Promise<{ read: Measurement; heartbeat: Measurement }> {
  const [readRun, heartbeatRun] = await Promise.all([measure(read), measure(heartbeat)]);
  return { read: readRun, heartbeat: heartbeatRun };
}

const ratioOf = (alone: Measurement, beside: Measurement, heartbeat: Measurement) =>
  alone.flagged || beside.flagged || heartbeat.flagged || alone.requestsPerSecond === 0
    ? null
    : Math.round((beside.requestsPerSecond / alone.requestsPerSecond) * 100) / 100;

async function oneRead(run: ReadsHeartbeatRun, scenario: Scenario): Promise<ReadWithHeartbeat> {
  const timing = { origin: run.origin, seconds: run.seconds, warmupSeconds: run.warmupSeconds };
  const read: LoadOptions = { ...timing, connections: run.readConnections, next: scenario.next };
  const heartbeat: LoadOptions = { ...timing, connections: HEARTBEAT_STREAM_CONNECTIONS, next: run.stream.next, rate: run.rate };
  const alone: Measurement[] = [];
  const beside: { read: Measurement; heartbeat: Measurement }[] = [];
  for (let round = 0; round < run.rounds; round++) {
    run.status(`${scenario.name} alone (round ${round + 1} of ${run.rounds})`);
    alone.push(await measure(read));
    run.status(`${scenario.name} with the heartbeat at ${run.rate}/s (round ${round + 1} of ${run.rounds})`);
    beside.push(await besideHeartbeat(read, heartbeat));
  }
  // Each stream's median run, as medianOf takes it; failures of every round count.
  const withMedian = medianOf(beside.map((b) => b.read));
  const heartbeatMedian = medianOf(beside.map((b) => b.heartbeat));
  const aloneMedian = medianOf(alone);
  return {
    scenario: scenario.name,
    alone: aloneMedian,
    with: withMedian,
    heartbeat: heartbeatMedian,
    ratio: ratioOf(aloneMedian, withMedian, heartbeatMedian),
  };
}

export async function runReadsWithHeartbeat(run: ReadsHeartbeatRun): Promise<ReadsHeartbeatResult> {
  const results: ReadWithHeartbeat[] = [];
  for (const scenario of run.reads) results.push(await oneRead(run, scenario));
  return {
    rate: run.rate,
    streamConnections: HEARTBEAT_STREAM_CONNECTIONS,
    readConnections: run.readConnections,
    students: run.stream.students,
    pairs: run.stream.pairs,
    results,
  };
}

export const readsHeartbeatClean = (r: ReadsHeartbeatResult) =>
  r.results.every((x) => !x.alone.flagged && !x.with.flagged && !x.heartbeat.flagged);
export const readsHeartbeatMet = (r: ReadsHeartbeatResult) =>
  r.results.every((x) => x.ratio !== null && x.ratio >= READS_WITH_HEARTBEAT_TARGET);

const ms = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(value >= 10 ? 1 : 2));
const failures = (m: Measurement) => (m.flagged ? `${m.non2xx + m.errors + m.warmupFailures} FLAGGED` : '0');

export function formatReadsHeartbeat(r: ReadsHeartbeatResult): string {
  const header = [
    'scenario',
    'alone req/s',
    'p50 ms',
    'p99 ms',
    'with req/s',
    'p50 ms',
    'p99 ms',
    'with ÷ alone',
    `≥ ${READS_WITH_HEARTBEAT_TARGET}`,
    'heartbeat req/s',
    'p50 ms',
    'p99 ms',
    'non-2xx/errors',
  ];
  const rows = r.results.map((x) => [
    x.scenario,
    String(x.alone.requestsPerSecond),
    ms(x.alone.p50),
    ms(x.alone.p99),
    String(x.with.requestsPerSecond),
    ms(x.with.p50),
    ms(x.with.p99),
    x.ratio === null ? 'FLAGGED' : x.ratio.toFixed(2),
    x.ratio === null ? '' : x.ratio >= READS_WITH_HEARTBEAT_TARGET ? 'ok' : 'BELOW',
    String(x.heartbeat.requestsPerSecond),
    ms(x.heartbeat.p50),
    ms(x.heartbeat.p99),
    `${failures(x.alone)} / ${failures(x.with)} / ${failures(x.heartbeat)}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const intro =
    `heartbeat PUT /api/lessons/{id}/position/ at ${r.rate}/s (${r.streamConnections} connections, ` +
    `${r.students} students, ${r.pairs} student-lesson pairs in turn) beside each read scenario (${r.readConnections} connections); ` +
    'non-2xx/errors: alone / with / heartbeat';
  return [intro, line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
