import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { freshDatabaseUrl, onPostgres } from '../helpers/app.js';
import { startServer } from '../helpers/server.js';
import type { RunningServer } from '../helpers/server.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const TOUR_HEADING = '## A tour with curl';

interface Step {
  /** A ```sh block of the tour, run as it is written. */
  code: string;
  /** The block that follows it, if any: what the step prints. */
  output: string | undefined;
  /** The statuses its `# → NNN` comments announce, one per request, in order. */
  statuses: number[];
}

/** The tour section of the README: its shell blocks, each with the output block after it. */
function tourSteps(readme: string): Step[] {
  const start = readme.indexOf(`\n${TOUR_HEADING}\n`);
  assert.ok(start >= 0, `README.md has no "${TOUR_HEADING}" section`);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const blocks = [...section.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1], body: m[2] ?? '' }));
  const steps: Step[] = [];
  for (const [i, block] of blocks.entries()) {
    if (block.lang !== 'sh') continue;
    const next = blocks[i + 1];
    const statuses = [...block.body.matchAll(/^# → (\d{3})(?: ×(\d+))?/gm)].flatMap((m) =>
      Array<number>(Number(m[2] ?? 1)).fill(Number(m[1])),
    );
    steps.push({ code: block.body, output: next && next.lang !== 'sh' ? next.body : undefined, statuses });
  }
  return steps;
}

const hasTool = (name: string) => spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
const curlHasJson = () => spawnSync('sh', ['-c', 'curl --help all | grep -q -- --json']).status === 0;
const missing = ['bash', 'curl', 'jq'].filter((tool) => !hasTool(tool));
if (hasTool('curl') && !curlHasJson()) missing.push('curl 7.82 or newer (--json)');

describe(
  'the README tour, run as written against a real server',
  { skip: missing.length ? `needs ${missing.join(', ')} (.ci/run installs jq)` : false },
  () => {
    let work: string;
    let headers: string;
    const steps = tourSteps(readFileSync(path.join(root, 'README.md'), 'utf8'));
    let server: RunningServer;
    let dropDatabase: () => Promise<void> = async () => {};
    let env: Record<string, string>;

    before(async () => {
      work = mkdtempSync(path.join(tmpdir(), 'lp-tour-'));
      headers = path.join(work, 'headers');
      mkdirSync(headers);
      const db = await freshDatabaseUrl();
      dropDatabase = db.drop;
      env = {
        DATABASE_URL: onPostgres ? db.url : `sqlite:${path.join(work, 'db.sqlite3')}`,
        MEDIA_ROOT: path.join(work, 'media'),
        SECRET_KEY: randomBytes(32).toString('hex'),
        NODE_ENV: 'development',
        LOG_LEVEL: 'info',
      };
      server = await startServer(env, work);
    });
    after(async () => {
      await server?.stop();
      await dropDatabase();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it('walks every step with the statuses and outputs the README shows', async () => {
      // The tour covers what issue 12 asks of it: no step may silently drop out.
      const code = steps.map((s) => s.code).join('\n');
      for (const [what, pattern] of Object.entries({
        'create-admin': /npm run -s create-admin/,
        register: /\/api\/register\//,
        approve: /\/approve\//,
        'create a course': /"\$API\/api\/courses\/" -H/,
        'upload a thumbnail': /-F thumbnail=@docs\/tour-thumbnail\.png/,
        'create a lesson': /"\$API\/api\/lessons\/" -H/,
        publish: /"is_published": true/,
        enroll: /\/api\/enroll\/\$COURSE\//,
        complete: /\/complete\//,
        review: /"\$API\/api\/reviews\/"/,
      })) {
        assert.match(code, pattern, `the tour lost its "${what}" step`);
      }

      // One shell, the blocks in order (variables carry tokens and ids from step to step).
      // curl is wrapped only to keep each response's headers in a file: the requests are the README's.
      const script = [
        'set -euo pipefail',
        'curl() { command curl -D "$TOUR_HEADERS/$(date +%s%N)-$BASHPID" "$@"; }',
        ...steps.flatMap((step, i) => [`touch "$TOUR_HEADERS/$(date +%s%N)-step-${i}"`, `echo '@@step ${i}'`, step.code]),
      ].join('\n');
      writeFileSync(path.join(work, 'tour.sh'), script);
      const child = spawn('bash', [path.join(work, 'tour.sh')], {
        cwd: root,
        env: { ...process.env, ...env, API: `http://127.0.0.1:${server.port}`, TOUR_HEADERS: headers },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const exitCode = await new Promise<number | null>((resolve) => child.on('exit', resolve));

      const printed = stdout.split(/^@@step (\d+)\n/m);
      const outputOf = (i: number) => {
        const at = printed.indexOf(String(i), 1);
        return at < 0 ? undefined : (printed[at + 1] ?? '');
      };
      // The status of every response, by step, in the order the requests went.
      const statusesByStep: number[][] = steps.map(() => []);
      let current = -1;
      for (const name of readdirSync(headers).sort()) {
        const step = /-step-(\d+)$/.exec(name);
        if (step) {
          current = Number(step[1]);
          continue;
        }
        const lines = [...readFileSync(path.join(headers, name), 'utf8').matchAll(/^HTTP\/[\d.]+ (\d{3})/gm)];
        statusesByStep[current]?.push(Number(lines.at(-1)?.[1]));
      }

      for (const [i, step] of steps.entries()) {
        const where = `step ${i + 1} of the tour:\n${step.code}\nstderr: ${stderr}`;
        assert.notEqual(outputOf(i), undefined, `the tour stopped before ${where}`);
        assert.deepEqual(statusesByStep[i], step.statuses, `HTTP statuses of ${where}`);
        assert.equal(outputOf(i)?.trim(), (step.output ?? '').trim(), `output of ${where}`);
      }
      assert.equal(exitCode, 0, stderr);

      // What the tour made, read back independently of its own output.
      const api = async (url: string) => {
        const res = await fetch(`http://127.0.0.1:${server.port}${url}`);
        assert.equal(res.status, 200, url);
        return (await res.json()) as Record<string, unknown> & { results: Record<string, unknown>[] };
      };
      const [course] = (await api('/api/courses/?search=shell')).results;
      assert.ok(course);
      assert.equal(course.students_count, 1);
      assert.equal(course.average_rating, 5);
      const thumbnail = await fetch(String(course.thumbnail));
      const image = await sharp(Buffer.from(await thumbnail.arrayBuffer())).metadata();
      assert.deepEqual([image.format, image.width, image.height], ['png', 320, 180]);
      const reviews = await api(`/api/reviews/?course=${String(course.id)}`);
      assert.deepEqual(
        reviews.results.map((r) => [(r.student as { username: string }).username, r.rating, r.comment]),
        [['ben', 5, 'Short and clear.']],
      );
    });
  },
);
