import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { currentUser, requireRole, requireUser } from '../../plugins/auth.js';
import { PageSchema } from '../../shared/pagination.js';
import { originOf } from '../../shared/urls.js';
import {
  AdminUserPatch,
  AdminUserQuery,
  ChangePasswordBody,
  Detail,
  ProfileBody,
  UserIdParams,
  UserSchema,
} from './schemas.js';

const secured = [{ bearerAuth: [] }];
const profileImage = { profile_image: { kind: 'image', folder: 'profile-images' } } as const;

export default async function userRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { users } = app.services;

  app.get('/api/profile/', {
    schema: { tags: ['profile'], summary: 'The caller', security: secured, response: { 200: UserSchema } },
    preParsing: requireUser,
  }, async (request) => users.profile(currentUser(request), originOf(request)));

  for (const url of ['/api/profile/', '/api/update-profile/']) {
    for (const method of ['PATCH', 'PUT'] as const) {
      app.route({
        method,
        url,
        schema: {
          tags: ['profile'],
          summary: method === 'PUT' ? 'Replace the profile (email required)' : 'Update the profile',
          security: secured,
          body: method === 'PUT' ? Type.Object({ ...ProfileBody.properties, email: Type.String({ minLength: 1, maxLength: 254 }) }) : ProfileBody,
          response: { 200: UserSchema },
        },
        config: { uploads: profileImage },
        preParsing: requireUser,
        handler: async (request) =>
          users.updateProfile(currentUser(request), request.body, request.uploads?.profile_image, originOf(request)),
      });
    }
  }

  app.post('/api/change-password/', {
    schema: {
      tags: ['profile'],
      summary: 'Change the password; every other session of the user is revoked',
      security: secured,
      body: ChangePasswordBody,
      response: { 200: Detail },
    },
    preParsing: requireUser,
  }, async (request) => {
    await users.changePassword(currentUser(request), request.body.old_password, request.body.new_password);
    return { detail: 'Password updated successfully.' };
  });

  const admin = { tags: ['admin'], security: secured };
  const adminOnly = requireRole('admin');

  app.get('/api/admin/users/', {
    schema: { ...admin, summary: 'Users, filtered and searched', querystring: AdminUserQuery, response: { 200: PageSchema(UserSchema) } },
    preParsing: adminOnly,
  }, async (request) => users.list(request, request.query));

  app.get('/api/admin/users/:id/', {
    schema: { ...admin, summary: 'One user', params: UserIdParams, response: { 200: UserSchema } },
    preParsing: adminOnly,
  }, async (request) => users.get(request.params.id, originOf(request)));

  app.patch('/api/admin/users/:id/', {
    schema: {
      ...admin,
      summary: 'Change a user; a role change or deactivation revokes all their sessions',
      params: UserIdParams,
      body: AdminUserPatch,
      response: { 200: UserSchema },
    },
    preParsing: adminOnly,
  }, async (request) => users.adminUpdate(currentUser(request), request.params.id, request.body, originOf(request)));

  app.post('/api/admin/users/:id/approve/', {
    schema: { ...admin, summary: 'Approve an instructor', params: UserIdParams, response: { 200: UserSchema } },
    preParsing: adminOnly,
  }, async (request) => users.setInstructorStatus(request.params.id, 'approved', originOf(request)));

  app.post('/api/admin/users/:id/reject/', {
    schema: { ...admin, summary: 'Reject an instructor', params: UserIdParams, response: { 200: UserSchema } },
    preParsing: adminOnly,
  }, async (request) => users.setInstructorStatus(request.params.id, 'rejected', originOf(request)));
}
