import type { Kysely } from 'kysely';
import type { Services } from '../../app.js';
import type { DB } from '../../db/types.js';
import { toBool, toIso } from '../../shared/time.js';
import { centsToPrice } from './money.js';
import { canSeeCourse } from './policy.js';
import type { Viewer } from './policy.js';
import * as repo from './repository.js';
import type { CourseItemRow } from './repository.js';
import type { CourseListItem } from './schemas.js';

export interface CoursesServiceDeps {
  db: Kysely<DB>;
  /** Users, lessons, enrollments, storage and media are reached through their services, at call time. */
  services: Services;
}

/** What other modules need to know of a course to apply the visibility policy. */
export interface CourseFactsView {
  id: number;
  instructor_id: number;
  is_published: boolean;
  title: string;
}

const roundRating = (value: number | null): number | null => (value === null ? null : Math.round(value * 100) / 100);

export type CoursesService = ReturnType<typeof createCoursesService>;

export function createCoursesService(deps: CoursesServiceDeps) {
  const { db, services } = deps;

  function toItem(row: CourseItemRow, origin: string): CourseListItem {
    return {
      id: row.id,
      title: row.title,
      description: row.description,
      price: centsToPrice(row.price_cents),
      is_free: row.price_cents === 0,
      category: { id: row.category_id, name: row.category_name, slug: row.category_slug },
      instructor: services.users.toPublicUser(
        {
          id: row.instructor_id,
          username: row.instructor_username,
          first_name: row.instructor_first_name,
          last_name: row.instructor_last_name,
          bio: row.instructor_bio,
          profile_image: row.instructor_profile_image,
        },
        origin,
      ),
      thumbnail: services.media.publicUrl(origin, row.thumbnail),
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

  return {
    /** No visibility check: callers decide with policy.ts. */
    async findFacts(id: number): Promise<CourseFactsView | undefined> {
      const row = await repo.findFacts(db, id);
      return row && { id: row.id, instructor_id: row.instructor_id, is_published: toBool(row.is_published), title: row.title };
    },

    /**
     * List items for these ids in the given order, in one query. Ids that do not exist or that
     * the viewer may not see (someone else's draft) are left out.
     */
    async listItems(ids: number[], viewer: Viewer, origin: string): Promise<CourseListItem[]> {
      const rows = await repo.itemsByIds(db, [...new Set(ids)]);
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.flatMap((id) => {
        const row = byId.get(id);
        if (!row || !canSeeCourse(viewer, { instructor_id: row.instructor_id, is_published: toBool(row.is_published) })) return [];
        return [toItem(row, origin)];
      });
    },
  };
}
