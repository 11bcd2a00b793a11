import { MAX_TITLE_LENGTH } from '../../shared/text.js';
import { Type } from 'typebox';
import type { Static } from 'typebox';
import { named } from '../../shared/openapi.js';
import { PageQuery } from '../../shared/pagination.js';
import { Id, MAX_ID } from '../../shared/schemas.js';

export const MAX_SECTION_TITLE_LENGTH = MAX_TITLE_LENGTH;

export const SectionSchema = named(
  'Section',
  Type.Object({
    id: Type.Integer(),
    course: Type.Integer({ description: 'Course id' }),
    title: Type.String(),
    order: Type.Integer({ description: 'Position within the course, unique there' }),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  }),
);
export type Section = Static<typeof SectionSchema>;

/** What a course detail shows of each section. */
export const SectionOutlineSchema = named(
  'SectionOutline',
  Type.Object({
    id: Type.Integer(),
    title: Type.String(),
    order: Type.Integer(),
  }),
);
export type SectionOutline = Static<typeof SectionOutlineSchema>;

// The length is judged after trimming, by the service (shared/text.ts), as for every title.
const Title = Type.String({ description: `1 to ${MAX_SECTION_TITLE_LENGTH} characters after trimming` });
const Order = Type.Integer({
  minimum: 1,
  maximum: MAX_ID,
  description: 'Positive, unique within the course; default: after the last section',
});
const FixedCourse = Type.Integer({ description: 'Fixed after creation: must be the current course' });

export const SectionCreateBody = named(
  'SectionRequest',
  Type.Object({
    course: Id({ description: 'Course id' }),
    title: Title,
    order: Type.Optional(Order),
  }),
);
export type SectionCreateInput = Static<typeof SectionCreateBody>;

/** PUT: the required fields again (the course must be the same), `order` optional as on create. */
export const SectionReplaceBody = named(
  'SectionReplaceRequest',
  Type.Object({
    course: FixedCourse,
    title: Title,
    order: Type.Optional(Order),
  }),
);

export const SectionPatchBody = named(
  'PatchedSectionRequest',
  Type.Object({
    course: Type.Optional(FixedCourse),
    title: Type.Optional(Title),
    order: Type.Optional(Order),
  }),
);
export type SectionUpdateInput = Static<typeof SectionPatchBody>;

export const SectionQuery = Type.Object({
  ...PageQuery,
  course: Type.Optional(Id({ description: "Course id: that course's sections, by order (a draft's only for its owner and admins)" })),
});
export type SectionQueryInput = Static<typeof SectionQuery>;

export const SectionIdParams = Type.Object({ id: Id() });
export const CourseIdParams = Type.Object({ id: Id() });

const IdList = (what: string) =>
  Type.Array(Id(), { maxItems: 10_000, description: `Every ${what} id of the course, each once, in the new order` });

export const ReorderBody = named(
  'ReorderRequest',
  Type.Object({
    lessons: IdList('lesson'),
    sections: Type.Optional(IdList('section')),
  }),
);
export type ReorderInput = Static<typeof ReorderBody>;
