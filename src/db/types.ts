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
  /** caseKey(username): unique (migration 0009). */
  username_key: string;
  email: string;
  /** caseKey(email): unique. */
  email_key: string;
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
  /** The client address at login (migration 0007), for the personal data export. */
  ip: Generated<string>;
}

export interface CategoryTable {
  id: Generated<number>;
  name: string;
  /** caseKey(name): unique. */
  name_key: string;
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
  /** Lessons unlock one after another for enrolled students (migration 0004). */
  sequential: ColumnType<boolean | number, boolean | undefined, boolean>;
  /** Visible reviews per rating (migration 0006), recounted with reviews_count. */
  ratings_1: Generated<number>;
  ratings_2: Generated<number>;
  ratings_3: Generated<number>;
  ratings_4: Generated<number>;
  ratings_5: Generated<number>;
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
  /** The lesson's section (migration 0004), or null. */
  section_id: ColumnType<number | null, number | null | undefined, number | null>;
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
  /** Hidden by an admin: out of public lists and the course's rating aggregates. */
  is_hidden: DefaultBool;
  /** The course owner's reply (all three set or all null). */
  reply_text: string | null;
  reply_created_at: Timestamp | null;
  reply_updated_at: Timestamp | null;
}

/** The transactional outbox: one row per domain event, written with the change it describes. */
export interface EventTable {
  id: string;
  type: string;
  /** JSON of the event's `data`. */
  data: string;
  course_id: number | null;
  created_at: Timestamp;
  dispatched_at: Timestamp | null;
}

/** Append-only: nothing updates or deletes a row. */
export interface AuditTable {
  id: Generated<number>;
  actor_id: number | null;
  action: string;
  target_type: string;
  target_id: number | null;
  /** JSON of what changed. */
  data: string;
  ip: string;
  request_id: string;
  created_at: Timestamp;
}

export type QuizKind = 'single' | 'multiple' | 'true_false' | 'short_text';
export type RevealAnswers = 'always' | 'after_pass' | 'never';

export interface QuizTable {
  id: Generated<number>;
  lesson_id: number;
  pass_mark: number;
  max_attempts: number | null;
  reveal_answers: RevealAnswers;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface QuizQuestionTable {
  id: Generated<number>;
  quiz_id: number;
  position: number;
  kind: QuizKind;
  prompt: string;
  points: number;
  /** JSON array of strings. */
  accepted_answers: string;
  explanation: string;
}

export interface QuizChoiceTable {
  id: Generated<number>;
  question_id: number;
  position: number;
  text: string;
  correct: Bool;
}

export interface QuizAttemptTable {
  id: Generated<number>;
  quiz_id: number;
  student_id: number;
  attempt_number: number;
  score: number;
  passed: Bool;
  points: number;
  max_points: number;
  /** JSON of the answers as submitted. */
  answers: string;
  /** JSON of the graded results, with what was correct when graded. */
  results: string;
  submitted_at: Timestamp;
}

/** Kept after unenrolling: tied to the student and the course, not to the enrollment. */
export interface CertificateTable {
  id: Generated<number>;
  code: string;
  course_id: number;
  student_id: number;
  issued_at: Timestamp;
  revoked_at: Timestamp | null;
}

export interface WebhookEndpointTable {
  id: Generated<number>;
  owner_id: number;
  url: string;
  /** JSON list of event types, or ["*"]. */
  events: string;
  /** `whsec_` + base64 of the key bytes. */
  secret: string;
  is_active: Bool;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** One event for one endpoint; the worker claims due rows with a lease (`locked_until`, `claim`). */
export interface WebhookDeliveryTable {
  id: Generated<number>;
  endpoint_id: number;
  event_id: string;
  status: DeliveryStatus;
  attempts: Generated<number>;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: Timestamp;
  locked_until: Timestamp | null;
  claim: string | null;
  delivered_at: Timestamp | null;
  created_at: Timestamp;
}

/** A labelled run of a course's lessons (migration 0004). */
export interface SectionTable {
  id: Generated<number>;
  course_id: number;
  title: string;
  /** The API's `order`, unique within the course. */
  position: number;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** Where a student stopped in a lesson, in seconds: the resume heartbeat's one row per enrollment and lesson. */
export interface LessonPositionTable {
  id: Generated<number>;
  enrollment_id: number;
  lesson_id: number;
  position: number;
  updated_at: Timestamp;
}

export type SectionRow = Selectable<SectionTable>;

/** A Bool the database defaults when an insert leaves it out. */
export type DefaultBool = ColumnType<boolean | number, boolean | undefined, boolean>;

export interface ReviewReportTable {
  id: Generated<number>;
  review_id: number;
  reporter_id: number;
  reason: string;
  created_at: Timestamp;
  resolved: DefaultBool;
}

/** Kept by triggers (migration 0006): per course and UTC day of enrollment. */
export interface CourseEnrollmentDayTable {
  course_id: number;
  /** YYYY-MM-DD (UTC). */
  day: string;
  enrollments: number;
  completed: number;
  /** Sum of the progress of these enrollments, in hundredths. */
  progress_sum: number | string;
}

/** Kept by triggers (migration 0006). */
export interface LessonCompletionCountTable {
  lesson_id: number;
  completed: number;
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
  events: EventTable;
  audit_log: AuditTable;
  quizzes: QuizTable;
  quiz_questions: QuizQuestionTable;
  quiz_choices: QuizChoiceTable;
  quiz_attempts: QuizAttemptTable;
  certificates: CertificateTable;
  webhook_endpoints: WebhookEndpointTable;
  webhook_deliveries: WebhookDeliveryTable;
  sections: SectionTable;
  lesson_positions: LessonPositionTable;
  review_reports: ReviewReportTable;
  course_enrollment_days: CourseEnrollmentDayTable;
  lesson_completion_counts: LessonCompletionCountTable;
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
export type QuizRow = Selectable<QuizTable>;
export type QuizQuestionRow = Selectable<QuizQuestionTable>;
export type QuizChoiceRow = Selectable<QuizChoiceTable>;
export type QuizAttemptRow = Selectable<QuizAttemptTable>;
export type CertificateRow = Selectable<CertificateTable>;
