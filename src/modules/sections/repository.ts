import { sql } from 'kysely';
import type { Insertable, Updateable } from 'kysely';
import { listQuery } from '../../db/query.js';
import type { Executor } from '../../db/query.js';
import type { SectionTable } from '../../db/types.js';
import { parkingPositions } from './order.js';
import type { SectionListScope } from './policy.js';

export function findById(db: Executor, id: number) {
  return db.selectFrom('sections').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The course of a section, or undefined if there is no such section. */
export async function courseOf(db: Executor, id: number): Promise<number | undefined> {
  const row = await db.selectFrom('sections').select('course_id').where('id', '=', id).executeTakeFirst();
  return row?.course_id;
}

export function listOfCourse(db: Executor, courseId: number) {
  return listQuery(db.selectFrom('sections').selectAll().where('course_id', '=', courseId).orderBy('position', 'asc').orderBy('id', 'asc'));
}

/** Sections of every course in the scope, by course and order. */
export function listVisible(db: Executor, scope: SectionListScope) {
  let query = db.selectFrom('sections').innerJoin('courses', 'courses.id', 'sections.course_id');
  if (scope !== 'all') {
    const ownerId = scope.publishedOr;
    query = query.where((eb) =>
      ownerId === null
        ? eb('courses.is_published', '=', true)
        : eb.or([eb('courses.is_published', '=', true), eb('courses.instructor_id', '=', ownerId)]),
    );
  }
  return listQuery(
    query.selectAll('sections').orderBy('sections.course_id', 'asc').orderBy('sections.position', 'asc').orderBy('sections.id', 'asc'),
  );
}

export function outlineOfCourse(db: Executor, courseId: number) {
  return db
    .selectFrom('sections')
    .select(['id', 'title', 'position'])
    .where('course_id', '=', courseId)
    .orderBy('position', 'asc')
    .orderBy('id', 'asc')
    .execute();
}

export async function lastPosition(db: Executor, courseId: number): Promise<number> {
  const row = await db
    .selectFrom('sections')
    .select((eb) => eb.fn.max('position').as('last'))
    .where('course_id', '=', courseId)
    .executeTakeFirst();
  return Number(row?.last ?? 0);
}

export async function positionTaken(db: Executor, courseId: number, position: number, exceptId?: number): Promise<boolean> {
  let query = db.selectFrom('sections').select('id').where('course_id', '=', courseId).where('position', '=', position);
  if (exceptId !== undefined) query = query.where('id', '!=', exceptId);
  return (await query.executeTakeFirst()) !== undefined;
}

export function insertSection(db: Executor, section: Insertable<SectionTable>) {
  return db.insertInto('sections').values(section).returningAll().executeTakeFirstOrThrow();
}

export function updateSection(db: Executor, id: number, changes: Updateable<SectionTable>) {
  return db.updateTable('sections').set(changes).where('id', '=', id).returningAll().executeTakeFirst();
}

/** The section goes; its lessons stay in the course with section_id null (ON DELETE SET NULL). */
export function deleteSection(db: Executor, id: number) {
  return db.deleteFrom('sections').where('id', '=', id).returning('id').executeTakeFirst();
}

type Ordered = 'lessons' | 'sections';

/** Every row of a course in an ordered table, with its position. */
export function positionsOf(db: Executor, table: Ordered, courseId: number): Promise<{ id: number; position: number }[]> {
  return db
    .selectFrom(table as 'sections')
    .select(['id', 'position'])
    .where('course_id', '=', courseId)
    .orderBy('position', 'asc')
    .execute();
}

/** One UPDATE setting each listed row's position (CASE by id). */
async function setPositions(db: Executor, table: Ordered, courseId: number, positions: Map<number, number>): Promise<void> {
  if (positions.size === 0) return;
  const cases = [...positions].map(([id, position]) => sql`when ${sql.ref('id')} = ${id} then cast(${position} as integer)`);
  await db
    .updateTable(table as 'sections')
    .set({ position: sql<number>`case ${sql.join(cases, sql` `)} end` })
    .where('course_id', '=', courseId)
    .where('id', 'in', [...positions.keys()])
    .execute();
}

/**
 * Gives the rows of a course positions 1..n in the order of `orderedIds` (a permutation of
 * `current`, checked by the caller under the course lock). Rows that move go first to
 * positions clear of every other (above n and above nothing held now), then to their new
 * positions: at no instant do two rows share a position, so the unique constraint on
 * (course_id, position) holds on both databases without deferring it. Two UPDATEs.
 */
export async function renumber(
  db: Executor,
  table: Ordered,
  courseId: number,
  current: readonly { id: number; position: number }[],
  orderedIds: readonly number[],
): Promise<void> {
  const target = new Map(orderedIds.map((id, index) => [id, index + 1]));
  const moving = current.filter((row) => target.get(row.id) !== row.position);
  if (moving.length === 0) return;
  const slots = parkingPositions(orderedIds.length, new Set(current.map((row) => row.position)), moving.length);
  await setPositions(db, table, courseId, new Map(moving.map((row, i) => [row.id, slots[i] as number])));
  await setPositions(db, table, courseId, new Map(moving.map((row) => [row.id, target.get(row.id) as number])));
}
