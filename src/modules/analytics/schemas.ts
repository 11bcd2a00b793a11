import { Type } from 'typebox';
import type { Static } from 'typebox';
import { named } from '../../shared/openapi.js';
import { Id, Nullable } from '../../shared/schemas.js';
import { RatingHistogramSchema } from '../reviews/schemas.js';

export const AnalyticsQuery = Type.Object({
  from: Type.Optional(Type.String({ description: 'First UTC day (YYYY-MM-DD), inclusive; default 29 days before `to`' })),
  to: Type.Optional(Type.String({ description: 'Last UTC day (YYYY-MM-DD), inclusive; default today. At most 366 days from `from`' })),
});
export type AnalyticsQueryInput = Static<typeof AnalyticsQuery>;

export const CourseAnalyticsParams = Type.Object({ id: Id() });

export const DayCountSchema = named(
  'DayCount',
  Type.Object({
    date: Type.String({ format: 'date', description: 'UTC day' }),
    count: Type.Integer(),
  }),
);

export const LessonAnalyticsSchema = named(
  'LessonAnalytics',
  Type.Object({
    id: Type.Integer(),
    title: Type.String(),
    order: Type.Integer(),
    completed_count: Type.Integer({ description: 'Enrolled students who completed the lesson' }),
    completion_rate: Type.Number({ description: 'Percent of enrolled students, 2 places' }),
  }),
);

export const QuizAnalyticsSchema = named(
  'QuizAnalytics',
  Type.Object({
    lesson: Type.Integer({ description: 'Lesson id' }),
    attempts: Type.Integer(),
    students: Type.Integer({ description: 'Distinct students who attempted' }),
    pass_rate: Type.Number({ description: 'Percent of attempting students who passed, 2 places' }),
    average_score: Nullable(Type.Number({ description: 'Mean attempt score, 2 places; null without attempts' })),
  }),
);

export const CourseAnalyticsSchema = named(
  'CourseAnalytics',
  Type.Object({
    students_count: Type.Integer({ description: 'Enrolled students' }),
    completed_count: Type.Integer({ description: 'Enrolled students with completed_at' }),
    completion_rate: Type.Number({ description: 'Percent of enrolled students with completed_at, 2 places' }),
    average_progress: Type.Number({ description: 'Mean progress of enrolled students, 2 places' }),
    enrollments_by_day: Type.Array(DayCountSchema, { description: 'Every UTC day from `from` to `to`, zeros included' }),
    lessons: Type.Array(LessonAnalyticsSchema, { description: 'By order: where students stop' }),
    rating_histogram: RatingHistogramSchema,
    quizzes: Type.Array(QuizAnalyticsSchema),
  }),
);
export type CourseAnalytics = Static<typeof CourseAnalyticsSchema>;

export const InstructorSummarySchema = named(
  'InstructorSummary',
  Type.Object({
    courses_count: Type.Integer(),
    published_count: Type.Integer(),
    students_count: Type.Integer({ description: 'Distinct students enrolled in any of the courses' }),
    reviews_count: Type.Integer({ description: 'Visible reviews' }),
    average_rating: Nullable(Type.Number({ description: 'Mean of every visible review, 2 places; null without reviews' })),
    enrollments_by_day: Type.Array(DayCountSchema, { description: 'Every UTC day from `from` to `to`, zeros included' }),
  }),
);
export type InstructorSummary = Static<typeof InstructorSummarySchema>;
