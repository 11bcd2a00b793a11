import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CertificateFacts } from './pdf.js';

/**
 * Renders certificate PDFs on one worker thread, so the API's event loop stays free while
 * they render (tens to hundreds of ms of CPU each on a loaded machine; the PDF endpoint is
 * public). One thread: a flood of PDFs queues there and takes at most one core, whatever
 * the number of clients; every other request goes on. The thread starts at the first PDF,
 * does not keep the process alive, and a new one replaces it if it dies (the renders it
 * held fail, as a 500).
 */
export interface PdfRenderer {
  render: (facts: CertificateFacts) => Promise<Buffer>;
  close: () => Promise<void>;
}

/** The thread's module beside this one: .js when built, .ts when run from source (tsx: tests, `npm run dev`). */
const fromSource = extname(fileURLToPath(import.meta.url)) === '.ts';
const threadUrl = new URL(`./pdf-thread${fromSource ? '.ts' : '.js'}`, import.meta.url);

/**
 * Node 20 does not pass `--import tsx` on to worker threads, so from source the thread
 * registers tsx itself before loading its TypeScript module.
 */
function startThread(): Worker {
  if (!fromSource) return new Worker(threadUrl);
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(threadUrl.href)}); });`;
  return new Worker(bootstrap, { eval: true });
}

type Reply = { id: number; pdf: Uint8Array } | { id: number; error: string };

export function createPdfRenderer(): PdfRenderer {
  let worker: Worker | undefined;
  let nextId = 0;
  const pending = new Map<number, { resolve: (pdf: Buffer) => void; reject: (error: Error) => void }>();

  const failAll = (error: Error) => {
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };

  function thread(): Worker {
    if (worker) return worker;
    const started = startThread();
    started.unref();
    started.on('message', (reply: Reply) => {
      const waiter = pending.get(reply.id);
      if (!waiter) return;
      pending.delete(reply.id);
      if ('error' in reply) waiter.reject(new Error(`certificate render failed: ${reply.error}`));
      else waiter.resolve(Buffer.from(reply.pdf.buffer, reply.pdf.byteOffset, reply.pdf.byteLength));
    });
    const gone = (error: Error) => {
      if (worker !== started) return;
      worker = undefined;
      failAll(error);
    };
    started.on('error', gone);
    started.on('exit', (code) => gone(new Error(`the certificate render thread exited (${code})`)));
    worker = started;
    return started;
  }

  return {
    render(facts) {
      return new Promise<Buffer>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        thread().postMessage({ id, facts });
      });
    },
    async close() {
      const closing = worker;
      worker = undefined;
      failAll(new Error('the certificate renderer is closed'));
      await closing?.terminate();
    },
  };
}
