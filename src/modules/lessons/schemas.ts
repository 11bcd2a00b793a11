import { Type } from 'typebox';
import { MAX_TITLE_LENGTH } from '../../shared/text.js';
import type { Static } from 'typebox';
import { PageQuery } from '../../shared/pagination.js';
import { Id as idSchema, MAX_ID, Nullable } from '../../shared/schemas.js';
import { named } from '../../shared/openapi.js';

/** Counts live in 32-bit integer columns, as ids do; a larger value would be a database error, not a 400. */
export const MAX_INT = MAX_ID;
export const MAX_CONTENT_LENGTH = 200_000;

const Id = idSchema();

export const LessonSchema = named(
  'Lesson',
  Type.Object({
    id: Type.Integer(),
    course: Type.Integer(),
    title: Type.String(),
    content: Type.String({ description: 'Markdown' }),
    order: Type.Integer({ description: 'Position within the course, unique there' }),
    duration: Type.Integer({ description: 'Seconds' }),
    is_preview: Type.Boolean(),
    section: Nullable(Type.Integer({ description: 'Id of the section of the course the lesson is in, or null' })),
    video: Nullable(Type.String({ format: 'uri', description: 'Signed URL, valid for MEDIA_URL_TTL seconds; no header needed' })),
    attachment: Nullable(Type.String({ format: 'uri', description: 'Signed URL, valid for MEDIA_URL_TTL seconds; no header needed' })),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  }),
);
export type Lesson = Static<typeof LessonSchema>;

const fileField = (what: string) =>
  Type.Optional(Type.Null({ description: `A file (multipart) to set the ${what}; null (or an empty form value) to clear it` }));

const editable = {
  title: Type.String({ description: `1 to ${MAX_TITLE_LENGTH} characters after trimming` }),
  content: Type.Optional(Type.String({ maxLength: MAX_CONTENT_LENGTH, description: 'Markdown' })),
  order: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_INT, description: 'Default: after the last lesson' })),
  duration: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_INT, description: 'Seconds' })),
  is_preview: Type.Optional(Type.Boolean()),
  section: Type.Optional(Nullable(Id)),
  video: fileField('video (MP4, WebM, QuickTime, Matroska)'),
  attachment: fileField('attachment (PDF)'),
};

export const LessonCreateBody = named('LessonRequest', Type.Object({ course: Id, ...editable }));
export type LessonCreateInput = Static<typeof LessonCreateBody>;

/** PUT: the required fields again (the course must be the same), the others as PATCH. */
export const LessonReplaceBody = named(
  'LessonUpdateRequest',
  Type.Object({
    ...editable,
    course: Type.Integer({ description: 'Fixed after creation: must be the current course' }),
  }),
);
export const LessonPatchBody = named(
  'PatchedLessonRequest',
  Type.Object({
    ...editable,
    course: Type.Optional(Type.Integer({ description: 'Fixed after creation: must be the current course' })),
    title: Type.Optional(editable.title),
  }),
);
export type LessonUpdateInput = Static<typeof LessonPatchBody>;

export const LessonQuery = Type.Object({
  ...PageQuery,
  course: Type.Optional(
    Type.Integer({ minimum: 1, maximum: MAX_INT, description: 'Id of a course: its lessons the caller may read in full, by order' }),
  ),
});
export type LessonQueryInput = Static<typeof LessonQuery>;

export const LessonIdParams = Type.Object({ id: Id });
