import { parentPort } from 'node:worker_threads';
import { renderCertificate } from './pdf.js';
import type { CertificateFacts } from './pdf.js';

/** The render thread's side (see renderer.ts): facts in, PDF bytes out, by request id. */
const port = parentPort;
if (!port) throw new Error('pdf-thread runs as a worker thread');
port.on('message', (message: { id: number; facts: CertificateFacts }) => {
  renderCertificate(message.facts).then(
    (pdf) => port.postMessage({ id: message.id, pdf }),
    (error: unknown) => port.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) }),
  );
});
