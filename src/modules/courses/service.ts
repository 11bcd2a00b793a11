import type { Kysely, Updateable } from 'kysely';
import { isForeignKeyViolation } from '../../db/errors.js';
import type { Executor } from '../../db/query.js';
import { writeTransaction } from '../../db/transaction.js';
import type { CourseTable, DB, Role } from '../../db/types.js';
import type { StoredUpload } from '../../plugins/uploads.js';
import type { RequestContext, UserContext } from '../../shared/context.js';
import { FieldErrorCollector, conflict, forbidden, invalidField, notFound, unauthorized } from '../../shared/errors.js';
import { buildPage, pageRequest, parseOrdering } from '../../shared/pagination.js';
import type { PageRequest } from '../../shared/pagination.js';
import type { Page } from '../../shared/pagination.js';
import { nowIso, toBool, toIso } from '../../shared/time.js';
import type { MediaUrls } from '../media/urls.js';
import type { PublicUser } from '../users/schemas.js';
import type { AuditEntry } from '../audit/service.js';
import type { DomainEvent } from '../events/service.js';
import type { RatingHistogram } from '../reviews/schemas.js';
import { createCatalogCache, createWorkGate } from './cache.js';
import { isPostgres } from '../../db/index.js';
import { boundToCents, centsToPrice, parseDecimal, priceToCents } from './money.js';
import type { PriceProblem } from './money.js';
import { canEditCourse, canSeeCourse, courseCreationDenial, courseDeletionDenial, courseListScope, sequentialLocks } from './policy.js';
import type { Viewer } from './policy.js';
import * as repo from './repository.js';
import type { CourseFilters, CourseItemRow, CourseOrderColumn } from './repository.js';
import { cleanRequiredText, MAX_TITLE_LENGTH } from '../../shared/text.js';
import type {
  CourseCreateInput,
  CourseDetail,
  CourseListItem,
  CourseListQueryInput,
  CoursePatchInput,
  EnrollmentSummary,
  LessonOutline,
} from './schemas.js';
import { searchWords } from './search.js';
import type { SectionOutline } from '../sections/schemas.js';

/** What this module needs of the users module. */
export interface UsersPort {
  findActive(id: number): Promise<{ role: Role; instructorStatus: string } | undefined>;
  toPublicUser(
    ctx: RequestContext,
    row: { id: number; username: string; first_name: string; last_name: string; bio: string; profile_image: string | null },
  ): PublicUser;
}

/** What this module needs of the categories module. */
export interface CategoriesPort {
  exists(id: number): Promise<boolean>;
  findByReference(reference: string): Promise<{ id: number } | undefined>;
}

/** What this module needs of the lessons module. */
export interface LessonsPort {
  outline(courseId: number): Promise<LessonOutline[]>;
  storageKeysOfCourse(courseId: number): Promise<string[]>;
}

/** What this module needs of the enrollments module. */
export interface EnrollmentsPort {
  summaryFor(studentId: number, courseId: number): Promise<EnrollmentSummary | null>;
  /** Ids of the lessons of the course this student completed. */
  completedLessonIds(studentId: number, courseId: number): Promise<number[]>;
}

/** What this module needs of the sections module. */
export interface SectionsPort {
  outline(courseId: number): Promise<SectionOutline[]>;
}

/** What this module needs of the events module: recording in the change's transaction. */
export interface EventsPort {
  record(trx: Executor, event: DomainEvent): Promise<string>;
}

/** What this module needs of the audit module. */
export interface AuditPort {
  record(trx: Executor, ctx: RequestContext, entry: AuditEntry): Promise<void>;
}

/** What this module needs of the reviews module. */
export interface ReviewsPort {
  ratingHistogram(courseId: number): Promise<RatingHistogram>;
}

/** What this module needs of durable file cleanup (src/storage/cleanup.ts). */
export interface FilesPort {
  /** In the transaction that drops the references: records the files to delete after it commits. */
  schedule(trx: Kysely<DB>, keys: readonly (string | null | undefined)[]): Promise<string[]>;
  /** After the commit: deletes them (a crash in between leaves the record for the sweep). */
  deleteScheduled(keys: readonly string[]): Promise<void>;
}

export interface CoursesServiceDeps {
  db: Kysely<DB>;
  events: EventsPort;
  audit: AuditPort;
  files: FilesPort;
  media: Pick<MediaUrls, 'publicUrl'>;
  users: () => UsersPort;
  categories: () => CategoriesPort;
  lessons: () => LessonsPort;
  enrollments: () => EnrollmentsPort;
  sections: () => SectionsPort;
  reviews: () => ReviewsPort;
}

/** What other modules need to know of a course to apply the visibility policy. */
export interface CourseFactsView {
  id: number;
  instructor_id: number;
  is_published: boolean;
  title: string;
  /** Lessons unlock one after another for enrolled students. */
  sequential: boolean;
}

const ORDERING_FIELDS: Record<string, CourseOrderColumn> = {
  price: 'price_cents',
  created_at: 'created_at',
  updated_at: 'updated_at',
  title: 'title',
  average_rating: 'average_rating',
  students_count: 'students_count',
  reviews_count: 'reviews_count',
};
const DEFAULT_ORDERING = '-created_at';

/** How long a count or a search ranking is reused when no write of this process cleared it. */
const CATALOG_CACHE_TTL_MS = 10_000;
const CATALOG_CACHE_ENTRIES = 1_000;
/** A ranked search keeps the ids of its first pages, the ones people read; deeper pages go to the database. */
const RANKED_WINDOW = 500;
/** Catalog work that grows with the data (uncached counts, searches, filters the counters do not answer, deep pages) runs through a gate (cache.ts). */
const HEAVY_CONCURRENCY_POSTGRES = 4;
const HEAVY_MAX_WAITING = 256;
/** A page of the catalog or a category further than this many rows in is heavy work (an index walk of the offset). */
const SHALLOW_OFFSET = 1_000;

const PRICE_MESSAGES: Record<PriceProblem, string> = {
  invalid: 'A valid number is required.',
  places: 'Ensure that there are no more than 2 decimal places.',
  negative: 'Ensure this value is greater than or equal to 0.',
  too_large: 'Ensure this value is less than or equal to 99999999.99.',
};
const NOT_A_NUMBER = 'A valid number is required.';

const roundRating = (value: number | null): number | null => (value === null ? null : Math.round(value * 100) / 100);

function parseNumber(errors: FieldErrorCollector, field: string, raw: string | undefined): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  if (!parseDecimal(raw)) {
    errors.add(field, NOT_A_NUMBER);
    return undefined;
  }
  return Number(raw.trim());
}

function parsePriceBound(errors: FieldErrorCollector, field: string, raw: string | undefined, bound: 'min' | 'max'): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const cents = boundToCents(raw, bound);
  if (cents === null) errors.add(field, NOT_A_NUMBER);
  return cents ?? undefined;
}

/**
 * The list's query string, checked: every bad parameter is reported at once, as a 400 on its
 * name. The flags (mine, is_published, is_free) arrive as booleans: the route schema (QueryFlag)
 * has refused a bad one before.
 */
function parseListQuery(query: CourseListQueryInput) {
  const errors = new FieldErrorCollector();
  const mine = query.mine ?? false;
  const isPublished = query.is_published;
  const conditions: CourseFilters = {
    isFree: query.is_free,
    minPriceCents: parsePriceBound(errors, 'min_price', query.min_price, 'min'),
    maxPriceCents: parsePriceBound(errors, 'max_price', query.max_price, 'max'),
    minRating: parseNumber(errors, 'min_rating', query.min_rating),
  };
  errors.throwIfAny();
  const ordering = parseOrdering(query.ordering, ORDERING_FIELDS, DEFAULT_ORDERING);
  const words = query.search === undefined ? [] : searchWords(query.search);
  if (words.length > 0) conditions.searchWords = words;
  // With search and no ordering of the caller's, best match first, then newest first by id (repo.orderTerms).
  const ranked = words.length > 0 && (query.ordering === undefined || query.ordering.trim() === '');
  return { mine, isPublished, conditions, ordering: ranked ? [] : ordering, ranked };
}

/** Only the published scope, at most narrowed by category: what the category counters answer. */
function countedByCategories(filters: CourseFilters): boolean {
  return Object.entries(filters).every(([key, value]) =>
    key === 'isPublished' ? value === true : key === 'categoryId' || value === undefined,
  );
}

export type CoursesService = ReturnType<typeof createCoursesService>;

export function createCoursesService(deps: CoursesServiceDeps) {
  const { db } = deps;
  const cache = createCatalogCache({ ttlMs: CATALOG_CACHE_TTL_MS, maxEntries: CATALOG_CACHE_ENTRIES });
  // SQLite runs one statement at a time on the event loop: one at a time here too.
  const gate = createWorkGate({ concurrency: isPostgres(db) ? HEAVY_CONCURRENCY_POSTGRES : 1, maxWaiting: HEAVY_MAX_WAITING });
  const heavy = <T>(work: () => Promise<T>) => gate.run(work);

  function toItem(ctx: RequestContext, row: CourseItemRow): CourseListItem {
    return {
      id: row.id,
      title: row.title,
      description: row.description,
      price: centsToPrice(row.price_cents),
      is_free: row.price_cents === 0,
      category: { id: row.category_id, name: row.category_name, slug: row.category_slug },
      instructor: deps.users().toPublicUser(ctx, {
        id: row.instructor_id,
        username: row.instructor_username,
        first_name: row.instructor_first_name,
        last_name: row.instructor_last_name,
        bio: row.instructor_bio,
        profile_image: row.instructor_profile_image,
      }),
      thumbnail: deps.media.publicUrl(ctx.origin, row.thumbnail),
      is_published: toBool(row.is_published),
      average_rating: row.reviews_count > 0 ? roundRating(row.average_rating) : null,
      reviews_count: row.reviews_count,
      students_count: row.students_count,
      lessons_count: row.lessons_count,
      total_duration: Number(row.total_duration),
      created_at: toIso(row.created_at),
      updated_at: toIso(row.updated_at),
    };
  }

  const factsOf = (row: { instructor_id: number; is_published: boolean | number }) => ({
    instructor_id: row.instructor_id,
    is_published: toBool(row.is_published),
  });

  /**
   * For an enrolled student, each lesson says whether they completed it and whether it is
   * locked (sequentialLocks, the list form of the lesson policy); for anyone else the
   * outline as it is.
   */
  async function lessonsFor(
    viewer: Viewer,
    courseId: number,
    sequential: boolean,
    lessons: LessonOutline[],
    enrolled: boolean,
  ): Promise<LessonOutline[]> {
    if (!enrolled || viewer === null) return lessons;
    const done = new Set(await deps.enrollments().completedLessonIds(viewer.id, courseId));
    const marked = lessons.map((lesson) => ({ ...lesson, completed: done.has(lesson.id) }));
    const locks = sequentialLocks(sequential, marked);
    return marked.map((lesson, i) => ({ ...lesson, locked: locks[i] ?? false }));
  }

  /**
   * List items for these ids in the given order, in one query. Ids that do not exist or that
   * the viewer may not see (someone else's draft) are left out.
   */
  async function listItems(ctx: RequestContext, ids: number[]): Promise<CourseListItem[]> {
    const rows = await repo.itemsByIds(db, [...new Set(ids)]);
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.flatMap((id) => {
      const row = byId.get(id);
      return row && canSeeCourse(ctx.viewer, factsOf(row)) ? [toItem(ctx, row)] : [];
    });
  }

  /** The detail of a course the viewer may see, else 404. */
  async function detailOf(ctx: RequestContext, id: number): Promise<CourseDetail> {
    const { viewer } = ctx;
    const row = await repo.findItem(db, id);
    if (!row || !canSeeCourse(viewer, factsOf(row))) throw notFound();
    const [outline, ratingHistogram, enrollment, sections] = await Promise.all([
      deps.lessons().outline(id),
      deps.reviews().ratingHistogram(id),
      viewer?.role === 'student' ? deps.enrollments().summaryFor(viewer.id, id) : null,
      deps.sections().outline(id),
    ]);
    const sequential = toBool(row.sequential);
    const lessons = await lessonsFor(viewer, id, sequential, outline, enrollment !== null);
    return { ...toItem(ctx, row), lessons, sections, sequential, rating_histogram: ratingHistogram, enrollment };
  }

  /** The course if the caller may change it: 404 when they may not even see it, else 403. */
  async function editable(caller: Viewer, id: number) {
    const facts = await repo.findFacts(db, id);
    if (!facts || !canSeeCourse(caller, factsOf(facts))) throw notFound();
    if (!canEditCourse(caller, factsOf(facts))) throw forbidden('You may only change your own courses.');
    return facts;
  }

  /** Every given field of a course body, all problems reported at once (the route schema says which are required). */
  async function validate(input: CoursePatchInput): Promise<Updateable<CourseTable>> {
    const errors = new FieldErrorCollector();
    const values: Updateable<CourseTable> = {};
    if (input.title !== undefined) {
      values.title = cleanRequiredText(errors, 'title', input.title, MAX_TITLE_LENGTH);
    }
    if (input.description !== undefined) values.description = input.description.trim();
    if (input.price !== undefined) {
      const price = priceToCents(input.price);
      if ('problem' in price) errors.add('price', PRICE_MESSAGES[price.problem]);
      else values.price_cents = price.cents;
    }
    if (input.category !== undefined) {
      if (await deps.categories().exists(input.category)) values.category_id = input.category;
      else errors.add('category', `Invalid pk "${input.category}" - object does not exist.`);
    }
    if (input.is_published !== undefined) values.is_published = input.is_published;
    if (input.sequential !== undefined) values.sequential = input.sequential;
    errors.throwIfAny();
    return values;
  }

  /** A category deleted between validation and write: the foreign key refuses, the caller hears why. */
  async function categoryMustExist<T>(category: number | undefined, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (isForeignKeyViolation(error) && category !== undefined) {
        throw invalidField('category', `Invalid pk "${category}" - object does not exist.`);
      }
      throw error;
    }
  }

  /**
   * A course has just become published (created published, or is_published turned true):
   * course.published for its instructor's and admins' webhooks, and the audit entry, in the
   * transaction of the change.
   */
  async function published(trx: Executor, ctx: UserContext, course: { id: number; title: string; instructor_id: number }): Promise<void> {
    await deps.events.record(trx, {
      type: 'course.published',
      courseId: course.id,
      data: { course: { id: course.id, title: course.title, instructor: course.instructor_id } },
    });
    await deps.audit.record(trx, ctx, {
      action: 'course.published',
      target: { type: 'course', id: course.id },
      data: { title: course.title },
    });
  }

  return {
    /** No visibility check: callers decide with policy.ts. */
    async findFacts(id: number): Promise<CourseFactsView | undefined> {
      const row = await repo.findFacts(db, id);
      return row && { id: row.id, title: row.title, ...factsOf(row), sequential: toBool(row.sequential) };
    },

    /**
     * The course row, locked until the transaction ends on PostgreSQL; undefined if it is
     * gone. Every writer of a course's rows or counters takes it first (lessons, enrollments,
     * reviews), so the aggregate it recomputes sees every change committed before it.
     */
    lockCourse: (trx: Executor, id: number) => repo.lockFacts(trx, id),

    /** Refuses a caller who may not change the course (404 or 403), before the body is read. */
    async checkEditable(ctx: UserContext, id: number): Promise<void> {
      await editable(ctx.viewer, id);
    },

    listItems,

    /** Courses or categories changed: counts and search rankings are computed afresh. */
    catalogChanged(): void {
      cache.clear();
    },

    /** The catalog: what the viewer may see, filtered, searched and ordered; a count and one page. */
    async list(ctx: RequestContext, query: CourseListQueryInput): Promise<Page<CourseListItem>> {
      const { viewer } = ctx;
      const page: PageRequest = pageRequest(query);
      const { mine, isPublished, conditions, ordering, ranked } = parseListQuery(query);
      const empty = () => buildPage(ctx, page, 0, []);

      const scope = courseListScope(viewer, { mine, isPublished });
      if (!scope) return empty();
      const filters: CourseFilters = { isPublished: scope.isPublished, instructorId: scope.instructorId, ...conditions };
      const instructor = query.instructor?.trim();
      if (instructor) filters.instructor = /^\d{1,9}$/.test(instructor) ? { id: Number(instructor) } : { username: instructor };
      const category = query.category?.trim();
      if (category) {
        const found = await deps.categories().findByReference(category);
        if (!found) return empty();
        filters.categoryId = found.id;
      }

      // Ratings change with reviews, outside this module's writes: a filter on them is never cached.
      const cacheable = filters.minRating === undefined;
      const key = JSON.stringify(filters);
      if (ranked && repo.isPublicSearch(filters)) {
        // The search box: counts and ids from the full-text indexes alone, each page read from them.
        const words = filters.searchWords;
        const count = await cache.remember(`count ${key}`, () => heavy(() => repo.countPublicSearch(db, words)));
        if (page.offset >= count) return buildPage(ctx, page, count, []);
        const ids =
          page.offset + page.limit <= RANKED_WINDOW
            ? (await cache.remember(`ranked ${key}`, () => heavy(() => repo.publicSearchIds(db, words, count, 0, RANKED_WINDOW)))).slice(
                page.offset,
                page.offset + page.limit,
              )
            : await heavy(() => repo.publicSearchIds(db, words, count, page.offset, page.limit));
        return buildPage(ctx, page, count, await listItems(ctx, ids));
      }
      const counted = countedByCategories(filters);
      const countAll = () => (counted ? repo.countPublished(db, filters.categoryId) : heavy(() => repo.countCourses(db, filters)));
      const count = cacheable ? await cache.remember(`count ${key}`, countAll) : await countAll();
      if (page.offset >= count) return buildPage(ctx, page, count, []);
      const sort = { ranked, ordering };
      if (ranked && cacheable && page.offset + page.limit <= RANKED_WINDOW) {
        const ids = await cache.remember(`ranked ${key}`, () => heavy(() => repo.firstIds(db, filters, sort, RANKED_WINDOW)));
        return buildPage(ctx, page, count, await listItems(ctx, ids.slice(page.offset, page.offset + page.limit)));
      }
      const readPage = () => repo.listPage(db, filters, sort, page);
      const rows = counted && page.offset < SHALLOW_OFFSET ? await readPage() : await heavy(readPage);
      return buildPage(
        ctx,
        page,
        count,
        rows.map((row) => toItem(ctx, row)),
      );
    },

    detail: (ctx: RequestContext, id: number): Promise<CourseDetail> => detailOf(ctx, id),

    /** Approved instructors and admins, as the database says now (a token may predate a rejection). */
    async create(ctx: UserContext, input: CourseCreateInput, upload: StoredUpload | undefined): Promise<CourseDetail> {
      const caller = ctx.viewer;
      const user = await deps.users().findActive(caller.id);
      if (!user) throw unauthorized('User not found or inactive.');
      const denial = courseCreationDenial(user.role, user.instructorStatus);
      if (denial) throw forbidden(denial);
      const values = await validate(input);
      const now = nowIso();
      const { id } = await categoryMustExist(input.category, () =>
        writeTransaction(db, async (trx) => {
          const inserted = await repo.insertCourse(trx, {
            title: values.title ?? '',
            description: values.description ?? '',
            price_cents: values.price_cents ?? 0,
            category_id: input.category,
            instructor_id: caller.id,
            thumbnail: upload?.key ?? null,
            is_published: values.is_published ?? false,
            sequential: values.sequential ?? false,
            average_rating: null,
            created_at: now,
            updated_at: now,
          });
          if (values.is_published === true)
            await published(trx, ctx, { id: inserted.id, title: values.title ?? '', instructor_id: caller.id });
          return inserted;
        }),
      );
      cache.clear();
      return detailOf(ctx, id);
    },

    /** PATCH and PUT: the owner or an admin; a new or cleared thumbnail retires the old file once the row says so. */
    async update(ctx: UserContext, id: number, input: CoursePatchInput, upload: StoredUpload | undefined): Promise<CourseDetail> {
      await editable(ctx.viewer, id);
      const changes = await validate(input);
      if (upload) changes.thumbnail = upload.key;
      else if (input.thumbnail === null) changes.thumbnail = null;
      changes.updated_at = nowIso();
      const dropped = await categoryMustExist(input.category, () =>
        writeTransaction(db, async (trx) => {
          // Locked, so that of two racing thumbnail changes each retires the file the other did not keep.
          const current = await repo.lockFacts(trx, id);
          if (!current) throw notFound();
          await repo.updateCourse(trx, id, changes);
          const dropped =
            changes.thumbnail !== undefined && current.thumbnail !== changes.thumbnail
              ? await deps.files.schedule(trx, [current.thumbnail])
              : [];
          const wasPublished = toBool(current.is_published);
          if (changes.is_published === true && !wasPublished) {
            await published(trx, ctx, { id, title: changes.title ?? current.title, instructor_id: current.instructor_id });
          } else if (changes.is_published === false && wasPublished) {
            await deps.audit.record(trx, ctx, {
              action: 'course.unpublished',
              target: { type: 'course', id },
              data: { title: changes.title ?? current.title },
            });
          }
          return dropped;
        }),
      );
      cache.clear();
      await deps.files.deleteScheduled(dropped);
      return detailOf(ctx, id);
    },

    /** The owner (not while students are enrolled) or an admin; the course's files go after the rows. */
    async remove(ctx: UserContext, id: number): Promise<void> {
      const caller = ctx.viewer;
      const facts = await editable(caller, id);
      const early = courseDeletionDenial(caller, facts);
      if (early) throw conflict(early);
      // Lesson rows go with the course (ON DELETE CASCADE), so their files are listed first.
      const lessonFiles = await deps.lessons().storageKeysOfCourse(id);
      const dropped = await writeTransaction(db, async (trx) => {
        const current = await repo.lockFacts(trx, id);
        if (!current) throw notFound();
        const denial = courseDeletionDenial(caller, current);
        if (denial) throw conflict(denial);
        await repo.deleteCourse(trx, id);
        await deps.audit.record(trx, ctx, {
          action: 'course.deleted',
          target: { type: 'course', id },
          data: { title: current.title, instructor: current.instructor_id, students_count: current.students_count },
        });
        return deps.files.schedule(trx, [current.thumbnail, ...lessonFiles]);
      });
      cache.clear();
      await deps.files.deleteScheduled(dropped);
    },
  };
}
