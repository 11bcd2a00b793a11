import { parseArgs } from 'node:util';
import { DEFAULT_SIZE } from './generate.js';
import type { DatasetSize } from './generate.js';
import { READ_SCENARIOS } from './scenarios.js';

export interface BenchOptions {
  /** `sqlite`, or a PostgreSQL server URL whose user may create databases. */
  targets: string[];
  size: DatasetSize;
  seed: number;
  seconds: number;
  warmupSeconds: number;
  connections: number;
  /** Connections of the write scenarios (write mix, heartbeat, quiz attempts, webhooks); null: their own default (32). */
  writeConnections: number | null;
  /** Runs of each scenario (project and floor alternating); the median run is reported. */
  rounds: number;
  /** Scenario names to run; empty: all. */
  only: string[];
  floor: boolean;
  scale: boolean;
  scaleCourses: [number, number];
  keep: boolean;
  fresh: boolean;
  cpuProfile: boolean;
  quick: boolean;
  /** Only make (or find) the data sets, then stop. */
  generateOnly: boolean;
  /** Live growth: an empty database grown through the running server's API, measured before and after a restart. */
  live: boolean;
}

export const USAGE = `npm run bench -- [options]

  --db <sqlite|postgres://user@host:5432/db>  database to run on; repeat for several (default sqlite)
  --quick                 small data set and short runs: a smoke test in about a minute
  --scale                 catalog, search, search-mix and detail at 10,000 and at 1,000,000 courses instead
  --live                  live growth instead: start the server on an empty database, grow it through
                          the API (2,000 courses, 300 students, 3,000 enrollments, 1,500 reviews,
                          3,000 completions), measure the reads, restart on the same data, measure again
  --scale-courses a,b     the two catalog sizes of --scale (default 10000,1000000)
  --only a,b              run only these scenarios (${READ_SCENARIOS.join(', ')}, write-mix, heartbeat,
                          quiz-attempt, certificate-pdf, webhooks, reads+heartbeat, login, analytics);
                          webhooks runs the write mix without, then with, a webhook endpoint for every
                          event (a receiver in the bench process) and reports delivery rate, lag and the
                          API's slowdown; reads+heartbeat runs each read scenario (those named beside it,
                          else all) alone, then beside PUT /api/lessons/{id}/position/ at 200 req/s from
                          many students, and reports the reads' ratio (target >= 0.9) and the heartbeat's
                          rate, latency and failures; analytics (only when named: it takes over a minute
                          per database) loads one course with 100,000 enrollments (--quick: 10,000) into
                          an empty database and times its analytics and the instructor summary (p50 <= 20 ms)
  --duration <s>          measured seconds per scenario (default 10)
  --warmup <s>            unmeasured seconds before each (default 3)
  --connections <n>       connections for read scenarios (default 16; write mix, heartbeat, quiz-attempt 32,
                          login 8, certificate-pdf 4)
  --write-connections <n> connections for write-mix, heartbeat, quiz-attempt and webhooks (default 32)
  --rounds <n>            run each scenario n times, project and floor alternating, and report the
                          median run (default 1; the machine's noise is large on 2 shared cores)
  --no-floor              skip the floor server
  --courses <n> --categories <n> --instructors <n> --students <n> --enrollments <n>
  --reviews <n> --lesson-courses <n> --lessons-per-course <n>    data set sizes
  --seed <n>              data and request randomness (default 1)
  --fresh                 regenerate the data set even if a finished copy exists
  --keep                  keep the PostgreSQL database (it is reused by the next run with the same flags)
  --cpu-prof              write V8 CPU profiles of both servers to bench/results/profiles/
  --generate-only         make the data sets (with --scale: both sizes) and stop
`;

export const QUICK_SIZE: Readonly<DatasetSize> = {
  courses: 2_000,
  categories: 20,
  instructors: 50,
  students: 500,
  enrollments: 5_000,
  reviews: 2_000,
  lessonCourses: 200,
  lessonsPerCourse: 10,
};

function positive(name: string, raw: string | undefined, fallback: number, min = 1): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new Error(`--${name} must be a number >= ${min}, not "${raw}"`);
  return value;
}

export function parseOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      db: { type: 'string', multiple: true },
      quick: { type: 'boolean', default: false },
      scale: { type: 'boolean', default: false },
      'scale-courses': { type: 'string' },
      only: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      'write-connections': { type: 'string' },
      rounds: { type: 'string' },
      'no-floor': { type: 'boolean', default: false },
      courses: { type: 'string' },
      categories: { type: 'string' },
      instructors: { type: 'string' },
      students: { type: 'string' },
      enrollments: { type: 'string' },
      reviews: { type: 'string' },
      'lesson-courses': { type: 'string' },
      'lessons-per-course': { type: 'string' },
      seed: { type: 'string' },
      fresh: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      'cpu-prof': { type: 'boolean', default: false },
      'generate-only': { type: 'boolean', default: false },
      live: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const quick = values.quick;
  const base = quick ? QUICK_SIZE : DEFAULT_SIZE;
  const size: DatasetSize = {
    courses: positive('courses', values.courses, base.courses),
    categories: positive('categories', values.categories, base.categories),
    instructors: positive('instructors', values.instructors, base.instructors),
    students: positive('students', values.students, base.students),
    enrollments: positive('enrollments', values.enrollments, base.enrollments, 0),
    reviews: positive('reviews', values.reviews, base.reviews, 0),
    lessonCourses: positive('lesson-courses', values['lesson-courses'], base.lessonCourses, 0),
    lessonsPerCourse: positive('lessons-per-course', values['lessons-per-course'], base.lessonsPerCourse),
  };
  const scaleCourses = (values['scale-courses'] ?? (quick ? '1000,10000' : '10000,1000000'))
    .split(',')
    .map((v) => positive('scale-courses', v, 0));
  if (scaleCourses.length !== 2) throw new Error('--scale-courses takes two sizes, such as 10000,1000000');
  const targets = values.db ?? ['sqlite'];
  for (const target of targets) {
    if (target !== 'sqlite' && !/^postgres(ql)?:\/\//.test(target))
      throw new Error(`--db must be sqlite or a postgres:// URL, not "${target}"`);
  }
  return {
    targets,
    size,
    seed: positive('seed', values.seed, 1, 0),
    seconds: positive('duration', values.duration, quick ? 2 : 10),
    warmupSeconds: positive('warmup', values.warmup, quick ? 1 : 3, 0),
    connections: positive('connections', values.connections, 16),
    writeConnections: values['write-connections'] === undefined ? null : positive('write-connections', values['write-connections'], 1),
    rounds: positive('rounds', values.rounds, 1),
    only: values.only
      ? values.only
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : [],
    floor: !values['no-floor'],
    scale: values.scale,
    scaleCourses: [scaleCourses[0]!, scaleCourses[1]!],
    keep: values.keep,
    fresh: values.fresh,
    cpuProfile: values['cpu-prof'],
    quick,
    generateOnly: values['generate-only'],
    live: values.live,
  };
}
