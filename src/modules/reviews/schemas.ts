import { Type } from 'typebox';
import type { Static } from 'typebox';
import { PageQuery } from '../../shared/pagination.js';
import { Id } from '../../shared/schemas.js';
import { PublicUserSchema } from '../users/schemas.js';
import { named } from '../../shared/openapi.js';

export const MAX_COMMENT_LENGTH = 5000;

export const ReviewSchema = named('Review', Type.Object({
  id: Type.Integer(),
  course: Type.Integer({ description: 'Course id' }),
  student: PublicUserSchema,
  rating: Type.Integer({ minimum: 1, maximum: 5 }),
  comment: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
}));
export type Review = Static<typeof ReviewSchema>;

const Rating = Type.Integer({ minimum: 1, maximum: 5, description: 'Integer from 1 to 5' });
const Comment = Type.String({ maxLength: MAX_COMMENT_LENGTH, description: `Up to ${MAX_COMMENT_LENGTH} characters` });
const CourseRef = Id({ description: 'Course id; it cannot change once the review exists' });

export const ReviewCreateBody = named('ReviewRequest', Type.Object({
  course: CourseRef,
  rating: Rating,
  comment: Type.Optional(Comment),
}));
export type ReviewCreateInput = Static<typeof ReviewCreateBody>;

export const ReviewPutBody = named('ReviewUpdateRequest', Type.Object({
  course: Type.Optional(CourseRef),
  rating: Rating,
  comment: Type.Optional(Comment),
}));

export const ReviewPatchBody = named('PatchedReviewRequest', Type.Object({
  course: Type.Optional(CourseRef),
  rating: Type.Optional(Rating),
  comment: Type.Optional(Comment),
}));
export type ReviewChangeInput = Static<typeof ReviewPatchBody>;

export const ReviewListQuery = Type.Object({
  ...PageQuery,
  course: Type.Optional(Id({ description: 'Course id' })),
  rating: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })),
  student: Type.Optional(Id({ description: 'Student (user) id' })),
  ordering: Type.Optional(Type.String({ description: 'created_at, rating; `-` for descending; comma-separated. Default -created_at' })),
});
export type ReviewListQueryInput = Static<typeof ReviewListQuery>;

export const ReviewIdParams = Type.Object({ id: Id() });
