import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildTestApp } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import type { TestUser } from '../helpers/factories.js';
import { createStudent, createCourse } from '../helpers/factories.js';
import { mp4Header, samples, mediaFiles } from '../helpers/media.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Uploads cut off over a real connection: the client sends part of a multipart body and
 * then destroys its socket. Whatever had reached the disk must go, and no lesson appears.
 */
describe('an aborted upload over HTTP', () => {
  let app: TestApp;
  let owner: TestUser;
  let courseId: number;
  let port: number;

  before(async () => {
    app = await buildTestApp();
    const course = await createCourse(app, { is_published: true });
    owner = course.owner;
    courseId = course.id;
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  });
  after(() => app.close());

  const lessonCount = async () =>
    (await app.database.db.selectFrom('lessons').select('id').where('course_id', '=', courseId).execute()).length;

  /**
   * Opens a multipart POST that promises `declared` bytes, returns the request to write into,
   * and the server's side of it (for waiting on what the server has read, never for reading it).
   */
  function openUpload(boundary: string, declared: number) {
    const serverSide = new Promise<{ req: http.IncomingMessage; res: http.ServerResponse }>((resolve) =>
      app.server.once('request', (req: http.IncomingMessage, res: http.ServerResponse) => resolve({ req, res })),
    );
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/api/lessons/',
      headers: {
        ...owner.headers,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(declared),
      },
    });
    const outcome = new Promise<string>((resolve) => {
      req.on('response', (res) => resolve(`response ${res.statusCode ?? 0}`));
      req.on('error', (error) => resolve(`error ${error.message}`));
      req.on('close', () => resolve('closed'));
    });
    /** Resolves once the server's socket has read every byte written so far. */
    const serverHasRead = async () => {
      const { req: incoming } = await serverSide;
      assert.ok(await waitFor(() => incoming.socket.bytesRead >= (req.socket?.bytesWritten ?? Infinity)), 'the server read what was sent');
    };
    /** Resolves once the server is done with the response (sent, or closed with the connection). */
    const serverClosed = async () => {
      const { res } = await serverSide;
      if (!res.closed) await new Promise((resolve) => res.once('close', resolve));
    };
    return { req, outcome, serverHasRead, serverClosed };
  }

  const fieldPart = (boundary: string, name: string, value: string) =>
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
  const fileHead = (boundary: string, name: string, filename: string) =>
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    );

  const write = (req: http.ClientRequest, data: Buffer) => new Promise<void>((resolve) => req.write(data, () => resolve()));

  it('leaves no file and no row when cut off while the video streams to disk', async () => {
    const boundary = 'abortboundary1';
    const { req, outcome } = openUpload(boundary, 64 * 1024 * 1024);
    await write(
      req,
      Buffer.concat([
        fieldPart(boundary, 'course', String(courseId)),
        fieldPart(boundary, 'title', 'Cut off'),
        fileHead(boundary, 'video', 'v.mp4'),
        mp4Header(),
      ]),
    );
    const filler = Buffer.alloc(64 * 1024, 0x61);
    for (let i = 0; i < 16; i++) await write(req, filler);
    // The server has begun writing the file before the client goes away.
    assert.ok(await waitFor(() => mediaFiles(app.mediaRoot).some((f) => f.endsWith('.partial'))), 'a partial file appears');
    req.destroy();
    await outcome;
    assert.ok(await waitFor(() => mediaFiles(app.mediaRoot).length === 0), `left behind: ${mediaFiles(app.mediaRoot).join(', ')}`);
    assert.equal(await lessonCount(), 0);
  });

  it('leaves no file and no row when cut off before the content could be judged', async () => {
    const boundary = 'abortboundary2';
    const { req, outcome, serverHasRead, serverClosed } = openUpload(boundary, 1024 * 1024);
    await write(
      req,
      Buffer.concat([
        fieldPart(boundary, 'course', String(courseId)),
        fieldPart(boundary, 'title', 'Cut early'),
        fileHead(boundary, 'video', 'v.mp4'),
        mp4Header().subarray(0, 10),
      ]),
    );
    await serverHasRead();
    req.destroy();
    await outcome;
    await serverClosed();
    assert.deepEqual(mediaFiles(app.mediaRoot), []);
    assert.equal(await lessonCount(), 0);
  });

  it('removes a complete earlier file when the body is cut off in a later one', async () => {
    const boundary = 'abortboundary3';
    const { req, outcome } = openUpload(boundary, 8 * 1024 * 1024);
    await write(
      req,
      Buffer.concat([
        fieldPart(boundary, 'course', String(courseId)),
        fieldPart(boundary, 'title', 'Cut in the second file'),
        fileHead(boundary, 'video', 'v.mp4'),
        samples.mp4(),
        Buffer.from('\r\n'),
        fileHead(boundary, 'attachment', 'a.pdf'),
        samples.pdf(),
      ]),
    );
    assert.ok(
      await waitFor(() => mediaFiles(app.mediaRoot).some((f) => f.startsWith('videos/') && !f.endsWith('.partial'))),
      'the video was stored',
    );
    req.destroy();
    await outcome;
    assert.ok(await waitFor(() => mediaFiles(app.mediaRoot).length === 0), `left behind: ${mediaFiles(app.mediaRoot).join(', ')}`);
    assert.equal(await lessonCount(), 0);
  });

  it('recognises a video whose first bytes arrive on their own', async () => {
    const boundary = 'slowboundary';
    const video = samples.mp4();
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const head = Buffer.concat([
      fieldPart(boundary, 'course', String(courseId)),
      fieldPart(boundary, 'title', 'Trickled'),
      fileHead(boundary, 'video', 'v.mp4'),
    ]);
    const { req, serverHasRead } = openUpload(boundary, head.length + video.length + tail.length);
    const response = new Promise<number>((resolve) =>
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }),
    );
    // Each piece is read by the server before the next is sent, so the first bytes arrive on their own.
    await write(req, Buffer.concat([head, video.subarray(0, 3)]));
    await serverHasRead();
    await write(req, video.subarray(3, 11));
    await serverHasRead();
    req.end(Buffer.concat([video.subarray(11), tail]));
    assert.equal(await response, 201);
    const [lesson] = await app.database.db.selectFrom('lessons').selectAll().where('title', '=', 'Trickled').execute();
    assert.match(lesson?.video ?? '', /^videos\/.+\.mp4$/);
    await app.inject({ method: 'DELETE', url: `/api/lessons/${lesson?.id}/`, headers: owner.headers });
  });

  it('answers a refused large upload without reading it into memory, on a connection that stays usable', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const boundary = 'refusedboundary';
    const body = Buffer.concat([
      fieldPart(boundary, 'course', String(courseId)),
      fieldPart(boundary, 'title', 'PNG as video'),
      fileHead(boundary, 'video', 'v.mp4'),
      await samples.png(),
      Buffer.alloc(4 * 1024 * 1024, 0x62),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const send = (options: http.RequestOptions, payload?: Buffer) =>
      new Promise<{ status: number; socket: unknown }>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, agent, ...options }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, socket: req.socket }));
        });
        req.on('error', reject);
        req.end(payload);
      });
    const refused = await send(
      {
        method: 'POST',
        path: '/api/lessons/',
        headers: { ...owner.headers, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(body.length) },
      },
      body,
    );
    assert.equal(refused.status, 400);
    const next = await send({ method: 'GET', path: '/health' });
    assert.equal(next.status, 200);
    assert.equal(next.socket, refused.socket, 'the same connection served the next request');
    agent.destroy();
    assert.deepEqual(mediaFiles(app.mediaRoot), []);
    assert.equal(await lessonCount(), 0);
  });

  it('refuses a caller who may not write lessons before reading their upload', { timeout: 5000 }, async () => {
    const student = await createStudent(app);
    const boundary = 'studentboundary';
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/api/lessons/',
      headers: {
        ...student.headers,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(512 * 1024 * 1024),
      },
    });
    const status = new Promise<number>((resolve, reject) => {
      req.on('response', (res) => resolve(res.statusCode ?? 0));
      req.on('error', reject);
    });
    await write(
      req,
      Buffer.concat([
        fieldPart(boundary, 'course', String(courseId)),
        fileHead(boundary, 'video', 'v.mp4'),
        mp4Header(),
        Buffer.alloc(256 * 1024),
      ]),
    );
    // The body is far from complete: only a refusal before reading it can arrive now.
    assert.equal(await status, 403);
    req.destroy();
    assert.deepEqual(mediaFiles(app.mediaRoot), []);
  });

  it('still serves requests afterwards', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(res.status, 200);
  });
});
