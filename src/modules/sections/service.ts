import type { Kysely } from 'kysely';
import { isUniqueViolation } from '../../db/errors.js';
import type { Executor } from '../../db/query.js';
import { writeTransaction } from '../../db/transaction.js';
import type { DB, SectionRow } from '../../db/types.js';
import type { RequestContext, UserContext } from '../../shared/context.js';
import { FieldErrorCollector, forbidden, invalidField, notFound } from '../../shared/errors.js';
import { buildPage, pageRequest, paginate } from '../../shared/pagination.js';
import type { Page } from '../../shared/pagination.js';
import { MAX_ID } from '../../shared/schemas.js';
import { nowIso, toIso } from '../../shared/time.js';
import type { CourseDetail } from '../courses/schemas.js';
import type { CourseFacts, Viewer } from '../courses/policy.js';
import { permutationProblem } from './order.js';
import { canEditSections, canSeeSections, sectionListScope } from './policy.js';
import * as repo from './repository.js';
import type { ReorderInput, Section, SectionCreateInput, SectionOutline, SectionQueryInput, SectionUpdateInput } from './schemas.js';
import { cleanRequiredText, MAX_TITLE_LENGTH } from '../../shared/text.js';

/** What this module needs of the courses module, looked up when called. */
export interface CoursesPort {
  findFacts(id: number): Promise<CourseFacts | undefined>;
  /** The course row locked for the transaction, or undefined if it is gone. */
  lockCourse(trx: Executor, id: number): Promise<unknown>;
  detail(ctx: RequestContext, id: number): Promise<CourseDetail>;
}

export interface SectionsServiceDeps {
  db: Kysely<DB>;
  courses: () => CoursesPort;
}

export type SectionsService = ReturnType<typeof createSectionsService>;

const ORDER_TAKEN = 'A section with this order already exists in this course.';
const courseMissing = (id: number) => invalidField('course', `Invalid pk "${id}" - object does not exist.`);

/** The one title rule (trimmed, then 1 to 200 characters), as for courses and lessons. */
const cleanTitle = (errors: FieldErrorCollector, title: string): string => cleanRequiredText(errors, 'title', title, MAX_TITLE_LENGTH);

/** A unique index lost to a concurrent writer speaks as the check before it would have. */
function orderClash(error: unknown): never {
  if (isUniqueViolation(error)) throw invalidField('order', ORDER_TAKEN);
  throw error;
}

export function createSectionsService(deps: SectionsServiceDeps) {
  const { db } = deps;

  const toSection = (row: SectionRow): Section => ({
    id: row.id,
    course: row.course_id,
    title: row.title,
    order: row.position,
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
  });

  /** The course if the caller may change it: 404 when they may not even see it, else 403. */
  async function editableCourse(caller: Viewer, courseId: number): Promise<CourseFacts> {
    const course = await deps.courses().findFacts(courseId);
    if (!course || !canSeeSections(caller, course)) throw notFound();
    if (!canEditSections(caller, course)) throw forbidden('Only the owner of the course or an admin may change its sections.');
    return course;
  }

  /** A section the caller may change: someone else's draft does not exist for them, a course they do not own is a 403. */
  async function editableSection(caller: Viewer, id: number): Promise<SectionRow> {
    const row = await repo.findById(db, id);
    const course = row && (await deps.courses().findFacts(row.course_id));
    if (!row || !course || !canSeeSections(caller, course)) throw notFound();
    if (!canEditSections(caller, course)) throw forbidden('Only the owner of the course or an admin may change its sections.');
    return row;
  }

  return {
    /** Refuses a caller who may not change the section (404 or 403), before the body is read. */
    async checkEditable(ctx: UserContext, id: number): Promise<void> {
      await editableSection(ctx.viewer, id);
    },

    /** Refuses a caller who may not reorder the course (404 or 403), before the body is read. */
    async checkReorderable(ctx: UserContext, courseId: number): Promise<void> {
      await editableCourse(ctx.viewer, courseId);
    },

    /** The sections of a course by order, for its detail (the caller has checked visibility). */
    async outline(courseId: number, trx: Executor = db): Promise<SectionOutline[]> {
      const rows = await repo.outlineOfCourse(trx, courseId);
      return rows.map((r) => ({ id: r.id, title: r.title, order: r.position }));
    },

    /** The course of a section, or undefined: lessons check that a lesson's section is of its course. */
    courseOf: (trx: Executor, sectionId: number): Promise<number | undefined> => repo.courseOf(trx, sectionId),

    /** A list never refuses: a course the caller may not see (or none such) gives an empty page. */
    async list(ctx: RequestContext, query: SectionQueryInput): Promise<Page<Section>> {
      const page = pageRequest(query);
      if (query.course === undefined) {
        return paginate(ctx, page, repo.listVisible(db, sectionListScope(ctx.viewer)), (rows) => rows.map(toSection));
      }
      const course = await deps.courses().findFacts(query.course);
      if (!course || !canSeeSections(ctx.viewer, course)) return buildPage(ctx, page, 0, []);
      return paginate(ctx, page, repo.listOfCourse(db, query.course), (rows) => rows.map(toSection));
    },

    async get(ctx: RequestContext, id: number): Promise<Section> {
      const row = await repo.findById(db, id);
      const course = row && (await deps.courses().findFacts(row.course_id));
      if (!row || !course || !canSeeSections(ctx.viewer, course)) throw notFound();
      return toSection(row);
    },

    async create(ctx: UserContext, input: SectionCreateInput): Promise<Section> {
      const caller = ctx.viewer;
      const course = await deps.courses().findFacts(input.course);
      if (!course || !canSeeSections(caller, course)) throw courseMissing(input.course);
      if (!canEditSections(caller, course)) throw forbidden('Only the owner of the course or an admin may add sections to it.');
      const errors = new FieldErrorCollector();
      const title = cleanTitle(errors, input.title);
      errors.throwIfAny();
      const row = await writeTransaction(db, async (trx) => {
        if (!(await deps.courses().lockCourse(trx, input.course))) throw courseMissing(input.course);
        let position = input.order;
        if (position === undefined) {
          position = (await repo.lastPosition(trx, input.course)) + 1;
          if (position > MAX_ID) throw invalidField('order', 'There is no room after the last section; give an order.');
        } else if (await repo.positionTaken(trx, input.course, position)) {
          throw invalidField('order', ORDER_TAKEN);
        }
        const now = nowIso();
        return repo.insertSection(trx, { course_id: input.course, title, position, created_at: now, updated_at: now });
      }).catch(orderClash);
      return toSection(row);
    },

    /** PUT and PATCH. Nothing writable given: 200 with the section unchanged. */
    async update(ctx: UserContext, id: number, input: SectionUpdateInput): Promise<Section> {
      const row = await editableSection(ctx.viewer, id);
      const errors = new FieldErrorCollector();
      if (input.course !== undefined && input.course !== row.course_id) errors.add('course', 'The course of a section cannot be changed.');
      const title = input.title === undefined ? undefined : cleanTitle(errors, input.title);
      errors.throwIfAny();
      if (title === undefined && input.order === undefined) return toSection(row);
      const after = await writeTransaction(db, async (trx) => {
        await deps.courses().lockCourse(trx, row.course_id);
        const before = await repo.findById(trx, id);
        if (!before) throw notFound();
        if (
          input.order !== undefined &&
          input.order !== before.position &&
          (await repo.positionTaken(trx, row.course_id, input.order, id))
        ) {
          throw invalidField('order', ORDER_TAKEN);
        }
        const updated = await repo.updateSection(trx, id, { title, position: input.order, updated_at: nowIso() });
        if (!updated) throw notFound();
        return updated;
      }).catch(orderClash);
      return toSection(after);
    },

    /** The section goes; its lessons stay in the course, with `section: null`. */
    async remove(ctx: UserContext, id: number): Promise<void> {
      const row = await editableSection(ctx.viewer, id);
      await writeTransaction(db, async (trx) => {
        await deps.courses().lockCourse(trx, row.course_id);
        if (!(await repo.deleteSection(trx, id))) throw notFound();
      });
    },

    /**
     * The whole order of a course in one request: `lessons` (and `sections`, if given) must
     * list every id of the course exactly once, checked under the course lock against the
     * rows as they are then; otherwise 400 and nothing changes. Positions become 1..n in
     * one transaction, so a lesson created meanwhile either precedes the check (and must be
     * listed) or waits for the lock and lands after the last.
     */
    async reorder(ctx: UserContext, courseId: number, input: ReorderInput): Promise<CourseDetail> {
      await editableCourse(ctx.viewer, courseId);
      await writeTransaction(db, async (trx) => {
        if (!(await deps.courses().lockCourse(trx, courseId))) throw notFound();
        const lessons = await repo.positionsOf(trx, 'lessons', courseId);
        const sections = input.sections === undefined ? undefined : await repo.positionsOf(trx, 'sections', courseId);
        const errors = new FieldErrorCollector();
        const lessonProblem = permutationProblem(
          'lesson',
          lessons.map((l) => l.id),
          input.lessons,
        );
        if (lessonProblem) errors.add('lessons', lessonProblem);
        if (sections && input.sections) {
          const sectionProblem = permutationProblem(
            'section',
            sections.map((s) => s.id),
            input.sections,
          );
          if (sectionProblem) errors.add('sections', sectionProblem);
        }
        errors.throwIfAny();
        await repo.renumber(trx, 'lessons', courseId, lessons, input.lessons);
        if (sections && input.sections) await repo.renumber(trx, 'sections', courseId, sections, input.sections);
      });
      return deps.courses().detail(ctx, courseId);
    },
  };
}
