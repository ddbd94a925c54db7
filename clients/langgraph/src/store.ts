// store.ts — AgentKVStore: LangGraph's long-term memory store (BaseStore) on
// agentkv.
//
// An item of namespace [a, b] and key k is the entry {prefix}/{a}/{b}/{k} of
// one sandbox and scope (project by default: memory that outlives a task),
// each label and the key encoded as one key segment by keys.ts; so a
// namespace prefix is a key prefix and a search lists only its own subtree.
// The value is JSON {"value": {...}, "created_at": ISO, "updated_at": ISO}.
// A put reads the entry first and writes with If-Match (or If-None-Match: *
// for a new one), so created_at survives a concurrent writer, which is
// retried. Search filters (equality and $eq/$ne/$gt/$gte/$lt/$lte/$in/$nin on
// top-level fields of the value) are applied here, after the listing;
// semantic search (query) needs an embedding index agentkv does not have and
// is refused.
//
// TTL: every put gets the store's `ttl` (an agentkv duration), else the
// scope's default TTL. LangGraph.js's BaseStore has no per-call TTL; with
// `refreshOnRead` a get or search that returns an item writes it again
// unchanged (If-Match, so a concurrent update wins) to restart its TTL, which
// is LangGraph's "refresh_ttl" behaviour.
import {
  BaseStore,
  type GetOperation,
  type Item,
  type ListNamespacesOperation,
  type Operation,
  type OperationResults,
  type PutOperation,
  type SearchItem,
  type SearchOperation,
} from '@langchain/langgraph-checkpoint';
import { Client, NotFound, PreconditionFailed, type ClientOptions, type Scope } from 'agentkv';

import { seg, unseg } from './keys.js';

export interface AgentKVStoreOptions extends ClientOptions {
  /** A client to use instead of one built from url/token/sandbox. */
  client?: Client;
  /** The scope the items live in (default "project"). */
  scope?: Scope;
  /** The first key segment of every entry (default "store"). */
  prefix?: string;
  /** TTL of every put (agentkv duration: "7d", seconds); default: the scope's. */
  ttl?: number | string;
  /** Restart an item's TTL when a get or search returns it. */
  refreshOnRead?: boolean;
}

interface Stored {
  value: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

const OPS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin']);

function matches(v: unknown, cond: unknown): boolean {
  if (cond !== null && typeof cond === 'object' && !Array.isArray(cond) &&
      Object.keys(cond).length > 0 && Object.keys(cond).every((k) => OPS.has(k))) {
    return Object.entries(cond as Record<string, unknown>).every(([op, x]) => {
      switch (op) {
        case '$eq': return deepEqual(v, x);
        case '$ne': return !deepEqual(v, x);
        case '$gt': return Number(v) > Number(x);
        case '$gte': return Number(v) >= Number(x);
        case '$lt': return Number(v) < Number(x);
        case '$lte': return Number(v) <= Number(x);
        case '$in': return Array.isArray(x) && x.some((y) => deepEqual(v, y));
        default: return !Array.isArray(x) || !x.some((y) => deepEqual(v, y)); // $nin
      }
    });
  }
  return deepEqual(v, cond);
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function checkLabels(ns: string[], what: string): void {
  for (const l of ns) {
    if (typeof l !== 'string' || l === '') throw new Error(`AgentKVStore: ${what} labels must be non-empty strings`);
  }
}

export class AgentKVStore extends BaseStore {
  readonly client: Client;
  readonly scope: Scope;
  readonly prefix: string;
  readonly ttl: number | string | undefined;
  readonly refreshOnRead: boolean;

  constructor(opts: AgentKVStoreOptions = {}) {
    super();
    this.client = opts.client ?? new Client(opts);
    this.scope = opts.scope ?? 'project';
    this.prefix = opts.prefix ?? 'store';
    this.ttl = opts.ttl;
    this.refreshOnRead = opts.refreshOnRead ?? false;
  }

  #key(ns: string[], k: string): string {
    checkLabels(ns, 'namespace');
    return [this.prefix, ...ns.map(seg), seg(k)].join('/');
  }

  /** The namespace labels and item key of an entry's key. */
  #labels(key: string): string[] {
    return key.slice(this.prefix.length + 1).split('/').map(unseg);
  }

  /** The item at a key, with the sha256 it was read at. */
  async #read(ns: string[], k: string, key = this.#key(ns, k)): Promise<{ item: Item; sha: string; raw: Uint8Array } | null> {
    let e;
    try {
      e = await this.client.getEntry(this.scope, key);
    } catch (err) {
      if (err instanceof NotFound) return null;
      throw err;
    }
    const s = JSON.parse(e.text()) as Stored;
    return {
      item: { namespace: ns, key: k, value: s.value, createdAt: new Date(s.created_at), updatedAt: new Date(s.updated_at) },
      sha: e.sha256,
      raw: e.value,
    };
  }

  async #refresh(key: string, raw: Uint8Array, sha: string): Promise<void> {
    try {
      await this.client.put(this.scope, key, raw, { contentType: 'application/json', ttl: this.ttl, ifMatch: sha });
    } catch (e) {
      if (!(e instanceof PreconditionFailed || e instanceof NotFound)) throw e; // changed since: it has a new TTL
    }
  }

  async #get(op: GetOperation): Promise<Item | null> {
    const key = this.#key(op.namespace, op.key);
    const r = await this.#read(op.namespace, op.key, key);
    if (r && this.refreshOnRead) await this.#refresh(key, r.raw, r.sha);
    return r?.item ?? null;
  }

  async #put(op: PutOperation): Promise<void> {
    const key = this.#key(op.namespace, op.key);
    if (op.value === null) {
      try {
        await this.client.delete(this.scope, key);
      } catch (e) {
        if (!(e instanceof NotFound)) throw e;
      }
      return;
    }
    for (let attempt = 0; ; attempt++) {
      const old = await this.#read(op.namespace, op.key, key);
      const now = new Date().toISOString();
      const body: Stored = { value: op.value, created_at: old ? old.item.createdAt.toISOString() : now, updated_at: now };
      try {
        await this.client.put(this.scope, key, JSON.stringify(body), {
          contentType: 'application/json', ttl: this.ttl, ...(old ? { ifMatch: old.sha } : { create: true }),
        });
        return;
      } catch (e) {
        // Another writer got in between: read again, a few times.
        if (!(e instanceof PreconditionFailed) || attempt >= 7) throw e;
      }
    }
  }

  async #search(op: SearchOperation): Promise<SearchItem[]> {
    if (op.query) throw new Error('AgentKVStore: semantic search (query) needs an embedding index, which agentkv does not have');
    checkLabels(op.namespacePrefix, 'namespace prefix');
    const offset = op.offset ?? 0;
    const limit = op.limit ?? 10;
    const prefix = [this.prefix, ...op.namespacePrefix.map(seg)].join('/') + '/';
    const out: SearchItem[] = [];
    let skipped = 0;
    for await (const m of this.client.list(this.scope, { prefix })) {
      if (out.length >= limit) break;
      const parts = this.#labels(m.key);
      const k = parts.pop() as string;
      const r = await this.#read(parts, k, m.key);
      if (r === null) continue;
      if (op.filter && !Object.entries(op.filter).every(([f, c]) => matches(r.item.value[f], c))) continue;
      if (skipped < offset) {
        skipped++;
        continue;
      }
      if (this.refreshOnRead) await this.#refresh(m.key, r.raw, r.sha);
      out.push(r.item);
    }
    return out;
  }

  async #namespaces(op: ListNamespacesOperation): Promise<string[][]> {
    const seen = new Map<string, string[]>();
    for await (const m of this.client.list(this.scope, { prefix: `${this.prefix}/` })) {
      let ns = this.#labels(m.key).slice(0, -1);
      const ok = (op.matchConditions ?? []).every((c) => {
        if (c.path.length > ns.length) return false;
        const part = c.matchType === 'prefix' ? ns.slice(0, c.path.length) : ns.slice(ns.length - c.path.length);
        return c.path.every((p, i) => p === '*' || p === part[i]);
      });
      if (!ok) continue;
      if (op.maxDepth !== undefined) ns = ns.slice(0, op.maxDepth);
      seen.set(JSON.stringify(ns), ns);
    }
    const all = [...seen.values()].sort((a, b) => {
      const x = a.join('\u0000'), y = b.join('\u0000');
      return x < y ? -1 : x > y ? 1 : 0;
    });
    return all.slice(op.offset, op.offset + op.limit);
  }

  async batch<Op extends Operation[]>(operations: Op): Promise<OperationResults<Op>> {
    const results: unknown[] = [];
    // In order, one after the other: a get after a put of the same batch
    // sees the put.
    for (const op of operations as Operation[]) {
      if ('namespacePrefix' in op) results.push(await this.#search(op));
      else if ('value' in op) results.push(await this.#put(op));
      else if ('key' in op) results.push(await this.#get(op));
      else results.push(await this.#namespaces(op));
    }
    return results as OperationResults<Op>;
  }
}
