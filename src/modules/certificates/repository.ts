import { listQuery } from '../../db/query.js';
import type { Executor } from '../../db/query.js';

/** Issues the certificate unless the student already has one for the course; true when this call issued it. */
export async function insertCertificate(
  db: Executor,
  values: { code: string; course_id: number; student_id: number; issued_at: string },
): Promise<{ id: number } | undefined> {
  return db
    .insertInto('certificates')
    .values({ ...values, revoked_at: null })
    .onConflict((oc) => oc.columns(['course_id', 'student_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
}

/** Certificates with what they show: the course and its instructor, the student. */
function withNames(db: Executor) {
  return db
    .selectFrom('certificates')
    .innerJoin('courses', 'courses.id', 'certificates.course_id')
    .innerJoin('users as s', 's.id', 'certificates.student_id')
    .innerJoin('users as i', 'i.id', 'courses.instructor_id')
    .select([
      'certificates.id',
      'certificates.code',
      'certificates.issued_at',
      'certificates.revoked_at',
      'courses.id as course_id',
      'courses.title as course_title',
      's.id as s_id',
      's.username as s_username',
      's.first_name as s_first_name',
      's.last_name as s_last_name',
      's.bio as s_bio',
      's.profile_image as s_profile_image',
      'i.id as i_id',
      'i.username as i_username',
      'i.first_name as i_first_name',
      'i.last_name as i_last_name',
      'i.bio as i_bio',
      'i.profile_image as i_profile_image',
    ]);
}

export function findByCode(db: Executor, code: string) {
  return withNames(db).where('certificates.code', '=', code).executeTakeFirst();
}
export type CertificateView = NonNullable<Awaited<ReturnType<typeof findByCode>>>;

/** A student's certificates, newest first. */
export function listOfStudent(db: Executor, studentId: number) {
  return listQuery(
    withNames(db)
      .where('certificates.student_id', '=', studentId)
      .orderBy('certificates.issued_at', 'desc')
      .orderBy('certificates.id', 'asc'),
  );
}

/** Sets revoked_at once: the revoked row when this call revoked it, else undefined (unknown, or revoked before). */
export function revoke(db: Executor, code: string, now: string) {
  return db
    .updateTable('certificates')
    .set({ revoked_at: now })
    .where('code', '=', code)
    .where('revoked_at', 'is', null)
    .returning(['id', 'course_id', 'student_id'])
    .executeTakeFirst();
}

/** A student's certificates, for their personal data export. */
export function ofStudentForExport(db: Executor, studentId: number) {
  return db
    .selectFrom('certificates')
    .select(['id', 'code', 'course_id', 'issued_at', 'revoked_at'])
    .where('student_id', '=', studentId)
    .orderBy('issued_at', 'desc')
    .execute();
}

export async function deleteOfStudent(db: Executor, studentId: number): Promise<void> {
  await db.deleteFrom('certificates').where('student_id', '=', studentId).execute();
}
