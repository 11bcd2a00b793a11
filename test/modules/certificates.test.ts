import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildTestApp, onPostgres } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import {
  createAdmin,
  createInstructor,
  createStudent,
  createUser,
  createCourse,
  createLesson,
  createLessons,
} from '../helpers/factories.js';
import type { TestUser } from '../helpers/factories.js';
import { call } from '../helpers/http.js';
import { completeLessonViaApi, enrollViaApi } from '../helpers/actions.js';

/** pdftotext (Debian poppler-utils) when installed; the text-extraction checks need it. */
const hasPdftotext = spawnSync('pdftotext', ['-v']).error === undefined;

function pdfText(pdf: Buffer): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'lp-cert-'));
  try {
    const file = path.join(dir, 'c.pdf');
    writeFileSync(file, pdf);
    const out = spawnSync('pdftotext', ['-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
    return out.stdout.replace(/\s+/g, ' ');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Page objects in the PDF's page tree (pdfkit writes them uncompressed). */
const pageCount = (pdf: Buffer) => (pdf.toString('latin1').match(/\/Type \/Page\b/g) ?? []).length;

describe(`certificates (${onPostgres ? 'postgres' : 'sqlite'})`, () => {
  let app: TestApp;
  before(async () => {
    app = await buildTestApp();
  });
  after(() => app.close());

  async function named(first: string, last: string, role: 'student' | 'instructor' = 'student'): Promise<TestUser> {
    const user = await createUser(app, { role });
    await app.database.db.updateTable('users').set({ first_name: first, last_name: last }).where('id', '=', user.user.id).execute();
    return user;
  }

  /** A course of `lessons` lessons that the student has completed. */
  async function completedCourse(student: TestUser, options: { lessons?: number; title?: string; instructor?: TestUser } = {}) {
    const course = await createCourse(app, { title: options.title, instructor: options.instructor });
    const lessons = await createLessons(app, course.id, options.lessons ?? 2);
    await enrollViaApi(app, student, course.id);
    let last;
    for (const l of lessons) last = await completeLessonViaApi(app, student, l.id);
    assert.equal(last?.body.progress, 100);
    return { course, lessons };
  }

  const certificatesOf = async (student: TestUser) => (await call(app, 'GET', '/api/my-certificates/', { as: student })).body;

  it('is issued by the request that completes the course, once, and has the contract shape', async () => {
    const student = await createStudent(app);
    const course = await createCourse(app);
    const [a, b] = await createLessons(app, course.id, 2);
    await enrollViaApi(app, student, course.id);
    await completeLessonViaApi(app, student, a!.id);
    assert.equal((await certificatesOf(student)).count, 0);
    await completeLessonViaApi(app, student, b!.id);
    const page = await certificatesOf(student);
    assert.equal(page.count, 1);
    const cert = page.results[0];
    assert.deepEqual(Object.keys(cert).sort(), [
      'code',
      'course',
      'id',
      'instructor',
      'issued_at',
      'pdf',
      'revoked_at',
      'student',
      'valid',
    ]);
    assert.match(cert.code, /^[A-Z2-7]{24}$/);
    assert.deepEqual(cert.course, { id: course.id, title: course.title });
    assert.equal(cert.student.id, student.user.id);
    assert.equal(cert.instructor.id, course.owner.user.id);
    assert.equal(cert.valid, true);
    assert.equal(cert.revoked_at, null);
    assert.match(cert.pdf, new RegExp(`^https?://[^/]+/api/certificates/${cert.code}/pdf/$`));
    // Unmark and mark again, then unenroll and re-enroll and complete again: still one.
    await call(app, 'DELETE', `/api/lessons/${b!.id}/complete/`, { as: student });
    await completeLessonViaApi(app, student, b!.id);
    assert.equal((await call(app, 'DELETE', `/api/enroll/${course.id}/`, { as: student })).status, 204);
    assert.equal((await certificatesOf(student)).count, 1, 'it stays after unenrolling');
    await enrollViaApi(app, student, course.id);
    await completeLessonViaApi(app, student, a!.id);
    await completeLessonViaApi(app, student, b!.id);
    const again = await certificatesOf(student);
    assert.equal(again.count, 1);
    assert.equal(again.results[0].code, cert.code);
    // It stays when the course grows.
    await createLesson(app, course.id);
    assert.equal((await certificatesOf(student)).count, 1);
    const issued = await app.database.db
      .selectFrom('events')
      .select('data')
      .where('type', '=', 'certificate.issued')
      .where('course_id', '=', course.id)
      .execute();
    assert.equal(issued.length, 1);
  });

  it('is issued when a lesson removal completes the enrollment', async () => {
    const student = await createStudent(app);
    const course = await createCourse(app);
    const [a, b] = await createLessons(app, course.id, 2);
    await enrollViaApi(app, student, course.id);
    await completeLessonViaApi(app, student, a!.id);
    assert.equal((await call(app, 'DELETE', `/api/lessons/${b!.id}/`, { as: course.owner })).status, 204);
    assert.equal((await certificatesOf(student)).count, 1);
  });

  it('my-certificates: students only (others 403, anonymous 401), newest first, a huge page 404', async () => {
    const student = await createStudent(app);
    const first = await completedCourse(student, { lessons: 1 });
    const second = await completedCourse(student, { lessons: 1 });
    const page = await certificatesOf(student);
    assert.deepEqual(
      page.results.map((c: { course: { id: number } }) => c.course.id),
      [second.course.id, first.course.id],
    );
    assert.equal((await call(app, 'GET', '/api/my-certificates/', { as: await createInstructor(app) })).status, 403);
    assert.equal((await call(app, 'GET', '/api/my-certificates/', { as: await createAdmin(app) })).status, 403);
    assert.equal((await call(app, 'GET', '/api/my-certificates/')).status, 401);
    assert.equal((await call(app, 'GET', '/api/my-certificates/?page=99999999999999', { as: student })).status, 404);
    assert.equal((await certificatesOf(await createStudent(app))).count, 0);
  });

  it('verification by code: anyone; an unknown or malformed code 404', async () => {
    const student = await createStudent(app);
    await completedCourse(student, { lessons: 1 });
    const [cert] = (await certificatesOf(student)).results;
    const res = await call(app, 'GET', `/api/certificates/${cert.code}/`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, cert);
    assert.equal((await call(app, 'GET', '/api/certificates/AAAAAAAAAAAAAAAAAAAAAAAA/')).status, 404);
    assert.equal((await call(app, 'GET', `/api/certificates/${cert.code.toLowerCase()}x/`)).status, 404);
    assert.equal((await call(app, 'GET', `/api/certificates/${'A'.repeat(100)}/`)).status, 404);
    assert.equal((await call(app, 'GET', '/api/certificates/AAAAAAAAAAAAAAAAAAAAAAAA/pdf/')).status, 404);
  });

  it('PDF: one page naming the student, course, instructor, date, code and verification URL; ETag and 304', async (t: TestContext) => {
    const student = await named('Σωκράτης', 'Παπαδόπουλος');
    const instructor = await named('Анна', 'Каренина', 'instructor');
    await completedCourse(student, { lessons: 1, title: 'Введение в TypeScript', instructor });
    const [cert] = (await certificatesOf(student)).results;
    const res = await app.inject({ method: 'GET', url: `/api/certificates/${cert.code}/pdf/` });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'application/pdf');
    assert.ok(res.rawPayload.subarray(0, 5).equals(Buffer.from('%PDF-')));
    assert.equal(pageCount(res.rawPayload), 1);
    const etag = res.headers.etag as string;
    assert.match(etag, /^"[\w-]+"$/);
    const cached = await app.inject({ method: 'GET', url: `/api/certificates/${cert.code}/pdf/`, headers: { 'if-none-match': etag } });
    assert.equal(cached.statusCode, 304);
    assert.equal(cached.body, '');
    assert.equal(cached.headers.etag, etag);
    assert.equal(
      (await app.inject({ method: 'GET', url: `/api/certificates/${cert.code}/pdf/`, headers: { 'if-none-match': '"other"' } })).statusCode,
      200,
    );
    if (!hasPdftotext) return t.skip('pdftotext (poppler-utils) is not installed: text checks skipped');
    const text = pdfText(res.rawPayload);
    for (const expected of [
      'Σωκράτης Παπαδόπουλος',
      'Введение в TypeScript',
      'Анна Каренина',
      cert.issued_at.slice(0, 10),
      cert.code,
      `/api/certificates/${cert.code}/`,
    ]) {
      assert.ok(text.includes(expected), `${expected} in: ${text}`);
    }
    assert.ok(!text.includes('REVOKED'));
  });

  it('a student without first and last name is named by username', async (t: TestContext) => {
    const student = await createStudent(app);
    await completedCourse(student, { lessons: 1 });
    const [cert] = (await certificatesOf(student)).results;
    const res = await app.inject({ method: 'GET', url: `/api/certificates/${cert.code}/pdf/` });
    if (!hasPdftotext) return t.skip('pdftotext not installed');
    assert.ok(pdfText(res.rawPayload).includes(student.user.username));
  });

  it('revocation: admins only; 200 with revoked_at; shows on verification and as REVOKED on the PDF with a new ETag; audited once', async (t: TestContext) => {
    const student = await createStudent(app);
    const { course } = await completedCourse(student, { lessons: 1 });
    const [cert] = (await certificatesOf(student)).results;
    const before = await app.inject({ method: 'GET', url: `/api/certificates/${cert.code}/pdf/` });
    const url = `/api/certificates/${cert.code}/revoke/`;
    assert.equal((await call(app, 'POST', url, { as: student })).status, 403);
    assert.equal((await call(app, 'POST', url, { as: course.owner })).status, 403);
    assert.equal((await call(app, 'POST', url)).status, 401);
    const admin = await createAdmin(app);
    assert.equal((await call(app, 'POST', '/api/certificates/AAAAAAAAAAAAAAAAAAAAAAAA/revoke/', { as: admin })).status, 404);
    const res = await call(app, 'POST', url, { as: admin });
    assert.equal(res.status, 200);
    assert.equal(res.body.valid, false);
    assert.match(res.body.revoked_at, /^\d{4}-\d\d-\d\dT/);
    const again = await call(app, 'POST', url, { as: admin });
    assert.equal(again.status, 200);
    assert.equal(again.body.revoked_at, res.body.revoked_at, 'a second revocation keeps the first time');
    const verified = await call(app, 'GET', `/api/certificates/${cert.code}/`);
    assert.equal(verified.body.valid, false);
    assert.equal(verified.body.revoked_at, res.body.revoked_at);
    assert.equal((await certificatesOf(student)).results[0].valid, false);
    const audit = await app.database.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'certificate.revoked')
      .where('target_id', '=', cert.id)
      .execute();
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.actor_id, admin.user.id);
    const pdf = await app.inject({
      method: 'GET',
      url: `/api/certificates/${cert.code}/pdf/`,
      headers: { 'if-none-match': before.headers.etag as string },
    });
    assert.equal(pdf.statusCode, 200, 'the copy made before revocation is stale');
    assert.notEqual(pdf.headers.etag, before.headers.etag);
    assert.equal(pageCount(pdf.rawPayload), 1);
    if (!hasPdftotext) return t.skip('pdftotext not installed');
    assert.ok(pdfText(pdf.rawPayload).includes('REVOKED'));
  });

  it('an overlong name and title still make one page', async () => {
    const student = await named('N'.repeat(150), 'M'.repeat(150));
    await completedCourse(student, { lessons: 1, title: 'Long title '.repeat(18) });
    const [cert] = (await certificatesOf(student)).results;
    const res = await app.inject({ method: 'GET', url: `/api/certificates/${cert.code}/pdf/` });
    assert.equal(res.statusCode, 200);
    assert.equal(pageCount(res.rawPayload), 1);
  });

  it('appears in the OpenAPI document with named schemas', async () => {
    const doc = JSON.stringify((await call(app, 'GET', '/api/schema/')).body);
    for (const name of [
      'Certificate',
      'PaginatedCertificateList',
      'QuizAuthor',
      'QuizStudent',
      'QuizRequest',
      'QuizAttempt',
      'QuizAttemptRequest',
      'PaginatedQuizAttemptList',
    ]) {
      assert.ok(doc.includes(`"${name}"`), name);
    }
    for (const p of [
      '/api/lessons/{id}/quiz/',
      '/api/lessons/{id}/quiz/attempts/',
      '/api/my-certificates/',
      '/api/certificates/{code}/',
      '/api/certificates/{code}/pdf/',
      '/api/certificates/{code}/revoke/',
    ]) {
      assert.ok(doc.includes(`"${p}"`), p);
    }
  });
});
