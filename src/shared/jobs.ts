/**
 * Housekeeping that runs on a schedule inside the server (pruning expired sessions, sweeping
 * files): each job runs once at start, then every `intervalMs`, never twice at once in one
 * process; a failure is logged and the next round tries again. Timers do not keep the process
 * alive, and `stop()` waits for a round in flight.
 */
export interface Job {
  name: string;
  intervalMs: number;
  run(): Promise<unknown>;
}

export interface Jobs {
  add(job: Job): void;
  /** Runs a job now (tests, the CLI), waiting for it. */
  runNow(name: string): Promise<void>;
  start(): void;
  stop(): Promise<void>;
}

export function createJobs(log: { error(obj: object, msg: string): void }): Jobs {
  const jobs = new Map<string, Job>();
  const timers: NodeJS.Timeout[] = [];
  const running = new Map<string, Promise<void>>();

  function runOnce(job: Job): Promise<void> {
    const current = running.get(job.name);
    if (current) return current;
    const round = job
      .run()
      .then(() => undefined)
      .catch((err: unknown) => log.error({ err, job: job.name }, 'scheduled job failed'))
      .finally(() => running.delete(job.name));
    running.set(job.name, round);
    return round;
  }

  return {
    add(job) {
      jobs.set(job.name, job);
    },
    async runNow(name) {
      const job = jobs.get(name);
      if (!job) throw new Error(`no job named ${name}`);
      await runOnce(job);
    },
    start() {
      for (const job of jobs.values()) {
        void runOnce(job);
        timers.push(setInterval(() => void runOnce(job), job.intervalMs).unref());
      }
    },
    async stop() {
      for (const timer of timers.splice(0)) clearInterval(timer);
      await Promise.all(running.values());
    },
  };
}
