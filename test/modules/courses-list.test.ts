import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestApp } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import type { TestUser, CourseOverrides } from '../helpers/factories.js';
import { createUser, createStudent, createInstructor, createAdmin, createCategory, createCourse } from '../helpers/factories.js';
import { call } from '../helpers/http.js';

interface Item {
  id: number;
  title: string;
  price: string;
  is_free: boolean;
  average_rating: number | null;
  students_count: number;
  reviews_count: number;
  created_at: string;
  updated_at: string;
  is_published: boolean;
  category: { id: number; name: string; slug: string };
  instructor: { id: number; username: string };
}

const at = (day: number) => new Date(Date.UTC(2026, 0, day)).toISOString();

type Page = { count: number; next: string | null; previous: string | null; results: Item[] };

/** GET /api/courses/ on the app the getter names (each describe block has its own app). */
function lister(getApp: () => TestApp) {
  const list = async (query: string, user?: TestUser) => {
    const res = await call(getApp(), 'GET', `/api/courses/${query}`, { token: user?.access });
    assert.equal(res.status, 200, `${query}: ${res.text}`);
    return res.body as Page;
  };
  const titles = async (query: string, user?: TestUser) => (await list(query, user)).results.map((c) => c.title);
  const all = (query: string, user?: TestUser) => list(`?page_size=100${query ? `&${query}` : ''}`, user);
  return { list, titles, all };
}

/**
 * Catalog fixtures: two categories, two instructors, a spread of prices, ratings, counters
 * and dates (with deliberate ties), and drafts that no public read path may show. The tests
 * of this block read the fixture and leave it as they found it (a test that writes removes
 * what it wrote, in a finally); tests that need more courses build an app of their own below.
 */
describe('course list', () => {
  let app: TestApp;
  let ada: TestUser;
  let grace: TestUser;
  let admin: TestUser;
  let student: TestUser;
  let design: number;
  let data: number;
  let published: number[];
  let draftIds: number[];

  const { list, titles, all } = lister(() => app);

  before(async () => {
    app = await buildTestApp();
    ada = await createUser(app, { role: 'instructor', username: 'ada_lovelace' });
    grace = await createUser(app, { role: 'instructor', username: 'GraceHopper' });
    admin = await createAdmin(app);
    student = await createStudent(app);
    design = (await createCategory(app, { name: 'Graphic Design' })).id;
    data = (await createCategory(app, { name: 'Data Science & AI' })).id;
    const course = (instructor: TestUser, overrides: CourseOverrides) => createCourse(app, { instructor, ...overrides });
    const rows = [
      await course(ada, {
        title: 'Python for Everyone',
        description: 'Start programming today',
        price_cents: 0,
        category_id: data,
        created_at: at(1),
        updated_at: at(20),
        average_rating: 4.5,
        reviews_count: 2,
        rating_sum: 9,
        students_count: 30,
      }),
      await course(ada, {
        title: 'Advanced Python',
        description: 'Decorators, generators and typing',
        price_cents: 4999,
        category_id: data,
        created_at: at(2),
        updated_at: at(19),
        average_rating: 3.25,
        reviews_count: 4,
        rating_sum: 13,
        students_count: 5,
      }),
      await course(grace, {
        title: 'Logo design basics',
        description: 'Shapes and colour, with a dash of python scripting',
        price_cents: 1999,
        category_id: design,
        created_at: at(3),
        updated_at: at(18),
        average_rating: null,
        reviews_count: 0,
        students_count: 5,
      }),
      await course(grace, {
        title: 'COBOL Forever',
        description: 'Legacy systems',
        price_cents: 1999,
        category_id: data,
        created_at: at(4),
        updated_at: at(17),
        average_rating: 5,
        reviews_count: 1,
        rating_sum: 5,
        students_count: 0,
      }),
      await course(grace, {
        title: 'data visualisation',
        description: 'Charts that tell the truth',
        price_cents: 10000,
        category_id: design,
        created_at: at(5),
        updated_at: at(16),
        average_rating: 4.5,
        reviews_count: 2,
        rating_sum: 9,
        students_count: 12,
      }),
      await course(ada, {
        title: 'Node.js in Depth',
        description: 'Event loop',
        price_cents: 2500,
        category_id: data,
        created_at: at(6),
        updated_at: at(15),
        average_rating: null,
        reviews_count: 0,
        students_count: 1,
      }),
    ];
    published = rows.map((r) => r.id);
    draftIds = [
      (
        await course(ada, {
          title: 'Secret Python Draft',
          description: 'unreleased',
          price_cents: 0,
          category_id: data,
          is_published: false,
          created_at: at(7),
          average_rating: 5,
          reviews_count: 1,
          rating_sum: 5,
        })
      ).id,
      (
        await course(grace, {
          title: 'Hidden design draft',
          description: 'not yet',
          price_cents: 500,
          category_id: design,
          is_published: false,
          created_at: at(8),
        })
      ).id,
    ];
  });
  after(() => app.close());

  describe('visibility of drafts through every read path', () => {
    it('the public list, its count and every filter show published courses only', async () => {
      for (const user of [undefined, student, grace, ada, admin]) {
        const page = await all('', user);
        assert.equal(page.count, published.length, `count for ${user?.user.role ?? 'anonymous'}`);
        assert.deepEqual(page.results.map((c) => c.id).sort(), [...published].sort());
        assert.ok(page.results.every((c) => c.is_published));
      }
      for (const query of [
        'search=secret',
        'search=unreleased',
        'search=hidden',
        `category=${data}`,
        'is_free=true',
        'instructor=ada_lovelace',
        'min_rating=5',
        'max_price=5',
      ]) {
        const page = await all(query, grace);
        assert.ok(
          page.results.every((c) => !draftIds.includes(c.id)),
          query,
        );
        assert.equal(page.count, page.results.length, query);
      }
      assert.equal((await all('search=secret')).count, 0);
    });

    it('a category’s courses_count counts published courses only', async () => {
      const res = await call(app, 'GET', `/api/categories/${data}/`);
      assert.equal(res.body.courses_count, 4);
      const listed = await call(app, 'GET', '/api/categories/');
      const counts = Object.fromEntries(listed.body.results.map((c: { id: number; courses_count: number }) => [c.id, c.courses_count]));
      assert.deepEqual([counts[data], counts[design]], [4, 2]);
    });

    it('the detail of a draft exists for its owner and admins only', async () => {
      const [adaDraft] = draftIds;
      for (const [user, status] of [
        [undefined, 404],
        [student, 404],
        [grace, 404],
        [ada, 200],
        [admin, 200],
      ] as const) {
        const res = await call(app, 'GET', `/api/courses/${adaDraft}/`, { token: user?.access });
        assert.equal(res.status, status, user?.user.username ?? 'anonymous');
        if (status === 404) assert.deepEqual(res.body, { detail: 'Not found.' });
      }
    });

    it('mine=true lists the caller’s own courses, drafts included, and nobody else’s', async () => {
      const mine = await all('mine=true', ada);
      assert.deepEqual(mine.results.map((c) => c.id).sort(), [published[0], published[1], published[5], draftIds[0]].sort());
      assert.equal(mine.count, 4);
      assert.equal((await all('mine=true&is_published=false', ada)).results.map((c) => c.id).join(), String(draftIds[0]));
      assert.equal((await all('mine=true&search=secret', ada)).count, 1, 'search reaches the owner’s drafts with mine');
      assert.equal((await all('mine=true', student)).count, 0);
      assert.equal((await all('mine=true')).count, 0, 'anonymous has nothing of their own');
    });

    it('is_published=false lists the drafts the caller may see: all for an admin, their own for an instructor, none for others', async () => {
      assert.deepEqual((await all('is_published=false', admin)).results.map((c) => c.id).sort(), [...draftIds].sort());
      assert.deepEqual(
        (await all('is_published=false', grace)).results.map((c) => c.id),
        [draftIds[1]],
      );
      assert.equal((await all('is_published=false', student)).count, 0);
      assert.equal((await all('is_published=false')).count, 0);
      assert.equal((await all('is_published=true', admin)).count, published.length);
      assert.deepEqual(
        (await all('is_published=false&search=python', admin)).results.map((c) => c.id),
        [draftIds[0]],
      );
    });
  });

  describe('search', () => {
    it('matches the start of words, case-insensitively', async () => {
      assert.deepEqual((await titles('?search=pyth')).sort(), ['Advanced Python', 'Logo design basics', 'Python for Everyone']);
      assert.deepEqual((await titles('?search=PYTHON')).length, 3);
      assert.deepEqual(await titles('?search=ython'), [], 'the middle of a word is not a match');
      assert.deepEqual(await titles('?search=cob'), ['COBOL Forever']);
    });

    it('requires every term to match', async () => {
      assert.deepEqual(await titles('?search=python%20adv'), ['Advanced Python']);
      assert.deepEqual(await titles('?search=pyth%20%20%20everyone'), ['Python for Everyone']);
      assert.deepEqual(await titles('?search=python%20cobol'), []);
    });

    it('matches the category name and the instructor username', async () => {
      assert.deepEqual((await titles('?search=graph')).sort(), ['Logo design basics', 'data visualisation']);
      assert.deepEqual((await titles('?search=scien%20pyth')).sort(), ['Advanced Python', 'Python for Everyone']);
      assert.deepEqual((await titles('?search=gracehop')).sort(), ['COBOL Forever', 'Logo design basics', 'data visualisation']);
      assert.deepEqual(
        (await titles('?search=ada')).sort(),
        ['Advanced Python', 'Node.js in Depth', 'Python for Everyone'],
        'ada_lovelace',
      );
      assert.deepEqual((await titles('?search=lovel')).sort(), ['Advanced Python', 'Node.js in Depth', 'Python for Everyone']);
    });

    it('splits words at punctuation the same way in the text and the query', async () => {
      assert.deepEqual(await titles('?search=node.js'), ['Node.js in Depth']);
      assert.deepEqual(await titles('?search=js'), ['Node.js in Depth']);
      assert.equal(
        (await list('?search=%2B%2B%2B')).count,
        published.length,
        'a term of punctuation alone has no word to match and is ignored',
      );
    });

    it('ranks a title hit above a description hit when no ordering is given', async () => {
      // "Logo design basics" mentions python in its description only, and is the newest of the three.
      const ranked = await titles('?search=python');
      assert.equal(ranked.at(-1), 'Logo design basics');
      const design = await titles('?search=design');
      assert.equal(design[0], 'Logo design basics', 'title hit before the category name hit of "data visualisation"');
      const ordered = await titles('?search=python&ordering=-created_at');
      assert.deepEqual(ordered, ['Logo design basics', 'Advanced Python', 'Python for Everyone'], 'an explicit ordering wins');
    });

    it('follows edits: a course retitled, a category renamed, a username changed', async (t) => {
      const instructor = await createInstructor(app);
      const category = await createCategory(app, { name: 'Woodwork' });
      const course = await createCourse(app, { instructor, title: 'Chairs', category_id: category.id });
      t.after(() =>
        app.database.db
          .deleteFrom('courses')
          .where('id', '=', course.id)
          .execute()
          .then(() => app.services.courses.catalogChanged()),
      );
      const found = async (term: string) => (await all(`search=${term}`)).results.some((c) => c.id === course.id);
      assert.ok(await found('chair'));
      await call(app, 'PATCH', `/api/courses/${course.id}/`, {
        token: instructor.access,
        body: { title: 'Tables', description: 'Joinery' },
      });
      assert.deepEqual([await found('chair'), await found('tabl'), await found('join')], [false, true, true]);
      await call(app, 'PATCH', `/api/categories/${category.id}/`, { token: admin.access, body: { name: 'Carpentry' } });
      assert.deepEqual([await found('woodw'), await found('carpen')], [false, true]);
      await app.database.db.updateTable('users').set({ username: 'renamed_maker' }).where('id', '=', instructor.user.id).execute();
      // No endpoint renames users: the cached rankings hear of it as another instance's write would, by expiry; here, at once.
      app.services.courses.catalogChanged();
      assert.deepEqual([await found(instructor.user.username.slice(0, 8)), await found('renamed_mak')], [false, true]);
      await call(app, 'DELETE', `/api/courses/${course.id}/`, { token: admin.access });
      assert.equal(await found('tabl'), false);
    });
  });

  describe('filters', () => {
    it('category by slug, id or name ignoring case; an unknown one gives an empty page', async () => {
      for (const value of ['graphic-design', String(design), 'graphic%20design', 'GRAPHIC%20DESIGN']) {
        const page = await all(`category=${value}`);
        assert.equal(page.count, 2, value);
        assert.ok(
          page.results.every((c) => c.category.id === design),
          value,
        );
      }
      const unknown = await list('?category=knitting');
      assert.deepEqual(unknown, { count: 0, next: null, previous: null, results: [] });
      assert.equal((await call(app, 'GET', '/api/courses/?category=knitting&page=2')).status, 404);
    });

    it('instructor by id or username (any case)', async () => {
      for (const value of [String(grace.user.id), 'GraceHopper', 'gracehopper']) {
        const page = await all(`instructor=${value}`);
        assert.equal(page.count, 3, value);
        assert.ok(
          page.results.every((c) => c.instructor.id === grace.user.id),
          value,
        );
      }
      assert.equal((await all('instructor=nobody')).count, 0);
      assert.equal((await all('instructor=999999')).count, 0);
    });

    it('min_price and max_price are inclusive bounds', async () => {
      const between = await all('min_price=19.99&max_price=49.99');
      assert.deepEqual(between.results.map((c) => c.price).sort(), ['19.99', '19.99', '25.00', '49.99']);
      assert.ok((await all('min_price=20')).results.every((c) => Number(c.price) >= 20));
      assert.deepEqual(
        (await all('max_price=19.989')).results.map((c) => c.price),
        ['0.00'],
      );
      assert.equal((await all('min_price=100')).results.map((c) => c.price).join(), '100.00');
      assert.equal((await all('min_price=100.001')).count, 0);
    });

    it('is_free', async () => {
      assert.deepEqual(
        (await all('is_free=true')).results.map((c) => [c.price, c.is_free]),
        [['0.00', true]],
      );
      const paid = await all('is_free=false');
      assert.equal(paid.count, 5);
      assert.ok(paid.results.every((c) => !c.is_free && c.price !== '0.00'));
    });

    it('min_rating is inclusive and never matches a course without reviews', async () => {
      const rated = await all('min_rating=4.5');
      assert.deepEqual(rated.results.map((c) => c.average_rating).sort(), [4.5, 4.5, 5]);
      const any = await all('min_rating=0');
      assert.equal(any.count, 4);
      assert.ok(any.results.every((c) => c.average_rating !== null));
    });

    it('filters combine', async () => {
      const page = await all(`category=${data}&instructor=ada_lovelace&max_price=30&search=pyth`);
      assert.deepEqual(
        page.results.map((c) => c.title),
        ['Python for Everyone'],
      );
    });

    it('an invalid value is a 400 on that parameter', async () => {
      const cases: [string, string][] = [
        ['min_price=cheap', 'min_price'],
        ['max_price=1,5', 'max_price'],
        ['is_free=maybe', 'is_free'],
        ['min_rating=high', 'min_rating'],
        ['mine=perhaps', 'mine'],
        ['is_published=draft', 'is_published'],
        ['ordering=-popularity', 'ordering'],
        ['ordering=price,secret', 'ordering'],
      ];
      for (const [query, field] of cases) {
        const res = await call(app, 'GET', `/api/courses/?${query}`);
        assert.equal(res.status, 400, query);
        assert.deepEqual(Object.keys(res.body), [field], query);
      }
      const several = await call(app, 'GET', '/api/courses/?min_price=x&min_rating=y');
      assert.deepEqual(Object.keys(several.body).sort(), ['min_price', 'min_rating']);
      assert.equal((await call(app, 'GET', '/api/courses/?min_price=&is_free=&category=')).status, 200, 'empty values are not filters');
    });
  });

  describe('ordering', () => {
    const fields: [string, (c: Item) => number | string | null][] = [
      ['price', (c) => Number(c.price)],
      ['created_at', (c) => c.created_at],
      ['updated_at', (c) => c.updated_at],
      ['title', (c) => c.title.toLowerCase()],
      ['average_rating', (c) => c.average_rating],
      ['students_count', (c) => c.students_count],
      ['reviews_count', (c) => c.reviews_count],
    ];
    /** Ascending by the value (a missing rating lowest), ties by ascending id. */
    const compare = (value: (c: Item) => number | string | null, descending: boolean) => (a: Item, b: Item) => {
      const [x, y] = [value(a), value(b)];
      if (x !== y) {
        if (x === null) return descending ? 1 : -1;
        if (y === null) return descending ? -1 : 1;
        return (x < y ? -1 : 1) * (descending ? -1 : 1);
      }
      return a.id - b.id;
    };

    for (const [field, value] of fields) {
      for (const descending of [false, true]) {
        const ordering = `${descending ? '-' : ''}${field}`;
        it(`orders by ${ordering}, ties by ascending id`, async () => {
          const results = (await all(`ordering=${ordering}`)).results;
          assert.equal(results.length, published.length);
          assert.deepEqual(
            results.map((c) => c.id),
            [...results].sort(compare(value, descending)).map((c) => c.id),
          );
        });
      }
    }

    it('defaults to newest first', async () => {
      const results = (await all('')).results;
      assert.deepEqual(
        results.map((c) => c.id),
        [...published].reverse(),
      );
    });

    it('takes several fields at once', async () => {
      const results = (await all('ordering=price,-title')).results;
      assert.deepEqual(
        results.map((c) => c.title),
        ['Python for Everyone', 'Logo design basics', 'COBOL Forever', 'Node.js in Depth', 'Advanced Python', 'data visualisation'],
      );
      const byStudents = (await all('ordering=-students_count,average_rating')).results;
      assert.deepEqual(byStudents.map((c) => c.title).slice(0, 4), [
        'Python for Everyone',
        'data visualisation',
        'Logo design basics',
        'Advanced Python',
      ]);
    });
  });

  describe('pagination', () => {
    it('pages DRF-style with next and previous links', async () => {
      const first = await list('?page_size=4');
      assert.equal(first.count, 6);
      assert.equal(first.results.length, 4);
      assert.equal(first.previous, null);
      assert.ok(first.next);
      const next = new URL(first.next);
      assert.equal(next.pathname, '/api/courses/');
      assert.deepEqual([next.searchParams.get('page'), next.searchParams.get('page_size')], ['2', '4']);
      const second = await list(`?${next.searchParams.toString()}`);
      assert.equal(second.results.length, 2);
      assert.equal(second.next, null);
      assert.ok(second.previous);
      assert.equal(new URL(second.previous).searchParams.get('page'), null, 'the link to page 1 has no page parameter');
      const ids = [...first.results, ...second.results].map((c) => c.id);
      assert.equal(new Set(ids).size, 6, 'no course on two pages');
    });

    it('keeps the query in the links', async () => {
      const page = await list('?page_size=1&search=pyth&ordering=price');
      assert.equal(page.count, 3);
      const next = new URL(page.next ?? '');
      assert.equal(next.searchParams.get('search'), 'pyth');
      assert.equal(next.searchParams.get('ordering'), 'price');
    });

    it('a page past the end, page 0 or a word is 404 "Invalid page."', async () => {
      for (const page of ['3&page_size=3', '0', 'last', '-1']) {
        const res = await call(app, 'GET', `/api/courses/?page=${page}`);
        assert.equal(res.status, 404, page);
        assert.deepEqual(res.body, { detail: 'Invalid page.' });
      }
      assert.equal((await list('?page=2&page_size=3')).results.length, 3, 'the last full page exists');
    });

    it('an empty result is page 1 with count 0', async () => {
      assert.deepEqual(await list('?search=zzzzzz'), { count: 0, next: null, previous: null, results: [] });
    });
  });

  describe('cached counts and rankings', () => {
    it('a write through the API shows at once; a stale ranking never shows a draft', async (t) => {
      const course = await createCourse(app, { instructor: ada, title: 'Quokka husbandry', category_id: data });
      t.after(() =>
        app.database.db
          .deleteFrom('courses')
          .where('id', '=', course.id)
          .execute()
          .then(() => app.services.courses.catalogChanged()),
      );
      assert.deepEqual(
        (await list('?search=quokka')).results.map((c) => c.id),
        [course.id],
      );
      // Behind the service's back, as another instance would: the cached ranking still names the course...
      await app.database.db.updateTable('courses').set({ is_published: false }).where('id', '=', course.id).execute();
      const stale = await list('?search=quokka');
      assert.deepEqual(stale.results, [], '...but the items are read fresh and pass the policy again');
      app.services.courses.catalogChanged();
      assert.equal((await list('?search=quokka')).count, 0);
      await call(app, 'PATCH', `/api/courses/${course.id}/`, { token: ada.access, body: { is_published: true } });
      assert.equal((await list('?search=quokka')).count, 1, 'the owner publishing clears the cache');
      await call(app, 'PATCH', `/api/courses/${course.id}/`, { token: ada.access, body: { title: 'Wombat husbandry' } });
      assert.equal((await list('?search=quokka')).count, 0);
      await call(app, 'DELETE', `/api/courses/${course.id}/`, { token: ada.access });
      assert.equal((await list('?search=wombat')).count, 0);
    });
  });
});

/** More courses than a page can hold (505: past the page-size cap and the cached ranking window), in an app of its own. */
describe('course list: a catalog past the page-size cap', () => {
  let app: TestApp;
  let instructor: TestUser;
  const { list } = lister(() => app);

  before(async () => {
    app = await buildTestApp();
    instructor = await createInstructor(app);
    const category = await createCategory(app, { name: 'Capybara Studies' });
    const rows = Array.from({ length: 505 }, (_, i) => ({
      title: `Capybara ${i}`,
      description: '',
      price_cents: 100,
      category_id: category.id,
      instructor_id: instructor.user.id,
      thumbnail: null,
      is_published: true,
      average_rating: null,
      created_at: at(1 + (i % 3)),
      updated_at: at(1),
    }));
    for (let i = 0; i < rows.length; i += 100)
      await app.database.db
        .insertInto('courses')
        .values(rows.slice(i, i + 100))
        .execute();
    app.services.courses.catalogChanged();
  });
  after(() => app.close());

  it('pages 10 by default, caps page_size at 100, and falls back to 10 for an invalid one', async () => {
    const byDefault = await list('');
    assert.deepEqual([byDefault.count, byDefault.results.length], [505, 10]);
    for (const size of ['500', '101', '100', '1000000']) {
      const page = await list(`?page_size=${size}`);
      assert.deepEqual([page.count, page.results.length], [505, 100], `page_size=${size}`);
      assert.equal(new URL(page.next ?? '').searchParams.get('page'), '2', `page_size=${size}`);
    }
    const last = await list('?page_size=500&page=6');
    assert.equal(last.results.length, 5, 'six pages of at most 100: the cap holds for page numbers too');
    for (const size of ['abc', '0', '-5', '']) assert.equal((await list(`?page_size=${size}`)).results.length, 10, `page_size=${size}`);
    assert.equal((await list('?page_size=99')).results.length, 99);
  });

  it('pages inside and beyond the cached window of a ranked search follow one order', async () => {
    const pages = await Promise.all([49, 50, 51].map((n) => list(`?search=capybara&page=${n}`)));
    assert.ok(pages.every((p) => p.count === 505));
    const seen = pages.flatMap((p) => p.results);
    assert.equal(seen.length, 25);
    // Every title ranks the same, so the order within the rank is newest first by id.
    assert.deepEqual(
      seen.map((c) => c.id),
      [...seen].sort((a, b) => b.id - a.id).map((c) => c.id),
    );
    // Every match, listed in another order, then sorted newest first by id: the last five.
    const every = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => list(`?search=capybara&ordering=title&page_size=100&page=${n}`)));
    const last = every
      .flatMap((p) => p.results.map((c) => c.id))
      .sort((a, b) => b - a)
      .slice(-5);
    assert.deepEqual(
      pages[2]!.results.map((c) => c.id),
      last,
      'the page beyond the window is the ordered tail',
    );
  });
});

/** Query counts, on an app of its own with twenty courses. */
describe('course list: query count', () => {
  let app: TestApp;
  let ada: TestUser;
  let grace: TestUser;
  let design: number;
  let data: number;
  const { list } = lister(() => app);

  before(async () => {
    app = await buildTestApp();
    ada = await createUser(app, { role: 'instructor', username: 'ada_lovelace' });
    grace = await createUser(app, { role: 'instructor', username: 'GraceHopper' });
    design = (await createCategory(app, { name: 'Graphic Design' })).id;
    data = (await createCategory(app, { name: 'Data Science & AI' })).id;
    for (let i = 0; i < 4; i++)
      await createCourse(app, { instructor: ada, price_cents: 0, category_id: data, average_rating: 4, reviews_count: 1, rating_sum: 4 });
  });
  after(() => app.close());

  it('costs the same number of queries for a page of 2 and a page of 20 (no N+1)', async () => {
    for (let i = 0; i < 20; i++) await createCourse(app, { instructor: i % 2 ? ada : grace, category_id: i % 2 ? data : design });
    const executor = app.database.db.getExecutor();
    const original = executor.executeQuery.bind(executor);
    let queries = 0;
    executor.executeQuery = ((...args: Parameters<typeof original>) => {
      queries++;
      return original(...args);
    }) as typeof executor.executeQuery;
    const counted = async (query: string) => {
      app.services.courses.catalogChanged();
      queries = 0;
      const page = await list(query);
      return { queries, size: page.results.length };
    };
    try {
      for (const filter of [
        '',
        '&search=course',
        `&category=${data}&ordering=-price`,
        '&is_free=false&instructor=ada_lovelace',
        '&min_rating=0',
      ]) {
        const small = await counted(`?page_size=2${filter}`);
        const large = await counted(`?page_size=20${filter}`);
        assert.ok(large.size > small.size, filter);
        assert.equal(large.queries, small.queries, filter);
        assert.ok(large.queries <= 3, `${filter}: ${large.queries} queries`);
      }
    } finally {
      executor.executeQuery = original;
    }
  });
});
