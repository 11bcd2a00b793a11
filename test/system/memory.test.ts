import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { setTimeout } from 'node:timers/promises';
import { runInNewContext } from 'node:vm';
import { buildTestApp, onPostgres } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import {
  createAdmin,
  createCategory,
  createCourse,
  createInstructor,
  createLessons,
  createStudent,
  insertReviewRow,
} from '../helpers/factories.js';
import { call } from '../helpers/http.js';
import type { TestUser } from '../helpers/factories.js';

/**
 * Issue 10, item 1 and "Resource tests": memory must not follow the number of distinct
 * query strings clients send. Every cache keyed by client input (prepared query shapes per
 * ordering, SQLite statements and PostgreSQL statement names per SQL text, catalog counts
 * and rankings per filter) must be bounded. Before the fix, 20,000 distinct orderings kept
 * +350 MiB of heap.
 */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const WARM_UP = 2_000;
const TOTAL = 20_000;
/**
 * Growth allowed, measured after a full GC. Heap, from the warm-up to the end: the bounded
 * caches keep at most ~1,000 entries each, a few MiB of JS objects, while a cache keeping one
 * entry per distinct string grows ~17 KiB each (350 MiB / 20,000), hundreds of MiB over the
 * 18,000 new strings: 30 MiB separates the two by an order of magnitude. RSS also holds the
 * native SQLite statements (~70 KiB each for the catalog's: filling the 1,000-statement cache
 * takes RSS from ~250 to ~320 MiB between 2,000 and 10,000 strings) and the allocator's slack,
 * so it is held flat over the second half, once every bounded cache is full: under 30 MiB
 * for 10,000 more distinct strings, where one retained statement or entry per string would
 * add 170 MiB or more.
 */
const HEAP_BOUND = 30 * 2 ** 20;
const RSS_BOUND = 30 * 2 ** 20;

const FIELDS = ['price', 'created_at', 'updated_at', 'title', 'average_rating', 'students_count', 'reviews_count'];

/** Every distinct ordering of one to four fields, each ascending or descending (15,302 of them). */
function allOrderings(): string[] {
  const out: string[] = [];
  const extend = (terms: string[], used: Set<string>) => {
    if (terms.length > 0) out.push(terms.join(','));
    if (terms.length === 4) return;
    for (const field of FIELDS) {
      if (used.has(field)) continue;
      for (const sign of ['', '-']) extend([...terms, `${sign}${field}`], new Set([...used, field]));
    }
  };
  extend([], new Set());
  return out;
}
const ORDERINGS = allOrderings();
const ordering = (n: number) => ORDERINGS[n % ORDERINGS.length] ?? '';

describe(`memory stays flat over ${TOTAL} distinct query strings (${onPostgres ? 'postgres' : 'sqlite'})`, () => {
  let app: TestApp;
  let student: TestUser;
  let admin: TestUser;
  let courseId = 0;
  before(async () => {
    // The run can outlast the default 5-minute access token on a busy machine.
    app = await buildTestApp({ ACCESS_TOKEN_TTL: '3600' });
    const instructor = await createInstructor(app);
    student = await createStudent(app);
    admin = await createAdmin(app);
    const category = await createCategory(app, { name: 'Memory' });
    for (let i = 0; i < 6; i++) {
      const course = await createCourse(app, { instructor, category_id: category.id, title: `Python memory ${i}`, price_cents: i * 500 });
      courseId = course.id;
      await createLessons(app, course.id, 2);
      await insertReviewRow(app, student.user.id, course.id, { rating: 1 + (i % 5) });
    }
  });
  after(() => app.close());

  /**
   * The n-th query string. Every other one is a catalog ordering (with or without a category),
   * which is what creates new SQL text; the rest are searches, rating floors and other lists,
   * which are new keys of the catalog cache. So the warm-up already fills every bounded cache
   * (1,000 orderings, 1,000 other keys) and what follows can only show an unbounded one.
   */
  function query(n: number): { url: string; as?: TestUser } {
    const k = Math.floor(n / 4);
    switch (n % 4 === 1 || n % 4 === 3 ? 4 + (k % 4) : n % 4) {
      case 0:
        return { url: `/api/courses/?ordering=${ordering(k)}` };
      case 2:
        return { url: `/api/courses/?category=memory&ordering=${ordering(k)}&page_size=${1 + (k % 100)}` };
      case 4:
        return { url: `/api/courses/?search=py${n.toString(36)}` };
      case 5:
        return { url: `/api/courses/?min_rating=${(1 + (n % 40_000) / 10_000).toFixed(4)}&page_size=${k}` };
      case 6:
        return { url: `/api/reviews/?course=${courseId}&ordering=${k % 2 ? '-' : ''}rating,${k % 3 ? '-' : ''}created_at&page_size=${n}` };
      default:
        return { url: `/api/admin/users/?search=u${n.toString(36)}&ordering=${k % 2 ? '-' : ''}username`, as: admin };
    }
  }

  /** Sends the query strings from..to-1 one after another; the statuses seen. */
  async function send(from: number, to: number): Promise<Record<number, number>> {
    const statuses: Record<number, number> = {};
    for (let n = from; n < to; n++) {
      const { url, as } = query(n);
      const res = await call(app, 'GET', url, as ? { as } : {});
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      // A server turns the event loop between requests; inject() back to back in one
      // promise chain never reaches the timers phase, where per-request cleanup runs, and
      // would measure that backlog (~13 KiB a request) instead of the caches.
      if (n % 32 === 0) await setTimeout(1);
    }
    return statuses;
  }

  function measure(): { heap: number; rss: number } {
    for (let i = 0; i < 3; i++) gc();
    const { heapUsed, rss } = process.memoryUsage();
    return { heap: heapUsed, rss };
  }

  it(`heap and RSS after ${WARM_UP} and after ${TOTAL} distinct query strings`, { timeout: 600_000 }, async (t) => {
    const distinct = new Set(Array.from({ length: TOTAL }, (_, n) => query(n).url));
    assert.equal(distinct.size, TOTAL, 'every query string differs');

    const warm = await send(0, WARM_UP);
    const before = measure();
    const middle = await send(WARM_UP, TOTAL / 2);
    const half = measure();
    const rest = await send(TOTAL / 2, TOTAL);
    const end = measure();
    const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
    for (const [n, m] of [
      [WARM_UP, before],
      [TOTAL / 2, half],
      [TOTAL, end],
    ] as const) {
      t.diagnostic(`after ${n}: heap ${mb(m.heap)}, rss ${mb(m.rss)}`);
    }
    t.diagnostic(`statuses: ${JSON.stringify(warm)}, ${JSON.stringify(middle)}, ${JSON.stringify(rest)}`);
    for (const statuses of [warm, middle, rest]) {
      assert.deepEqual(Object.keys(statuses), ['200'], `every request answered 200: ${JSON.stringify(statuses)}`);
    }
    assert.ok(end.heap - before.heap < HEAP_BOUND, `heap grew ${mb(end.heap - before.heap)}`);
    assert.ok(end.rss - half.rss < RSS_BOUND, `rss grew ${mb(end.rss - half.rss)} over the second half`);
  });
});
