/**
 * agentkv — TypeScript client of agentkv's REST API (SPEC.md §4, §9).
 *
 * Zero runtime dependencies: it speaks HTTP with the platform's `fetch`
 * (Node >= 18, browsers). Every failure is thrown as the class of its error
 * code (SPEC.md §2), all subclasses of AgentKVError. Keys and sandbox ids
 * are validated before anything is sent: `fetch` (the WHATWG URL parser)
 * normalises `..` segments, even percent-encoded, so `a/../b` would
 * otherwise address the key `b`. Calls safe to repeat (reads, unconditional
 * puts) are resent after a 503, with backoff.
 */

export const SCOPES = ['system', 'instructions', 'project', 'task', 'artifacts'] as const;
export type Scope = (typeof SCOPES)[number];

/** An entry's metadata (SPEC.md §1). */
export interface Meta {
  sandbox: string;
  origin: string;
  scope: Scope;
  key: string;
  size: number;
  content_type: string;
  sha256: string;
  version: number;
  created_at: string;
  updated_at: string;
  expires_at: string | null;
  metadata: Record<string, unknown>;
}

/** A value with what the server tells about it on a read. */
export interface Entry {
  value: Uint8Array;
  contentType: string;
  sha256: string;
  version: number;
  origin: string;
  expiresAt: string | null;
  metadata: Record<string, unknown>;
  text(): string;
}

export interface ErrorBody {
  code?: string;
  message?: string;
  scope?: Scope;
  used?: number;
  quota?: number;
  would_be?: number;
}

/** One command of Anthropic's memory tool (memory_20250818). */
export interface MemoryCommand {
  command: 'view' | 'create' | 'str_replace' | 'insert' | 'delete' | 'rename';
  path?: string;
  view_range?: [number, number];
  file_text?: string;
  old_str?: string;
  new_str?: string;
  insert_line?: number;
  insert_text?: string;
  old_path?: string;
  new_path?: string;
}

/** One scope's row of stats(). */
export interface ScopeStats {
  entries: number;
  bytes: number;
  quota: number;
  used_percent: number;
  expired: number;
  expired_bytes: number;
  hits: number;
  misses: number;
  default_ttl: number;
}

export class AgentKVError extends Error {
  readonly code: string = 'error';
  constructor(message: string, readonly status = 0, readonly body: ErrorBody = {}) {
    super(message);
    this.name = new.target.name;
  }
}
export class InvalidArgument extends AgentKVError { override readonly code = 'invalid_argument'; }
export class Unauthorized extends AgentKVError { override readonly code = 'unauthorized'; }
export class Forbidden extends AgentKVError { override readonly code = 'forbidden'; }
export class NotFound extends AgentKVError { override readonly code = 'not_found'; }
export class PreconditionFailed extends AgentKVError { override readonly code = 'precondition_failed'; }
export class ValueTooLarge extends AgentKVError { override readonly code = 'value_too_large'; }
/** The write would take the scope over its quota; nothing changed. */
export class QuotaExceeded extends AgentKVError {
  override readonly code = 'quota_exceeded';
  get scope(): Scope | undefined { return this.body.scope; }
  get used(): number | undefined { return this.body.used; }
  get quota(): number | undefined { return this.body.quota; }
  get wouldBe(): number | undefined { return this.body.would_be; }
}
export class IntegrityError extends AgentKVError { override readonly code = 'integrity_error'; }
export class Unavailable extends AgentKVError { override readonly code = 'unavailable'; }
export class OutOfMemory extends AgentKVError { override readonly code = 'out_of_memory'; }
export class BufferTooSmall extends AgentKVError { override readonly code = 'buffer_too_small'; }

type ErrorClass = new (message: string, status?: number, body?: ErrorBody) => AgentKVError;
const ERRORS: Record<string, ErrorClass> = {
  invalid_argument: InvalidArgument, unauthorized: Unauthorized, forbidden: Forbidden,
  not_found: NotFound, precondition_failed: PreconditionFailed,
  value_too_large: ValueTooLarge, quota_exceeded: QuotaExceeded,
  integrity_error: IntegrityError, unavailable: Unavailable,
  out_of_memory: OutOfMemory, buffer_too_small: BufferTooSmall,
};
const BY_STATUS: Record<number, ErrorClass> = {
  400: InvalidArgument, 401: Unauthorized, 403: Forbidden, 404: NotFound,
  412: PreconditionFailed, 413: ValueTooLarge, 500: IntegrityError,
  503: Unavailable, 507: QuotaExceeded,
};

const utf8 = new TextEncoder();

/** Validates a key as SPEC.md §1 states; returns it path-encoded. */
export function checkKey(key: string): string {
  const n = utf8.encode(key).length;
  if (typeof key !== 'string' || n < 1 || n > 255) {
    throw new InvalidArgument('key must be 1 to 255 bytes of UTF-8');
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(key)) {
    throw new InvalidArgument('key must not hold control characters or backslash');
  }
  if (key.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new InvalidArgument(
      "key must not have an empty, '.' or '..' segment, nor a leading or trailing '/'");
  }
  return key.split('/').map(encodeURIComponent).join('/');
}

function checkSandbox(sb: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(sb)) {
    throw new InvalidArgument('sandbox must match [A-Za-z0-9_-]{1,64}');
  }
  return sb;
}

function checkScope(scope: string): Scope {
  if (!(SCOPES as readonly string[]).includes(scope)) {
    throw new InvalidArgument(`scope must be one of ${SCOPES.join(', ')}`);
  }
  return scope as Scope;
}

export interface ClientOptions {
  /** Default: $AGENTKV_URL on Node, else http://127.0.0.1:8420. */
  url?: string;
  /** Default: $AGENTKV_TOKEN on Node. */
  token?: string;
  sandbox?: string;
  /** Resends of a 503 for idempotent calls (default 3). */
  retries?: number;
  /** The fetch to use (default: globalThis.fetch). */
  fetch?: typeof fetch;
}

export interface PutOptions {
  ttl?: number | string;
  contentType?: string;
  metadata?: Record<string, unknown>;
  ifMatch?: string;
  create?: boolean;
  sandbox?: string;
}

export interface ListOptions {
  prefix?: string;
  pageSize?: number;
  includeExpired?: boolean;
  sandbox?: string;
}

interface Req {
  method: string;
  path: string;
  query?: Record<string, string | undefined>;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  retry?: boolean;
  ok?: number[];
}

function env(name: string): string | undefined {
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return p?.env?.[name] || undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function entryFrom(r: Response, value: Uint8Array): Entry {
  const md = r.headers.get('x-agentkv-metadata');
  const exp = r.headers.get('x-agentkv-expires-at');
  return {
    value,
    contentType: r.headers.get('content-type') ?? '',
    sha256: (r.headers.get('etag') ?? '').replace(/"/g, ''),
    version: Number(r.headers.get('x-agentkv-version') ?? 0),
    origin: r.headers.get('x-agentkv-origin') ?? '',
    expiresAt: exp === null || exp === 'never' ? null : exp,
    metadata: md ? (JSON.parse(md) as Record<string, unknown>) : {},
    text() { return new TextDecoder().decode(this.value); },
  };
}

/** A client of one agentkv server, for one sandbox by default. */
export class Client {
  readonly url: string;
  readonly sandbox: string;
  readonly retries: number;
  readonly #token: string | undefined;
  readonly #fetch: typeof fetch;

  constructor(opts: ClientOptions = {}) {
    this.url = (opts.url ?? env('AGENTKV_URL') ?? 'http://127.0.0.1:8420').replace(/\/+$/, '');
    this.#token = opts.token ?? env('AGENTKV_TOKEN');
    this.sandbox = checkSandbox(opts.sandbox ?? 'default');
    this.retries = opts.retries ?? 3;
    this.#fetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
  }

  #sb(sandbox?: string): string {
    return `/v1/sandboxes/${checkSandbox(sandbox ?? this.sandbox)}`;
  }

  #kv(scope: string, key: string, sandbox?: string): string {
    return `${this.#sb(sandbox)}/kv/${checkScope(scope)}/${checkKey(key)}`;
  }

  async #send(req: Req): Promise<Response> {
    const q = Object.entries(req.query ?? {}).filter(([, v]) => v !== undefined) as [string, string][];
    const url = this.url + req.path + (q.length ? `?${new URLSearchParams(q)}` : '');
    const headers: Record<string, string> = { ...(req.headers ?? {}) };
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    for (let attempt = 0; ; attempt++) {
      const r = await this.#fetch(url, { method: req.method, headers, body: (req.body ?? null) as BodyInit | null });
      if (r.status === 503 && req.retry && attempt < this.retries) {
        await r.arrayBuffer();
        const ra = Number(r.headers.get('retry-after'));
        await sleep(ra > 0 ? Math.min(ra, 5) * 1000 : Math.min(100 * 2 ** attempt, 2000));
        continue;
      }
      if (r.ok || (req.ok ?? []).includes(r.status)) return r;
      const text = await r.text();
      let body: { error?: ErrorBody } | undefined;
      try { body = JSON.parse(text) as { error?: ErrorBody }; } catch { body = undefined; }
      const err = body?.error;
      if (err && typeof err.code === 'string') {
        const cls = ERRORS[err.code] ?? AgentKVError;
        throw new cls(err.message ?? '', r.status, err);
      }
      const cls = BY_STATUS[r.status] ?? AgentKVError;
      throw new cls(text.slice(0, 200) || `HTTP ${r.status}`, r.status);
    }
  }

  async #json<T>(req: Req): Promise<T> {
    return (await (await this.#send(req)).json()) as T;
  }

  // ---- the REST API ----

  /** Writes a value; returns the new entry's metadata. */
  async put(scope: Scope, key: string, value: Uint8Array | string, o: PutOptions = {}): Promise<Meta> {
    const headers: Record<string, string> = {};
    let contentType = o.contentType;
    if (typeof value === 'string') contentType ??= 'text/plain; charset=utf-8';
    if (contentType) headers['content-type'] = contentType;
    if (o.metadata) headers['x-agentkv-metadata'] = JSON.stringify(o.metadata).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    if (o.ifMatch) headers['if-match'] = `"${o.ifMatch}"`;
    if (o.create) headers['if-none-match'] = '*';
    const ttl = o.ttl === undefined ? undefined : String(o.ttl);
    return this.#json<Meta>({
      method: 'PUT', path: this.#kv(scope, key, o.sandbox), query: { ttl }, headers,
      body: typeof value === 'string' ? utf8.encode(value) : value,
      retry: !o.ifMatch && !o.create,
    });
  }

  async get(scope: Scope, key: string, o: { sandbox?: string } = {}): Promise<Uint8Array> {
    return (await this.getEntry(scope, key, o)).value;
  }

  async getText(scope: Scope, key: string, o: { sandbox?: string } = {}): Promise<string> {
    return (await this.getEntry(scope, key, o)).text();
  }

  /** The value and its metadata; with `cached` (an Entry read before) the
   * read is conditional and an unchanged entry comes back as `cached`. */
  async getEntry(scope: Scope, key: string, o: { cached?: Entry; sandbox?: string } = {}): Promise<Entry> {
    const headers: Record<string, string> = o.cached ? { 'if-none-match': `"${o.cached.sha256}"` } : {};
    const r = await this.#send({ method: 'GET', path: this.#kv(scope, key, o.sandbox), headers, retry: true, ok: [304] });
    if (r.status === 304 && o.cached) return o.cached;
    return entryFrom(r, new Uint8Array(await r.arrayBuffer()));
  }

  async head(scope: Scope, key: string, o: { sandbox?: string } = {}): Promise<Entry> {
    const r = await this.#send({ method: 'HEAD', path: this.#kv(scope, key, o.sandbox), retry: true });
    return entryFrom(r, new Uint8Array());
  }

  async exists(scope: Scope, key: string, o: { sandbox?: string } = {}): Promise<boolean> {
    try {
      await this.head(scope, key, o);
      return true;
    } catch (e) {
      if (e instanceof AgentKVError && e.status === 404) return false;
      throw e;
    }
  }

  async delete(scope: Scope, key: string, o: { sandbox?: string } = {}): Promise<void> {
    await this.#send({ method: 'DELETE', path: this.#kv(scope, key, o.sandbox) });
  }

  /** Every entry of the scope in key order, following cursors. */
  async *list(scope: Scope, o: ListOptions = {}): AsyncGenerator<Meta> {
    let cursor: string | undefined;
    for (;;) {
      const page = await this.#json<{ items: Meta[]; next_cursor: string | null }>({
        method: 'GET', path: `${this.#sb(o.sandbox)}/kv/${checkScope(scope)}`, retry: true,
        query: {
          prefix: o.prefix || undefined, cursor,
          limit: o.pageSize ? String(o.pageSize) : undefined,
          include_expired: o.includeExpired ? 'true' : undefined,
        },
      });
      yield* page.items;
      if (!page.next_cursor) return;
      cursor = page.next_cursor;
    }
  }

  async clear(scope: Scope, o: { sandbox?: string } = {}): Promise<number> {
    return (await this.#json<{ deleted: number }>({
      method: 'DELETE', path: `${this.#sb(o.sandbox)}/kv/${checkScope(scope)}` })).deleted;
  }

  async stats(scope?: Scope, o: { sandbox?: string } = {}): Promise<Partial<Record<Scope, ScopeStats>>> {
    return this.#json({ method: 'GET', path: `${this.#sb(o.sandbox)}/stats`,
      query: { scope: scope && checkScope(scope) }, retry: true });
  }

  async prune(scope?: Scope, o: { sandbox?: string } = {}): Promise<Record<string, number>> {
    return (await this.#json<{ pruned: Record<string, number> }>({ method: 'POST',
      path: `${this.#sb(o.sandbox)}/prune`, query: { scope: scope && checkScope(scope) } })).pruned;
  }

  async instructions(o: { sandbox?: string } = {}): Promise<unknown> {
    return this.#json({ method: 'GET', path: `${this.#sb(o.sandbox)}/instructions`, retry: true });
  }

  async prompt(o: { mode?: 'inline' | 'hybrid' | 'reference'; inline?: string[]; budget?: number;
    baseKey?: string; sandbox?: string } = {}): Promise<string> {
    const r = await this.#send({ method: 'GET', path: `${this.#sb(o.sandbox)}/prompt`, retry: true,
      query: { mode: o.mode, inline: o.inline?.join(','),
        budget: o.budget === undefined ? undefined : String(o.budget), base_key: o.baseKey } });
    return r.text();
  }

  /** Reseeds _global from the server's instruction directory (admin token). */
  async seed(o: { force?: boolean; prune?: boolean } = {}): Promise<Record<string, unknown>> {
    return this.#json({ method: 'POST', path: '/v1/seed',
      query: { force: o.force ? 'true' : undefined, prune: o.prune ? 'true' : undefined } });
  }

  async sandboxes(): Promise<string[]> {
    return (await this.#json<{ sandboxes: string[] }>({ method: 'GET', path: '/v1/sandboxes', retry: true })).sandboxes;
  }

  /** Runs one command of Anthropic's memory tool (memory_20250818); the
   * result text, or the error of its code with the tool's text. */
  async memory(command: MemoryCommand, o: { scope?: Scope; sandbox?: string } = {}): Promise<string> {
    const r = await this.#send({ method: 'POST', path: `${this.#sb(o.sandbox)}/memory`,
      query: { scope: o.scope && checkScope(o.scope) },
      headers: { 'content-type': 'application/json' }, body: JSON.stringify(command) });
    return r.text();
  }

  /** Executes a `memory` tool_use block of an Anthropic Messages response
   * and returns the tool_result block to send back. */
  async memoryToolResult(toolUse: { id: string; input: unknown }, o: { scope?: Scope } = {}):
  Promise<{ type: 'tool_result'; tool_use_id: string; content: string; is_error: boolean }> {
    try {
      const content = await this.memory(toolUse.input as MemoryCommand, o);
      return { type: 'tool_result', tool_use_id: toolUse.id, content, is_error: false };
    } catch (e) {
      if (!(e instanceof AgentKVError)) throw e;
      return { type: 'tool_result', tool_use_id: toolUse.id, content: e.message, is_error: true };
    }
  }

  // ---- the agent-facing names of the MCP tools ----

  getInstruction(name: string): Promise<string> { return this.getText('instructions', name); }
  listInstructions(): Promise<unknown> { return this.instructions(); }
  putInstruction(name: string, content: string, description?: string): Promise<Meta> {
    return this.put('instructions', name, content, { contentType: 'text/markdown',
      metadata: description === undefined ? { source: 'client' } : { source: 'client', description } });
  }
  putArtifact(key: string, value: Uint8Array | string, o: Omit<PutOptions, 'ifMatch' | 'create'> = {}): Promise<Meta> {
    return this.put('artifacts', key, value, o);
  }
  getArtifact(key: string): Promise<Uint8Array> { return this.get('artifacts', key); }
  async listArtifacts(prefix?: string): Promise<Meta[]> {
    const out: Meta[] = [];
    for await (const m of this.list('artifacts', { prefix })) out.push(m);
    return out;
  }
  deleteArtifact(key: string): Promise<void> { return this.delete('artifacts', key); }
  putProjectSummary(summary: string): Promise<Meta> {
    return this.put('project', 'summary', summary, { contentType: 'text/markdown' });
  }
  getProjectSummary(): Promise<string> { return this.getText('project', 'summary'); }
  cacheStats(scope?: Scope): Promise<Partial<Record<Scope, ScopeStats>>> { return this.stats(scope); }
  pruneCache(scope?: Scope): Promise<Record<string, number>> { return this.prune(scope); }
}
