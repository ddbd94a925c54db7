// saver.ts — AgentKVSaver: LangGraph's checkpointer on agentkv.
//
// Layout, under one sandbox and scope (task by default, so a graph's state
// expires like the rest of a task's state) and a key prefix ("langgraph"):
//
//   {prefix}/cp/{thread}/{ns}/{checkpoint_id}                one checkpoint
//   {prefix}/bl/{thread}/{ns}/{channel}/{version}           one channel value
//   {prefix}/wr/{thread}/{ns}/{checkpoint_id}/{task}/{idx}  one pending write
//
// each identifier encoded as one key segment by keys.ts. A checkpoint's value
// is JSON {"parent": id|null, "checkpoint": [type, base64], "metadata":
// [type, base64]}, the checkpoint without its channel_values: a channel's
// value is stored once per version, when put() is told that version is new
// (newVersions), and a read gathers the values of the versions the
// checkpoint names — so a long thread does not store every channel again at
// every step, which would count against the scope's quota. A channel value
// is JSON [type, base64]; a write is JSON {"task_id", "channel",
// "task_path", "value": [type, base64]} — the bytes are those of the saver's
// serde. A
// regular write (idx ≥ 0) is created with If-None-Match: * so a retried
// superstep never replaces the first write; the special writes (errors,
// interrupts: negative idx) replace, as LangGraph expects.
import type { RunnableConfig } from '@langchain/core/runnables';
import {
  BaseCheckpointSaver,
  TASKS,
  WRITES_IDX_MAP,
  compareWritesSortKeys,
  getCheckpointId,
  maxChannelVersion,
  writesSortKey,
  type ChannelVersions,
  type Checkpoint,
  type CheckpointListOptions,
  type CheckpointMetadata,
  type CheckpointPendingWrite,
  type CheckpointTuple,
  type PendingWrite,
  type SerializerProtocol,
} from '@langchain/langgraph-checkpoint';
import { Client, NotFound, PreconditionFailed, type ClientOptions, type Scope } from 'agentkv';

import { b64, key, seg, unb64, unseg } from './keys.js';

export interface AgentKVSaverOptions extends ClientOptions {
  /** A client to use instead of one built from url/token/sandbox. */
  client?: Client;
  /** The scope the checkpoints live in (default "task"). */
  scope?: Scope;
  /** The first key segment of every entry (default "langgraph"). */
  prefix?: string;
  /** TTL of every entry written (agentkv duration); default: the scope's. */
  ttl?: number | string;
  serde?: SerializerProtocol;
}

type Typed = [string, string];

interface StoredCheckpoint {
  parent: string | null;
  checkpoint: Typed;
  metadata: Typed;
}

interface StoredWrite {
  task_id: string;
  channel: string;
  task_path: string;
  value: Typed;
}

interface Where {
  thread: string;
  ns: string;
  id: string;
}


function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new Error(`AgentKVSaver: ${what} must be a string`);
  return v;
}

export class AgentKVSaver extends BaseCheckpointSaver {
  readonly client: Client;
  readonly scope: Scope;
  readonly prefix: string;
  readonly ttl: number | string | undefined;

  constructor(opts: AgentKVSaverOptions = {}) {
    super(opts.serde);
    this.client = opts.client ?? new Client(opts);
    this.scope = opts.scope ?? 'task';
    this.prefix = opts.prefix ?? 'langgraph';
    this.ttl = opts.ttl;
  }

  #cpKey(w: Where): string {
    return key(this.prefix, 'cp', seg(w.thread), seg(w.ns), seg(w.id));
  }

  #blKey(w: Where, channel: string, version: string | number): string {
    return key(this.prefix, 'bl', seg(w.thread), seg(w.ns), seg(channel), seg(String(version)));
  }

  #wrPrefix(w: Where): string {
    return `${key(this.prefix, 'wr', seg(w.thread), seg(w.ns), seg(w.id))}/`;
  }

  async #getJSON<T>(k: string): Promise<T | undefined> {
    try {
      return JSON.parse(await this.client.getText(this.scope, k)) as T;
    } catch (e) {
      if (e instanceof NotFound) return undefined;
      throw e;
    }
  }

  async #keys(prefix: string): Promise<string[]> {
    const out: string[] = [];
    for await (const m of this.client.list(this.scope, { prefix })) out.push(m.key);
    return out;
  }

  async #load(t: Typed): Promise<any> {
    return this.serde.loadsTyped(t[0], unb64(t[1]));
  }

  async #dump(v: unknown): Promise<Typed> {
    const [type, bytes] = await this.serde.dumpsTyped(v);
    return [type, b64(bytes)];
  }

  /** The writes stored for one checkpoint, in writesSortKey order. */
  async #writes(w: Where): Promise<StoredWrite[]> {
    const p = this.#wrPrefix(w);
    const keys = await this.#keys(p);
    const rows = await Promise.all(keys.map(async (k) => {
      const idx = Number(k.slice(k.lastIndexOf('/') + 1));
      const sw = await this.#getJSON<StoredWrite>(k);
      return sw === undefined ? undefined : { sk: writesSortKey(sw.task_path, sw.task_id, idx), sw };
    }));
    const present = rows.filter((r) => r !== undefined);
    present.sort((a, b) => compareWritesSortKeys(a.sk, b.sk));
    return present.map((r) => r.sw);
  }

  async #tuple(w: Where, stored: StoredCheckpoint): Promise<CheckpointTuple> {
    const checkpoint = (await this.#load(stored.checkpoint)) as Checkpoint;
    checkpoint.channel_values = {};
    await Promise.all(Object.entries(checkpoint.channel_versions ?? {}).map(async ([ch, v]) => {
      const blob = await this.#getJSON<Typed>(this.#blKey(w, ch, v));
      if (blob !== undefined) checkpoint.channel_values[ch] = await this.#load(blob);
    }));
    if (checkpoint.v < 4 && stored.parent !== null) {
      // Checkpoints of format < 4 kept pending sends as writes to TASKS on
      // their parent; newer ones hold them in channel_values.
      const sends = (await this.#writes({ ...w, id: stored.parent })).filter((x) => x.channel === TASKS);
      checkpoint.channel_values ??= {};
      checkpoint.channel_values[TASKS] = await Promise.all(sends.map((x) => this.#load(x.value)));
      checkpoint.channel_versions ??= {};
      const versions = Object.values(checkpoint.channel_versions);
      checkpoint.channel_versions[TASKS] = versions.length > 0 ? maxChannelVersion(...versions) : this.getNextVersion(undefined);
    }
    const writes = await this.#writes(w);
    const pendingWrites: CheckpointPendingWrite[] = await Promise.all(
      writes.map(async (x): Promise<CheckpointPendingWrite> => [x.task_id, x.channel, await this.#load(x.value)]));
    const t: CheckpointTuple = {
      config: { configurable: { thread_id: w.thread, checkpoint_ns: w.ns, checkpoint_id: w.id } },
      checkpoint,
      metadata: (await this.#load(stored.metadata)) as CheckpointMetadata,
      pendingWrites,
    };
    if (stored.parent !== null) {
      t.parentConfig = { configurable: { thread_id: w.thread, checkpoint_ns: w.ns, checkpoint_id: stored.parent } };
    }
    return t;
  }

  /** The checkpoint keys under a prefix, newest checkpoint id first. */
  async #checkpoints(prefix: string): Promise<Where[]> {
    const out: Where[] = [];
    for (const k of await this.#keys(prefix)) {
      const parts = k.split('/');
      const [thread, ns, id] = parts.slice(-3).map(unseg) as [string, string, string];
      out.push({ thread, ns, id });
    }
    out.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    return out;
  }

  async getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    if (config.configurable?.thread_id === undefined) return undefined;
    const thread = str(config.configurable.thread_id, 'thread_id');
    const ns = str(config.configurable?.checkpoint_ns ?? '', 'checkpoint_ns');
    let id = getCheckpointId(config);
    if (!id) {
      const latest = (await this.#checkpoints(`${key(this.prefix, 'cp', seg(thread), seg(ns))}/`))[0];
      if (latest === undefined) return undefined;
      id = latest.id;
    }
    const w = { thread, ns, id };
    const stored = await this.#getJSON<StoredCheckpoint>(this.#cpKey(w));
    return stored === undefined ? undefined : this.#tuple(w, stored);
  }

  async *list(config: RunnableConfig, options: CheckpointListOptions = {}): AsyncGenerator<CheckpointTuple> {
    const { before, filter } = options;
    let limit = options.limit;
    const c = config.configurable ?? {};
    let prefix = `${key(this.prefix, 'cp')}/`;
    if (c.thread_id !== undefined) {
      prefix += `${seg(str(c.thread_id, 'thread_id'))}/`;
      if (c.checkpoint_ns !== undefined) prefix += `${seg(str(c.checkpoint_ns, 'checkpoint_ns'))}/`;
    }
    const beforeId: unknown = before?.configurable?.checkpoint_id;
    for (const w of await this.#checkpoints(prefix)) {
      if (c.checkpoint_ns !== undefined && w.ns !== c.checkpoint_ns) continue;
      if (c.checkpoint_id && w.id !== c.checkpoint_id) continue;
      if (typeof beforeId === 'string' && w.id >= beforeId) continue;
      if (limit !== undefined && limit <= 0) return;
      const stored = await this.#getJSON<StoredCheckpoint>(this.#cpKey(w));
      if (stored === undefined) continue; // deleted or expired since the listing
      if (filter) {
        const md = (await this.#load(stored.metadata)) as Record<string, unknown>;
        if (!Object.entries(filter).every(([k, v]) => md[k] === v)) continue;
      }
      if (limit !== undefined) limit--;
      yield await this.#tuple(w, stored);
    }
  }

  async put(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata,
    newVersions: ChannelVersions): Promise<RunnableConfig> {
    const c = config.configurable ?? {};
    if (c.thread_id === undefined) throw new Error('AgentKVSaver.put: config.configurable.thread_id is required');
    const w = { thread: str(c.thread_id, 'thread_id'), ns: str(c.checkpoint_ns ?? '', 'checkpoint_ns'), id: checkpoint.id };
    const parent: unknown = c.checkpoint_id;
    const values: Record<string, unknown> = checkpoint.channel_values ?? {};
    // The values first: a checkpoint is never visible before what it names.
    await Promise.all(Object.entries(newVersions).map(async ([ch, v]) => {
      if (!(ch in values)) return;
      await this.client.put(this.scope, this.#blKey(w, ch, v), JSON.stringify(await this.#dump(values[ch])),
        { contentType: 'application/json', ttl: this.ttl });
    }));
    const stored: StoredCheckpoint = {
      parent: typeof parent === 'string' && parent !== '' ? parent : null,
      checkpoint: await this.#dump({ ...checkpoint, channel_values: {} }),
      metadata: await this.#dump(metadata),
    };
    await this.client.put(this.scope, this.#cpKey(w), JSON.stringify(stored),
      { contentType: 'application/json', ttl: this.ttl });
    return { configurable: { thread_id: w.thread, checkpoint_ns: w.ns, checkpoint_id: w.id } };
  }

  async putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string, taskPath?: string): Promise<void> {
    const c = config.configurable ?? {};
    if (c.thread_id === undefined) throw new Error('AgentKVSaver.putWrites: config.configurable.thread_id is required');
    if (c.checkpoint_id === undefined) throw new Error('AgentKVSaver.putWrites: config.configurable.checkpoint_id is required');
    const w = { thread: str(c.thread_id, 'thread_id'), ns: str(c.checkpoint_ns ?? '', 'checkpoint_ns'),
      id: str(c.checkpoint_id, 'checkpoint_id') };
    const p = this.#wrPrefix(w);
    await Promise.all(writes.map(async ([channel, value], i) => {
      const idx = WRITES_IDX_MAP[channel] ?? i;
      const sw: StoredWrite = { task_id: taskId, channel, task_path: taskPath ?? '', value: await this.#dump(value) };
      try {
        await this.client.put(this.scope, `${p}${seg(taskId)}/${idx}`, JSON.stringify(sw),
          { contentType: 'application/json', ttl: this.ttl, create: idx >= 0 });
      } catch (e) {
        if (!(e instanceof PreconditionFailed)) throw e; // an earlier write of this task stays
      }
    }));
  }

  async deleteThread(threadId: string): Promise<void> {
    const t = seg(str(threadId, 'thread_id'));
    const keys: string[] = [];
    for (const kind of ['cp', 'bl', 'wr']) keys.push(...await this.#keys(`${key(this.prefix, kind, t)}/`));
    for (let i = 0; i < keys.length; i += 16) {
      await Promise.all(keys.slice(i, i + 16).map(async (k) => {
        try {
          await this.client.delete(this.scope, k);
        } catch (e) {
          if (!(e instanceof NotFound)) throw e;
        }
      }));
    }
  }
}
