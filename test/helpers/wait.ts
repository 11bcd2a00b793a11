import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls until check() holds or the deadline passes; returns whether it held. Tests wait on a
 * condition this way rather than for a fixed time, so they are neither flaky nor slow.
 */
export async function waitFor(check: () => boolean | Promise<boolean>, { timeoutMs = 3000, intervalMs = 10 } = {}): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(intervalMs);
  }
  return check();
}

/** Waits until the clock has moved past the given instant (whole milliseconds), so the next timestamp differs. */
export async function untilClockPasses(instant: number = Date.now()): Promise<void> {
  await waitFor(() => Date.now() > instant, { timeoutMs: 1000, intervalMs: 1 });
}
