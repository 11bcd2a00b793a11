/**
 * Request generators for fuzzing the API from its own OpenAPI document (fast-check), and the
 * contract's error-format check. The generators know nothing of any one route: what they send
 * comes from the operation's parameters and body schema, with valid values (ids from a seeded
 * world, enum choices, well-formed strings) mixed with hostile ones.
 */
import fc from 'fast-check';

// ----------------------------------------------------------------------- the document

type Schema = Record<string, unknown>;

export interface OpenApiDocument {
  paths: Record<string, Record<string, Schema>>;
  components?: { schemas?: Record<string, Schema> };
}

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  schema: Schema;
}

export interface Operation {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  parameters: Parameter[];
  /** The JSON body's schema, $refs resolved; undefined when the operation takes no body. */
  body?: Schema;
  /** True when the operation is open to anonymous callers. */
  public: boolean;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** Every operation of the document (method × path), in the document's order. */
export function operationsOf(doc: OpenApiDocument): Operation[] {
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const content = (op.requestBody as { content?: Record<string, { schema: Schema }> } | undefined)?.content;
      const json = content?.['application/json']?.schema;
      const security = (op.security ?? []) as Record<string, unknown>[];
      operations.push({
        method: method.toUpperCase() as Operation['method'],
        path,
        parameters: ((op.parameters ?? []) as Parameter[]).map((p) => ({ ...p, schema: resolve(doc, p.schema ?? {}) })),
        ...(json ? { body: resolve(doc, json) } : {}),
        public: security.some((s) => Object.keys(s).length === 0),
      });
    }
  }
  return operations;
}

/** The schema with every $ref replaced by its target and single-branch allOf merged in (depth-bounded). */
export function resolve(doc: OpenApiDocument, schema: Schema, depth = 0): Schema {
  if (depth > 12) return {};
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.split('/').pop() ?? '';
    return resolve(doc, doc.components?.schemas?.[name] ?? {}, depth + 1);
  }
  const out: Schema = { ...schema };
  if (Array.isArray(schema.allOf)) {
    delete out.allOf;
    for (const part of schema.allOf as Schema[]) Object.assign(out, resolve(doc, part, depth + 1));
  }
  for (const key of ['anyOf', 'oneOf'] as const) {
    if (Array.isArray(schema[key])) out[key] = (schema[key] as Schema[]).map((s) => resolve(doc, s, depth + 1));
  }
  if (schema.items && typeof schema.items === 'object') out.items = resolve(doc, schema.items as Schema, depth + 1);
  if (schema.properties && typeof schema.properties === 'object') {
    out.properties = Object.fromEntries(
      Object.entries(schema.properties as Record<string, Schema>).map(([k, v]) => [k, resolve(doc, v, depth + 1)]),
    );
  }
  return out;
}

// ---------------------------------------------------------------------- the seeded world

/** Ids and codes that exist in the seeded world, by what they name. */
export interface Pools {
  users: number[];
  categories: number[];
  courses: number[];
  lessons: number[];
  sections: number[];
  reviews: number[];
  webhooks: number[];
  deliveries: number[];
  certificates: string[];
}

/** Which pool a path parameter draws from, by the collection its path names. */
function poolFor(path: string, param: string, pools: Pools): (number | string)[] {
  if (param === 'code') return pools.certificates;
  if (param === 'delivery_id') return pools.deliveries;
  if (param === 'course_id') return pools.courses;
  const collection = path.split('/{')[0]!.split('/').pop() ?? '';
  const byName: Record<string, (number | string)[]> = {
    users: pools.users,
    categories: pools.categories,
    courses: pools.courses,
    lessons: pools.lessons,
    sections: pools.sections,
    reviews: pools.reviews,
    webhooks: pools.webhooks,
  };
  return byName[collection] ?? allIds(pools);
}

const allIds = (pools: Pools) => [...pools.courses, ...pools.lessons, ...pools.users, ...pools.reviews, ...pools.sections];

// ---------------------------------------------------------------------- hostile values

const DEPTH = 1000;
const deepArray = (): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < DEPTH; i++) v = [v];
  return v;
};
const deepObject = (): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < DEPTH; i++) v = { a: v };
  return v;
};

/** Strings that have broken parsers, databases and case folding before. */
export const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\u0001\u0008\u001b\u007f',
  '\r\n',
  '\uFEFF',
  '\uD800',
  '\u202E',
  'Ä',
  'ä',
  'ÄNNE@example.com',
  'İ',
  'ı',
  'ﬀ',
  'ß',
  'Ⅷ'.repeat(31),
  'x'.repeat(10_001),
  'é'.repeat(5_001),
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  '1e21',
  '-0',
  'NaN',
  'Infinity',
  '-1',
  '0',
  '0x1',
  '1e0',
  ' 1',
  '1.5',
  '99999999999999999999',
  '9007199254740993',
  "'; drop table users; --",
  '%00',
  '../../../etc/passwd',
  '<script>alert(1)</script>',
  'true',
  'null',
  '[]',
  '{}',
  'a@b',
  '2026-02-30',
  '9999-12-31T23:59:59Z',
];

export const HOSTILE_NUMBERS: readonly number[] = [
  0,
  -0,
  -1,
  1.5,
  1e21,
  -1e21,
  2 ** 31,
  2 ** 53 + 2,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  1e-7,
];

/** Any JSON value that is likely wrong where it is sent. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  // Names every object inherits: a lookup that is not an own-property check finds them.
  { weight: 2, arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', '-constructor') },
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_NUMBERS) },
  {
    weight: 2,
    arbitrary: fc.constantFrom<unknown>(null, true, false, [], [1, 'a'], {}, Object.fromEntries([['__proto__', { is_admin: true }]]), {
      constructor: { prototype: { role: 'admin' } },
    }),
  },
  { weight: 1, arbitrary: fc.constantFrom(0, 1).map((n) => (n ? deepArray() : deepObject())) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.double() },
);

/** Path-parameter text (before encoding) that is not a good id. */
const HOSTILE_PATH_VALUES = [
  '0',
  '-1',
  '1e0',
  '0x1',
  '01',
  '1.0',
  ' 1',
  '99999999999999999999',
  '2147483648',
  'abc',
  '\u0000',
  'İ',
  '__proto__',
  'constructor',
  'x'.repeat(300),
];

// ---------------------------------------------------------------------- valid values

const isoDate = fc.date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }).map((d) => d.toISOString());

/** A value the schema accepts (mostly), with ids taken from the seeded world. */
export function validValue(schema: Schema, name: string, pools: Pools, depth = 0): fc.Arbitrary<unknown> {
  if (depth > 4) return fc.constant(null);
  if (Array.isArray(schema.anyOf) || Array.isArray(schema.oneOf)) {
    const branches = ((schema.anyOf ?? schema.oneOf) as Schema[]).map((s) => validValue(s, name, pools, depth + 1));
    return fc.oneof(...branches);
  }
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  if ('const' in schema) return fc.constant(schema.const);
  if (schema['x-decimal-id'] === true) {
    const ids =
      name === 'category' ? pools.categories : name === 'course' ? pools.courses : name === 'section' ? pools.sections : allIds(pools);
    return ids.length ? fc.constantFrom(...ids) : fc.integer({ min: 1, max: 50 });
  }
  const type = Array.isArray(schema.type) ? (schema.type as string[])[0] : schema.type;
  switch (type) {
    case 'integer': {
      const min = typeof schema.minimum === 'number' ? schema.minimum : 0;
      const max = typeof schema.maximum === 'number' ? Math.min(schema.maximum, min + 50) : min + 50;
      return fc.integer({ min, max });
    }
    case 'number':
      return fc.double({ min: 0, max: 1000, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const items = (schema.items ?? {}) as Schema;
      const min = typeof schema.minItems === 'number' ? schema.minItems : 0;
      return fc.array(validValue(items, name, pools, depth + 1), { minLength: min, maxLength: Math.max(min, 3) });
    }
    case 'object':
      return validObject(schema, pools, depth + 1);
    case 'string':
    default:
      return validString(schema, name, pools);
  }
}

function validString(schema: Schema, name: string, pools: Pools): fc.Arbitrary<unknown> {
  if (schema.format === 'binary') return fc.constant(null);
  const words = fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ]{0,18}[a-z]$/);
  switch (name) {
    case 'email':
      return fc.stringMatching(/^[a-z]{3,10}$/).map((s) => `${s}@example.com`);
    case 'username':
      return fc.stringMatching(/^[a-z][a-z0-9_]{3,12}$/);
    case 'password':
    case 'old_password':
    case 'new_password':
    case 'current_password':
      return fc.constantFrom('correct-horse-battery', 'Another-Strong-Passphrase-42');
    case 'url':
      return fc.constantFrom('https://example.com/hook', 'http://127.0.0.1:9/x', 'ftp://example.com/');
    case 'price':
    case 'min_price':
    case 'max_price':
      return fc.constantFrom('0', '9.99', '49.99', '100');
    case 'min_rating':
      return fc.constantFrom('1', '3.5', '5');
    case 'role':
      return fc.constantFrom('student', 'instructor', 'admin');
    case 'from':
    case 'to':
      return isoDate;
    case 'events':
      return fc.constantFrom('*', 'enrollment.created', 'lesson.completed');
    case 'refresh':
    case 'token':
      return fc.constant('x.y.z');
    case 'ordering':
      return fc
        .array(fc.constantFrom('id', 'title', 'created_at', 'price', 'rating', 'username', 'date_joined', 'average_rating'), {
          minLength: 1,
          maxLength: 3,
        })
        .chain((fields) => fc.tuple(...fields.map((f) => fc.constantFrom(f, `-${f}`))).map((fs) => fs.join(',')));
    case 'category':
    case 'instructor':
    case 'course':
    case 'student':
    case 'actor':
    case 'target_id': {
      const ids = allIds(pools);
      return ids.length ? fc.constantFrom(...ids).map(String) : words;
    }
    default:
      return words;
  }
}

function validObject(schema: Schema, pools: Pools, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const required = new Set((schema.required ?? []) as string[]);
  const keys = Object.keys(properties);
  if (keys.length === 0) return fc.constant({});
  const entries = keys.map((key) => fc.tuple(fc.constant(key), fc.boolean(), fc.nat(9), validValue(properties[key]!, key, pools, depth)));
  return fc.tuple(fc.tuple(...entries), hostileFocus(keys)).map(([picked, focus]) => {
    const fields = picked
      // Required fields are sent nine times in ten, optional ones half the time.
      .filter(([key, keepOptional, dice]) => (required.has(key) ? dice !== 0 : keepOptional))
      .map(([key, , , value]): [string, unknown] => [key, value]);
    if (focus) fields.push(focus);
    // fromEntries defines own properties, so a `__proto__` key is sent as a key.
    return Object.fromEntries(fields);
  });
}

/**
 * Half the time, one of the names with a hostile value, the rest of the request left valid:
 * a hostile value next to other bad ones is often refused before it reaches anything.
 */
const hostileFocus = (names: string[]): fc.Arbitrary<[string, unknown] | null> =>
  fc.option(fc.tuple(fc.constantFrom(...names), hostileValue), { freq: 1 });

// ---------------------------------------------------------------------- whole requests

export interface FuzzRequest {
  method: Operation['method'];
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
  /** What the generator meant to send, for diagnostics. */
  note: string;
}

/** Host headers: the usual, a foreign host, IPv6 literals, and malformed ones. */
const HOSTS = [
  'localhost',
  'localhost:3000',
  'api.example.com',
  'evil.example',
  '[::1]',
  '[::1]:8080',
  '[fe80::1%25eth0]',
  '[',
  'a b',
  'x:99999',
  ':80',
  '',
  'ÄÖ.example',
  'a'.repeat(300),
  'localhost, evil.example',
];

const ACCEPTS = ['*/*', 'application/json', 'text/html', 'application/xml', 'application/json;q=0, text/plain'];
const TOKENS = [
  'Bearer',
  'Bearer ',
  'Bearer x.y.z',
  'Basic Zm9vOmJhcg==',
  `Bearer ${'a'.repeat(5000)}`,
  'Bearer eyJhbGciOiJub25lIn0.eyJ1c2VyX2lkIjoxfQ.',
];

const headerArb: fc.Arbitrary<Record<string, string>> = fc.record(
  {
    host: fc.constantFrom(...HOSTS),
    accept: fc.constantFrom(...ACCEPTS),
    'x-forwarded-for': fc.constantFrom('10.0.0.1', '::1', 'garbage', '1.2.3.4, 5.6.7.8', '[::1]:80'),
    'x-forwarded-host': fc.constantFrom('evil.example', '[', ''),
    'x-forwarded-proto': fc.constantFrom('https', 'gopher', ''),
    'if-none-match': fc.constantFrom('*', 'W/"x"', '"abc"', 'garbage'),
    'if-match': fc.constantFrom('*', '"abc"', 'garbage'),
    'x-request-id': fc.constantFrom('abc', 'x'.repeat(2000), 'ÄÖ', ''),
    'accept-language': fc.constantFrom('de-DE', 'tr', '*', 'x'.repeat(500)),
  },
  { requiredKeys: [] },
);

/** A query string from the operation's parameters, with unknown, repeated and badly encoded extras. */
function queryArb(op: Operation, pools: Pools): fc.Arbitrary<string> {
  const params = op.parameters.filter((p) => p.in === 'query');
  const declared = params.map((p) =>
    fc.option(fc.tuple(fc.constant(p.name), validValue(p.schema, p.name, pools).map(formString)), { freq: 2 }),
  );
  const extra = fc.constantFrom(
    '',
    '',
    '',
    '',
    '',
    '',
    'page=1&page=2',
    'ordering=constructor',
    'ordering=__proto__',
    'ordering=toString',
    '__proto__[x]=1',
    'page[]=1',
    'page=1e21',
    'page_size=1e21',
    'page=-0',
    'search=%',
    'search=%zz',
    'search=%C0%80',
    'category=%00',
    `search=${'a'.repeat(10_001)}`,
    'unknown=1',
  );
  const focus = params.length ? hostileFocus(params.map((p) => p.name)) : fc.constant(null);
  return fc.tuple(fc.tuple(...declared), focus, extra).map(([pairs, bad, raw]) => {
    const chosen = new Map(pairs.filter((p): p is [string, string] => p !== null));
    if (bad) chosen.set(bad[0], formString(bad[1]));
    const parts = [...chosen].map(([k, v]) => `${k}=${encode(v)}`);
    if (raw) parts.push(raw);
    return parts.length ? `?${parts.join('&')}` : '';
  });
}

function pathArb(op: Operation, pools: Pools): fc.Arbitrary<string> {
  const names = [...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
  const values = names.map((name) => {
    const pool = poolFor(op.path, name, pools).map(String);
    return fc.oneof(
      { weight: pool.length ? 8 : 0, arbitrary: pool.length ? fc.constantFrom(...pool).map(encode) : fc.constant('1') },
      { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_PATH_VALUES).map(encode) },
      { weight: 1, arbitrary: fc.constantFrom('%', '%E0%A4%A', '%C0%80', '%FF', '..', '%2F') },
    );
  });
  return fc.tuple(fc.tuple(...values), fc.nat(9)).map(([vals, dice]) => {
    let i = 0;
    const url = op.path.replace(/\{[^}]+\}/g, () => vals[i++]!);
    // The same path without its trailing slash is accepted too.
    return dice === 0 && url.endsWith('/') ? url.slice(0, -1) : url;
  });
}

/** encodeURIComponent, with lone surrogates (which it refuses) sent as U+FFFD as a client would. */
const encode = (text: string) => encodeURIComponent(text.replace(/[\uD800-\uDFFF]/gu, '\uFFFD'));

/** A form value is text: objects and arrays as JSON, the rest as String() gives them. */
function formString(value: unknown): string {
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

const PNG_1X1 = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

function multipartBody(fields: Record<string, unknown>, files: string[], dice: number): { payload: Buffer; type: string } {
  const boundary = `----fuzz${dice}`;
  const chunks: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${formString(value)}\r\n`));
  }
  for (const name of files) {
    const data = dice % 2 ? PNG_1X1 : Buffer.from('%PDF-not really\u0000\u00ff');
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="f\u0000../é.png"\r\nContent-Type: image/png\r\n\r\n`,
      ),
      data,
      Buffer.from('\r\n'),
    );
  }
  // One multipart body in four is cut short (no closing boundary).
  if (dice % 4 !== 3) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), type: `multipart/form-data; boundary=${boundary}` };
}

/** Bodies that are wrong as a whole, whatever the operation expects. */
const RAW_BODIES: readonly { type?: string; payload: string }[] = [
  { type: 'application/json', payload: '' },
  { type: 'application/json', payload: '{' },
  { type: 'application/json', payload: 'null' },
  { type: 'application/json', payload: '[]' },
  { type: 'application/json', payload: '[{}]' },
  { type: 'application/json', payload: '"text"' },
  { type: 'application/json', payload: '1e21' },
  { type: 'application/json', payload: 'NaN' },
  { type: 'application/json', payload: '{"__proto__": {"role": "admin"}, "constructor": {"prototype": {"x": 1}}}' },
  { type: 'application/json', payload: `${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}` },
  { type: 'application/json', payload: `${'{"a":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}` },
  { type: 'application/json', payload: '{"a": "\\u0000"}' },
  { type: 'application/json; charset=latin1', payload: '{}' },
  { type: 'text/plain', payload: 'hello' },
  { type: 'application/xml', payload: '<a/>' },
  { type: 'application/x-www-form-urlencoded', payload: '%zz=%' },
  { type: 'application/x-www-form-urlencoded', payload: '__proto__[role]=admin&a=1&a=2' },
  { type: 'multipart/form-data', payload: 'no boundary' },
  { type: 'multipart/form-data; boundary=x', payload: '--x\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n--x--\r\n' },
  { payload: '{"title": "no content type"}' },
];

const bodyArb = (op: Operation, pools: Pools): fc.Arbitrary<{ payload?: string | Buffer; type?: string; note: string }> => {
  const objectBody: fc.Arbitrary<Record<string, unknown>> = op.body
    ? fc.oneof(
        { weight: 8, arbitrary: validObject(op.body, pools, 0) },
        {
          weight: 1,
          arbitrary: fc
            .tuple(
              validObject(op.body, pools, 0),
              fc.constantFrom('__proto__', 'constructor', 'toString', 'role', 'is_staff', 'id'),
              hostileValue,
            )
            .map(([o, k, v]) => Object.fromEntries([...Object.entries(o), [k, v]])),
        },
      )
    : fc.constant({});
  const files = op.body
    ? Object.entries((op.body.properties ?? {}) as Record<string, Schema>)
        .filter(([, s]) => JSON.stringify(s).includes('"binary"'))
        .map(([k]) => k)
    : [];
  return fc.tuple(fc.nat(99), objectBody, fc.constantFrom(...RAW_BODIES), hostileValue).map(([dice, obj, raw, whole]) => {
    if (!op.body && dice < 70) return { note: 'no body' };
    if (dice < 55) return { payload: JSON.stringify(obj), type: 'application/json', note: 'json' };
    if (dice < 65) {
      const payload = new URLSearchParams(Object.entries(obj).map(([k, v]) => [k, formString(v)])).toString();
      return { payload, type: 'application/x-www-form-urlencoded', note: 'urlencoded' };
    }
    if (dice < 75) {
      const { payload, type } = multipartBody(obj, dice % 3 === 0 ? files : [], dice);
      return { payload, type, note: 'multipart' };
    }
    if (dice < 85) return { payload: JSON.stringify(whole) ?? 'null', type: 'application/json', note: 'json, whole body hostile' };
    return { payload: raw.payload, ...(raw.type ? { type: raw.type } : {}), note: 'raw' };
  });
};

/** The value once in `1 + nils` times, null otherwise. */
const rarely = <T>(arb: fc.Arbitrary<T>, nils: number): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: nils, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });

/**
 * One request for the operation: path, query, headers and body, each valid or hostile. An
 * `authorization` header in it replaces the caller's token.
 */
export function requestArb(op: Operation, pools: Pools): fc.Arbitrary<FuzzRequest> {
  return fc
    .tuple(
      pathArb(op, pools),
      queryArb(op, pools),
      // (fc.option's freq weighs the value against one nil.)
      rarely(headerArb, 2),
      // One request in ten replaces the caller's token with a bad one.
      rarely(fc.constantFrom(...TOKENS), 9),
      bodyArb(op, pools),
    )
    .map(([path, query, headers, token, body]) => ({
      method: op.method,
      url: `${path}${query}`,
      headers: {
        ...(headers ?? {}),
        ...(token === null ? {} : { authorization: token }),
        ...(body.type ? { 'content-type': body.type } : {}),
      },
      ...(body.payload === undefined ? {} : { payload: body.payload }),
      note: body.note,
    }));
}

// ---------------------------------------------------------------------- the contract

/** DRF's field map: every value a list of messages, or (nested serializers) a map of the same. */
function isFieldMap(value: unknown, depth = 0): boolean {
  if (depth > 5 || typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const entries = Object.entries(value);
  return (
    entries.length > 0 &&
    entries.every(([, v]) =>
      Array.isArray(v) ? v.length > 0 && v.every((m) => typeof m === 'string' && m.length > 0) : isFieldMap(v, depth + 1),
    )
  );
}

/** `{detail}`, SimpleJWT's `{detail, code, messages}` for tokens, or a field map. */
export function isContractError(body: unknown): boolean {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const record = body as Record<string, unknown>;
  if ('detail' in record) {
    return (
      typeof record.detail === 'string' &&
      record.detail.length > 0 &&
      Object.keys(record).every((k) => k === 'detail' || k === 'code' || k === 'messages') &&
      (record.code === undefined || typeof record.code === 'string') &&
      (record.messages === undefined || Array.isArray(record.messages))
    );
  }
  return isFieldMap(record);
}

/** What is wrong with the response under the contract, or null. */
export function contractProblem(res: { statusCode: number; headers: Record<string, unknown>; body: string }): string | null {
  if (res.statusCode >= 500) return `status ${res.statusCode}`;
  if (!res.headers['x-request-id']) return `no X-Request-Id on ${res.statusCode}`;
  if (res.statusCode < 400) return null;
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    return `${res.statusCode} body is not JSON`;
  }
  if (!isContractError(body)) return `${res.statusCode} body not in the error format`;
  if (res.statusCode === 401 && !res.headers['www-authenticate']) return '401 without WWW-Authenticate';
  return null;
}
