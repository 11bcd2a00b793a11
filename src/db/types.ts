import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/**
 * Times are written as ISO strings; SQLite keeps them as text, PostgreSQL as timestamptz
 * (read back as Date). `toIso()` in shared/time.ts makes both one shape.
 */
export type Timestamp = ColumnType<string | Date, string, string>;
/** SQLite keeps booleans as 0/1, PostgreSQL as boolean; write `true`/`false` (the driver maps them). */
export type Bool = ColumnType<boolean | number, boolean, boolean>;

export type Role = 'student' | 'instructor' | 'admin';
export type InstructorStatus = 'none' | 'pending' | 'approved' | 'rejected';

export interface UserTable {
  id: Generated<number>;
  username: string;
  email: string;
  password_hash: string;
  first_name: string;
  last_name: string;
  bio: string;
  profile_image: string | null;
  role: Role;
  instructor_status: InstructorStatus;
  is_active: Bool;
  date_joined: Timestamp;
}

/** One login: the refresh token chain and every access token minted from it. */
export interface SessionTable {
  id: string;
  user_id: number;
  refresh_jti: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
}

export interface CategoryTable {
  id: Generated<number>;
  name: string;
  slug: string;
  description: string;
  /** Published courses in the category, kept by triggers on courses (migration 0002). */
  courses_count: Generated<number>;
}

export interface CourseTable {
  id: Generated<number>;
  title: string;
  description: string;
  /** Money is kept exact as integer cents. */
  price_cents: number;
  category_id: number;
  instructor_id: number;
  thumbnail: string | null;
  is_published: Bool;
  /** Aggregates kept by the database in the transaction that changes their source rows. */
  reviews_count: Generated<number>;
  rating_sum: Generated<number>;
  average_rating: number | null;
  students_count: Generated<number>;
  lessons_count: Generated<number>;
  total_duration: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface LessonTable {
  id: Generated<number>;
  course_id: number;
  title: string;
  content: string;
  /** The API's `order`; named position because ORDER is an SQL keyword. */
  position: number;
  duration: number;
  is_preview: Bool;
  video: string | null;
  attachment: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface EnrollmentTable {
  id: Generated<number>;
  student_id: number;
  course_id: number;
  enrolled_on: Timestamp;
  completed_lessons: Generated<number>;
  progress: Generated<number>;
  completed_at: Timestamp | null;
}

export interface LessonCompletionTable {
  id: Generated<number>;
  enrollment_id: number;
  lesson_id: number;
  completed_at: Timestamp;
}

export interface ReviewTable {
  id: Generated<number>;
  course_id: number;
  student_id: number;
  rating: number;
  comment: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** A stored file to delete once the transaction that recorded it has committed (storage/cleanup.ts). */
export interface FileDeletionTable {
  id: Generated<number>;
  key: string;
  created_at: Timestamp;
  claimed_until: Timestamp | null;
}

export interface DB {
  users: UserTable;
  sessions: SessionTable;
  categories: CategoryTable;
  courses: CourseTable;
  lessons: LessonTable;
  enrollments: EnrollmentTable;
  lesson_completions: LessonCompletionTable;
  reviews: ReviewTable;
  file_deletions: FileDeletionTable;
}

export type UserRow = Selectable<UserTable>;
export type NewUser = Insertable<UserTable>;
export type UserUpdate = Updateable<UserTable>;
export type SessionRow = Selectable<SessionTable>;
export type CategoryRow = Selectable<CategoryTable>;
export type CourseRow = Selectable<CourseTable>;
export type LessonRow = Selectable<LessonTable>;
export type EnrollmentRow = Selectable<EnrollmentTable>;
export type ReviewRow = Selectable<ReviewTable>;
