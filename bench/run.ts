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
  FLOOR_RATIO_TARGET, RESULTS_DIR, SCALE_RATIO_TARGET, formatResults, formatScale, machine, ratioOf, writeResults,
} from './report.js';
import type { ScaleResult, ScenarioResult } from './report.js';
import { SCALE_SCENARIOS, loadFixture, scenarios } from './scenarios.js';
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
  return { project, floor, stop: async () => { await stopFloor(); await stopProject(); } };
}

async function fixtureOf(dataset: Dataset, secretKey: string) {
  const database = createDatabase(dataset.url, { poolSize: 1 });
  try {
    return await loadFixture(database.db, secretKey);
  } finally {
    await database.close();
  }
}

async function drive(server: RunningServer, scenario: Scenario, connections: number, options: BenchOptions, progress: Progress): Promise<Measurement> {
  progress.status(`${scenario.name} → ${server.label}: ${connections} connections, ${options.warmupSeconds}s warm-up + ${options.seconds}s`);
  return measure({ origin: server.origin, connections, seconds: options.seconds, warmupSeconds: options.warmupSeconds, next: scenario.next });
}

function selected(all: Scenario[], only: readonly string[]): Scenario[] {
  const unknown = only.filter((name) => !all.some((s) => s.name === name));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; choose from ${all.map((s) => s.name).join(', ')}`);
  const chosen = only.length === 0 ? all : all.filter((s) => only.includes(s.name));
  // Draw one request now, so a data set too small for a scenario fails before any load runs.
  for (const scenario of chosen) scenario.next();
  return chosen;
}

async function prepare(target: string, options: BenchOptions, courses: number, progress: Progress): Promise<Dataset> {
  progress.status(`${dbLabel(target)}: data set of ${courses.toLocaleString('en')} courses`);
  const dataset = await prepareDataset({
    target, size: { ...options.size, courses }, seed: options.seed, keep: options.keep, fresh: options.fresh, progress,
  });
  const how = dataset.generated ? `generated in ${dataset.generated.seconds.toFixed(0)}s` : 'reused (pass --fresh to regenerate)';
  progress.status(`${dbLabel(target)}: data set ${dataset.name} ${how}`);
  progress.done();
  return dataset;
}

/** Whether the run met the targets, and whether every response was a 2xx. */
interface Outcome {
  met: boolean;
  clean: boolean;
}

async function runMain(target: string, options: BenchOptions, progress: Progress): Promise<Outcome> {
  const dataset = await prepare(target, options, options.size.courses, progress);
  const release = deferred(() => dataset.release());
  const secretKey = randomBytes(32).toString('hex');
  const results: ScenarioResult[] = [];
  try {
    const fixture = await fixtureOf(dataset, secretKey);
    const chosen = selected(scenarios(fixture, options.seed), options.only);
    const servers = await startServers(dataset, options, secretKey, options.floor && chosen.some((s) => s.floor));
    try {
      for (const scenario of chosen) {
        const connections = scenario.connections ?? options.connections;
        const projectRuns: Measurement[] = [];
        const floorRuns: Measurement[] = [];
        for (let round = 0; round < options.rounds; round++) {
          projectRuns.push(await drive(servers.project, scenario, connections, options, progress));
          if (scenario.floor && servers.floor) floorRuns.push(await drive(servers.floor, scenario, connections, options, progress));
        }
        const project = medianOf(projectRuns);
        const floor = floorRuns.length > 0 ? medianOf(floorRuns) : null;
        results.push({ scenario: scenario.name, kind: scenario.kind, connections, project, floor, ratio: ratioOf(project, floor) });
      }
    } finally {
      await servers.stop();
    }
  } finally {
    progress.done();
    await release();
  }

  const label = dbLabel(target);
  console.log(`\n${label}: ${describe(dataset)}\n`);
  console.log(formatResults(results));
  for (const r of results) {
    for (const [side, m] of [['project', r.project], ['floor', r.floor]] as const) {
      if (m?.firstFailure) console.log(`  ${r.scenario} (${side}) first failure: ${m.firstFailure}`);
    }
  }
  const file = writeResults(label, {
    kind: 'main', database: label, startedAt: new Date().toISOString(), machine: machine(), dataset: datasetInfo(dataset),
    settings: settingsOf(options), targets: { floorRatio: FLOOR_RATIO_TARGET }, results,
  });
  console.log(`\nwritten to ${path.relative(process.cwd(), file)}`);
  const clean = results.every((r) => !r.project.flagged && !(r.floor?.flagged ?? false));
  return { clean, met: clean && results.every((r) => r.ratio === null || r.ratio >= FLOOR_RATIO_TARGET) };
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

async function runScale(target: string, options: BenchOptions, progress: Progress): Promise<Outcome> {
  const measured = new Map<number, Map<string, Measurement>>();
  const cold = new Map<number, number>();
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
        for (const scenario of chosen) {
          const runs: Measurement[] = [];
          for (let round = 0; round < options.rounds; round++) runs.push(await drive(servers.project, scenario, options.connections, options, progress));
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
  console.log(`\nsearch with an empty cache (median of ${COLD_SEARCHES.length} new terms, one at a time): ` +
    `${coldSmall} ms at ${small.toLocaleString('en')}, ${coldLarge} ms at ${large.toLocaleString('en')} courses (×${(coldLarge / coldSmall).toFixed(1)})`);
  const file = writeResults(`${label}-scale`, {
    kind: 'scale', database: label, startedAt: new Date().toISOString(), machine: machine(),
    datasets: datasets.map(datasetInfo), settings: settingsOf(options), targets: { p50Ratio: SCALE_RATIO_TARGET }, results,
    coldSearchMs: { [small]: coldSmall, [large]: coldLarge },
  });
  console.log(`\nwritten to ${path.relative(process.cwd(), file)}`);
  const clean = results.every((r) => r.p50Ratio !== null);
  return { clean, met: clean && results.every((r) => r.p50Ratio !== null && r.p50Ratio <= SCALE_RATIO_TARGET) };
}

const describe = (d: Dataset) =>
  `${d.size.courses.toLocaleString('en')} courses, ${d.size.students.toLocaleString('en')} students, ` +
  `${d.size.enrollments.toLocaleString('en')} enrollments, ${d.size.reviews.toLocaleString('en')} reviews`;
const datasetInfo = (d: Dataset) => ({ name: d.name, size: d.size, generated: d.generated });
const settingsOf = (o: BenchOptions) => ({
  seconds: o.seconds, warmupSeconds: o.warmupSeconds, readConnections: o.connections, rounds: o.rounds, seed: o.seed, quick: o.quick,
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
        for (const courses of options.scale ? options.scaleCourses : [options.size.courses]) await prepare(target, { ...options, keep: true }, courses, progress);
      }
      return 0;
    }
    for (const target of options.targets) {
      const outcome = options.scale ? await runScale(target, options, progress) : await runMain(target, options, progress);
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
