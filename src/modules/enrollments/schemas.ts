import { Type } from 'typebox';
import type { Static } from 'typebox';
import { PageQuery } from '../../shared/pagination.js';
import { Id, Nullable } from '../../shared/schemas.js';
import { CourseListItemSchema } from '../courses/schemas.js';
import { PublicUserSchema } from '../users/schemas.js';
import { named } from '../../shared/openapi.js';

const Progress = Type.Number({ minimum: 0, maximum: 100, description: '100 × completed ÷ current lessons, rounded to 2 places; 0 without lessons' });
const CompletedAt = Nullable(Type.String({ format: 'date-time', description: 'When progress first reached 100; kept afterwards' }));

export const EnrollmentSchema = named('Enrollment', Type.Object({
  id: Type.Integer(),
  course: CourseListItemSchema,
  enrolled_on: Type.String({ format: 'date-time' }),
  progress: Progress,
  completed_at: CompletedAt,
}));
export type Enrollment = Static<typeof EnrollmentSchema>;

export const CourseRefSchema = named('CourseRef', Type.Object({ id: Type.Integer(), title: Type.String() }));

export const ProgressSchema = named('Progress', Type.Object({
  course: CourseRefSchema,
  progress: Progress,
  completed_lessons: Type.Integer(),
  total_lessons: Type.Integer(),
  enrolled_on: Type.String({ format: 'date-time' }),
  completed_at: CompletedAt,
}));
export type Progress = Static<typeof ProgressSchema>;

export const LessonProgressSchema = named('LessonProgress', Type.Object({
  id: Type.Integer(),
  title: Type.String(),
  order: Type.Integer(),
  completed: Type.Boolean(),
  completed_at: Nullable(Type.String({ format: 'date-time' })),
}));

export const ProgressDetailSchema = named('ProgressDetail', Type.Object({
  ...ProgressSchema.properties,
  lessons: Type.Array(LessonProgressSchema, { description: 'The lessons of the course by order, each with whether the caller completed it' }),
}));
export type ProgressDetail = Static<typeof ProgressDetailSchema>;

export const CompletionSchema = named('Completion', Type.Object({
  progress: Progress,
  completed_lessons: Type.Integer(),
  total_lessons: Type.Integer(),
  completed_at: CompletedAt,
}));
export type Completion = Static<typeof CompletionSchema>;

export const CourseStudentSchema = named('CourseStudent', Type.Object({
  student: PublicUserSchema,
  enrolled_on: Type.String({ format: 'date-time' }),
  progress: Progress,
  completed_at: CompletedAt,
}));
export type CourseStudent = Static<typeof CourseStudentSchema>;

export const PageOnlyQuery = Type.Object({ ...PageQuery });
export type PageQueryInput = Static<typeof PageOnlyQuery>;
export const CourseIdParams = Type.Object({ course_id: Id() });
export const IdParams = Type.Object({ id: Id() });
