import { Type } from 'typebox';
import type { Static } from 'typebox';
import { named } from '../../shared/openapi.js';
import { PageQuery } from '../../shared/pagination.js';
import { Id, Nullable } from '../../shared/schemas.js';
import { PublicUserSchema } from '../users/schemas.js';

export const MAX_COMMENT_LENGTH = 5000;
export const MAX_REPLY_LENGTH = 5000;
export const MAX_REASON_LENGTH = 1000;

export const ReviewReplySchema = named(
  'ReviewReply',
  Type.Object({
    text: Type.String(),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  }),
);
export type ReviewReply = Static<typeof ReviewReplySchema>;

export const ReviewSchema = named(
  'Review',
  Type.Object({
    id: Type.Integer(),
    course: Type.Integer({ description: 'Course id' }),
    student: PublicUserSchema,
    rating: Type.Integer({ minimum: 1, maximum: 5 }),
    comment: Type.String(),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
    reply: Nullable(ReviewReplySchema),
    is_hidden: Type.Optional(
      Type.Boolean({
        description: 'Present for the author and admins only: hidden by an admin (out of public lists and the course rating)',
      }),
    ),
  }),
);
export type Review = Static<typeof ReviewSchema>;

const Rating = Type.Integer({ minimum: 1, maximum: 5, description: 'Integer from 1 to 5' });
const Comment = Type.String({ maxLength: MAX_COMMENT_LENGTH, description: `Up to ${MAX_COMMENT_LENGTH} characters` });
const CourseRef = Id({ description: 'Course id; it cannot change once the review exists' });

export const ReviewCreateBody = named(
  'ReviewRequest',
  Type.Object({
    course: CourseRef,
    rating: Rating,
    comment: Type.Optional(Comment),
  }),
);
export type ReviewCreateInput = Static<typeof ReviewCreateBody>;

export const ReviewPutBody = named(
  'ReviewUpdateRequest',
  Type.Object({
    course: Type.Optional(CourseRef),
    rating: Rating,
    comment: Type.Optional(Comment),
  }),
);

export const ReviewPatchBody = named(
  'PatchedReviewRequest',
  Type.Object({
    course: Type.Optional(CourseRef),
    rating: Type.Optional(Rating),
    comment: Type.Optional(Comment),
  }),
);
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

export const ReviewReplyRequest = named(
  'ReviewReplyRequest',
  Type.Object({
    text: Type.String({ maxLength: MAX_REPLY_LENGTH, description: `1 to ${MAX_REPLY_LENGTH} characters` }),
  }),
);
export type ReviewReplyInput = Static<typeof ReviewReplyRequest>;

export const ReviewReportRequest = named(
  'ReviewReportRequest',
  Type.Object({
    reason: Type.String({ maxLength: MAX_REASON_LENGTH, description: `1 to ${MAX_REASON_LENGTH} characters` }),
  }),
);
export type ReviewReportInput = Static<typeof ReviewReportRequest>;

export const ReviewReportSchema = named(
  'ReviewReport',
  Type.Object({
    id: Type.Integer(),
    review: Type.Integer({ description: 'Review id' }),
    reporter: PublicUserSchema,
    reason: Type.String(),
    created_at: Type.String({ format: 'date-time' }),
    resolved: Type.Boolean({ description: 'Set when an admin hides the review' }),
  }),
);
export type ReviewReport = Static<typeof ReviewReportSchema>;

export const ReviewReportListQuery = Type.Object({
  ...PageQuery,
  resolved: Type.Optional(Type.String({ description: 'true or false' })),
});
export type ReviewReportListQueryInput = Static<typeof ReviewReportListQuery>;

/** The rating histogram: visible reviews per rating. */
export const RatingHistogramSchema = named(
  'RatingHistogram',
  Type.Object({
    1: Type.Integer(),
    2: Type.Integer(),
    3: Type.Integer(),
    4: Type.Integer(),
    5: Type.Integer(),
  }),
);
export type RatingHistogram = Static<typeof RatingHistogramSchema>;
