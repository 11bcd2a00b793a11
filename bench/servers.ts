import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { DATA_DIR } from './datasets.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const READY_TIMEOUT_MS = 120_000;
/** Long enough that a token minted at the start outlives the whole run. */
export const BENCH_TOKEN_TTL = 86_400;

export interface RunningServer {
  label: string;
  origin: string;
  pid: number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** The environment both servers read: the same database, secret and token lifetime. */
export function serverEnv(databaseUrl: string, secretKey: string, port: number): Record<string, string> {
  return {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: databaseUrl,
    SECRET_KEY: secretKey,
    ACCESS_TOKEN_TTL: String(BENCH_TOKEN_TTL),
    LOG_LEVEL: 'warn',
    MEDIA_ROOT: path.join(DATA_DIR, 'media'),
    RATE_LIMIT_LOGIN: 'off',
    RATE_LIMIT_REGISTER: 'off',
    RATE_LIMIT_REFRESH: 'off',
    RATE_LIMIT_ANON: 'off',
    RATE_LIMIT_USER: 'off',
    // The webhooks scenario's receiver listens on loopback.
    WEBHOOK_ALLOW_PRIVATE: 'true',
  };
}

export interface StartOptions {
  label: string;
  /** Script relative to the repository root, run with tsx. */
  script: string;
  env: Record<string, string>;
  /** Writes a V8 CPU profile here when the process exits. */
  cpuProfileDir?: string | undefined;
}

/** Keeps the last lines a child printed, to show when it dies or misbehaves. */
function tail(child: ChildProcess, keep = 40): () => string {
  const lines: string[] = [];
  const collect = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (lines.length > keep) lines.splice(0, lines.length - keep);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return () => lines.join('\n');
}

/**
 * Starts a server as a child process (its own event loop and core, as in production) and
 * resolves once GET /ready answers 200.
 */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  const port = Number(options.env.PORT);
  const flags: string[] = [];
  if (options.cpuProfileDir) {
    // A folder per server: tsx's loader thread writes a profile of its own next to the main thread's.
    const dir = path.join(options.cpuProfileDir, `${options.label}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    mkdirSync(dir, { recursive: true });
    flags.push('--cpu-prof', `--cpu-prof-dir=${dir}`);
  }
  const child = spawn(process.execPath, [...flags, '--import', 'tsx', options.script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = tail(child);
  const state: { exited: number | null } = { exited: null };
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      state.exited = code ?? -1;
      resolve();
    }),
  );

  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (state.exited !== null) throw new Error(`${options.label} exited with ${state.exited} before it was ready:\n${output()}`);
    try {
      const response = await fetch(`${origin}/ready`);
      if (response.status === 200) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${options.label} was not ready within ${READY_TIMEOUT_MS / 1000}s:\n${output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    label: options.label,
    origin,
    pid: child.pid ?? -1,
    async stop() {
      if (state.exited !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exit;
      clearTimeout(timer);
    },
  };
}

export const projectServer = (env: Record<string, string>, cpuProfileDir?: string) =>
  startServer({ label: 'project', script: 'src/server.ts', env, cpuProfileDir });

export const floorServer = (env: Record<string, string>, cpuProfileDir?: string) =>
  startServer({ label: 'floor', script: 'bench/floor.ts', env, cpuProfileDir });
