import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { networkInterfaces } from 'node:os';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { buildTestApp } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { createInstructor, createCourse } from '../helpers/factories.js';

/**
 * Swagger UI at /api/docs/ in a real headless Chromium (Debian's package, driven by
 * playwright-core; never a downloaded browser): on localhost and on a plain-HTTP address that
 * is not localhost, it loads every asset, lists the endpoints, authorizes with a token and
 * runs "Try it out" with the token sent; a page from another allowed origin PATCHes and
 * DELETEs through CORS.
 */
const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium); browser test skipped`;

/** An address of this machine that is not loopback (plain HTTP there is not a secure context), else 127.0.0.2. */
function otherAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) if (entry.family === 'IPv4' && !entry.internal) return entry.address;
  }
  return '127.0.0.2';
}

describe('the docs page and CORS in headless Chromium', { skip }, () => {
  let app: TestApp;
  let browser: Browser;
  let front: Server;
  let port: number;
  let frontOrigin: string;
  const host = otherAddress();

  before(async () => {
    // The "front end": another origin, allowed by CORS_ORIGINS, serving one empty page.
    front = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>front</title>'));
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    const address = front.address();
    assert.ok(address && typeof address === 'object');
    frontOrigin = `http://127.0.0.1:${address.port}`;
    app = await buildTestApp({ CORS_ORIGINS: frontOrigin, ALLOWED_HOSTS: `localhost,127.0.0.1,${host}` });
    await app.listen({ port: 0, host: '0.0.0.0' });
    const listening = app.server.address();
    assert.ok(listening && typeof listening === 'object');
    port = listening.port;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  });
  after(async () => {
    await browser?.close();
    await app?.close();
    await new Promise((resolve) => front?.close(resolve));
  });

  async function openDocs(origin: string): Promise<{ page: Page; failed: string[] }> {
    const page = await browser.newPage();
    const failed: string[] = [];
    page.on('requestfailed', (request) => failed.push(`${request.url()} ${request.failure()?.errorText ?? ''}`));
    page.on('response', (response) => {
      if (response.status() >= 400) failed.push(`${response.url()} ${response.status()}`);
    });
    await page.goto(`${origin}/api/docs/`);
    await page.waitForSelector('.opblock', { timeout: 20_000 });
    return { page, failed };
  }

  for (const where of ['localhost', 'a non-localhost plain-HTTP address'] as const) {
    it(`loads on ${where} with every asset, and lists the endpoints`, async () => {
      const origin = where === 'localhost' ? `http://localhost:${port}` : `http://${host}:${port}`;
      const { page, failed } = await openDocs(origin);
      try {
        const operations = await page.locator('.opblock').count();
        assert.ok(operations >= 40, `${operations} operations listed`);
        assert.ok(await page.locator('.opblock-summary-path[data-path="/api/courses/{id}/"]').first().isVisible());
        assert.deepEqual(failed, []);
      } finally {
        await page.close();
      }
    });
  }

  it('authorizes with a token and runs "Try it out" on a public endpoint with it (?mine=true)', async () => {
    const teacher = await createInstructor(app);
    const other = await createInstructor(app);
    await createCourse(app, { instructor: teacher, title: 'Published one' });
    await createCourse(app, { instructor: teacher, title: 'A draft', is_published: false });
    await createCourse(app, { instructor: other, title: 'Someone else' });

    const { page, failed } = await openDocs(`http://${host}:${port}`);
    try {
      await page.click('button.authorize');
      await page.fill('.modal-ux input[type="text"], .modal-ux input:not([type])', teacher.access);
      await page.click('.modal-ux button.authorize');
      await page.click('.modal-ux button.btn-done');

      const operation = page.locator('#operations-courses-courses_list');
      await operation.locator('.opblock-summary').click();
      await operation.locator('button.try-out__btn').click();
      await operation.locator('tr[data-param-name="mine"] select').selectOption('true');
      const answered = page.waitForResponse(
        (response) => response.url().includes('/api/courses/?') && response.request().method() === 'GET',
      );
      await operation.locator('button.execute').click();
      const response = await answered;
      assert.equal(response.status(), 200);
      assert.equal(await response.request().headerValue('authorization'), `Bearer ${teacher.access}`);
      const body = (await response.json()) as { count: number; results: { title: string }[] };
      assert.equal(body.count, 2);
      assert.deepEqual(body.results.map((c) => c.title).sort(), ['A draft', 'Published one']);
      assert.deepEqual(failed, []);
    } finally {
      await page.close();
    }
  });

  it('lets a page from another allowed origin PATCH and DELETE through CORS', async () => {
    const teacher = await createInstructor(app);
    const course = await createCourse(app, { instructor: teacher, title: 'Before' });
    const page = await browser.newPage();
    try {
      await page.goto(frontOrigin);
      const result = await page.evaluate(
        async ({ api, token, id }) => {
          const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
          const patch = await fetch(`${api}/api/courses/${id}/`, { method: 'PATCH', headers, body: JSON.stringify({ title: 'After' }) });
          const patched = (await patch.json()) as { title: string };
          const requestId = patch.headers.get('x-request-id');
          const del = await fetch(`${api}/api/courses/${id}/`, { method: 'DELETE', headers: { authorization: headers.authorization } });
          const gone = await fetch(`${api}/api/courses/${id}/`);
          return {
            patch: patch.status,
            title: patched.title,
            requestId,
            del: del.status,
            gone: gone.status,
            code: gone.headers.get('x-error-code'),
          };
        },
        { api: `http://127.0.0.1:${port}`, token: teacher.access, id: course.id },
      );
      assert.deepEqual(
        { ...result, requestId: typeof result.requestId },
        { patch: 200, title: 'After', requestId: 'string', del: 204, gone: 404, code: 'not_found' },
      );
    } finally {
      await page.close();
    }
  });
});
