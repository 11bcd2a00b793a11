import { createWriteStream } from 'node:fs';
import { mkdir, opendir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomUUID } from 'node:crypto';
import { send } from '@fastify/send';
import { assertKey, isValidKey } from './index.js';
import type { ListedObject, Storage } from './index.js';

const PARTIAL = /\.[0-9a-f-]{36}\.partial$/;

/** Files under MEDIA_ROOT, written to a temporary name and renamed into place when complete. */
export function createLocalStorage(root: string): Storage {
  const resolve = (key: string) => {
    assertKey(key);
    return path.join(root, key);
  };
  return {
    async put(key, body) {
      const file = resolve(key);
      await mkdir(path.dirname(file), { recursive: true });
      const partial = `${file}.${randomUUID()}.partial`;
      const out = createWriteStream(partial, { flags: 'wx', mode: 0o644 });
      try {
        await pipeline(Buffer.isBuffer(body) ? Readable.from([body]) : body, out);
        await rename(partial, file);
        return out.bytesWritten;
      } catch (error) {
        await rm(partial, { force: true });
        throw error;
      }
    },
    async delete(key) {
      await rm(resolve(key), { force: true });
    },
    async stat(key) {
      try {
        const info = await stat(resolve(key));
        return info.isFile() ? { size: info.size, modified: info.mtime } : null;
      } catch {
        return null;
      }
    },
    async *list(folder) {
      assertKey(`${folder}/x.x`);
      yield* walk(root, folder);
    },
    async remove(listed) {
      if (listed.partial ? !PARTIAL.test(listed.name) || !isValidKey(listed.name.replace(PARTIAL, '')) : !isValidKey(listed.name)) {
        throw new Error(`not a stored name: ${listed.name}`);
      }
      await rm(path.join(root, listed.name), { force: true });
    },
    async deliver(key, request) {
      assertKey(key);
      // send() reads only the method and headers of the request it is given.
      const result = await send(request as unknown as Parameters<typeof send>[0], key, {
        root,
        dotfiles: 'deny',
        index: false,
        extensions: false,
        cacheControl: false,
      });
      if (result.type === 'file') return { status: result.statusCode, headers: result.headers, body: result.stream };
      result.stream.destroy();
      if (result.type === 'directory' || result.statusCode === 404) return null;
      if (result.statusCode === 412 || result.statusCode === 416) {
        const range = result.headers['Content-Range'];
        const headers: Record<string, string> = range === undefined ? {} : { 'Content-Range': range };
        return { status: result.statusCode, headers, body: null };
      }
      throw result.type === 'error' ? result.metadata.error : new Error(`cannot deliver ${key}`);
    },
  };
}

/** Files under root/folder, depth first, named by their path from root with `/` between parts. */
async function* walk(root: string, folder: string): AsyncGenerator<ListedObject> {
  let dir;
  try {
    dir = await opendir(path.join(root, folder));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for await (const entry of dir) {
    const name = `${folder}/${entry.name}`;
    if (entry.isDirectory()) {
      yield* walk(root, name);
    } else if (entry.isFile()) {
      const info = await stat(path.join(root, name)).catch(() => null);
      if (info) yield { name, partial: PARTIAL.test(name), modified: info.mtime };
    }
  }
}
