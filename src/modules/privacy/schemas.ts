import { Type } from 'typebox';
import type { Static } from 'typebox';
import { named } from '../../shared/openapi.js';
import { Nullable } from '../../shared/schemas.js';
import { UserSchema } from '../users/schemas.js';

const CourseRef = named('CourseRef', Type.Object({ id: Type.Integer(), title: Type.String() }));
const DateTime = Type.String({ format: 'date-time' });

const ExportedEnrollment = named(
  'ExportedEnrollment',
  Type.Object({
    id: Type.Integer(),
    course: CourseRef,
    enrolled_on: DateTime,
    progress: Type.Number({ description: 'Percent, 2 places' }),
    completed_lessons: Type.Integer(),
    completed_at: Nullable(DateTime),
    lesson_completions: Type.Array(
      named(
        'ExportedLessonCompletion',
        Type.Object({ lesson: Type.Object({ id: Type.Integer(), title: Type.String() }), completed_at: DateTime }),
      ),
    ),
  }),
);

const ExportedReview = named(
  'ExportedReview',
  Type.Object({
    id: Type.Integer(),
    course: CourseRef,
    rating: Type.Integer(),
    comment: Type.String(),
    created_at: DateTime,
    updated_at: DateTime,
  }),
);

const ExportedSession = named(
  'ExportedSession',
  Type.Object({
    created_at: DateTime,
    expires_at: DateTime,
    revoked_at: Nullable(DateTime),
    ip: Type.String({ description: 'The client address at login (empty when unknown)' }),
  }),
);

/** Records of modules that keep their own (quizzes, certificates): as those modules export them. */
const Record = Type.Record(Type.String(), Type.Unknown());

export const DataExportSchema = named(
  'DataExport',
  Type.Object({
    profile: UserSchema,
    enrollments: Type.Array(ExportedEnrollment),
    quiz_attempts: Type.Array(Record),
    reviews: Type.Array(ExportedReview),
    certificates: Type.Array(Record),
    sessions: Type.Array(ExportedSession),
  }),
);
export type DataExport = Static<typeof DataExportSchema>;

export const EraseBody = named(
  'EraseRequest',
  Type.Object({
    password: Type.String({ minLength: 1, maxLength: 4096, description: "The account's current password" }),
  }),
);
export type EraseInput = Static<typeof EraseBody>;
