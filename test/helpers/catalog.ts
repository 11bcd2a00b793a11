import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { FastifyInstance } from 'fastify';
import type { CategoryRow, CourseRow } from '../../src/db/types.js';
import { slugify } from '../../src/modules/categories/slug.js';
import { nowIso } from '../../src/shared/time.js';
import { unique } from './factories.js';
import { caseKey } from '../../src/shared/text-key.js';

/** A category written straight to the database. */
export async function createCategory(app: FastifyInstance, overrides: { name?: string; description?: string } = {}): Promise<CategoryRow> {
  const name = overrides.name ?? unique('Category ');
  return app.database.db
    .insertInto('categories')
    .values({ name, name_key: caseKey(name), slug: slugify(name), description: overrides.description ?? '' })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export interface CourseOverrides {
  title?: string;
  description?: string;
  price_cents?: number;
  category_id?: number;
  is_published?: boolean;
  thumbnail?: string | null;
  created_at?: string;
  updated_at?: string;
  students_count?: number;
  reviews_count?: number;
  rating_sum?: number;
  average_rating?: number | null;
}

/**
 * A course written straight to the database (the triggers keep search and category counts),
 * published unless told otherwise. Counters may be set to stand in for enrollments and reviews.
 */
export async function createCourse(app: FastifyInstance, instructorId: number, overrides: CourseOverrides = {}): Promise<CourseRow> {
  const now = nowIso();
  const categoryId = overrides.category_id ?? (await createCategory(app)).id;
  const course = await app.database.db
    .insertInto('courses')
    .values({
      title: overrides.title ?? unique('Course '),
      description: overrides.description ?? '',
      price_cents: overrides.price_cents ?? 1000,
      category_id: categoryId,
      instructor_id: instructorId,
      thumbnail: overrides.thumbnail ?? null,
      is_published: overrides.is_published ?? true,
      average_rating: overrides.average_rating ?? null,
      students_count: overrides.students_count ?? 0,
      reviews_count: overrides.reviews_count ?? 0,
      rating_sum: overrides.rating_sum ?? 0,
      created_at: overrides.created_at ?? now,
      updated_at: overrides.updated_at ?? overrides.created_at ?? now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  // Written behind the service's back: counts and rankings it may hold are stale.
  app.services.courses.catalogChanged();
  return course;
}

/** A JPEG whose EXIF carries a GPS position and a camera make. */
export function jpegWithGps(width = 64, height = 48): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 40, b: 40 } } })
    .jpeg()
    .withExif({
      IFD0: { Make: 'SpyCam', Model: 'Tracker 9000' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 2976/100', GPSLongitudeRef: 'E', GPSLongitude: '2/1 17/1 4020/100' },
    })
    .toBuffer();
}

export function png(width = 32, height = 32): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background: { r: 0, g: 120, b: 200, alpha: 1 } } })
    .png()
    .toBuffer();
}

/** Every file under a folder, relative to it (the media root of a test app). */
export function filesUnder(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else found.push(path.relative(root, full));
    }
  };
  walk(root);
  return found.sort();
}
