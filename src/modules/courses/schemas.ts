import { Type } from 'typebox';
import type { Static } from 'typebox';
import { PageQuery } from '../../shared/pagination.js';
import { PublicUserSchema } from '../users/schemas.js';
import { RatingHistogramSchema } from '../reviews/schemas.js';
import { Id, Nullable } from '../../shared/schemas.js';
import { MAX_TITLE_LENGTH } from '../../shared/text.js';
import { SectionOutlineSchema } from '../sections/schemas.js';
import { named, QueryFlag } from '../../shared/openapi.js';

export const MAX_DESCRIPTION_LENGTH = 20_000;

export const CategoryRefSchema = named(
  'CategoryRef',
  Type.Object({
    id: Type.Integer(),
    name: Type.String(),
    slug: Type.String(),
  }),
);

export const CourseListItemSchema = named(
  'Course',
  Type.Object({
    id: Type.Integer(),
    title: Type.String(),
    description: Type.String(),
    price: Type.String({ description: 'Decimal with two places, e.g. "49.99"' }),
    is_free: Type.Boolean(),
    category: CategoryRefSchema,
    instructor: PublicUserSchema,
    thumbnail: Nullable(Type.String({ format: 'uri' })),
    is_published: Type.Boolean(),
    average_rating: Nullable(Type.Number({ description: 'Rounded to 2 places; null without reviews' })),
    reviews_count: Type.Integer(),
    students_count: Type.Integer(),
    lessons_count: Type.Integer(),
    total_duration: Type.Integer({ description: 'Seconds' }),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  }),
);
export type CourseListItem = Static<typeof CourseListItemSchema>;

export const LessonOutlineSchema = named(
  'LessonOutline',
  Type.Object({
    id: Type.Integer(),
    title: Type.String(),
    order: Type.Integer(),
    duration: Type.Integer(),
    is_preview: Type.Boolean(),
    section: Nullable(Type.Integer({ description: 'Id of the section the lesson is in, or null' })),
    completed: Type.Optional(Type.Boolean({ description: 'For an enrolled student: whether they completed the lesson' })),
    locked: Type.Optional(
      Type.Boolean({
        description: 'For an enrolled student of a sequential course: the lesson waits for every lesson before it to be completed',
      }),
    ),
  }),
);
export type LessonOutline = Static<typeof LessonOutlineSchema>;

export const EnrollmentSummarySchema = named(
  'EnrollmentSummary',
  Type.Object({
    progress: Type.Number(),
    enrolled_on: Type.String({ format: 'date-time' }),
    completed_at: Nullable(Type.String({ format: 'date-time' })),
  }),
);
export type EnrollmentSummary = Static<typeof EnrollmentSummarySchema>;

export const CourseDetailSchema = named(
  'CourseDetail',
  Type.Object({
    ...CourseListItemSchema.properties,
    lessons: Type.Array(LessonOutlineSchema),
    sections: Type.Array(SectionOutlineSchema, { description: 'The sections of the course, by order' }),
    sequential: Type.Boolean({
      description: 'Lessons unlock for an enrolled student one after another, each once every lesson before it is completed',
    }),
    rating_histogram: RatingHistogramSchema,
    enrollment: Nullable(
      Type.Object(EnrollmentSummarySchema.properties, { description: "The caller's enrollment, for a student; otherwise null" }),
    ),
  }),
);
export type CourseDetail = Static<typeof CourseDetailSchema>;

/** Money arrives as a number or a decimal string (validation turns a number into its string); the service checks range and places. */
const Price = Type.Union([Type.String(), Type.Number()], {
  description: 'Decimal from 0 to 99999999.99 with at most two decimal places, as a number or a string',
  examples: ['49.99'],
});

const courseFields = {
  title: Type.String({ description: `1 to ${MAX_TITLE_LENGTH} characters` }),
  description: Type.String({ maxLength: MAX_DESCRIPTION_LENGTH }),
  price: Price,
  category: Id({ description: 'Category id' }),
  thumbnail: Type.Optional(Type.Null({ description: 'A file (multipart) to replace the thumbnail; null or empty to clear it' })),
  is_published: Type.Optional(Type.Boolean({ description: 'Defaults to false (a draft)' })),
  sequential: Type.Optional(
    Type.Boolean({
      description:
        'Defaults to false. True: an enrolled student reads and completes each lesson only once every lesson before it (by order) is completed. ' +
        'Turning it on does not revoke media URLs already signed; they expire after MEDIA_URL_TTL.',
    }),
  ),
};

export const CourseCreateBody = named('CourseRequest', Type.Object(courseFields));
export type CourseCreateInput = Static<typeof CourseCreateBody>;

export const CoursePatchBody = named(
  'PatchedCourseRequest',
  Type.Object({
    title: Type.Optional(courseFields.title),
    description: Type.Optional(courseFields.description),
    price: Type.Optional(Price),
    category: Type.Optional(courseFields.category),
    thumbnail: courseFields.thumbnail,
    is_published: courseFields.is_published,
    sequential: courseFields.sequential,
  }),
);
export type CoursePatchInput = Static<typeof CoursePatchBody>;

export const CourseListQuery = Type.Object({
  ...PageQuery,
  search: Type.Optional(
    Type.String({
      maxLength: 200,
      description:
        'Whitespace-separated terms; each must match the start of a word in the title, description, category name or instructor username',
    }),
  ),
  category: Type.Optional(Type.String({ description: 'Category slug, id, or name ignoring case' })),
  instructor: Type.Optional(Type.String({ description: 'Instructor id or username' })),
  min_price: Type.Optional(Type.String({ description: 'Inclusive lower bound' })),
  max_price: Type.Optional(Type.String({ description: 'Inclusive upper bound' })),
  is_free: Type.Optional(QueryFlag({ description: 'true or false' })),
  min_rating: Type.Optional(Type.String({ description: 'Inclusive; courses without reviews never match' })),
  is_published: Type.Optional(
    QueryFlag({ description: 'false lists the drafts the caller may see (their own; every draft for an admin)' }),
  ),
  mine: Type.Optional(QueryFlag({ description: "true: the caller's own courses, drafts included" })),
  ordering: Type.Optional(
    Type.String({
      description:
        'price, created_at, updated_at, title, average_rating, students_count, reviews_count; `-` for descending; comma-separated. Default -created_at; with search and no ordering, best match first: title hits (every term begins a word of the title), then the other matches, each newest first',
    }),
  ),
});
export type CourseListQueryInput = Static<typeof CourseListQuery>;

export const CourseIdParams = Type.Object({ id: Id() });
