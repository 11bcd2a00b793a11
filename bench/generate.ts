import { sql } from 'kysely';
import type { Insertable, Kysely, Transaction } from 'kysely';
import { dialectOf } from '../src/db/index.js';
import type {
  CategoryTable,
  CertificateTable,
  CourseTable,
  DB,
  EnrollmentTable,
  LessonCompletionTable,
  LessonTable,
  QuizChoiceTable,
  QuizQuestionTable,
  QuizTable,
  ReviewTable,
  UserTable,
} from '../src/db/types.js';
import { hashPassword } from '../src/modules/users/passwords.js';
import type { Progress } from './progress.js';
import { createRandom } from './random.js';
import type { Random } from './random.js';
import { caseKey } from '../src/shared/text-key.js';
import { FIRST_NAMES, LAST_NAMES, categoryNames, courseDescription, courseTitle, lessonTitle, reviewComment, slugOf } from './words.js';

export interface DatasetSize {
  courses: number;
  categories: number;
  instructors: number;
  students: number;
  enrollments: number;
  reviews: number;
  /** How many (published) courses have lessons, and how many each. */
  lessonCourses: number;
  lessonsPerCourse: number;
}

export const DEFAULT_SIZE: Readonly<DatasetSize> = {
  courses: 100_000,
  categories: 100,
  instructors: 2_000,
  students: 50_000,
  enrollments: 500_000,
  reviews: 200_000,
  lessonCourses: 10_000,
  lessonsPerCourse: 10,
};

/** Every generated user has this password (hashed once), so the login scenario can sign in as anyone. */
export const BENCH_PASSWORD = 'correct horse battery staple';
export const studentUsername = (n: number) => `student${n}`;
/** One admin, the last user: the webhook scenario registers its endpoint as this account (admins receive every event). */
export const BENCH_ADMIN_USERNAME = 'benchadmin';
export const benchAdminId = (size: DatasetSize) => size.instructors + size.students + 1;

/**
 * Every QUIZ_EVERY-th course with lessons carries a quiz on its last lesson. Nobody has
 * completed that lesson yet (a lesson with a quiz is completed only by a passing attempt,
 * and the generator writes no attempts), so students of those courses stop one lesson short
 * and the quiz-attempt scenario finds every one of them with the quiz still to pass.
 */
export const QUIZ_EVERY = 4;
/** The questions of every generated quiz, one of each kind, a point each; pass mark 70 %: three of four right. */
export const QUIZ_PASS_MARK = 70;
export const QUIZ_SHORT_ANSWER = 'typescript';
const QUIZ_QUESTIONS: readonly { kind: QuizQuestionTable['kind']; choices: readonly boolean[] }[] = [
  { kind: 'single', choices: [false, true, false, false] },
  { kind: 'multiple', choices: [true, false, true, false] },
  { kind: 'true_false', choices: [true, false] },
  { kind: 'short_text', choices: [] },
];
export const hasQuiz = (slot: number) => slot >= 0 && slot % QUIZ_EVERY === 0;

const PUBLISHED_SHARE = 0.95;
const FREE_SHARE = 0.1;
/** Share of enrollments that go to courses with lessons, so progress writes have plenty to work on. */
const LESSON_COURSE_SHARE = 0.3;
const RATINGS = [1, 2, 3, 3, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5] as const;
/** The catalog grows evenly over three years ending here; fixed so reruns produce the same rows. */
const END = Date.UTC(2026, 0, 1);
const SPAN = 3 * 365 * 86_400_000;
/** Bound variables per INSERT stay under SQLite's 32,766 and PostgreSQL's 65,535. */
const MAX_VARIABLES = 30_000;
const MAX_ROWS_PER_STATEMENT = 1_000;
/**
 * Short transactions: every course insert bumps its category's counter (a trigger), and
 * PostgreSQL keeps each version of a row updated inside one transaction until it ends;
 * 2,000 rows per transaction instead of 20,000 made the course inserts about twice as fast.
 */
const ROWS_PER_TRANSACTION = 2_000;

const iso = (ms: number) => new Date(ms).toISOString();
const between = (random: Random, from: number, to: number) => from + Math.floor(random.next() * Math.max(0, to - from));

/**
 * What the generator decides before writing anything: who enrolls where, who reviews, how far
 * each student got. Counters live in typed arrays indexed by course id (one million courses
 * cost a few megabytes), so the course rows can be written with their final aggregates and
 * the text of every row is made on the fly while it streams to the database.
 */
interface Plan {
  size: DatasetSize;
  published: Uint8Array;
  /** Position among the courses with lessons, or -1. */
  lessonSlot: Int32Array;
  lessonDurations: Int32Array;
  studentsCount: Int32Array;
  reviewsCount: Int32Array;
  ratingSum: Int32Array;
  enrollmentStudent: Int32Array;
  enrollmentCourse: Int32Array;
  enrollmentDone: Uint8Array;
  reviewed: Uint8Array;
  reviewRating: Uint8Array;
}

const firstStudentId = (size: DatasetSize) => size.instructors + 1;
const courseCreatedAt = (size: DatasetSize, id: number) => END - SPAN + Math.floor(((id - 0.5) / size.courses) * SPAN);
/** A stream of its own per row, so one row's text does not depend on how many came before. */
const rowRandom = (seed: number, table: number, id: number) =>
  createRandom(Math.imul(id, 0x9e3779b1) ^ Math.imul(seed + table, 0x85ebca6b));

function plan(size: DatasetSize, seed: number): Plan {
  const random = createRandom(seed);
  const published = new Uint8Array(size.courses + 1);
  const publishedIds: number[] = [];
  for (let id = 1; id <= size.courses; id++) {
    if (random.chance(PUBLISHED_SHARE)) {
      published[id] = 1;
      publishedIds.push(id);
    }
  }
  if (publishedIds.length === 0) throw new Error('the data set needs at least one published course');

  const lessonSlot = new Int32Array(size.courses + 1).fill(-1);
  const lessonCourseIds = publishedIds.slice(0, size.lessonCourses);
  lessonCourseIds.forEach((id, slot) => (lessonSlot[id] = slot));
  const lessonDurations = new Int32Array(lessonCourseIds.length * size.lessonsPerCourse);
  for (let i = 0; i < lessonDurations.length; i++) lessonDurations[i] = random.int(60, 1_800);

  // Each student enrolls in a handful of distinct published courses until the total is reached.
  const maxPairs = size.students * publishedIds.length;
  const enrollments = Math.min(size.enrollments, maxPairs);
  const enrollmentStudent = new Int32Array(enrollments);
  const enrollmentCourse = new Int32Array(enrollments);
  const studentsCount = new Int32Array(size.courses + 1);
  const perStudent = Math.max(1, Math.round(enrollments / Math.max(1, size.students)));
  const taken = new Map<number, Set<number>>();
  let count = 0;
  for (let pass = 0; count < enrollments; pass++) {
    for (let s = 0; s < size.students && count < enrollments; s++) {
      const studentId = firstStudentId(size) + s;
      const want = pass === 0 ? random.int(1, 2 * perStudent - 1) : 1;
      let mine = taken.get(studentId);
      if (!mine) taken.set(studentId, (mine = new Set()));
      for (let k = 0; k < want && count < enrollments && mine.size < publishedIds.length; k++) {
        let courseId: number;
        do {
          courseId =
            lessonCourseIds.length > 0 && random.chance(LESSON_COURSE_SHARE) ? random.pick(lessonCourseIds) : random.pick(publishedIds);
        } while (mine.has(courseId));
        mine.add(courseId);
        enrollmentStudent[count] = studentId;
        enrollmentCourse[count] = courseId;
        studentsCount[courseId]! += 1;
        count++;
      }
    }
  }

  // How many lessons (the first n, in order) each enrolled student has completed.
  const enrollmentDone = new Uint8Array(enrollments);
  for (let e = 0; e < enrollments; e++) {
    const slot = lessonSlot[enrollmentCourse[e]!]!;
    if (slot >= 0) enrollmentDone[e] = Math.min(random.int(0, size.lessonsPerCourse), hasQuiz(slot) ? size.lessonsPerCourse - 1 : Infinity);
  }

  // Exactly `reviews` of the enrollments review their course (selection sampling: one pass, exact count).
  const reviews = Math.min(size.reviews, enrollments);
  const reviewed = new Uint8Array(enrollments);
  const reviewRating = new Uint8Array(enrollments);
  const reviewsCount = new Int32Array(size.courses + 1);
  const ratingSum = new Int32Array(size.courses + 1);
  let chosen = 0;
  for (let e = 0; e < enrollments && chosen < reviews; e++) {
    if (random.next() * (enrollments - e) < reviews - chosen) {
      const rating = random.pick(RATINGS);
      reviewed[e] = 1;
      reviewRating[e] = rating;
      reviewsCount[enrollmentCourse[e]!]! += 1;
      ratingSum[enrollmentCourse[e]!]! += rating;
      chosen++;
    }
  }

  return {
    size,
    published,
    lessonSlot,
    lessonDurations,
    studentsCount,
    reviewsCount,
    ratingSum,
    enrollmentStudent,
    enrollmentCourse,
    enrollmentDone,
    reviewed,
    reviewRating,
  };
}

function* categoryRows(size: DatasetSize): Generator<Insertable<CategoryTable>> {
  let id = 0;
  for (const name of categoryNames(size.categories)) {
    id++;
    yield { id, name, name_key: caseKey(name), slug: slugOf(name), description: `Courses about ${name.toLowerCase()}.` };
  }
}

function* userRows(size: DatasetSize, seed: number, passwordHash: string): Generator<Insertable<UserTable>> {
  const total = size.instructors + size.students;
  for (let id = 1; id <= total; id++) {
    const random = rowRandom(seed, 1, id);
    const instructor = id <= size.instructors;
    const first = random.pick(FIRST_NAMES);
    const last = random.pick(LAST_NAMES);
    const username = instructor ? `${first}.${last}${id}`.toLowerCase() : studentUsername(id - size.instructors);
    yield {
      id,
      username,
      username_key: caseKey(username),
      email: `${username}@bench.example`,
      email_key: caseKey(`${username}@bench.example`),
      password_hash: passwordHash,
      first_name: first,
      last_name: last,
      bio: instructor ? `${first} has taught for ${random.int(2, 30)} years.` : '',
      profile_image: null,
      role: instructor ? 'instructor' : 'student',
      instructor_status: instructor ? 'approved' : 'none',
      is_active: true,
      date_joined: iso(END - SPAN - random.int(0, 365) * 86_400_000),
    };
  }
  const admin = BENCH_ADMIN_USERNAME;
  yield {
    id: benchAdminId(size),
    username: admin,
    username_key: caseKey(admin),
    email: `${admin}@bench.example`,
    email_key: caseKey(`${admin}@bench.example`),
    password_hash: passwordHash,
    first_name: 'Bench',
    last_name: 'Admin',
    bio: '',
    profile_image: null,
    role: 'admin',
    instructor_status: 'none',
    is_active: true,
    date_joined: iso(END - SPAN),
  };
}

function* courseRows(p: Plan, seed: number): Generator<Insertable<CourseTable>> {
  const { size } = p;
  for (let id = 1; id <= size.courses; id++) {
    const random = rowRandom(seed, 2, id);
    const created = courseCreatedAt(size, id);
    const reviews = p.reviewsCount[id]!;
    const slot = p.lessonSlot[id]!;
    let duration = 0;
    if (slot >= 0) for (let l = 0; l < size.lessonsPerCourse; l++) duration += p.lessonDurations[slot * size.lessonsPerCourse + l]!;
    yield {
      id,
      title: courseTitle(random),
      description: courseDescription(random),
      price_cents: random.chance(FREE_SHARE) ? 0 : random.int(9, 199) * 100 + 99,
      category_id: random.int(1, size.categories),
      instructor_id: random.int(1, size.instructors),
      thumbnail: null,
      is_published: p.published[id] === 1,
      reviews_count: reviews,
      rating_sum: p.ratingSum[id]!,
      average_rating: reviews > 0 ? p.ratingSum[id]! / reviews : null,
      students_count: p.studentsCount[id]!,
      lessons_count: slot >= 0 ? size.lessonsPerCourse : 0,
      total_duration: duration,
      created_at: iso(created),
      updated_at: iso(between(random, created, Math.min(END, created + 30 * 86_400_000))),
    };
  }
}

const lessonId = (size: DatasetSize, slot: number, position: number) => slot * size.lessonsPerCourse + position;

function* lessonRows(p: Plan, seed: number): Generator<Insertable<LessonTable>> {
  const { size } = p;
  for (let courseId = 1; courseId <= size.courses; courseId++) {
    const slot = p.lessonSlot[courseId]!;
    if (slot < 0) continue;
    const created = courseCreatedAt(size, courseId);
    for (let position = 1; position <= size.lessonsPerCourse; position++) {
      const id = lessonId(size, slot, position);
      const random = rowRandom(seed, 3, id);
      yield {
        id,
        course_id: courseId,
        title: lessonTitle(random, position),
        content: `# Part ${position}\n\nRead, then try the exercise.`,
        position,
        duration: p.lessonDurations[id - 1]!,
        is_preview: position === 1,
        video: null,
        attachment: null,
        created_at: iso(created),
        updated_at: iso(created),
      };
    }
  }
}

/** When an enrollment happened: after its course was created, before the end of the data set. */
const enrolledAt = (p: Plan, seed: number, e: number) =>
  between(rowRandom(seed, 4, e + 1), courseCreatedAt(p.size, p.enrollmentCourse[e]!), END);

function* enrollmentRows(p: Plan, seed: number): Generator<Insertable<EnrollmentTable>> {
  const lessons = p.size.lessonsPerCourse;
  for (let e = 0; e < p.enrollmentCourse.length; e++) {
    const done = p.enrollmentDone[e]!;
    const total = p.lessonSlot[p.enrollmentCourse[e]!]! >= 0 ? lessons : 0;
    const enrolled = enrolledAt(p, seed, e);
    yield {
      id: e + 1,
      student_id: p.enrollmentStudent[e]!,
      course_id: p.enrollmentCourse[e]!,
      enrolled_on: iso(enrolled),
      completed_lessons: done,
      progress: total === 0 ? 0 : Math.round((10_000 * done) / total) / 100,
      completed_at: total > 0 && done >= total ? iso(between(rowRandom(seed, 5, e + 1), enrolled, END)) : null,
    };
  }
}

function* completionRows(p: Plan, seed: number): Generator<Insertable<LessonCompletionTable>> {
  let id = 0;
  for (let e = 0; e < p.enrollmentCourse.length; e++) {
    const done = p.enrollmentDone[e]!;
    if (done === 0) continue;
    const slot = p.lessonSlot[p.enrollmentCourse[e]!]!;
    const enrolled = enrolledAt(p, seed, e);
    for (let position = 1; position <= done; position++) {
      yield {
        id: ++id,
        enrollment_id: e + 1,
        lesson_id: lessonId(p.size, slot, position),
        completed_at: iso(enrolled + position * 3_600_000),
      };
    }
  }
}

/** The quiz of a course's last lesson; quiz n (from 1) belongs to the n-th course with a quiz, in course id order. */
interface QuizRows {
  quizzes: Insertable<QuizTable>[];
  questions: Insertable<QuizQuestionTable>[];
  choices: Insertable<QuizChoiceTable>[];
}

function quizRows(p: Plan, seed: number): QuizRows {
  const { size } = p;
  const rows: QuizRows = { quizzes: [], questions: [], choices: [] };
  for (let courseId = 1; courseId <= size.courses; courseId++) {
    const slot = p.lessonSlot[courseId]!;
    if (!hasQuiz(slot)) continue;
    const quizId = rows.quizzes.length + 1;
    const at = iso(courseCreatedAt(size, courseId));
    const random = rowRandom(seed, 7, quizId);
    rows.quizzes.push({
      id: quizId,
      lesson_id: lessonId(size, slot, size.lessonsPerCourse),
      pass_mark: QUIZ_PASS_MARK,
      max_attempts: null,
      reveal_answers: 'after_pass',
      created_at: at,
      updated_at: at,
    });
    QUIZ_QUESTIONS.forEach((q, index) => {
      const questionId = rows.questions.length + 1;
      rows.questions.push({
        id: questionId,
        quiz_id: quizId,
        position: index + 1,
        kind: q.kind,
        prompt: `Question ${index + 1} about ${courseTitle(random)}?`,
        points: 1,
        accepted_answers: JSON.stringify(q.kind === 'short_text' ? [QUIZ_SHORT_ANSWER, 'TS'] : []),
        explanation: `See part ${size.lessonsPerCourse}.`,
      });
      q.choices.forEach((correct, c) =>
        rows.choices.push({ id: rows.choices.length + 1, question_id: questionId, position: c + 1, text: `Option ${c + 1}`, correct }),
      );
    });
  }
  return rows;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A certificate for every completed enrollment, issued when it completed, as the server does; 24 base32 characters like its codes. */
function* certificateRows(p: Plan, seed: number): Generator<Insertable<CertificateTable>> {
  let id = 0;
  for (const row of enrollmentRows(p, seed)) {
    if (!row.completed_at) continue;
    const random = rowRandom(seed, 8, row.id!);
    let code = '';
    for (let i = 0; i < 24; i++) code += BASE32[random.int(0, 31)];
    yield { id: ++id, code, course_id: row.course_id, student_id: row.student_id, issued_at: row.completed_at, revoked_at: null };
  }
}

function* reviewRows(p: Plan, seed: number): Generator<Insertable<ReviewTable>> {
  let id = 0;
  for (let e = 0; e < p.enrollmentCourse.length; e++) {
    if (!p.reviewed[e]) continue;
    const random = rowRandom(seed, 6, e + 1);
    const written = between(random, enrolledAt(p, seed, e), END);
    yield {
      id: ++id,
      course_id: p.enrollmentCourse[e]!,
      student_id: p.enrollmentStudent[e]!,
      rating: p.reviewRating[e]!,
      comment: reviewComment(random),
      created_at: iso(written),
      updated_at: iso(written),
    };
  }
}

type Insert<R> = (trx: Transaction<DB>, rows: R[]) => Promise<unknown>;

/**
 * Streams rows into one table: multi-row INSERTs of as many rows as the bound-variable limit
 * allows, a few of them per transaction.
 */
async function insertStream<R extends object>(
  db: Kysely<DB>,
  label: string,
  total: number,
  rows: Iterable<R>,
  insert: Insert<R>,
  progress: Progress,
): Promise<number> {
  progress.phase(label, total);
  let perStatement = 0;
  let chunk: R[] = [];
  let written = 0;
  const flush = async () => {
    const slice = chunk;
    chunk = [];
    await db.transaction().execute(async (trx) => {
      for (let i = 0; i < slice.length; i += perStatement) await insert(trx, slice.slice(i, i + perStatement));
    });
    written += slice.length;
    progress.advance(slice.length);
  };
  for (const row of rows) {
    if (perStatement === 0)
      perStatement = Math.max(1, Math.min(MAX_ROWS_PER_STATEMENT, Math.floor(MAX_VARIABLES / Object.keys(row).length)));
    chunk.push(row);
    if (chunk.length >= ROWS_PER_TRANSACTION) await flush();
  }
  if (chunk.length > 0) await flush();
  return written;
}

export interface GenerateResult {
  rows: Record<string, number>;
  seconds: number;
}

/**
 * Fills a freshly migrated database through the project's own data layer (Kysely, the same
 * connection setup the server uses). Rows get explicit ids, so related rows can point at
 * them without reading anything back; PostgreSQL's sequences are moved past them at the end.
 * The courses' aggregates are written with the rows (they are planned first), and the
 * catalog's search index and category counts are filled by migration 0002's triggers as the
 * courses go in, exactly as for courses created through the API.
 */
export async function generateDataset(
  db: Kysely<DB>,
  size: DatasetSize,
  options: { seed: number; progress: Progress },
): Promise<GenerateResult> {
  const { seed, progress } = options;
  const started = performance.now();
  progress.status('hashing the shared password and planning the data set');
  const passwordHash = await hashPassword(BENCH_PASSWORD);
  const p = plan(size, seed);

  const rows: Record<string, number> = {};
  rows.categories = await insertStream(
    db,
    'categories',
    size.categories,
    categoryRows(size),
    (trx, r) => trx.insertInto('categories').values(r).execute(),
    progress,
  );
  rows.users = await insertStream(
    db,
    'users',
    size.instructors + size.students + 1,
    userRows(size, seed, passwordHash),
    (trx, r) => trx.insertInto('users').values(r).execute(),
    progress,
  );
  rows.courses = await insertStream(
    db,
    'courses (+ search index)',
    size.courses,
    courseRows(p, seed),
    (trx, r) => trx.insertInto('courses').values(r).execute(),
    progress,
  );
  rows.lessons = await insertStream(
    db,
    'lessons',
    p.lessonDurations.length,
    lessonRows(p, seed),
    (trx, r) => trx.insertInto('lessons').values(r).execute(),
    progress,
  );
  rows.enrollments = await insertStream(
    db,
    'enrollments',
    p.enrollmentCourse.length,
    enrollmentRows(p, seed),
    (trx, r) => trx.insertInto('enrollments').values(r).execute(),
    progress,
  );
  const completions = p.enrollmentDone.reduce((sum, done) => sum + done, 0);
  rows.lesson_completions = await insertStream(
    db,
    'lesson completions',
    completions,
    completionRows(p, seed),
    (trx, r) => trx.insertInto('lesson_completions').values(r).execute(),
    progress,
  );
  rows.reviews = await insertStream(
    db,
    'reviews',
    p.reviewed.reduce((sum, r) => sum + r, 0),
    reviewRows(p, seed),
    (trx, r) => trx.insertInto('reviews').values(r).execute(),
    progress,
  );

  const quizzes = quizRows(p, seed);
  rows.quizzes = await insertStream(
    db,
    'quizzes',
    quizzes.quizzes.length,
    quizzes.quizzes,
    (trx, r) => trx.insertInto('quizzes').values(r).execute(),
    progress,
  );
  rows.quiz_questions = await insertStream(
    db,
    'quiz questions',
    quizzes.questions.length,
    quizzes.questions,
    (trx, r) => trx.insertInto('quiz_questions').values(r).execute(),
    progress,
  );
  rows.quiz_choices = await insertStream(
    db,
    'quiz choices',
    quizzes.choices.length,
    quizzes.choices,
    (trx, r) => trx.insertInto('quiz_choices').values(r).execute(),
    progress,
  );
  rows.certificates = await insertStream(
    db,
    'certificates',
    p.enrollmentDone.reduce(
      (sum, done, e) => sum + (p.lessonSlot[p.enrollmentCourse[e]!]! >= 0 && done >= size.lessonsPerCourse ? 1 : 0),
      0,
    ),
    certificateRows(p, seed),
    (trx, r) => trx.insertInto('certificates').values(r).execute(),
    progress,
  );

  progress.status('analyzing');
  if (dialectOf(db) === 'postgres') {
    for (const table of [
      'users',
      'categories',
      'courses',
      'lessons',
      'enrollments',
      'lesson_completions',
      'reviews',
      'quizzes',
      'quiz_questions',
      'quiz_choices',
      'certificates',
    ]) {
      await sql`select setval(pg_get_serial_sequence(${table}, 'id'), greatest(1, (select coalesce(max(id), 0) from ${sql.table(table)})))`.execute(
        db,
      );
    }
    // What autovacuum does in a live database: every course insert left a dead version of its
    // category's row (the counter trigger), tens of thousands on a table of a hundred rows.
    await sql`vacuum full categories`.execute(db);
    await sql`vacuum analyze`.execute(db);
  } else {
    await sql`pragma wal_checkpoint(truncate)`.execute(db);
  }
  progress.done();
  return { rows, seconds: (performance.now() - started) / 1000 };
}
