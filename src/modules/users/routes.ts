import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { contextOf, userContextOf } from '../../plugins/context.js';
import { PageSchema } from '../../shared/pagination.js';
import {
  AdminUserPatch,
  AdminUserQuery,
  ChangePasswordBody,
  Detail,
  ProfileBody,
  ProfilePutBody,
  UserIdParams,
  UserSchema,
} from './schemas.js';

const profileImage = { profile_image: { kind: 'image', folder: 'profile-images' } } as const;

export default async function userRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { users } = app.services;
  const signedIn = { auth: 'user' } as const;

  app.get(
    '/api/profile/',
    {
      schema: { tags: ['profile'], summary: 'The caller', response: { 200: UserSchema } },
      config: signedIn,
    },
    async (request) => users.profile(userContextOf(request)),
  );

  for (const url of ['/api/profile/', '/api/update-profile/']) {
    for (const method of ['PATCH', 'PUT'] as const) {
      app.route({
        method,
        url,
        schema: {
          tags: ['profile'],
          summary: method === 'PUT' ? 'Replace the profile (email required)' : 'Update the profile',
          body: method === 'PUT' ? ProfilePutBody : ProfileBody,
          response: { 200: UserSchema },
        },
        config: { ...signedIn, uploads: profileImage },
        handler: async (request) => users.updateProfile(userContextOf(request), request.body, request.uploads?.profile_image),
      });
    }
  }

  app.post(
    '/api/change-password/',
    {
      schema: {
        tags: ['profile'],
        summary: 'Change the password; every other session of the user is revoked',
        body: ChangePasswordBody,
        response: { 200: Detail },
      },
      config: signedIn,
    },
    async (request) => users.changePassword(userContextOf(request), request.body.old_password, request.body.new_password),
  );

  const admin = { tags: ['admin'] };
  const admins = { auth: ['admin'] } as const;

  app.get(
    '/api/admin/users/',
    {
      schema: { ...admin, summary: 'Users, filtered and searched', querystring: AdminUserQuery, response: { 200: PageSchema(UserSchema) } },
      config: admins,
    },
    async (request) => users.list(contextOf(request), request.query),
  );

  app.get(
    '/api/admin/users/:id/',
    {
      schema: { ...admin, summary: 'One user', params: UserIdParams, response: { 200: UserSchema } },
      config: admins,
    },
    async (request) => users.get(contextOf(request), request.params.id),
  );

  app.patch(
    '/api/admin/users/:id/',
    {
      schema: {
        ...admin,
        summary: 'Change a user; a role change or deactivation revokes all their sessions',
        params: UserIdParams,
        body: AdminUserPatch,
        response: { 200: UserSchema },
      },
      config: admins,
    },
    async (request) => users.adminUpdate(userContextOf(request), request.params.id, request.body),
  );

  app.post(
    '/api/admin/users/:id/approve/',
    {
      schema: { ...admin, summary: 'Approve an instructor', params: UserIdParams, response: { 200: UserSchema } },
      config: admins,
    },
    async (request) => users.setInstructorStatus(userContextOf(request), request.params.id, 'approved'),
  );

  app.post(
    '/api/admin/users/:id/reject/',
    {
      schema: { ...admin, summary: 'Reject an instructor', params: UserIdParams, response: { 200: UserSchema } },
      config: admins,
    },
    async (request) => users.setInstructorStatus(userContextOf(request), request.params.id, 'rejected'),
  );
}
