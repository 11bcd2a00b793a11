import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HttpError } from '../../src/shared/errors.js';
import { buildPage, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, pageRequest, parseOrdering } from '../../src/shared/pagination.js';

/** The HttpError a call throws (asserting that it throws one). */
function thrown(fn: () => unknown): HttpError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof HttpError, String(error));
    return error;
  }
  assert.fail('expected an HttpError');
}

describe('pageRequest (DRF PageNumberPagination)', () => {
  it('defaults to page 1 of 10', () => {
    assert.equal(DEFAULT_PAGE_SIZE, 10);
    assert.equal(MAX_PAGE_SIZE, 100);
    assert.deepEqual(pageRequest({}), { page: 1, pageSize: 10, offset: 0, limit: 10 });
    assert.deepEqual(pageRequest({ page: '', page_size: '' }), { page: 1, pageSize: 10, offset: 0, limit: 10 });
  });

  it('turns page and page_size into offset and limit', () => {
    assert.deepEqual(pageRequest({ page: '3', page_size: '7' }), { page: 3, pageSize: 7, offset: 14, limit: 7 });
    assert.deepEqual(pageRequest({ page: '1', page_size: '1' }), { page: 1, pageSize: 1, offset: 0, limit: 1 });
    assert.deepEqual(pageRequest({ page: '2' }), { page: 2, pageSize: 10, offset: 10, limit: 10 });
    assert.deepEqual(pageRequest({ page: '12', page_size: '25' }), { page: 12, pageSize: 25, offset: 275, limit: 25 }, 'several digits');
  });

  it('caps page_size at 100, and an invalid one falls back to the default', () => {
    for (const size of ['100', '101', '500', '99999999']) assert.equal(pageRequest({ page_size: size }).pageSize, 100, size);
    assert.equal(pageRequest({ page_size: '99' }).pageSize, 99);
    assert.deepEqual(pageRequest({ page: '2', page_size: '500' }), { page: 2, pageSize: 100, offset: 100, limit: 100 });
    for (const size of ['0', '-5', 'abc', '5x', 'x5', '1.5', ' 5']) assert.equal(pageRequest({ page_size: size }).pageSize, 10, size);
  });

  it('refuses a page that is not a positive integer with 404 "Invalid page."', () => {
    for (const page of ['0', '-1', 'last', '1.5', '2x', 'x2', ' 1']) {
      const error = thrown(() => pageRequest({ page }));
      assert.equal(error.statusCode, 404, page);
      assert.deepEqual(error.body, { detail: 'Invalid page.' });
      assert.equal(error.code, 'invalid_page');
    }
  });
});

describe('buildPage', () => {
  const request = (url: string) => ({ url, origin: 'http://api.test' });

  it('links the next and previous pages, keeping the query; page 1 has no page parameter', () => {
    const middle = buildPage(request('/api/courses/?search=py&page=2&page_size=2'), pageRequest({ page: '2', page_size: '2' }), 5, [
      'c',
      'd',
    ]);
    assert.deepEqual(middle, {
      count: 5,
      next: 'http://api.test/api/courses/?search=py&page=3&page_size=2',
      previous: 'http://api.test/api/courses/?search=py&page_size=2',
      results: ['c', 'd'],
    });
    const last = buildPage(request('/api/courses/?page=3&page_size=2'), pageRequest({ page: '3', page_size: '2' }), 5, ['e']);
    assert.equal(last.next, null);
    assert.equal(last.previous, 'http://api.test/api/courses/?page=2&page_size=2');
    const first = buildPage(request('/api/courses/?page_size=2'), pageRequest({ page_size: '2' }), 5, ['a', 'b']);
    assert.equal(first.previous, null);
    assert.equal(first.next, 'http://api.test/api/courses/?page_size=2&page=2');
  });

  it('has one page when everything fits, and an empty result is page 1', () => {
    const exact = buildPage(request('/x/?page_size=2'), pageRequest({ page_size: '2' }), 2, [1, 2]);
    assert.deepEqual([exact.next, exact.previous], [null, null]);
    assert.deepEqual(buildPage(request('/x/'), pageRequest({}), 0, []), { count: 0, next: null, previous: null, results: [] });
  });

  it('refuses a page past the end with 404', () => {
    const error = thrown(() => buildPage(request('/x/?page=2'), pageRequest({ page: '2' }), 10, []));
    assert.equal(error.statusCode, 404);
    assert.deepEqual(error.body, { detail: 'Invalid page.' });
    assert.equal(thrown(() => buildPage(request('/x/?page=2'), pageRequest({ page: '2' }), 0, [])).statusCode, 404);
    assert.equal(buildPage(request('/x/?page=2'), pageRequest({ page: '2' }), 11, [11]).count, 11);
  });
});

describe('parseOrdering (DRF OrderingFilter)', () => {
  const fields = { price: 'price_cents', title: 'title', created_at: 'created_at' } as const;

  it('falls back to the default for a missing or blank value', () => {
    assert.deepEqual(parseOrdering(undefined, fields, '-created_at'), [{ column: 'created_at', direction: 'desc' }]);
    assert.deepEqual(parseOrdering('  ', fields, 'title'), [{ column: 'title', direction: 'asc' }]);
    assert.deepEqual(parseOrdering('', fields, '-price,title'), [
      { column: 'price_cents', direction: 'desc' },
      { column: 'title', direction: 'asc' },
    ]);
  });

  it('maps fields to columns in order, - for descending, spaces and empty parts ignored, a repeated column once', () => {
    assert.deepEqual(parseOrdering(' price , -title,,', fields, 'title'), [
      { column: 'price_cents', direction: 'asc' },
      { column: 'title', direction: 'desc' },
    ]);
    assert.deepEqual(parseOrdering('-price,price,title', fields, 'title'), [
      { column: 'price_cents', direction: 'desc' },
      { column: 'title', direction: 'asc' },
    ]);
  });

  it('refuses an unknown field, inherited object properties included, with 400 on ordering', () => {
    for (const raw of [
      'popularity',
      'price,secret',
      'constructor',
      '-constructor',
      'toString',
      '__proto__',
      'hasOwnProperty',
      'price_cents',
      '--price',
    ]) {
      const error = thrown(() => parseOrdering(raw, fields, 'title'));
      assert.equal(error.statusCode, 400, raw);
      assert.deepEqual(Object.keys(error.body), ['ordering'], raw);
      assert.equal(error.code, 'invalid');
      const [message] = (error.body as Record<string, string[]>).ordering ?? [];
      assert.match(message ?? '', /price, title, created_at/, 'names the fields to choose from');
    }
  });
});
