import { Type } from 'typebox';
import type { Static } from 'typebox';
import { PageQuery } from '../../shared/pagination.js';
import { named } from '../../shared/openapi.js';
import { Id, MAX_ID, Nullable } from '../../shared/schemas.js';
import { CourseListItemSchema } from '../courses/schemas.js';
import { PublicUserSchema } from '../users/schemas.js';

const Progress = Type.Number({
  minimum: 0,
  maximum: 100,
  description: '100 × completed ÷ current lessons, rounded to 2 places; 0 without lessons',
});
const CompletedAt = Nullable(Type.String({ format: 'date-time', description: 'When progress first reached 100; kept afterwards' }));

export const EnrollmentSchema = named(
  'Enrollment',
  Type.Object({
    id: Type.Integer(),
    course: CourseListItemSchema,
    enrolled_on: Type.String({ format: 'date-time' }),
    progress: Progress,
    completed_at: CompletedAt,
  }),
);
export type Enrollment = Static<typeof EnrollmentSchema>;

export const CourseRefSchema = named('CourseRef', Type.Object({ id: Type.Integer(), title: Type.String() }));

export const ProgressSchema = named(
  'Progress',
  Type.Object({
    course: CourseRefSchema,
    progress: Progress,
    completed_lessons: Type.Integer(),
    total_lessons: Type.Integer(),
    enrolled_on: Type.String({ format: 'date-time' }),
    completed_at: CompletedAt,
  }),
);
export type Progress = Static<typeof ProgressSchema>;

export const LessonProgressSchema = named(
  'LessonProgress',
  Type.Object({
    id: Type.Integer(),
    title: Type.String(),
    order: Type.Integer(),
    completed: Type.Boolean(),
    completed_at: Nullable(Type.String({ format: 'date-time' })),
    position: Nullable(Type.Number({ description: 'Seconds: where the caller last reported being in the lesson, or null' })),
  }),
);

export const ResumeSchema = named(
  'Resume',
  Type.Object(
    {
      lesson: Type.Integer({ description: 'Lesson id' }),
      position: Type.Number({ description: 'Seconds; 0 when the lesson was completed without a position report' }),
    },
    { description: 'The lesson the caller touched last (by position report or completion) and where they were in it' },
  ),
);

export const ProgressDetailSchema = named(
  'ProgressDetail',
  Type.Object({
    ...ProgressSchema.properties,
    lessons: Type.Array(LessonProgressSchema, {
      description: 'The lessons of the course by order, each with whether the caller completed it',
    }),
    resume: Nullable(ResumeSchema),
    next_lesson: Nullable(Type.Integer({ description: 'Id of the first lesson by order not yet completed, or null' })),
  }),
);
export type ProgressDetail = Static<typeof ProgressDetailSchema>;

export const CompletionSchema = named(
  'Completion',
  Type.Object({
    progress: Progress,
    completed_lessons: Type.Integer(),
    total_lessons: Type.Integer(),
    completed_at: CompletedAt,
  }),
);
export type Completion = Static<typeof CompletionSchema>;

export const CourseStudentSchema = named(
  'CourseStudent',
  Type.Object({
    student: PublicUserSchema,
    enrolled_on: Type.String({ format: 'date-time' }),
    progress: Progress,
    completed_at: CompletedAt,
  }),
);
export type CourseStudent = Static<typeof CourseStudentSchema>;

/** A heartbeat's body: seconds from the start of the lesson's video. */
export const PositionBody = named(
  'LessonPositionRequest',
  Type.Object({
    position: Type.Number({
      minimum: 0,
      maximum: MAX_ID,
      description: "Seconds (a number ≥ 0; at most the lesson's duration when that is known)",
    }),
  }),
);
export type PositionInput = Static<typeof PositionBody>;

export const LessonPositionSchema = named(
  'LessonPosition',
  Type.Object({
    lesson: Type.Integer({ description: 'Lesson id' }),
    position: Type.Number({ description: 'Seconds' }),
    completed: Type.Boolean({ description: 'Whether the caller has completed the lesson (reaching 90% of a known duration completes it)' }),
  }),
);
export type LessonPosition = Static<typeof LessonPositionSchema>;

export const PageOnlyQuery = Type.Object({ ...PageQuery });
export type PageQueryInput = Static<typeof PageOnlyQuery>;
export const CourseIdParams = Type.Object({ course_id: Id() });
export const IdParams = Type.Object({ id: Id() });
