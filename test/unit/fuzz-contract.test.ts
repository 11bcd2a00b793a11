/**
 * The fuzzer's judge (test/helpers/fuzz.ts): what it calls a contract error, and what it
 * refuses. The OpenAPI fuzzing is only as good as this check.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { contractProblem, isContractError, operationsOf, requestArb } from '../helpers/fuzz.js';
import type { OpenApiDocument } from '../helpers/fuzz.js';

const response = (statusCode: number, body: unknown, headers: Record<string, string> = { 'x-request-id': 'r1' }) => ({
  statusCode,
  headers,
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

describe('the fuzzer’s contract check', () => {
  it('accepts the contract’s error shapes', () => {
    assert.ok(isContractError({ detail: 'Not found.' }));
    assert.ok(isContractError({ title: ['This field is required.'], price: ['A valid number is required.'] }));
    assert.ok(isContractError({ questions: { '2': { choices: ['Exactly one choice must be correct.'] } } }));
    assert.ok(
      isContractError({
        detail: 'Given token not valid for any token type',
        code: 'token_not_valid',
        messages: [{ token_class: 'AccessToken', token_type: 'access', message: 'Token is invalid' }],
      }),
    );
  });

  it('refuses Fastify’s own shape, empty maps, bare strings and messages that are not text', () => {
    assert.equal(
      isContractError({ error: 'Bad Request', code: 'FST_ERR_BAD_URL', message: "'/%' is not a valid url component", statusCode: 400 }),
      false,
    );
    assert.equal(isContractError({}), false);
    assert.equal(isContractError('Not found.'), false);
    assert.equal(isContractError([{ detail: 'x' }]), false);
    assert.equal(isContractError({ title: [] }), false);
    assert.equal(isContractError({ title: [1] }), false);
    assert.equal(isContractError({ detail: '' }), false);
    assert.equal(isContractError({ detail: 'x', statusCode: 400 }), false);
  });

  it('names what is wrong with a response: a 5xx, a missing X-Request-Id, a non-JSON error, a 401 without its challenge', () => {
    assert.equal(contractProblem(response(200, { ok: true })), null);
    assert.equal(contractProblem(response(404, { detail: 'Not found.' })), null);
    assert.match(contractProblem(response(500, { detail: 'Internal server error.' })) ?? '', /status 500/);
    assert.match(contractProblem(response(200, {}, {})) ?? '', /X-Request-Id/);
    assert.match(contractProblem(response(400, '<html>')) ?? '', /not JSON/);
    assert.match(contractProblem(response(400, { message: 'bad' })) ?? '', /error format/);
    assert.match(contractProblem(response(401, { detail: 'No.' })) ?? '', /WWW-Authenticate/);
  });

  it('builds requests for every operation of a document, path parameters filled and the method kept', () => {
    const doc: OpenApiDocument = {
      paths: {
        '/api/things/{id}/': {
          patch: {
            parameters: [{ name: 'id', in: 'path', schema: { type: 'integer' } }],
            requestBody: {
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } },
            },
            security: [{ bearerAuth: [] }],
          },
        },
      },
      components: { schemas: { Thing: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } } },
    };
    const [op] = operationsOf(doc);
    assert.equal(op?.method, 'PATCH');
    assert.equal(op?.public, false);
    assert.deepEqual(Object.keys((op?.body?.properties as object) ?? {}), ['name']);
    const pools = {
      users: [],
      categories: [],
      courses: [],
      lessons: [],
      sections: [],
      reviews: [],
      webhooks: [],
      deliveries: [],
      certificates: [],
    };
    for (const req of fc.sample(requestArb(op, pools), { seed: 1, numRuns: 50 })) {
      assert.equal(req.method, 'PATCH');
      assert.match(req.url, /^\/api\/things\/[^/{}?]+\/?(\?|$)/);
    }
  });
});
