import { Type } from 'typebox';
import { Id, Nullable } from '../../shared/schemas.js';
import type { Static } from 'typebox';
import { PageQuery } from '../../shared/pagination.js';
import { named } from '../../shared/openapi.js';

export const RoleSchema = Type.Union([Type.Literal('student'), Type.Literal('instructor'), Type.Literal('admin')]);
export const InstructorStatusSchema = Type.Union([
  Type.Literal('none'),
  Type.Literal('pending'),
  Type.Literal('approved'),
  Type.Literal('rejected'),
]);

export const UserSchema = named(
  'User',
  Type.Object({
    id: Type.Integer(),
    username: Type.String(),
    email: Type.String(),
    first_name: Type.String(),
    last_name: Type.String(),
    bio: Type.String(),
    profile_image: Nullable(Type.String({ format: 'uri' })),
    role: RoleSchema,
    is_instructor: Type.Boolean(),
    is_student: Type.Boolean(),
    is_staff: Type.Boolean(),
    instructor_status: InstructorStatusSchema,
    is_active: Type.Boolean(),
    date_joined: Type.String({ format: 'date-time' }),
  }),
);
export type User = Static<typeof UserSchema>;

/** What anyone may see of a user: never the email. */
export const PublicUserSchema = named(
  'PublicUser',
  Type.Object({
    id: Type.Integer(),
    username: Type.String(),
    first_name: Type.String(),
    last_name: Type.String(),
    bio: Type.String(),
    profile_image: Nullable(Type.String({ format: 'uri' })),
  }),
);
export type PublicUser = Static<typeof PublicUserSchema>;

const Name = Type.String({ maxLength: 150 });

export const RegisterBody = named(
  'RegisterRequest',
  Type.Object({
    username: Type.String({ minLength: 1, maxLength: 150 }),
    email: Type.String({ minLength: 1, maxLength: 254 }),
    password: Type.String({ minLength: 1, maxLength: 4096 }),
    role: Type.Optional(Type.String({ description: '`student` (default) or `instructor`' })),
    is_instructor: Type.Optional(Type.Boolean({ description: 'Alternative to `role: instructor`' })),
    first_name: Type.Optional(Name),
    last_name: Type.Optional(Name),
    bio: Type.Optional(Type.String({ maxLength: 5000 })),
  }),
);
export type RegisterInput = Static<typeof RegisterBody>;

export const ProfileBody = named(
  'PatchedProfileRequest',
  Type.Object({
    email: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })),
    first_name: Type.Optional(Name),
    last_name: Type.Optional(Name),
    bio: Type.Optional(Type.String({ maxLength: 5000 })),
    profile_image: Type.Optional(Type.Null({ description: 'A file (multipart) to replace the image; null or empty to clear it' })),
  }),
);
export type ProfileInput = Static<typeof ProfileBody>;

export const ProfilePutBody = named(
  'ProfileRequest',
  Type.Object({ ...ProfileBody.properties, email: Type.String({ minLength: 1, maxLength: 254 }) }),
);

export const ChangePasswordBody = named(
  'ChangePasswordRequest',
  Type.Object({
    old_password: Type.String({ minLength: 1, maxLength: 4096 }),
    new_password: Type.String({ minLength: 1, maxLength: 4096 }),
  }),
);

export const AdminUserQuery = Type.Object({
  ...PageQuery,
  role: Type.Optional(RoleSchema),
  instructor_status: Type.Optional(InstructorStatusSchema),
  is_active: Type.Optional(Type.Boolean()),
  search: Type.Optional(Type.String({ maxLength: 200 })),
  ordering: Type.Optional(Type.String({ description: 'date_joined, username; `-` for descending. Default -date_joined' })),
});
export type AdminUserQueryInput = Static<typeof AdminUserQuery>;

export const AdminUserPatch = named(
  'PatchedAdminUserRequest',
  Type.Object({
    is_active: Type.Optional(Type.Boolean()),
    role: Type.Optional(RoleSchema),
    first_name: Type.Optional(Name),
    last_name: Type.Optional(Name),
    bio: Type.Optional(Type.String({ maxLength: 5000 })),
  }),
);
export type AdminUserPatchInput = Static<typeof AdminUserPatch>;

export const UserIdParams = Type.Object({ id: Id() });
export const Detail = named('Detail', Type.Object({ detail: Type.String() }));
