import type { Kysely, Updateable } from 'kysely';
import { writeTransaction } from '../../db/transaction.js';
import type { Executor } from '../../db/query.js';
import type { AuditEntry } from '../audit/service.js';
import { isForeignKeyViolation, isUniqueViolation } from '../../db/errors.js';
import type { CategoryRow, CategoryTable, DB } from '../../db/types.js';
import { FieldErrorCollector, conflict, invalidField, notFound } from '../../shared/errors.js';
import { pageRequest, paginate } from '../../shared/pagination.js';
import type { RequestContext } from '../../shared/context.js';
import type { Page } from '../../shared/pagination.js';
import { cleanRequiredText } from '../../shared/text.js';
import * as repo from './repository.js';
import { MAX_NAME_LENGTH } from './schemas.js';
import type { Category, CategoryCreateInput, CategoryListQueryInput, CategoryPatchInput } from './schemas.js';
import { slugify } from './slug.js';

/** What this module needs of the audit module. */
export interface AuditPort {
  record(trx: Executor, ctx: RequestContext, entry: AuditEntry): Promise<void>;
}

export interface CategoriesServiceDeps {
  db: Kysely<DB>;
  audit: AuditPort;
  /** A rename or a delete changes what the course list finds (category names are searched). */
  catalogChanged(): void;
}

const DUPLICATE_NAME = 'category with this name already exists.';
const HAS_COURSES = 'This category still has courses; move or delete them first.';

const toCategory = (row: CategoryRow): Category => ({
  id: row.id,
  name: row.name,
  slug: row.slug,
  description: row.description,
  courses_count: row.courses_count,
});

export type CategoriesService = ReturnType<typeof createCategoriesService>;

export function createCategoriesService(deps: CategoriesServiceDeps) {
  const { db } = deps;

  async function checkName(errors: FieldErrorCollector, raw: string, exceptId?: number): Promise<string> {
    const name = cleanRequiredText(errors, 'name', raw, MAX_NAME_LENGTH);
    if (errors.empty && (await repo.nameTaken(db, name, exceptId))) errors.add('name', DUPLICATE_NAME);
    return name;
  }

  /** The name's slug, numbered when another category already has it ("c++" and "C" both give "c"). */
  async function freeSlug(name: string, exceptId?: number): Promise<string> {
    const base = slugify(name) || 'category';
    const taken = new Set(await repo.slugsLike(db, base, exceptId));
    let slug = base;
    for (let n = 2; taken.has(slug); n++) slug = `${base}-${n}`;
    return slug;
  }

  async function getRow(id: number): Promise<CategoryRow> {
    const row = await repo.findById(db, id);
    if (!row) throw notFound();
    return row;
  }

  /** Two writers racing for one name or slug: the unique indexes decide. */
  async function asNameClash<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (isUniqueViolation(error)) throw invalidField('name', DUPLICATE_NAME);
      throw error;
    }
  }

  return {
    async list(ctx: RequestContext, query: CategoryListQueryInput): Promise<Page<Category>> {
      return paginate(ctx, pageRequest(query), repo.listCategories(db), (rows) => rows.map(toCategory));
    },

    async get(_ctx: RequestContext, id: number): Promise<Category> {
      return toCategory(await getRow(id));
    },

    /** For the course list's `category` filter: an id, a slug, or a name ignoring case. */
    async findByReference(reference: string): Promise<{ id: number } | undefined> {
      const row = await repo.findByReference(db, reference.trim());
      return row && { id: row.id };
    },

    async exists(id: number): Promise<boolean> {
      return (await repo.findById(db, id)) !== undefined;
    },

    async create(ctx: RequestContext, input: CategoryCreateInput): Promise<Category> {
      const errors = new FieldErrorCollector();
      const name = await checkName(errors, input.name);
      errors.throwIfAny();
      const slug = await freeSlug(name);
      const row = await asNameClash(() =>
        writeTransaction(db, async (trx) => {
          const inserted = await repo.insertCategory(trx, { name, slug, description: input.description ?? '' });
          await deps.audit.record(trx, ctx, {
            action: 'category.created',
            target: { type: 'category', id: inserted.id },
            data: { name, slug },
          });
          return inserted;
        }),
      );
      return toCategory(row);
    },

    async update(ctx: RequestContext, id: number, input: CategoryPatchInput): Promise<Category> {
      const row = await getRow(id);
      const errors = new FieldErrorCollector();
      const changes: Updateable<CategoryTable> = {};
      if (input.name !== undefined) {
        const name = await checkName(errors, input.name, id);
        if (name !== row.name) {
          changes.name = name;
          changes.slug = await freeSlug(name, id);
        }
      }
      if (input.description !== undefined) changes.description = input.description;
      errors.throwIfAny();
      if (Object.keys(changes).length === 0) return toCategory(row);
      const updated = await asNameClash(() =>
        writeTransaction(db, async (trx) => {
          const after = await repo.updateCategory(trx, id, changes);
          if (!after) throw notFound();
          await deps.audit.record(trx, ctx, { action: 'category.updated', target: { type: 'category', id }, data: { ...changes } });
          return after;
        }),
      );
      deps.catalogChanged();
      return toCategory(updated);
    },

    /** Refused while any course, draft or published, is filed under it. */
    async remove(ctx: RequestContext, id: number): Promise<void> {
      const row = await getRow(id);
      if (await repo.hasCourses(db, id)) throw conflict(HAS_COURSES);
      try {
        await writeTransaction(db, async (trx) => {
          await repo.deleteCategory(trx, id);
          await deps.audit.record(trx, ctx, {
            action: 'category.deleted',
            target: { type: 'category', id },
            data: { name: row.name, slug: row.slug },
          });
        });
      } catch (error) {
        // A course filed under it meanwhile: the foreign key refuses.
        if (isForeignKeyViolation(error)) throw conflict(HAS_COURSES);
        throw error;
      }
      deps.catalogChanged();
    },
  };
}
