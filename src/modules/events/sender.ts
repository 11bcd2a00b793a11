import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { AddressRefused, checkedAddresses } from './addresses.js';
import type { Resolver } from './addresses.js';

/** One Standard Webhooks message: the event id (webhook-id), the send time and the exact body. */
export interface Message {
  id: string;
  timestamp: number;
  body: string;
}

/** `v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` under the secret's bytes (after `whsec_`). */
export function sign(secret: string, message: Message): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  const mac = createHmac('sha256', key).update(`${message.id}.${message.timestamp}.${message.body}`).digest('base64');
  return `v1,${mac}`;
}

export interface SenderOptions {
  resolve: Resolver;
  allowPrivate: boolean;
  timeoutMs: number;
}

/** What an attempt came to: a status code (any), or an error before one arrived. */
export type Outcome = { statusCode: number } | { error: string };

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * Sends webhook POSTs. Connections go only to addresses checked after resolution: the
 * agents' `lookup` resolves the name and refuses a non-public address (unless allowed),
 * and the socket connects to exactly the address that was checked — a name that resolved
 * to a public address at registration and to 127.0.0.1 now (DNS rebinding) is refused
 * here. An IP literal in the URL is checked before the request (Node does not call
 * `lookup` for one). Redirects are not followed (node:http never does): a 3xx is a failure.
 * The whole attempt, body included, is bounded by the timeout.
 */
export function createSender(options: SenderOptions) {
  const lookup = (hostname: string, opts: { all?: boolean }, callback: LookupCallback): void => {
    checkedAddresses(hostname, options.resolve, options.allowPrivate).then(
      (addresses) => {
        if (opts.all) callback(null, addresses);
        else callback(null, addresses[0]?.address ?? '', addresses[0]?.family ?? 4);
      },
      (error: unknown) => callback(error as NodeJS.ErrnoException, '', 0),
    );
  };
  const agentOptions = { keepAlive: true, maxSockets: 16, lookup: lookup as unknown as http.AgentOptions['lookup'] };
  const agents = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };

  async function post(rawUrl: string, secret: string, message: Message, signal: AbortSignal): Promise<Outcome> {
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      return { error: 'invalid URL' };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return { error: 'refused: the URL must use http or https' };
    const bare = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(bare) !== 0) {
      try {
        await checkedAddresses(bare, options.resolve, options.allowPrivate);
      } catch (error) {
        return { error: `refused: ${(error as Error).message}` };
      }
    }
    const client = url.protocol === 'https:' ? https : http;
    return new Promise<Outcome>((resolve) => {
      let settled = false;
      const done = (outcome: Outcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      const request = client.request(url, {
        method: 'POST',
        agent: url.protocol === 'https:' ? agents.https : agents.http,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(message.body),
          'user-agent': 'learning-platform-webhooks/1',
          'webhook-id': message.id,
          'webhook-timestamp': String(message.timestamp),
          'webhook-signature': sign(secret, message),
        },
      });
      const timer = setTimeout(() => {
        request.destroy();
        done({ error: `timeout after ${options.timeoutMs} ms` });
      }, options.timeoutMs);
      const onAbort = () => {
        request.destroy();
        done({ error: 'aborted' });
      };
      signal.addEventListener('abort', onAbort);
      request.on('response', (response) => {
        // Read (and drop) the body so the connection can be reused; the answer is its status.
        let read = 0;
        response.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > 64 * 1024) response.destroy();
        });
        response.on('end', () => done({ statusCode: response.statusCode ?? 0 }));
        response.on('close', () => done({ statusCode: response.statusCode ?? 0 }));
        response.on('error', () => done({ statusCode: response.statusCode ?? 0 }));
      });
      request.on('error', (error: Error) => {
        done({ error: error instanceof AddressRefused ? `refused: ${error.message}` : error.message || 'connection error' });
      });
      request.end(message.body);
    });
  }

  return {
    post,
    close(): void {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}
export type Sender = ReturnType<typeof createSender>;
