import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';

/** A throttle rate such as `10/minute`, or null when turned `off`. */
export interface Rate {
  max: number;
  windowMs: number;
}

export interface S3Config {
  bucket: string;
  endpoint: string | undefined;
  region: string;
  accessKeyId: string | undefined;
  secretAccessKey: string | undefined;
  /** S3_PRESIGNED_REDIRECT: protected media is answered with a redirect to a presigned URL of the store instead of streamed. */
  presignedRedirect: boolean;
  /** S3_PRESIGNED_TTL: the longest a presigned URL lives, in seconds (never past the signed API URL it was issued for). */
  presignedTtl: number;
}

export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  databaseUrl: string;
  redisUrl: string | undefined;
  secretKey: string;
  accessTokenTtl: number;
  refreshTokenTtl: number;
  mediaRoot: string;
  mediaUrl: string;
  mediaUrlTtl: number;
  storage: 'local' | 's3';
  s3: S3Config | undefined;
  limits: { thumbnailBytes: number; videoBytes: number; attachmentBytes: number; bodyBytes: number };
  /** Milliseconds: to receive the headers; to receive a body (file uploads excepted); of silence on a connection while a request is open. */
  timeouts: { headersMs: number; requestMs: number; idleMs: number };
  rateLimits: {
    login: Rate | null;
    /** Login attempts per account name given, from any address. */
    loginAccount: Rate | null;
    register: Rate | null;
    refresh: Rate | null;
    anon: Rate | null;
    user: Rate | null;
  };
  instructorAutoApprove: boolean;
  corsOrigins: string[];
  logLevel: string;
  trustProxy: boolean;
  /** Where absolute URLs point (`scheme://host[:port]`), whatever Host a request names; unset: see allowedHosts. */
  publicUrl: string | undefined;
  /** Hosts a request's Host header may name to be reflected in absolute URLs; any other gets the default origin. */
  allowedHosts: string[];
  /** WEBHOOK_ALLOW_PRIVATE: webhooks may reach private, loopback and other non-public addresses (tests, local receivers). */
  webhookAllowPrivate: boolean;
  /** WEBHOOK_WORKER: this instance sends webhook deliveries (off: an API-only instance; events wait for one that does). */
  webhookWorker: boolean;
  /** Apply pending migrations when the server starts (MIGRATE_ON_START, default true). */
  migrateOnStart: boolean;
  /** The bearer token GET /metrics asks for; unset: no /metrics at all. */
  metricsToken: string | undefined;
}

const NODE_ENVS = ['development', 'production', 'test'] as const;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function nodeEnvOf(raw: string | undefined): Config['env'] {
  if (raw === undefined || raw.trim() === '') return 'development';
  const value = raw.trim();
  if ((NODE_ENVS as readonly string[]).includes(value)) return value as Config['env'];
  throw new ConfigError(`NODE_ENV must be one of ${NODE_ENVS.join(', ')}, not "${raw}"`);
}

function logLevelOf(raw: string | undefined): string {
  if (raw === undefined || raw.trim() === '') return 'info';
  const value = raw.trim().toLowerCase();
  if (!LOG_LEVELS.includes(value)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, not "${raw}"`);
  return value;
}

function redisUrlOf(raw: string | undefined): string | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  if (!/^rediss?:\/\/[^\s]+$/.test(raw.trim()))
    throw new ConfigError(`REDIS_URL must look like redis://host:6379 (or rediss:// for TLS), not "${raw}"`);
  return raw.trim();
}

function metricsTokenOf(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (raw.length < 16) throw new ConfigError('METRICS_TOKEN must be at least 16 characters');
  return raw;
}

/** SigV4 presigned URLs live at most seven days. */
const MAX_PRESIGNED_TTL = 7 * 86_400;

function presignedTtlOf(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return 900;
  const value = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || value < 1 || value > MAX_PRESIGNED_TTL) {
    throw new ConfigError(
      `S3_PRESIGNED_TTL must be a whole number of seconds from 1 to ${MAX_PRESIGNED_TTL} (7 days, S3's limit), not "${raw}"`,
    );
  }
  return value;
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

const UNITS: Record<string, number> = {
  s: 1000,
  sec: 1000,
  second: 1000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
};

export function parseRate(name: string, value: string | undefined, fallback: string): Rate | null {
  const raw = (value ?? fallback).trim().toLowerCase();
  if (raw === 'off' || raw === 'none' || raw === '0') return null;
  const match = /^(\d+)\s*\/\s*([a-z]+)$/.exec(raw);
  const unit = match?.[2]?.replace(/s$/, '');
  const windowMs = unit ? UNITS[unit] : undefined;
  if (!match || windowMs === undefined || Number(match[1]) < 1) {
    throw new ConfigError(`${name} must look like "10/minute" (second, minute, hour, day) or "off", not "${raw}"`);
  }
  return { max: Number(match[1]), windowMs };
}

function int(env: Env, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(`${name} must be an integer >= ${min}, not "${raw}"`);
  }
  return value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, not "${raw}"`);
}

const MiB = 1024 * 1024;

/** The shortest signing key accepted from any source: below it, tokens can be forged. */
const MIN_SECRET_LENGTH = 32;

/** Where a file-backed SQLite database lives, or null for PostgreSQL and in-memory databases. */
export function sqliteFile(databaseUrl: string): string | null {
  if (!databaseUrl.startsWith('sqlite:')) return null;
  const file = databaseUrl.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
  return file === ':memory:' ? null : path.resolve(file);
}

/**
 * Development keeps a generated secret next to the database so tokens survive restarts;
 * production has no fallback and must be told.
 */
function resolveSecret(env: Env, nodeEnv: Config['env'], dataDir: string): string {
  const given = env.SECRET_KEY;
  if (given) {
    if (given.trim().length < MIN_SECRET_LENGTH) throw new ConfigError(`SECRET_KEY must be at least ${MIN_SECRET_LENGTH} characters`);
    return given;
  }
  if (nodeEnv === 'production') throw new ConfigError('SECRET_KEY is required when NODE_ENV=production');
  if (nodeEnv === 'test') return randomBytes(32).toString('hex');
  const file = path.join(dataDir, 'secret_key');
  if (existsSync(file)) {
    // An empty or truncated file (a full disk, a bad copy) would make every token forgeable.
    const kept = readFileSync(file, 'utf8').trim();
    if (kept.length < MIN_SECRET_LENGTH) {
      throw new ConfigError(
        `The secret key in ${file} is shorter than ${MIN_SECRET_LENGTH} characters: delete the file to generate a new one (signing out everyone) or set SECRET_KEY`,
      );
    }
    return kept;
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' });
  return secret;
}

function publicUrl(raw: string | undefined): string | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ConfigError(`PUBLIC_URL must be an absolute http(s) URL such as https://api.example.com, not "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`PUBLIC_URL must be an absolute http(s) URL such as https://api.example.com, not "${raw}"`);
  }
  return url.origin;
}

/** Django's ALLOWED_HOSTS: names (any port); `.example.com` admits subdomains; `*` admits any well-formed host. */
function allowedHosts(raw: string | undefined, host: string): string[] {
  const given = (raw ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  const defaults = ['localhost', '127.0.0.1', '[::1]'];
  if (host !== '0.0.0.0' && host !== '::') defaults.push(host.includes(':') ? `[${host}]` : host.toLowerCase());
  return given.length > 0 ? given : defaults;
}

export function loadConfig(env: Env): Readonly<Config> {
  const nodeEnv = nodeEnvOf(env.NODE_ENV);
  const databaseUrl = env.DATABASE_URL || 'sqlite:data/db.sqlite3';
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must start with sqlite: or postgres://');
  }
  const dataDir = path.dirname(sqliteFile(databaseUrl) ?? path.resolve('data/db.sqlite3'));
  const storage = (env.STORAGE || 'local') as Config['storage'];
  if (storage !== 'local' && storage !== 's3') throw new ConfigError('STORAGE must be local or s3');
  let s3: S3Config | undefined;
  const presignedRedirect = bool(env, 'S3_PRESIGNED_REDIRECT', false);
  const presignedTtl = presignedTtlOf(env.S3_PRESIGNED_TTL);
  if (presignedRedirect && storage !== 's3') {
    throw new ConfigError('S3_PRESIGNED_REDIRECT=true needs STORAGE=s3 (local media is always streamed)');
  }
  if (storage === 's3') {
    if (!env.S3_BUCKET) throw new ConfigError('S3_BUCKET is required when STORAGE=s3');
    s3 = {
      bucket: env.S3_BUCKET,
      endpoint: env.S3_ENDPOINT || undefined,
      region: env.S3_REGION || 'us-east-1',
      accessKeyId: env.S3_ACCESS_KEY_ID || undefined,
      secretAccessKey: env.S3_SECRET_ACCESS_KEY || undefined,
      presignedRedirect,
      presignedTtl,
    };
  }
  let mediaUrl = env.MEDIA_URL || '/media/';
  if (!mediaUrl.endsWith('/')) mediaUrl += '/';
  if (!mediaUrl.startsWith('/')) throw new ConfigError('MEDIA_URL must be a path such as /media/');

  const config: Config = {
    env: nodeEnv,
    port: int(env, 'PORT', 8000),
    host: env.HOST || '127.0.0.1',
    databaseUrl,
    redisUrl: redisUrlOf(env.REDIS_URL),
    secretKey: resolveSecret(env, nodeEnv, dataDir),
    accessTokenTtl: int(env, 'ACCESS_TOKEN_TTL', 300, 1),
    refreshTokenTtl: int(env, 'REFRESH_TOKEN_TTL', 86_400, 1),
    mediaRoot: path.resolve(env.MEDIA_ROOT || 'media'),
    mediaUrl,
    mediaUrlTtl: int(env, 'MEDIA_URL_TTL', 3600, 1),
    storage,
    s3,
    limits: {
      thumbnailBytes: int(env, 'THUMBNAIL_MAX_BYTES', 5 * MiB, 1),
      videoBytes: int(env, 'VIDEO_MAX_BYTES', 2048 * MiB, 1),
      attachmentBytes: int(env, 'ATTACHMENT_MAX_BYTES', 50 * MiB, 1),
      bodyBytes: MiB,
    },
    timeouts: {
      headersMs: int(env, 'HEADERS_TIMEOUT', 30, 1) * 1000,
      requestMs: int(env, 'REQUEST_TIMEOUT', 60, 1) * 1000,
      idleMs: int(env, 'IDLE_TIMEOUT', 30, 1) * 1000,
    },
    rateLimits: {
      login: parseRate('RATE_LIMIT_LOGIN', env.RATE_LIMIT_LOGIN, '10/minute'),
      loginAccount: parseRate('RATE_LIMIT_LOGIN_ACCOUNT', env.RATE_LIMIT_LOGIN_ACCOUNT, '20/hour'),
      register: parseRate('RATE_LIMIT_REGISTER', env.RATE_LIMIT_REGISTER, '10/minute'),
      refresh: parseRate('RATE_LIMIT_REFRESH', env.RATE_LIMIT_REFRESH, '30/minute'),
      anon: parseRate('RATE_LIMIT_ANON', env.RATE_LIMIT_ANON, '600/minute'),
      user: parseRate('RATE_LIMIT_USER', env.RATE_LIMIT_USER, '3000/minute'),
    },
    instructorAutoApprove: bool(env, 'INSTRUCTOR_AUTO_APPROVE', false),
    corsOrigins: (env.CORS_ORIGINS ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    logLevel: logLevelOf(env.LOG_LEVEL),
    trustProxy: bool(env, 'TRUST_PROXY', false),
    publicUrl: publicUrl(env.PUBLIC_URL),
    allowedHosts: allowedHosts(env.ALLOWED_HOSTS, env.HOST || '127.0.0.1'),
    webhookAllowPrivate: bool(env, 'WEBHOOK_ALLOW_PRIVATE', false),
    webhookWorker: bool(env, 'WEBHOOK_WORKER', true),
    migrateOnStart: bool(env, 'MIGRATE_ON_START', true),
    metricsToken: metricsTokenOf(env.METRICS_TOKEN),
  };
  return Object.freeze(config);
}
