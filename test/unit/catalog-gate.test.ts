import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createWorkGate } from '../../src/modules/courses/cache.js';
import { HttpError } from '../../src/shared/errors.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('the catalog work gate', () => {
  it('runs at most `concurrency` pieces at once, the rest in arrival order', async () => {
    const gate = createWorkGate({ concurrency: 2, maxWaiting: 10 });
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    const piece = (n: number) =>
      gate.run(async () => {
        active++;
        peak = Math.max(peak, active);
        await tick();
        order.push(n);
        active--;
        return n;
      });
    assert.deepEqual(await Promise.all([1, 2, 3, 4, 5, 6].map(piece)), [1, 2, 3, 4, 5, 6]);
    assert.equal(peak, 2);
    assert.deepEqual(order, [1, 2, 3, 4, 5, 6]);
  });

  it('lets other work run between two pieces (the slot is handed over on the next turn of the loop)', async () => {
    const gate = createWorkGate({ concurrency: 1, maxWaiting: 10 });
    const events: string[] = [];
    // Pieces that finish without yielding to I/O, as a synchronous SQLite statement does.
    const pieces = [1, 2, 3].map((n) =>
      gate.run(async () => {
        events.push(`piece ${n}`);
      }),
    );
    setImmediate(() => events.push('other'));
    await Promise.all(pieces);
    assert.ok(events.includes('other') && events.indexOf('other') < events.indexOf('piece 3'), events.join(', '));
  });

  it('refuses work past maxWaiting with a 503 catalog_busy, and keeps serving afterwards', async () => {
    const gate = createWorkGate({ concurrency: 1, maxWaiting: 2 });
    let open!: () => void;
    const blocker = gate.run(
      () =>
        new Promise<void>((resolve) => {
          open = resolve;
        }),
    );
    const queued = [gate.run(async () => 'a'), gate.run(async () => 'b')];
    await assert.rejects(
      gate.run(async () => 'c'),
      (error: unknown) =>
        error instanceof HttpError && error.statusCode === 503 && error.code === 'catalog_busy' && error.headers['retry-after'] === '1',
    );
    open();
    await blocker;
    assert.deepEqual(await Promise.all(queued), ['a', 'b']);
    assert.equal(await gate.run(async () => 'd'), 'd');
  });

  it('a failing piece frees its slot', async () => {
    const gate = createWorkGate({ concurrency: 1, maxWaiting: 2 });
    await assert.rejects(
      gate.run(async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(await gate.run(async () => 'next'), 'next');
  });
});
