import { Type } from 'typebox';
import type { Static } from 'typebox';
import { named } from '../../shared/openapi.js';
import { PageQuery } from '../../shared/pagination.js';
import { Nullable } from '../../shared/schemas.js';
import { PublicUserSchema } from '../users/schemas.js';

export const CertificateCourseSchema = named('CertificateCourse', Type.Object({ id: Type.Integer(), title: Type.String() }));

export const CertificateSchema = named(
  'Certificate',
  Type.Object({
    id: Type.Integer(),
    code: Type.String({ description: '24 random characters (base32): the public verification key' }),
    course: CertificateCourseSchema,
    student: PublicUserSchema,
    instructor: PublicUserSchema,
    issued_at: Type.String({ format: 'date-time' }),
    revoked_at: Nullable(Type.String({ format: 'date-time' })),
    valid: Type.Boolean({ description: 'Not revoked' }),
    pdf: Type.String({ format: 'uri', description: 'The one-page PDF' }),
  }),
);
export type Certificate = Static<typeof CertificateSchema>;

export const CodeParams = Type.Object({ code: Type.String({ minLength: 1, maxLength: 64 }) });
export const PageOnlyQuery = Type.Object({ ...PageQuery });
export type PageQueryInput = Static<typeof PageOnlyQuery>;
