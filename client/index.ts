/**
 * A typed client for the API: openapi-fetch over the types openapi-typescript generated from
 * the OpenAPI document (client/schema.d.ts; regenerate with `npm run client:generate`).
 *
 *   const api = createApiClient('http://127.0.0.1:8000');
 *   const { data } = await api.POST('/api/login/', { body: { username, password } });
 *   api.setToken(data.access);
 *   const page = await api.GET('/api/courses/', { params: { query: { is_free: true, page: 2 } } });
 */
import createClient from 'openapi-fetch';
import type { Middleware } from 'openapi-fetch';
import type { components, paths } from './schema.js';

export type { components, paths };
export type Schemas = components['schemas'];

export function createApiClient(baseUrl: string) {
  let token: string | null = null;
  const client = createClient<paths>({ baseUrl });
  const auth: Middleware = {
    onRequest({ request }) {
      if (token) request.headers.set('Authorization', `Bearer ${token}`);
      return request;
    },
  };
  client.use(auth);
  return Object.assign(client, {
    /** The access token sent from now on (null: anonymous). */
    setToken(value: string | null) {
      token = value;
    },
  });
}
