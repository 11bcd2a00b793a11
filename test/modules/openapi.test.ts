import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Type } from 'typebox';
import { buildTestApp } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createDatabase } from '../../src/db/index.js';
import { migrateToLatest } from '../../src/db/migrator.js';
import { documentableRoutes, hoistNamedSchemas, operationIdOf, SchemaNameClash } from '../../src/plugins/docs.js';
import { named } from '../../src/shared/openapi.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- the document is arbitrary JSON

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
/** Inline object schemas allowed outside components: the health probes' one-field bodies. */
const TRIVIAL_INLINE = [/^paths\/\/health\//, /^paths\/\/ready\//];

const openApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');

function operations(doc: Json): { path: string; method: string; op: Json }[] {
  return Object.entries(doc.paths as Json).flatMap(([path, item]) =>
    Object.entries(item as Json)
      .filter(([m]) => METHODS.includes(m))
      .map(([method, op]) => ({ path, method, op: op as Json })),
  );
}

describe('the OpenAPI document', () => {
  let app: TestApp;
  let doc: Json;
  before(async () => {
    app = await buildTestApp();
    const res = await app.inject({ method: 'GET', url: '/api/schema/' });
    assert.equal(res.statusCode, 200);
    doc = res.json();
  });
  after(() => app.close());

  it('passes the OpenAPI validator (@apidevtools/swagger-parser) with no errors', async () => {
    await SwaggerParser.validate(structuredClone(doc) as never);
  });

  it('documents every route the app registered', () => {
    const routes = documentableRoutes(app);
    assert.ok(routes.length > 40, `only ${routes.length} routes seen`);
    const missing = routes.filter((r) => !doc.paths[openApiPath(r.url)]?.[r.method.toLowerCase()]).map((r) => `${r.method} ${r.url}`);
    assert.deepEqual(missing, []);
  });

  it('gives every operation a unique operationId in drf-spectacular style and a tag', () => {
    const ops = operations(doc);
    const ids = ops.map(({ op }) => op.operationId as string);
    assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
    for (const { path, method, op } of ops) {
      assert.match(String(op.operationId), /^[a-z][a-z0-9_]*$/, `${method} ${path}`);
      assert.ok(Array.isArray(op.tags) && op.tags.length > 0, `${method} ${path} has a tag`);
    }
    const byRoute = (method: string, path: string) => doc.paths[path][method].operationId;
    assert.equal(byRoute('get', '/api/courses/'), 'courses_list');
    assert.equal(byRoute('get', '/api/courses/{id}/'), 'courses_retrieve');
    assert.equal(byRoute('post', '/api/courses/'), 'courses_create');
    assert.equal(byRoute('put', '/api/courses/{id}/'), 'courses_update');
    assert.equal(byRoute('patch', '/api/courses/{id}/'), 'courses_partial_update');
    assert.equal(byRoute('delete', '/api/courses/{id}/'), 'courses_destroy');
    assert.equal(byRoute('post', '/api/lessons/{id}/complete/'), 'lessons_complete_create');
    assert.equal(operationIdOf('GET', '/api/my-progress/:course_id/', false), 'my_progress_retrieve');
  });

  it('names every object shape in components.schemas, as drf-spectacular names serializers', () => {
    const names = Object.keys(doc.components.schemas);
    for (const name of [
      'User',
      'PublicUser',
      'RegisterRequest',
      'PatchedProfileRequest',
      'ProfileRequest',
      'TokenPair',
      'LoginRequest',
      'TokenRefreshRequest',
      'Category',
      'CategoryRequest',
      'PatchedCategoryRequest',
      'PaginatedCategoryList',
      'CategoryRef',
      'Course',
      'CourseDetail',
      'PaginatedCourseList',
      'CourseRequest',
      'PatchedCourseRequest',
      'Lesson',
      'LessonRequest',
      'PatchedLessonRequest',
      'Enrollment',
      'Progress',
      'ProgressDetail',
      'Completion',
      'CourseStudent',
      'Review',
      'ReviewRequest',
      'PatchedReviewRequest',
      'PaginatedReviewList',
      'Detail',
      'ValidationError',
      'ErrorDetail',
    ])
      assert.ok(names.includes(name), name);
    const list = doc.paths['/api/courses/'].get.responses['200'].content['application/json'].schema;
    assert.deepEqual(list, { $ref: '#/components/schemas/PaginatedCourseList' });
    assert.deepEqual(doc.components.schemas.Course.properties.instructor, { $ref: '#/components/schemas/PublicUser' });

    const inline: string[] = [];
    const walk = (node: unknown, path: string[]) => {
      if (Array.isArray(node)) return node.forEach((n, i) => walk(n, [...path, String(i)]));
      if (node === null || typeof node !== 'object') return;
      const schema = node as Json;
      const top = path.length === 3 && path[0] === 'components' && path[1] === 'schemas';
      if (schema.properties && Object.keys(schema.properties).length > 0 && !top) {
        const where = path.join('/');
        if (!TRIVIAL_INLINE.some((re) => re.test(where))) inline.push(where);
      }
      for (const [k, v] of Object.entries(schema)) walk(v, [...path, k]);
    };
    walk(doc, []);
    assert.deepEqual(inline, []);
  });

  it('documents bodies for JSON, forms and multipart with one named schema, files as binary', () => {
    const content = doc.paths['/api/courses/'].post.requestBody.content;
    assert.deepEqual(Object.keys(content).sort(), ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data']);
    for (const media of Object.values<Json>(content)) assert.deepEqual(media.schema, { $ref: '#/components/schemas/CourseRequest' });
    const thumbnail = doc.components.schemas.CourseRequest.properties.thumbnail;
    assert.ok(thumbnail.anyOf.some((s: Json) => s.format === 'binary'));
    assert.deepEqual(doc.paths['/api/courses/{id}/'].patch.requestBody.content['application/json'].schema, {
      $ref: '#/components/schemas/PatchedCourseRequest',
    });
  });

  it('documents error responses with named schemas', () => {
    const create = doc.paths['/api/courses/'].post.responses;
    assert.deepEqual(create['400'].content['application/json'].schema, { $ref: '#/components/schemas/ValidationError' });
    for (const status of ['401', '403', '429'])
      assert.deepEqual(create[status].content['application/json'].schema, { $ref: '#/components/schemas/ErrorDetail' });
    const detail = doc.paths['/api/courses/{id}/'].get.responses;
    assert.ok(detail['404'] && !detail['403'] && !detail['400']);
    assert.ok(!doc.paths['/api/courses/'].get.responses['404']);
  });

  it('types query parameters as the runtime reads them, and lets public endpoints send a token', async () => {
    const params = Object.fromEntries((doc.paths['/api/courses/'].get.parameters as Json[]).map((p) => [p.name, p.schema]));
    assert.equal(params.page.type, 'integer');
    assert.equal(params.page_size.type, 'integer');
    assert.equal(params.is_free.type, 'boolean');
    assert.equal(params.mine.type, 'boolean');
    assert.equal(params.search.type, 'string');
    for (const p of Object.values<Json>(params)) assert.ok(!Object.keys(p).some((k) => k.startsWith('x-')));
    assert.deepEqual(doc.paths['/api/courses/'].get.security, [{}, { bearerAuth: [] }]);
    assert.deepEqual(doc.paths['/api/courses/'].post.security, [{ bearerAuth: [] }]);
    // What the document promises, the runtime takes: integers and booleans as a client serializes them.
    const res = await app.inject({ method: 'GET', url: '/api/courses/?page=1&page_size=5&is_free=false&mine=false' });
    assert.equal(res.statusCode, 200);
  });

  it('serves Swagger UI without upgrading its assets to https', async () => {
    for (const url of ['/api/docs/', '/api/docs/static/index.html']) {
      const res = await app.inject({ method: 'GET', url });
      assert.ok(res.statusCode === 200 || res.statusCode === 302, `${url}: ${res.statusCode}`);
      const csp = String(res.headers['content-security-policy'] ?? '');
      assert.doesNotMatch(csp, /upgrade-insecure-requests/);
    }
  });
});

describe('schema names', () => {
  it('refuses two different shapes under one name', () => {
    const a = { type: 'object', title: 'Thing', properties: { a: { type: 'string' } } };
    const b = { type: 'object', title: 'Thing', properties: { b: { type: 'string' } } };
    const doc = {
      openapi: '3.1.0',
      paths: {
        '/a': { get: { responses: { 200: { content: { 'application/json': { schema: a } } } } } },
        '/b': { get: { responses: { 200: { content: { 'application/json': { schema: b } } } } } },
      },
    };
    assert.throws(() => hoistNamedSchemas(doc, new Map()), SchemaNameClash);
    const same = {
      ...doc,
      paths: { ...doc.paths, '/b': { get: { responses: { 200: { content: { 'application/json': { schema: { ...a } } } } } } } },
    };
    const hoisted: Json = hoistNamedSchemas(same, new Map());
    assert.deepEqual(Object.keys(hoisted.components.schemas), ['Thing']);
  });

  it('fails the start of an app whose routes name two shapes alike', async () => {
    const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: 'sqlite::memory:', RATE_LIMIT_ANON: 'off' });
    const database = createDatabase(config.databaseUrl);
    await migrateToLatest(database.db);
    const app = await buildApp(config, { database, logger: false });
    app.get(
      '/api/clash-a/',
      { schema: { response: { 200: named('ClashingName', Type.Object({ a: Type.String() })) } }, config: { auth: 'public' } },
      async () => ({ a: '' }),
    );
    app.get(
      '/api/clash-b/',
      { schema: { response: { 200: named('ClashingName', Type.Object({ b: Type.String() })) } }, config: { auth: 'public' } },
      async () => ({ b: '' }),
    );
    await assert.rejects(async () => {
      await app.ready();
    }, /two different schemas are named "ClashingName"/);
    await app.close().catch(() => {});
  });
});
