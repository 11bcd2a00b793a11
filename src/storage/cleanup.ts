import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { DB } from '../db/types.js';
import type { Storage } from './index.js';

/**
 * Every column that holds a storage key, with the folder its files are stored under. The
 * sweep looks only in these folders, and keeps any file one of these columns names: a
 * module that stores files in a new column adds it here, or the sweep never sees its folder.
 */
export const FILE_COLUMNS = [
  { folder: 'profile-images', table: 'users', column: 'profile_image' },
  { folder: 'thumbnails', table: 'courses', column: 'thumbnail' },
  { folder: 'videos', table: 'lessons', column: 'video' },
  { folder: 'attachments', table: 'lessons', column: 'attachment' },
] as const;

export interface FileColumn {
  folder: string;
  table: string;
  column: string;
}

/**
 * How old a file must be before the sweep may remove it unreferenced: far longer than any
 * request takes between writing a file and committing the row that names it (a multipart
 * request may store a video, then stream an attachment for a long while, then commit).
 */
export const ORPHAN_MIN_AGE_MS = 24 * 3_600_000;

/** How long one instance holds a recorded deletion before another may take it over. */
const CLAIM_MS = 5 * 60_000;
const BATCH = 500;

export interface SweepResult {
  /** Deletions recorded by a committed change whose process died before it deleted the file. */
  recorded: number;
  /** Unfinished writes (a crash cut the upload). */
  partial: number;
  /** Complete files no row names (a crash between the upload and the commit). */
  unreferenced: number;
}

export interface FileCleanupOptions {
  db: Kysely<DB>;
  storage: Storage;
  columns?: readonly FileColumn[];
  minAgeMs?: number;
  now?: () => number;
}

export type FileCleanup = ReturnType<typeof createFileCleanup>;

/**
 * Durable file deletion. A change that drops a file's last reference records the key in
 * the same transaction (`schedule`); after the commit the file is deleted and the record
 * removed (`deleteScheduled`). A process that dies in between leaves the record, and the
 * next sweep (at start and on a schedule, `start`) finishes it. The sweep also removes
 * unfinished uploads and files no row names, once they are older than ORPHAN_MIN_AGE_MS.
 *
 * Safe with several instances: keys are random per upload and never named again once
 * dropped, so a recorded deletion or an old unreferenced file can only ever be deleted, and
 * deleting twice is harmless; records are claimed (claimed_until) so instances share the work.
 */
export function createFileCleanup(options: FileCleanupOptions) {
  const { db, storage } = options;
  const columns = options.columns ?? FILE_COLUMNS;
  const minAgeMs = options.minAgeMs ?? ORPHAN_MIN_AGE_MS;
  const now = options.now ?? Date.now;
  const iso = (ms: number) => new Date(ms).toISOString();

  /** Deletes each file, then its records; a failure leaves the records for the sweep. */
  async function deleteKeys(keys: string[]): Promise<number> {
    let deleted = 0;
    for (const key of keys) {
      try {
        await storage.delete(key);
        await db.deleteFrom('file_deletions').where('key', '=', key).execute();
        deleted++;
      } catch {
        // Left recorded: the next sweep tries again.
      }
    }
    return deleted;
  }

  async function sweepRecorded(): Promise<number> {
    let total = 0;
    for (;;) {
      const at = now();
      const due = await db
        .selectFrom('file_deletions')
        .select(['id', 'key'])
        .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', iso(at))]))
        .orderBy('id')
        .limit(BATCH)
        .execute();
      if (due.length === 0) return total;
      const claimed: string[] = [];
      for (const row of due) {
        const taken = await db
          .updateTable('file_deletions')
          .set({ claimed_until: iso(at + CLAIM_MS) })
          .where('id', '=', row.id)
          .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', iso(at))]))
          .executeTakeFirst();
        if (Number(taken.numUpdatedRows) === 1) claimed.push(row.key);
      }
      total += await deleteKeys(claimed);
      if (due.length < BATCH) return total;
    }
  }

  /** The keys among `keys` that a row of any column owning `folder` names. */
  async function referenced(folder: string, keys: string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (const { table, column } of columns.filter((c) => c.folder === folder)) {
      const rows = await sql<{
        key: string;
      }>`select ${sql.ref(column)} as key from ${sql.table(table)} where ${sql.ref(column)} in (${sql.join(keys)})`.execute(db);
      for (const row of rows.rows) found.add(row.key);
    }
    return found;
  }

  /** Finishes recorded deletions, then removes old unfinished uploads and old files no row names. */
  async function sweep(): Promise<SweepResult> {
    const recorded = await sweepRecorded();
    return { recorded, ...(await sweepFolders()) };
  }

  async function sweepFolders(): Promise<{ partial: number; unreferenced: number }> {
    const cutoff = now() - minAgeMs;
    let partial = 0;
    let unreferenced = 0;
    for (const folder of new Set(columns.map((c) => c.folder))) {
      let candidates: string[] = [];
      const judge = async () => {
        const keep = await referenced(folder, candidates);
        for (const key of candidates) {
          if (keep.has(key)) continue;
          await storage.delete(key);
          unreferenced++;
        }
        candidates = [];
      };
      for await (const listed of storage.list(folder)) {
        if (listed.modified.getTime() > cutoff) continue;
        if (listed.partial) {
          await storage.remove(listed);
          partial++;
          continue;
        }
        candidates.push(listed.name);
        if (candidates.length >= BATCH) await judge();
      }
      if (candidates.length > 0) await judge();
    }
    return { partial, unreferenced };
  }

  return {
    /** In the transaction that drops the references: records the files to delete after it commits. */
    async schedule(trx: Kysely<DB>, keys: readonly (string | null | undefined)[]): Promise<string[]> {
      const due = keys.filter((key): key is string => typeof key === 'string' && key !== '');
      if (due.length > 0) {
        const createdAt = iso(now());
        await trx
          .insertInto('file_deletions')
          .values(due.map((key) => ({ key, created_at: createdAt })))
          .execute();
      }
      return due;
    },

    /** After the commit: deletes the files `schedule` recorded. Never throws; what fails is left to the sweep. */
    async deleteScheduled(keys: readonly string[]): Promise<void> {
      await deleteKeys([...keys]);
    },

    sweep,

    /**
     * Sweeps now and every `intervalMs` (one sweep at a time); returns the function that
     * stops it, which resolves once a sweep in progress has finished.
     */
    start(intervalMs: number, onResult: (result: SweepResult | Error) => void): () => Promise<void> {
      let running: Promise<void> | undefined;
      const run = () => {
        running ??= sweep()
          .then(onResult, (error: unknown) => onResult(error instanceof Error ? error : new Error(String(error))))
          .finally(() => {
            running = undefined;
          });
      };
      run();
      const timer = setInterval(run, intervalMs);
      timer.unref();
      return async () => {
        clearInterval(timer);
        await running;
      };
    },
  };
}
