/**
 * Peak memory of a real server process while it receives a 1 GiB video upload and while
 * it serves that video to 20 concurrent range readers.
 *
 *   node --import tsx bench/memory-upload.ts [--size-mib 1024] [--readers 20] [--tsx]
 *
 * The server is the production build (compiled with tsc into bench/.data/memory-dist and
 * started with plain node) unless --tsx is given, on a fresh SQLite database and media root
 * in a temporary folder. The upload body is generated while it is sent (a valid MP4 header,
 * then a repeating pattern), never held in memory. Memory is read from /proc/<pid>/status:
 * VmHWM (the kernel's peak resident set, reset between phases through clear_refs) and
 * VmRSS sampled every 50 ms. Everything it created is deleted at the end.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    'size-mib': { type: 'string', default: '1024' },
    readers: { type: 'string', default: '20' },
    'ranges-per-reader': { type: 'string', default: '8' },
    'range-mib': { type: 'string', default: '32' },
    tsx: { type: 'boolean', default: false },
  },
});
const MiB = 1024 * 1024;
const FILE_BYTES = Number(args['size-mib']) * MiB;
const READERS = Number(args.readers);
const RANGES_PER_READER = Number(args['ranges-per-reader']);
const RANGE_BYTES = Number(args['range-mib']) * MiB;
const ROOT = path.resolve(import.meta.dirname, '..');
const PASSWORD = 'bench-memory-password-1';

// ---- the file: an MP4 header (ftyp isom) then a pattern whose every byte is known ----
const box = (type: string, body: Buffer) => {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + body.length);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, body]);
};
const MP4_HEADER = Buffer.concat([
  box('ftyp', Buffer.concat([Buffer.from('isom'), Buffer.alloc(4), Buffer.from('isomiso2mp41')])),
  box('free', Buffer.alloc(8)),
]);
const PATTERN = Buffer.alloc(MiB);
for (let i = 0; i < MiB; i++) PATTERN[i] = i % 251;
const expectedByte = (position: number) =>
  position < MP4_HEADER.length ? (MP4_HEADER[position] ?? 0) : ((position - MP4_HEADER.length) % MiB) % 251;

// ---- memory of the server process ----
function status(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const match = /^(Vm\w+):\s+(\d+) kB/.exec(line);
    if (match?.[1] && match[2]) out[match[1]] = Number(match[2]) * 1024;
  }
  return out;
}

/** Runs one phase: resets the kernel's peak RSS, samples RSS meanwhile, returns both peaks. */
async function measured<T>(pid: number, run: () => Promise<T>): Promise<{ result: T; hwm: number; sampledPeak: number; seconds: number }> {
  writeFileSync(`/proc/${pid}/clear_refs`, '5'); // resets VmHWM to the current RSS
  let sampledPeak = 0;
  const timer = setInterval(() => {
    sampledPeak = Math.max(sampledPeak, status(pid).VmRSS ?? 0);
  }, 50);
  const started = performance.now();
  try {
    const result = await run();
    sampledPeak = Math.max(sampledPeak, status(pid).VmRSS ?? 0);
    return { result, hwm: status(pid).VmHWM ?? 0, sampledPeak, seconds: (performance.now() - started) / 1000 };
  } finally {
    clearInterval(timer);
  }
}

// ---- plumbing ----
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

function request(port: number, options: http.RequestOptions, body?: string | Buffer): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, ...options }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, json: text ? (JSON.parse(text) as unknown) : null });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function api(port: number, method: string, url: string, token: string | null, body?: unknown) {
  const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await request(port, { method, path: url, headers }, body === undefined ? undefined : JSON.stringify(body));
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(res.json)}`);
  return res.json as Record<string, unknown>;
}

/** POSTs a lesson whose video is generated while it is written, with backpressure. */
async function uploadVideo(port: number, token: string, courseId: number): Promise<Record<string, unknown>> {
  const boundary = 'memorybenchboundary';
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="course"\r\n\r\n${courseId}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nOne GiB\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="video"; filename="big.mp4"\r\nContent-Type: video/mp4\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const req = http.request({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/api/lessons/',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': String(head.length + FILE_BYTES + tail.length),
    },
  });
  const response = new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown> }),
      );
    });
    req.on('error', reject);
  });
  const write = async (chunk: Buffer) => {
    if (!req.write(chunk)) await once(req, 'drain');
  };
  await write(head);
  await write(MP4_HEADER);
  for (let sent = MP4_HEADER.length; sent < FILE_BYTES; sent += MiB) await write(PATTERN.subarray(0, Math.min(MiB, FILE_BYTES - sent)));
  req.end(tail);
  const { status: code, json } = await response;
  if (code !== 201) throw new Error(`upload: ${code} ${JSON.stringify(json)}`);
  return json;
}

/** One reader: sequential random ranges, each read to the end and spot-checked. */
async function rangeReader(url: URL, seed: number): Promise<number> {
  let received = 0;
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  for (let i = 0; i < RANGES_PER_READER; i++) {
    const start = Math.floor(random() * (FILE_BYTES - RANGE_BYTES));
    const end = start + RANGE_BYTES - 1;
    received += await new Promise<number>((resolve, reject) => {
      const req = http.get(url, { headers: { range: `bytes=${start}-${end}` } }, (res) => {
        if (res.statusCode !== 206) reject(new Error(`range read: ${res.statusCode}`));
        let position = start;
        res.on('data', (chunk: Buffer) => {
          if (chunk[0] !== expectedByte(position)) reject(new Error(`wrong byte at ${position}`));
          position += chunk.length;
        });
        res.on('end', () => (position === end + 1 ? resolve(position - start) : reject(new Error(`short read at ${position}`))));
      });
      req.on('error', reject);
    });
  }
  return received;
}

const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

async function main() {
  const work = mkdtempSync(path.join(os.tmpdir(), 'lp-memory-'));
  const mediaRoot = path.join(work, 'media');
  const port = await freePort();
  const env = {
    ...process.env,
    NODE_ENV: 'production',
    SECRET_KEY: 'memory-bench-secret-key-0123456789abcdef',
    DATABASE_URL: `sqlite:${path.join(work, 'db.sqlite3')}`,
    MEDIA_ROOT: mediaRoot,
    PORT: String(port),
    HOST: '127.0.0.1',
    VIDEO_MAX_BYTES: String(Math.max(FILE_BYTES + MiB, 2048 * MiB)),
    LOG_LEVEL: 'warn',
    RATE_LIMIT_LOGIN: 'off',
    RATE_LIMIT_ANON: 'off',
    RATE_LIMIT_USER: 'off',
  };

  let entry: string[];
  if (args.tsx) {
    entry = ['--import', 'tsx', path.join(ROOT, 'src/server.ts')];
  } else {
    const outDir = path.join(ROOT, 'bench/.data/memory-dist');
    const built = spawnSync(
      process.execPath,
      [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', outDir],
      { stdio: 'inherit' },
    );
    if (built.status !== 0) throw new Error('tsc failed');
    entry = [path.join(outDir, 'server.js')];
  }

  let server: ChildProcess | undefined;
  try {
    const admin = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(ROOT, 'src/cli.ts'),
        'create-admin',
        '--username',
        'benchadmin',
        '--email',
        'bench@example.com',
        '--password',
        PASSWORD,
      ],
      { env, stdio: 'inherit' },
    );
    if (admin.status !== 0) throw new Error('create-admin failed');
    server = spawn(process.execPath, entry, { env, stdio: ['ignore', 'inherit', 'inherit'] });
    const pid = server.pid;
    if (pid === undefined) throw new Error('server did not start');
    for (let i = 0; ; i++) {
      try {
        if ((await request(port, { path: '/health' })).status === 200) break;
      } catch {
        if (i > 200) throw new Error('server did not answer');
      }
      await new Promise((r) => setTimeout(r, 100));
    }

    const { access } = (await api(port, 'POST', '/api/login/', null, { username: 'benchadmin', password: PASSWORD })) as { access: string };
    const category = await api(port, 'POST', '/api/categories/', access, { name: 'Bench' });
    const course = await api(port, 'POST', '/api/courses/', access, {
      title: 'Memory',
      description: '',
      price: '0',
      category: category.id,
      is_published: true,
    });
    // Warm-up: the code paths of both phases run once on a small body before measuring.
    for (let i = 0; i < 20; i++) await api(port, 'GET', `/api/courses/${String(course.id)}/`, access);
    const idle = status(pid);

    const upload = await measured(pid, () => uploadVideo(port, access, Number(course.id)));
    const lesson = upload.result;
    const stored = readdirSync(path.join(mediaRoot, 'videos'));
    const videoUrl = new URL(String(lesson.video));

    const serving = await measured(pid, async () => {
      const counts = await Promise.all(Array.from({ length: READERS }, (_, i) => rangeReader(videoUrl, i + 1)));
      return counts.reduce((a, b) => a + b, 0);
    });

    await api(port, 'DELETE', `/api/lessons/${String(lesson.id)}/`, access);
    const left = readdirSync(path.join(mediaRoot, 'videos'));

    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    const report = {
      machine: `${cpu}, ${os.cpus().length} cores, ${mib(os.totalmem())} RAM, ${os.type()} ${os.release()}, Node ${process.version}`,
      server: args.tsx ? 'node --import tsx src/server.ts' : 'node bench/.data/memory-dist/server.js (tsc production build)',
      file: `${mib(FILE_BYTES)} video (${stored.join(', ')})`,
      idle_rss: mib(idle.VmRSS ?? 0),
      upload: {
        seconds: upload.seconds.toFixed(1),
        peak_rss_vmhwm: mib(upload.hwm),
        peak_rss_sampled: mib(upload.sampledPeak),
        throughput: `${mib(FILE_BYTES / upload.seconds)}/s`,
      },
      serving: {
        readers: READERS,
        ranges: `${RANGES_PER_READER} × ${mib(RANGE_BYTES)} per reader, random offsets`,
        bytes_served: mib(serving.result),
        seconds: serving.seconds.toFixed(1),
        peak_rss_vmhwm: mib(serving.hwm),
        peak_rss_sampled: mib(serving.sampledPeak),
        throughput: `${mib(serving.result / serving.seconds)}/s`,
      },
      files_left_after_delete: left.length,
    };
    console.log(JSON.stringify(report, null, 2));
  } finally {
    if (server?.pid !== undefined && server.exitCode === null) {
      server.kill('SIGTERM');
      await once(server, 'exit');
    }
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
