// Runs the whole suite on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set.
// Each test file runs in its own process and builds its own fresh database.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..', 'test');
const files = readdirSync(root, { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.test.ts'))
  .filter((f) => process.argv.length <= 2 || process.argv.slice(2).some((arg) => f.includes(arg)))
  .map((f) => path.join('test', f))
  .sort();

const targets = [['sqlite', {}]];
if (process.env.TEST_DATABASE_URL) targets.push(['postgres', { TEST_DB: 'postgres' }]);

let failed = false;
for (const [name, env] of targets) {
  console.log(`\n# Test suite on ${name}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], {
    stdio: 'inherit',
    env: { ...process.env, TEST_DB: 'sqlite', ...env },
  });
  if (result.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
