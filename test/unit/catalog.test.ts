import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { slugify } from '../../src/modules/categories/slug.js';
import { createCatalogCache } from '../../src/modules/courses/cache.js';
import { boundToCents, centsToPrice, parseDecimal, priceToCents } from '../../src/modules/courses/money.js';
import { MAX_SEARCH_WORDS, searchWords } from '../../src/modules/courses/search.js';

describe('slugify, as Django does it', () => {
  it('lowercases, folds accents, drops symbols, joins words with hyphens', () => {
    assert.equal(slugify('Data Science & AI'), 'data-science-ai');
    assert.equal(slugify('  Crème Brûlée  '), 'creme-brulee');
    assert.equal(slugify('C++ / C#'), 'c-c');
    assert.equal(slugify('__snake_case__'), 'snake_case');
    assert.equal(slugify('a -- b'), 'a-b');
    assert.equal(slugify('日本語'), '');
  });
});

describe('money', () => {
  it('parses plain and exponent decimals exactly', () => {
    assert.deepEqual(parseDecimal('12.50'), { negative: false, whole: '12', fraction: '5' });
    assert.deepEqual(parseDecimal('-.25'), { negative: true, whole: '0', fraction: '25' });
    assert.deepEqual(parseDecimal('1e3'), { negative: false, whole: '1000', fraction: '' });
    assert.deepEqual(parseDecimal('2.5E-3'), { negative: false, whole: '0', fraction: '0025' });
    assert.deepEqual(parseDecimal('007'), { negative: false, whole: '7', fraction: '' });
    for (const bad of ['', '.', 'abc', '1.2.3', 'NaN', 'Infinity', '1e', '0x10', '1,5']) assert.equal(parseDecimal(bad), null, bad);
  });

  it('turns a price into cents or says what is wrong', () => {
    assert.deepEqual(priceToCents('49.99'), { cents: 4999 });
    assert.deepEqual(priceToCents(0.3), { cents: 30 });
    assert.deepEqual(priceToCents(99999999.99), { cents: 9_999_999_999 });
    assert.deepEqual(priceToCents('-0'), { cents: 0 });
    assert.deepEqual(priceToCents('1.001'), { problem: 'places' });
    assert.deepEqual(priceToCents(0.1 + 0.2), { problem: 'places' }, '0.30000000000000004');
    assert.deepEqual(priceToCents('-1'), { problem: 'negative' });
    assert.deepEqual(priceToCents('100000000.00'), { problem: 'too_large' });
    assert.deepEqual(priceToCents(Number.NaN), { problem: 'invalid' });
    assert.deepEqual(priceToCents('1e400'), { problem: 'too_large' });
  });

  it('rounds filter bounds inward to whole cents', () => {
    assert.equal(boundToCents('10.555', 'min'), 1056);
    assert.equal(boundToCents('10.555', 'max'), 1055);
    assert.equal(boundToCents('-10.555', 'min'), -1055);
    assert.equal(boundToCents('-10.555', 'max'), -1056);
    assert.equal(boundToCents('10.5', 'min'), 1050);
    assert.equal(boundToCents('abc', 'min'), null);
    assert.ok((boundToCents('1e30', 'min') ?? 0) > 9_999_999_999);
  });

  it('renders cents with two places', () => {
    assert.deepEqual([0, 5, 50, 4999, 9_999_999_999].map(centsToPrice), ['0.00', '0.05', '0.50', '49.99', '99999999.99']);
  });
});

describe('search words', () => {
  it('splits terms into lowercase runs of letters and digits, as the indexes do', () => {
    assert.deepEqual(searchWords('  Python   node.js C++ '), ['python', 'node', 'js', 'c']);
    assert.deepEqual(searchWords('Éclair café_au_lait'), ['éclair', 'café', 'au', 'lait']);
    assert.deepEqual(searchWords('+++ --'), []);
    assert.deepEqual(searchWords('a A a'), ['a']);
    assert.equal(searchWords(Array.from({ length: 30 }, (_, i) => `w${i}`).join(' ')).length, MAX_SEARCH_WORDS);
  });
});

describe('catalog cache', () => {
  it('reuses an answer until the TTL passes or the cache is cleared', async () => {
    let clock = 0;
    let computed = 0;
    const cache = createCatalogCache({ ttlMs: 100, maxEntries: 10, now: () => clock });
    const answer = () => cache.remember('k', async () => ++computed);
    assert.equal(await answer(), 1);
    clock = 99;
    assert.equal(await answer(), 1);
    clock = 100;
    assert.equal(await answer(), 2);
    cache.clear();
    assert.equal(await answer(), 3);
  });

  it('shares one computation between concurrent misses and keeps no failure', async () => {
    const cache = createCatalogCache({ ttlMs: 1000, maxEntries: 10 });
    let calls = 0;
    let release!: (n: number) => void;
    const slow = () => {
      calls++;
      return new Promise<number>((resolve) => (release = resolve));
    };
    const both = Promise.all([cache.remember('k', slow), cache.remember('k', slow)]);
    release(7);
    assert.deepEqual(await both, [7, 7]);
    assert.equal(calls, 1);
    await assert.rejects(cache.remember('bad', async () => Promise.reject(new Error('db down'))));
    assert.equal(await cache.remember('bad', async () => 'recovered'), 'recovered');
  });

  it('holds at most maxEntries, dropping the oldest', async () => {
    const cache = createCatalogCache({ ttlMs: 1000, maxEntries: 2 });
    let computed = 0;
    for (const key of ['a', 'b', 'c']) await cache.remember(key, async () => ++computed);
    assert.equal(await cache.remember('c', async () => ++computed), 3);
    assert.equal(await cache.remember('a', async () => ++computed), 4, 'a was dropped');
  });
});
