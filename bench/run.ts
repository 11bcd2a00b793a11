import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createDatabase } from '../src/db/index.js';
import { prepareDataset } from './datasets.js';
import type { Dataset } from './datasets.js';
import { measure, medianOf } from './load.js';
import type { Measurement } from './load.js';
import { USAGE, parseOptions } from './options.js';
import type { BenchOptions } from './options.js';
import { createProgress } from './progress.js';
import type { Progress } from './progress.js';
import {
  FLOOR_RATIO_TARGET,
  RESULTS_DIR,
  SCALE_RATIO_TARGET,
  formatResults,
  formatScale,
  machine,
  ratioOf,
  writeResults,
} from './report.js';
import type { ScaleResult, ScenarioResult } from './report.js';
import { READ_SCENARIOS, SCALE_SCENARIOS, WEBHOOKS_SCENARIO, heartbeatStream, loadFixture, scenarios, searchMix } from './scenarios.js';
import {
  ANALYTICS_ENROLLMENTS,
  ANALYTICS_P50_TARGET_MS,
  ANALYTICS_QUICK_ENROLLMENTS,
  ANALYTICS_RUNS,
  ANALYTICS_SCENARIO,
  analyticsMet,
  formatAnalytics,
  measureAnalytics,
} from './analytics.js';
import type { AnalyticsResult } from './analytics.js';
import {
  HEARTBEAT_RATE,
  READS_HEARTBEAT_SCENARIO,
  READS_WITH_HEARTBEAT_TARGET,
  formatReadsHeartbeat,
  readsHeartbeatClean,
  readsHeartbeatMet,
  runReadsWithHeartbeat,
} from './reads-heartbeat.js';
import type { ReadsHeartbeatResult } from './reads-heartbeat.js';
import { WEBHOOK_SLOWDOWN_TARGET, formatWebhooks, runWebhooks, webhookClean } from './webhooks.js';
import type { WebhookResult } from './webhooks.js';
import { LIVE_QUICK_SIZE, LIVE_SIZE, createAdminByCli, growThroughApi, rssKiB } from './live.js';
import { DATA_DIR } from './datasets.js';
import { rmSync, mkdirSync } from 'node:fs';
import pg from 'pg';
import type { Scenario } from './scenarios.js';
import { floorServer, freePort, projectServer, serverEnv } from './servers.js';
import type { RunningServer } from './servers.js';

const dbLabel = (target: string) => (target === 'sqlite' ? 'sqlite' : 'postgres');
const PROFILE_DIR = path.join(RESULTS_DIR, 'profiles');

/** Things to undo however the run ends (Ctrl-C included): servers to stop, databases to drop. */
const cleanups: (() => Promise<void>)[] = [];
async function cleanUp(): Promise<void> {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => {});
}
function deferred(undo: () => Promise<void>): () => Promise<void> {
  cleanups.push(undo);
  return async () => {
    cleanups.splice(cleanups.indexOf(undo), 1);
    await undo();
  };
}

interface Servers {
  project: RunningServer;
  floor: RunningServer | null;
  stop(): Promise<void>;
}

async function startServers(dataset: Dataset, options: BenchOptions, secretKey: string, withFloor: boolean): Promise<Servers> {
  const profiles = options.cpuProfile ? PROFILE_DIR : undefined;
  const project = await projectServer(serverEnv(dataset.url, secretKey, await freePort()), profiles);
  const stopProject = deferred(() => project.stop());
  let floor: RunningServer | null = null;
  let stopFloor = async () => {};
  try {
    if (withFloor) {
      floor = await floorServer(serverEnv(dataset.url, secretKey, await freePort()), profiles);
      const running = floor;
      stopFloor = deferred(() => running.stop());
    }
  } catch (error) {
    await stopProject();
    throw error;
  }
  return {
    project,
    floor,
    stop: async () => {
      await stopFloor();
      await stopProject();
    },
  };
}

async function fixtureOf(dataset: Dataset, secretKey: string) {
  const database = createDatabase(dataset.url, { poolSize: 1 });
  try {
    return await loadFixture(database.db, secretKey);
  } finally {
    await database.close();
  }
}

async function drive(
  server: RunningServer,
  scenario: Scenario,
  connections: number,
  options: BenchOptions,
  progress: Progress,
): Promise<Measurement> {
  progress.status(
    `${scenario.name} → ${server.label}: ${connections} connections, ${options.warmupSeconds}s warm-up + ${options.seconds}s`,
  );
  return measure({
    origin: server.origin,
    connections,
    seconds: options.seconds,
    warmupSeconds: options.warmupSeconds,
    next: scenario.next,
  });
}

/** A scenario's connections: its own, --write-connections for writes when given, else the read default. */
const connectionsOf = (scenario: Scenario, options: BenchOptions) =>
  scenario.kind === 'write' && options.writeConnections !== null ? options.writeConnections : (scenario.connections ?? options.connections);

function selected(all: Scenario[], only: readonly string[]): Scenario[] {
  const unknown = only.filter((name) => !all.some((s) => s.name === name));
  if (unknown.length > 0)
    throw new Error(`unknown scenario ${unknown.join(', ')}; choose from ${[...all.map((s) => s.name), ...PAIRED].join(', ')}`);
  const chosen = only.length === 0 ? all : all.filter((s) => only.includes(s.name));
  // Draw one request now, so a data set too small for a scenario fails before any load runs.
  for (const scenario of chosen) scenario.next();
  return chosen;
}

async function prepare(target: string, options: BenchOptions, courses: number, progress: Progress): Promise<Dataset> {
  progress.status(`${dbLabel(target)}: data set of ${courses.toLocaleString('en')} courses`);
  const dataset = await prepareDataset({
    target,
    size: { ...options.size, courses },
    seed: options.seed,
    keep: options.keep,
    fresh: options.fresh,
    progress,
  });
  const how = dataset.generated ? `generated in ${dataset.generated.seconds.toFixed(0)}s` : 'reused (pass --fresh to regenerate)';
  progress.status(`${dbLabel(target)}: data set ${dataset.name} ${how}`);
  progress.done();
  return dataset;
}

/** Whether the run met the issue's targets, and whether every response was a 2xx. */
interface Outcome {
  met: boolean;
  clean: boolean;
}

/** Names of --only that run other scenarios' requests in a setting of their own (or none of the data set's). */
const PAIRED = [WEBHOOKS_SCENARIO, READS_HEARTBEAT_SCENARIO, ANALYTICS_SCENARIO];

/** What a main run measures, from --only: empty runs everything but analytics (over a minute per database; it asks to be named). */
interface Plan {
  scenarios: string[];
  webhooks: boolean;
  /** The read scenarios to measure without and with the heartbeat; empty: not at all. */
  readsWithHeartbeat: string[];
  analytics: boolean;
}

function planOf(only: readonly string[]): Plan {
  const all = only.length === 0;
  const scenarios = only.filter((name) => !PAIRED.includes(name));
  const namedReads = scenarios.filter((name) => (READ_SCENARIOS as readonly string[]).includes(name));
  const heartbeat = all || only.includes(READS_HEARTBEAT_SCENARIO);
  return {
    scenarios,
    webhooks: all || only.includes(WEBHOOKS_SCENARIO),
    readsWithHeartbeat: heartbeat ? (namedReads.length > 0 ? namedReads : [...READ_SCENARIOS]) : [],
    analytics: only.includes(ANALYTICS_SCENARIO),
  };
}

/** What the run on the generated data set measured. */
interface OnDataset {
  dataset: Dataset;
  results: ScenarioResult[];
  cold: ColdMix | null;
  webhooks: WebhookResult | null;
  readsHeartbeat: ReadsHeartbeatResult | null;
  peakRss: number | null;
}

async function measureScenarios(
  servers: Servers,
  chosen: Scenario[],
  options: BenchOptions,
  progress: Progress,
): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const scenario of chosen) {
    const connections = connectionsOf(scenario, options);
    const projectRuns: Measurement[] = [];
    const floorRuns: Measurement[] = [];
    for (let round = 0; round < options.rounds; round++) {
      projectRuns.push(await drive(servers.project, scenario, connections, options, progress));
      if (scenario.floor && servers.floor) floorRuns.push(await drive(servers.floor, scenario, connections, options, progress));
    }
    const project = medianOf(projectRuns);
    const floor = floorRuns.length > 0 ? medianOf(floorRuns) : null;
    results.push({
      scenario: scenario.name,
      kind: scenario.kind,
      connections,
      project,
      floor,
      ratio: ratioOf(project, floor),
      peakRssMiB: await peakRssMiB(servers.project),
    });
  }
  return results;
}

async function measureOnDataset(target: string, plan: Plan, options: BenchOptions, progress: Progress): Promise<OnDataset> {
  const dataset = await prepare(target, options, options.size.courses, progress);
  const release = deferred(() => dataset.release());
  const secretKey = randomBytes(32).toString('hex');
  const measured: OnDataset = { dataset, results: [], cold: null, webhooks: null, readsHeartbeat: null, peakRss: null };
  try {
    const fixture = await fixtureOf(dataset, secretKey);
    const all = scenarios(fixture, options.seed);
    const chosen = options.only.length > 0 && plan.scenarios.length === 0 ? [] : selected(all, plan.scenarios);
    const writeMix = all.find((s) => s.name === 'write-mix')!;
    if (plan.webhooks) {
      writeMix.next();
      if (!fixture.adminToken) throw new Error('the data set has no admin for the webhooks scenario; regenerate it (--fresh)');
    }
    const pairedReads = plan.readsWithHeartbeat.length > 0 ? selected(all, plan.readsWithHeartbeat) : [];
    const stream = pairedReads.length > 0 ? heartbeatStream(fixture, options.seed) : null;
    const servers = await startServers(dataset, options, secretKey, options.floor && chosen.some((s) => s.floor));
    try {
      if (chosen.some((s) => s.name === 'search-mix')) measured.cold = await coldSearchMix(servers.project.origin, options.seed, progress);
      measured.results = await measureScenarios(servers, chosen, options, progress);
      if (plan.webhooks) {
        const connections = connectionsOf(writeMix, options);
        measured.webhooks = await runWebhooks({
          origin: servers.project.origin,
          databaseUrl: dataset.url,
          adminToken: fixture.adminToken!,
          rounds: options.rounds,
          connections,
          drive: () => drive(servers.project, writeMix, connections, options, progress),
          status: (text) => progress.status(text),
        });
      }
      if (stream)
        measured.readsHeartbeat = await runReadsWithHeartbeat({
          origin: servers.project.origin,
          reads: pairedReads,
          stream,
          rate: HEARTBEAT_RATE,
          readConnections: options.connections,
          rounds: options.rounds,
          seconds: options.seconds,
          warmupSeconds: options.warmupSeconds,
          status: (text) => progress.status(`${READS_HEARTBEAT_SCENARIO}: ${text}`),
        });
      measured.peakRss = await peakRssMiB(servers.project);
    } finally {
      await servers.stop();
    }
  } finally {
    progress.done();
    await release();
  }
  return measured;
}

/** The analytics scenario: the big course loaded into an empty database of the target, dropped afterwards. */
async function analyticsOn(target: string, options: BenchOptions, progress: Progress): Promise<AnalyticsResult> {
  const enrollments = options.quick ? ANALYTICS_QUICK_ENROLLMENTS : ANALYTICS_ENROLLMENTS;
  const database = await emptyDatabase(target, 'analytics', false);
  const drop = deferred(() => database.drop());
  try {
    progress.status(`${dbLabel(target)}: analytics, one course with ${enrollments.toLocaleString('en')} enrollments (${database.name})`);
    return await measureAnalytics(database.url, { enrollments, runs: ANALYTICS_RUNS });
  } finally {
    progress.done();
    await drop();
  }
}

function printOnDataset(label: string, m: OnDataset): void {
  console.log(`\n${label}: ${describe(m.dataset)}`);
  if (m.results.length > 0) console.log(`\n${formatResults(m.results)}`);
  for (const r of m.results) {
    for (const [side, run] of [
      ['project', r.project],
      ['floor', r.floor],
    ] as const) {
      if (run?.firstFailure) console.log(`  ${r.scenario} (${side}) first failure: ${run.firstFailure}`);
    }
  }
  if (m.cold) console.log(`\nsearch mix with an empty cache: ${formatCold(m.cold)}`);
  if (m.webhooks) console.log(`\nwebhook delivery:\n${formatWebhooks(m.webhooks)}`);
  if (m.readsHeartbeat) {
    console.log(`\n${formatReadsHeartbeat(m.readsHeartbeat)}`);
    for (const r of m.readsHeartbeat.results) {
      const failure = r.alone.firstFailure ?? r.with.firstFailure ?? r.heartbeat.firstFailure;
      if (failure) console.log(`  ${r.scenario} (${READS_HEARTBEAT_SCENARIO}) first failure: ${failure}`);
    }
  }
  console.log(`\npeak RSS of the project server: ${m.peakRss ?? '?'} MiB`);
}

function outcomeOf(m: OnDataset | null, analytics: AnalyticsResult | null): Outcome {
  const results = m?.results ?? [];
  const clean =
    results.every((r) => !r.project.flagged && !(r.floor?.flagged ?? false)) &&
    (!m?.webhooks || webhookClean(m.webhooks)) &&
    (!m?.readsHeartbeat || readsHeartbeatClean(m.readsHeartbeat));
  const webhooksMet = !m?.webhooks || (m.webhooks.slowdown !== null && m.webhooks.slowdown <= WEBHOOK_SLOWDOWN_TARGET);
  const met =
    clean &&
    webhooksMet &&
    results.every((r) => r.ratio === null || r.ratio >= FLOOR_RATIO_TARGET) &&
    (!m?.readsHeartbeat || readsHeartbeatMet(m.readsHeartbeat)) &&
    (!analytics || analyticsMet(analytics));
  return { clean, met };
}

async function runMain(target: string, options: BenchOptions, progress: Progress): Promise<Outcome> {
  const plan = planOf(options.only);
  const needsDataset = options.only.length === 0 || plan.scenarios.length > 0 || plan.webhooks || plan.readsWithHeartbeat.length > 0;
  const measured = needsDataset ? await measureOnDataset(target, plan, options, progress) : null;
  const analytics = plan.analytics ? await analyticsOn(target, options, progress) : null;

  const label = dbLabel(target);
  if (measured) printOnDataset(label, measured);
  if (analytics) console.log(`\n${label}: course analytics\n${formatAnalytics(analytics)}`);
  const file = writeResults(label, {
    kind: 'main',
    database: label,
    startedAt: new Date().toISOString(),
    machine: machine(),
    dataset: measured ? datasetInfo(measured.dataset) : null,
    settings: settingsOf(options),
    targets: {
      floorRatio: FLOOR_RATIO_TARGET,
      readsWithHeartbeat: READS_WITH_HEARTBEAT_TARGET,
      analyticsP50Ms: ANALYTICS_P50_TARGET_MS,
    },
    results: measured?.results ?? [],
    coldSearchMix: measured?.cold ?? null,
    webhooks: measured?.webhooks ?? null,
    readsHeartbeat: measured?.readsHeartbeat ?? null,
    analytics,
    peakRssMiB: measured?.peakRss ?? null,
  });
  console.log(`\nwritten to ${path.relative(process.cwd(), file)}`);
  return outcomeOf(measured, analytics);
}

/** Other terms than the scenario's, each asked once: what a search costs when no cache has it yet. */
const COLD_SEARCHES = ['rust', 'swift', 'ruby', 'scala', 'dart'];

/**
 * The project caches search answers for a few seconds, so under load the search scenario
 * mostly measures cache hits. This times searches nobody asked before (after one unmeasured
 * search to warm the code), one at a time, and returns the median in milliseconds.
 */
async function coldSearchMs(origin: string): Promise<number> {
  await fetch(`${origin}/api/courses/?search=kotlin`).then((r) => r.arrayBuffer());
  const times: number[] = [];
  for (const term of COLD_SEARCHES) {
    const started = performance.now();
    const response = await fetch(`${origin}/api/courses/?search=${term}`);
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`search=${term} answered ${response.status}`);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return Math.round(times[Math.floor(times.length / 2)]! * 10) / 10;
}

/** Latencies of searches that miss the cache: each query of the mix asked once, one at a time. */
export interface ColdMix {
  queries: number;
  p50: number;
  p99: number;
  max: number;
}

const COLD_MIX_SECONDS = 150;

/**
 * Asks every query of the search mix once, one at a time, on a server whose cache has none
 * of them (each is distinct after normalisation): the latency a search costs when nobody
 * asked it in the last 10 seconds. Stops after COLD_MIX_SECONDS.
 */
async function coldSearchMix(origin: string, seed: number, progress: Progress): Promise<ColdMix> {
  await fetch(`${origin}/api/courses/?search=warmup`).then((r) => r.arrayBuffer());
  const times: number[] = [];
  const deadline = performance.now() + COLD_MIX_SECONDS * 1000;
  for (const query of searchMix(seed)) {
    if (performance.now() > deadline) break;
    const started = performance.now();
    const response = await fetch(`${origin}/api/courses/?search=${encodeURIComponent(query)}`);
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`search=${query} answered ${response.status}`);
    times.push(performance.now() - started);
    if (times.length % 50 === 0) progress.status(`cold search mix: ${times.length} queries`);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => Math.round(times[Math.min(times.length - 1, Math.floor(q * times.length))]! * 10) / 10;
  return { queries: times.length, p50: at(0.5), p99: at(0.99), max: at(1) };
}

const formatCold = (c: ColdMix) => `${c.queries} distinct queries, p50 ${c.p50} ms, p99 ${c.p99} ms, max ${c.max} ms`;

/** Peak resident set of a server so far (VmHWM), in MiB; null off Linux. */
async function peakRssMiB(server: RunningServer): Promise<number | null> {
  const rss = await rssKiB(server.pid);
  return rss ? Math.round(rss.peak / 1024) : null;
}

async function runScale(target: string, options: BenchOptions, progress: Progress): Promise<Outcome> {
  const measured = new Map<number, Map<string, Measurement>>();
  const cold = new Map<number, number>();
  const coldMix = new Map<number, ColdMix>();
  const datasets: Dataset[] = [];
  for (const courses of options.scaleCourses) {
    const dataset = await prepare(target, options, courses, progress);
    datasets.push(dataset);
    const release = deferred(() => dataset.release());
    const secretKey = randomBytes(32).toString('hex');
    try {
      const fixture = await fixtureOf(dataset, secretKey);
      const chosen = selected(scenarios(fixture, options.seed), SCALE_SCENARIOS);
      const servers = await startServers(dataset, options, secretKey, false);
      const byScenario = new Map<string, Measurement>();
      try {
        progress.status(`${courses.toLocaleString('en')} courses: searches with an empty cache`);
        cold.set(courses, await coldSearchMs(servers.project.origin));
        coldMix.set(courses, await coldSearchMix(servers.project.origin, options.seed, progress));
        for (const scenario of chosen) {
          const runs: Measurement[] = [];
          for (let round = 0; round < options.rounds; round++)
            runs.push(await drive(servers.project, scenario, options.connections, options, progress));
          byScenario.set(scenario.name, medianOf(runs));
        }
      } finally {
        await servers.stop();
      }
      measured.set(courses, byScenario);
    } finally {
      progress.done();
      await release();
    }
  }
  const [small, large] = options.scaleCourses;
  const results: ScaleResult[] = SCALE_SCENARIOS.map((scenario) => {
    const s = measured.get(small)!.get(scenario)!;
    const l = measured.get(large)!.get(scenario)!;
    const p50Ratio = s.flagged || l.flagged ? null : Math.round((l.p50 / Math.max(s.p50, 0.001)) * 100) / 100;
    return { scenario, small: s, large: l, p50Ratio };
  });
  const label = dbLabel(target);
  console.log(`\n${label}: how latency grows with the catalog (${options.connections} connections)\n`);
  console.log(formatScale(results, small, large));
  const coldSmall = cold.get(small)!;
  const coldLarge = cold.get(large)!;
  console.log(
    `\nsearch with an empty cache (median of ${COLD_SEARCHES.length} new terms, one at a time): ` +
      `${coldSmall} ms at ${small.toLocaleString('en')}, ${coldLarge} ms at ${large.toLocaleString('en')} courses (×${(coldLarge / coldSmall).toFixed(1)})`,
  );
  for (const courses of options.scaleCourses)
    console.log(`cold search mix at ${courses.toLocaleString('en')} courses: ${formatCold(coldMix.get(courses)!)}`);
  const file = writeResults(`${label}-scale`, {
    kind: 'scale',
    database: label,
    startedAt: new Date().toISOString(),
    machine: machine(),
    datasets: datasets.map(datasetInfo),
    settings: settingsOf(options),
    targets: { p50Ratio: SCALE_RATIO_TARGET },
    results,
    coldSearchMs: { [small]: coldSmall, [large]: coldLarge },
    coldSearchMix: Object.fromEntries(coldMix),
  });
  console.log(`\nwritten to ${path.relative(process.cwd(), file)}`);
  const clean = results.every((r) => r.p50Ratio !== null);
  return { clean, met: clean && results.every((r) => r.p50Ratio !== null && r.p50Ratio <= SCALE_RATIO_TARGET) };
}

/** Live growth within this much of the same scenario after a restart counts as "plans stayed right". */
const LIVE_TARGET = 0.85;

interface LiveResult {
  scenario: string;
  live: Measurement;
  restarted: Measurement;
  floor: Measurement | null;
  /** live req/s ÷ restarted req/s. */
  ratio: number | null;
}

async function emptyDatabase(
  target: string,
  purpose: string,
  keep: boolean,
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `lp_bench_${purpose}_${Date.now()}`;
  if (target === 'sqlite') {
    mkdirSync(DATA_DIR, { recursive: true });
    const file = path.join(DATA_DIR, `${name}.sqlite3`);
    return {
      url: `sqlite:${file}`,
      name,
      drop: async () => {
        if (keep) return;
        for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
      },
    };
  }
  const admin = async (text: string) => {
    const client = new pg.Client({ connectionString: target });
    await client.connect();
    try {
      await client.query(text);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ${name}`);
  const url = new URL(target);
  url.pathname = `/${name}`;
  return { url: url.toString(), name, drop: async () => (keep ? undefined : admin(`drop database if exists ${name} with (force)`)) };
}

/**
 * The issue's live deployment: the server starts on an empty database (the first admin from
 * the CLI), the platform grows through its API while it runs, and the read scenarios are
 * measured on that same process; then it restarts on the same data and they are measured
 * again. A large gap means the server's plans (statistics) did not follow the growth.
 */
async function runLive(target: string, options: BenchOptions, progress: Progress): Promise<Outcome> {
  const size = options.quick ? LIVE_QUICK_SIZE : LIVE_SIZE;
  const database = await emptyDatabase(target, 'live', options.keep);
  const drop = deferred(() => database.drop());
  const secretKey = randomBytes(32).toString('hex');
  const dataset: Dataset = {
    kind: target === 'sqlite' ? 'sqlite' : 'postgres',
    url: database.url,
    name: database.name,
    size: { ...options.size, courses: size.courses },
    generated: null,
    release: async () => {},
  };
  const results: LiveResult[] = [];
  let growth: Awaited<ReturnType<typeof growThroughApi>>['phases'] = [];
  const rss: { live: number | null; restarted: number | null } = { live: null, restarted: null };
  let cold: { live: ColdMix | null; restarted: ColdMix | null } = { live: null, restarted: null };
  try {
    progress.status(`${dbLabel(target)}: empty database ${database.name}, first admin from the CLI`);
    const adminId = await createAdminByCli(database.url, secretKey);
    const live = await startServers(dataset, { ...options, cpuProfile: false }, secretKey, false);
    const measured = new Map<string, Measurement>();
    let chosen: Scenario[] = [];
    try {
      const grown = await growThroughApi(live.project.origin, secretKey, adminId, size, options.seed, (text) => progress.status(text));
      growth = grown.phases;
      chosen = selected(scenarios(grown.fixture, options.seed), options.only.length > 0 ? options.only : [...READ_SCENARIOS]).filter(
        (s) => s.kind === 'read',
      );
      if (chosen.some((s) => s.name === 'search-mix')) cold.live = await coldSearchMix(live.project.origin, options.seed, progress);
      for (const scenario of chosen) {
        const runs: Measurement[] = [];
        for (let round = 0; round < options.rounds; round++)
          runs.push(await drive(live.project, scenario, options.connections, options, progress));
        measured.set(scenario.name, medianOf(runs));
      }
      rss.live = await peakRssMiB(live.project);
    } finally {
      await live.stop();
    }
    progress.status('restarting on the same data');
    const restarted = await startServers(dataset, options, secretKey, options.floor);
    try {
      if (chosen.some((s) => s.name === 'search-mix'))
        cold.restarted = await coldSearchMix(restarted.project.origin, options.seed, progress);
      for (const scenario of chosen) {
        const runs: Measurement[] = [];
        const floorRuns: Measurement[] = [];
        for (let round = 0; round < options.rounds; round++) {
          runs.push(await drive(restarted.project, scenario, options.connections, options, progress));
          if (restarted.floor) floorRuns.push(await drive(restarted.floor, scenario, options.connections, options, progress));
        }
        const after = medianOf(runs);
        const before = measured.get(scenario.name)!;
        const ratio =
          before.flagged || after.flagged || after.requestsPerSecond === 0
            ? null
            : Math.round((before.requestsPerSecond / after.requestsPerSecond) * 100) / 100;
        results.push({
          scenario: scenario.name,
          live: before,
          restarted: after,
          floor: floorRuns.length > 0 ? medianOf(floorRuns) : null,
          ratio,
        });
      }
      rss.restarted = await peakRssMiB(restarted.project);
    } finally {
      await restarted.stop();
    }
  } finally {
    progress.done();
    await drop();
  }
  cold = { live: cold.live, restarted: cold.restarted };

  const label = dbLabel(target);
  console.log(
    `\n${label}: live growth through the API (${Object.entries(size)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')})\n`,
  );
  console.log(
    growth
      .map((g) => `  ${g.phase}: ${g.requests} requests in ${g.seconds}s (${Math.round(g.requests / Math.max(g.seconds, 0.001))}/s)`)
      .join('\n'),
  );
  const ms = (v: number) => String(v);
  const header = [
    'scenario',
    'live req/s',
    'p50',
    'p99',
    'restarted req/s',
    'p50',
    'p99',
    'live ÷ restarted',
    `≥ ${LIVE_TARGET}`,
    'floor req/s',
    'restarted ÷ floor',
    'errors',
  ];
  const rows = results.map((r) => [
    r.scenario,
    String(r.live.requestsPerSecond),
    ms(r.live.p50),
    ms(r.live.p99),
    String(r.restarted.requestsPerSecond),
    ms(r.restarted.p50),
    ms(r.restarted.p99),
    r.ratio === null ? 'FLAGGED' : r.ratio.toFixed(2),
    r.ratio === null ? '' : r.ratio >= LIVE_TARGET ? 'ok' : 'BELOW',
    r.floor ? String(r.floor.requestsPerSecond) : '-',
    r.floor ? String(ratioOf(r.restarted, r.floor) ?? '-') : '-',
    String(r.live.non2xx + r.live.errors + r.live.warmupFailures + r.restarted.non2xx + r.restarted.errors + r.restarted.warmupFailures),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`\n${[line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n')}`);
  if (cold.live && cold.restarted)
    console.log(`\nsearch mix with an empty cache: live ${formatCold(cold.live)}; restarted ${formatCold(cold.restarted)}`);
  console.log(`peak RSS of the project server: ${rss.live ?? '?'} MiB live (growth + reads), ${rss.restarted ?? '?'} MiB restarted`);
  const file = writeResults(`${label}-live`, {
    kind: 'live',
    database: label,
    startedAt: new Date().toISOString(),
    machine: machine(),
    size,
    growth,
    settings: settingsOf(options),
    targets: { liveOverRestarted: LIVE_TARGET },
    results,
    coldSearchMix: cold,
    peakRssMiB: rss,
  });
  console.log(`\nwritten to ${path.relative(process.cwd(), file)}`);
  const clean = results.every((r) => r.ratio !== null);
  return { clean, met: clean && results.every((r) => r.ratio !== null && r.ratio >= LIVE_TARGET) };
}

const describe = (d: Dataset) =>
  `${d.size.courses.toLocaleString('en')} courses, ${d.size.students.toLocaleString('en')} students, ` +
  `${d.size.enrollments.toLocaleString('en')} enrollments, ${d.size.reviews.toLocaleString('en')} reviews`;
const datasetInfo = (d: Dataset) => ({ name: d.name, size: d.size, generated: d.generated });
const settingsOf = (o: BenchOptions) => ({
  seconds: o.seconds,
  warmupSeconds: o.warmupSeconds,
  readConnections: o.connections,
  rounds: o.rounds,
  seed: o.seed,
  quick: o.quick,
  // A password in a --db URL stays out of the results file.
  argv: process.argv.slice(2).map((arg) => arg.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@')),
});

export async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (options === 'help') {
    console.log(USAGE);
    return 0;
  }
  const progress = createProgress();
  const onSignal = () => {
    progress.done();
    console.error('interrupted: stopping servers and removing temporary databases');
    void cleanUp().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let met = true;
  let clean = true;
  try {
    if (options.generateOnly) {
      for (const target of options.targets) {
        for (const courses of options.scale ? options.scaleCourses : [options.size.courses])
          await prepare(target, { ...options, keep: true }, courses, progress);
      }
      return 0;
    }
    for (const target of options.targets) {
      const outcome = options.live
        ? await runLive(target, options, progress)
        : options.scale
          ? await runScale(target, options, progress)
          : await runMain(target, options, progress);
      met &&= outcome.met;
      clean &&= outcome.clean;
    }
  } finally {
    await cleanUp();
  }
  console.log(met ? '\nEvery target met.' : '\nSome targets not met (see the tables above).');
  // Missing a target is a finding; a failed request is a broken run.
  if (!clean) console.log('Some scenarios had non-2xx responses or errors: FLAGGED above.');
  return clean ? 0 : 1;
}

if (/run\.(ts|js)$/.test(process.argv[1] ?? '')) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      void cleanUp().then(() => process.exit(1));
    },
  );
}
