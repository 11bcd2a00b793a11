import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DOCUMENT_FILE, generateClient, TYPES_FILE } from '../../scripts/client-generate.js';

describe('the committed typed client', () => {
  it('is up to date with the API (else: npm run client:generate)', async () => {
    const { document, types } = await generateClient();
    assert.ok(readFileSync(DOCUMENT_FILE, 'utf8') === document, 'client/openapi.json is stale: run npm run client:generate');
    assert.ok(readFileSync(TYPES_FILE, 'utf8') === types, 'client/schema.d.ts is stale: run npm run client:generate');
    for (const name of ['Course', 'CourseDetail', 'PaginatedCourseList', 'Review', 'PaginatedReviewList', 'User', 'PublicUser']) {
      assert.match(types, new RegExp(`\\n {8}${name}: \\{`), name);
    }
  });
});
