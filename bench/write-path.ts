/**
 * Counts and times the statements of one lesson completion (POST and DELETE
 * /api/lessons/{id}/complete/) on a benchmark data set, in process: what the write mix costs
 * per request in round trips. `node --import tsx bench/write-path.ts <DATABASE_URL> [n]`
 */
import { randomBytes } from 'node:crypto';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createDatabase } from '../src/db/index.js';
import { loadFixture } from './scenarios.js';
import { serverEnv } from './servers.js';

const url = process.argv[2];
if (!url) throw new Error('usage: bench/write-path.ts <DATABASE_URL> [requests]');
const requests = Number(process.argv[3] ?? 2000);
const secretKey = randomBytes(32).toString('hex');
const statements: string[] = [];
let counting = false;
const database = createDatabase(url, {
  observe: (text) => {
    if (counting) statements.push(text);
  },
});
const app = await buildApp(loadConfig(serverEnv(url, secretKey, 0)), { database, logger: false });
const fixture = await loadFixture(database.db, secretKey);
const pick = (i: number) => fixture.completions[(i * 7919) % fixture.completions.length]!;

for (let i = 0; i < 200; i++) {
  const { token, lessonId } = pick(i);
  await app.inject({
    method: i % 2 ? 'DELETE' : 'POST',
    url: `/api/lessons/${lessonId}/complete/`,
    headers: { authorization: `Bearer ${token}` },
  });
}
counting = true;
const { token, lessonId } = pick(1);
const one = await app.inject({ method: 'POST', url: `/api/lessons/${lessonId}/complete/`, headers: { authorization: `Bearer ${token}` } });
counting = false;
console.log(`POST ${one.statusCode}: ${statements.length} statements`);
for (const s of statements) console.log(`  ${s.replace(/\s+/g, ' ').slice(0, 160)}`);

const started = performance.now();
const cpu = process.cpuUsage();
for (let i = 0; i < requests; i++) {
  const next = pick(i + 300);
  const r = await app.inject({
    method: i % 2 ? 'DELETE' : 'POST',
    url: `/api/lessons/${next.lessonId}/complete/`,
    headers: { authorization: `Bearer ${next.token}` },
  });
  if (r.statusCode !== 200) throw new Error(`${r.statusCode} ${r.body}`);
}
const used = process.cpuUsage(cpu);
const wall = performance.now() - started;
console.log(
  `${requests} completions one at a time: ${(wall / requests).toFixed(3)} ms wall, ${((used.user + used.system) / 1000 / requests).toFixed(3)} ms CPU per request (this process)`,
);
await app.close();
