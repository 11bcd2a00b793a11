import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Executor } from '../../db/query.js';
import { writeTransaction } from '../../db/transaction.js';
import type { DB } from '../../db/types.js';
import type { RequestContext, UserContext } from '../../shared/context.js';
import { notFound } from '../../shared/errors.js';
import { pageRequest, paginate } from '../../shared/pagination.js';
import type { Page } from '../../shared/pagination.js';
import { nowIso, toIso, toIsoOrNull } from '../../shared/time.js';
import type { AuditEntry } from '../audit/service.js';
import type { DomainEvent } from '../events/service.js';
import type { PublicUser } from '../users/schemas.js';
import type { CertificateFacts } from './pdf.js';
import * as repo from './repository.js';
import type { Certificate, PageQueryInput } from './schemas.js';

export interface UsersPort {
  toPublicUser(
    ctx: RequestContext,
    row: { id: number; username: string; first_name: string; last_name: string; bio: string; profile_image: string | null },
  ): PublicUser;
}
export interface EventsPort {
  record(trx: Executor, event: DomainEvent): Promise<string>;
}
export interface AuditPort {
  record(trx: Executor, ctx: RequestContext, entry: AuditEntry): Promise<void>;
}

export interface CertificatesServiceDeps {
  db: Kysely<DB>;
  events: EventsPort;
  audit: AuditPort;
  users: () => UsersPort;
  /** Renders a certificate's page (the app's: on a worker thread, see renderer.ts). */
  render: (facts: CertificateFacts) => Promise<Buffer>;
}

export type CertificatesService = ReturnType<typeof createCertificatesService>;

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** 24 base32 characters from 15 random bytes: 120 bits, unguessable, unambiguous to read aloud. */
export function newCode(): string {
  const bytes = randomBytes(15);
  let bits = 0;
  let value = 0;
  let code = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      code += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return code;
}

/** First and last name, else the username. */
const displayName = (first: string, last: string, username: string) => `${first} ${last}`.trim() || username;

/** Rendered pages, by ETag: a small bounded cache, as anyone may ask for any certificate's PDF. */
const RENDERED_LIMIT = 64;

export function createCertificatesService(deps: CertificatesServiceDeps) {
  const { db } = deps;
  const rendered = new Map<string, Buffer>();

  const verificationUrl = (ctx: RequestContext, code: string) => `${ctx.origin}/api/certificates/${encodeURIComponent(code)}/`;

  const toCertificate = (ctx: RequestContext, row: repo.CertificateView): Certificate => ({
    id: row.id,
    code: row.code,
    course: { id: row.course_id, title: row.course_title },
    student: deps.users().toPublicUser(ctx, {
      id: row.s_id,
      username: row.s_username,
      first_name: row.s_first_name,
      last_name: row.s_last_name,
      bio: row.s_bio,
      profile_image: row.s_profile_image,
    }),
    instructor: deps.users().toPublicUser(ctx, {
      id: row.i_id,
      username: row.i_username,
      first_name: row.i_first_name,
      last_name: row.i_last_name,
      bio: row.i_bio,
      profile_image: row.i_profile_image,
    }),
    issued_at: toIso(row.issued_at),
    revoked_at: toIsoOrNull(row.revoked_at),
    valid: row.revoked_at === null,
    pdf: `${verificationUrl(ctx, row.code)}pdf/`,
  });

  async function byCode(code: string): Promise<repo.CertificateView> {
    const row = await repo.findByCode(db, code);
    if (!row) throw notFound();
    return row;
  }

  return {
    /**
     * Issues the student's certificate for the course, inside the transaction that first set
     * the enrollment's completed_at. Once per student and course: a second completion (after
     * re-enrolling, or racing this one) finds the unique key taken and issues nothing.
     */
    /** The student's certificates, for their personal data export. */
    async exportFor(userId: number): Promise<Record<string, unknown>[]> {
      const rows = await repo.ofStudentForExport(db, userId);
      return rows.map((r) => ({
        id: r.id,
        code: r.code,
        course: r.course_id,
        issued_at: toIso(r.issued_at),
        revoked_at: toIsoOrNull(r.revoked_at),
      }));
    },

    /** Erasure: the account's certificates go with it. */
    async eraseFor(ctx: UserContext): Promise<void> {
      await repo.deleteOfStudent(db, ctx.viewer.id);
    },

    async issue(trx: Executor, enrollment: { course_id: number; student_id: number }): Promise<void> {
      const issuedAt = nowIso();
      const code = newCode();
      const row = await repo.insertCertificate(trx, {
        code,
        course_id: enrollment.course_id,
        student_id: enrollment.student_id,
        issued_at: issuedAt,
      });
      if (!row) return;
      await deps.events.record(trx, {
        type: 'certificate.issued',
        courseId: enrollment.course_id,
        data: { certificate: { id: row.id, code, course: enrollment.course_id, student: enrollment.student_id, issued_at: issuedAt } },
      });
    },

    async mine(ctx: UserContext, query: PageQueryInput): Promise<Page<Certificate>> {
      return paginate(ctx, pageRequest(query), repo.listOfStudent(db, ctx.viewer.id), (rows) => rows.map((row) => toCertificate(ctx, row)));
    },

    async verify(ctx: RequestContext, code: string): Promise<Certificate> {
      return toCertificate(ctx, await byCode(code));
    },

    /**
     * The PDF and its ETag, or only the ETag when the client's copy is current (304). The
     * ETag is a digest of everything the page shows, revocation included, so a revoked
     * certificate never answers 304 to a copy made before.
     */
    async pdf(ctx: RequestContext, code: string, ifNoneMatch: string | undefined): Promise<{ etag: string; body: Buffer | null }> {
      const row = await byCode(code);
      const facts: CertificateFacts = {
        code: row.code,
        student: displayName(row.s_first_name, row.s_last_name, row.s_username),
        course: row.course_title,
        instructor: displayName(row.i_first_name, row.i_last_name, row.i_username),
        issuedAt: toIso(row.issued_at),
        revokedAt: toIsoOrNull(row.revoked_at),
        verificationUrl: verificationUrl(ctx, row.code),
      };
      const etag = `"${createHash('sha256').update(JSON.stringify(facts)).digest('base64url').slice(0, 32)}"`;
      const given = ifNoneMatch?.split(',').map((tag) => tag.trim().replace(/^W\//, ''));
      if (given?.includes(etag) || given?.includes('*')) return { etag, body: null };
      let body = rendered.get(etag);
      if (!body) {
        body = await deps.render(facts);
        if (rendered.size >= RENDERED_LIMIT) rendered.delete(rendered.keys().next().value as string);
        rendered.set(etag, body);
      }
      return { etag, body };
    },

    /** Revokes (admins); a second revocation changes nothing and keeps the first time. Audited in the same transaction. */
    async revoke(ctx: UserContext, code: string): Promise<Certificate> {
      await byCode(code);
      await writeTransaction(db, async (trx) => {
        const now = nowIso();
        const row = await repo.revoke(trx, code, now);
        if (!row) return;
        await deps.audit.record(trx, ctx, {
          action: 'certificate.revoked',
          target: { type: 'certificate', id: row.id },
          data: { code, course: row.course_id, student: row.student_id, revoked_at: now },
        });
      });
      return toCertificate(ctx, await byCode(code));
    },
  };
}
