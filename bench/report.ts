import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Measurement } from './load.js';

export const RESULTS_DIR = path.resolve(import.meta.dirname, 'results');
/** The targets, so the printout says pass or fail where it counts. */
export const FLOOR_RATIO_TARGET = 0.7;
export const SCALE_RATIO_TARGET = 2;

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  platform: string;
}

export function machine(): Machine {
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

export interface ScenarioResult {
  scenario: string;
  kind: string;
  connections: number;
  project: Measurement;
  floor: Measurement | null;
  /** project requests/s ÷ floor requests/s; null without a floor or when either run is flagged. */
  ratio: number | null;
  /** The project server's peak resident set (VmHWM) once this scenario had run, MiB; null off Linux. */
  peakRssMiB?: number | null;
}

export interface ScaleResult {
  scenario: string;
  small: Measurement;
  large: Measurement;
  /** p50 at the large catalog ÷ p50 at the small one; null when either run is flagged. */
  p50Ratio: number | null;
}

export const ratioOf = (project: Measurement, floor: Measurement | null) =>
  floor && !project.flagged && !floor.flagged && floor.requestsPerSecond > 0
    ? Math.round((project.requestsPerSecond / floor.requestsPerSecond) * 100) / 100
    : null;

const ms = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(value >= 10 ? 1 : 2));
const cell = (m: Measurement | null) => (m ? [String(m.requestsPerSecond), ms(m.p50), ms(m.p99), failures(m)] : ['-', '-', '-', '-']);
const failures = (m: Measurement) => (m.flagged ? `${m.non2xx + m.errors + m.warmupFailures} FLAGGED` : '0');

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

export function formatResults(results: ScenarioResult[]): string {
  const rows = results.map((r) => {
    const verdict = r.ratio === null ? (r.floor ? 'FLAGGED' : '') : r.ratio >= FLOOR_RATIO_TARGET ? 'ok' : 'BELOW';
    return [
      r.scenario,
      String(r.connections),
      ...cell(r.project),
      ...cell(r.floor),
      r.ratio === null ? '-' : r.ratio.toFixed(2),
      verdict,
      r.peakRssMiB == null ? '-' : String(r.peakRssMiB),
    ];
  });
  return table(
    [
      'scenario',
      'conn',
      'project req/s',
      'p50 ms',
      'p99 ms',
      'non-2xx/errors',
      'floor req/s',
      'p50 ms',
      'p99 ms',
      'non-2xx/errors',
      'ratio',
      `≥ ${FLOOR_RATIO_TARGET}`,
      'peak RSS MiB',
    ],
    rows,
  );
}

export function formatScale(results: ScaleResult[], smallCourses: number, largeCourses: number): string {
  const small = smallCourses.toLocaleString('en');
  const large = largeCourses.toLocaleString('en');
  const rows = results.map((r) => [
    r.scenario,
    ...cell(r.small).slice(0, 3),
    ...cell(r.large).slice(0, 3),
    r.p50Ratio === null ? 'FLAGGED' : r.p50Ratio.toFixed(2),
    r.p50Ratio === null ? '' : r.p50Ratio <= SCALE_RATIO_TARGET ? 'ok' : 'ABOVE',
  ]);
  return table(
    ['scenario', `req/s @${small}`, 'p50 ms', 'p99 ms', `req/s @${large}`, 'p50 ms', 'p99 ms', 'p50 ratio', `≤ ${SCALE_RATIO_TARGET}`],
    rows,
  );
}

/** Writes bench/results/<timestamp>-<db>.json and returns its path. */
export function writeResults(label: string, content: object): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = path.join(RESULTS_DIR, `${stamp}-${label}.json`);
  writeFileSync(file, `${JSON.stringify(content, null, 2)}\n`);
  return file;
}
