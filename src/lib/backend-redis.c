/*
 * backend-redis.c — the scale-out backend: every agentkv process (servers
 * on several hosts, CLIs, MCP) keeps its entries in one Redis, through
 * hiredis. It implements the vtable of backend.h with the same semantics as
 * backend-lmdb.c; what store.c does for every backend (validation, SHA-256,
 * overlay, expiry filtering) is not repeated here.
 *
 * Key layout in the selected Redis database. A namespace (one sandbox's one
 * scope) is tagged {S:SANDBOX}, S the scope digit '0'..'4'; sandbox ids are
 * [A-Za-z0-9_-] only, so the tag cannot be broken. Every key of a namespace
 * carries the tag, so a Redis Cluster (or a proxy in front of one) keeps a
 * namespace in one hash slot and a script over one namespace is legal there.
 *
 *   akv:{S:SB}:v   hash    key → record (the encoding of record.c, the same
 *                          bytes as in LMDB: header, content type, metadata,
 *                          value; SHA-256 inside)
 *   akv:{S:SB}:o   zset    key, score 0: the keys in byte order, for listing
 *                          with a prefix and a cursor (ZRANGEBYLEX)
 *   akv:{S:SB}:x   zset    key → expires_at (ms): the records that expire,
 *                          for prune and for the quota's expired bytes
 *   akv:{S:SB}:u   hash    bytes, entries, acct: the namespace's stored
 *                          bytes (akv_rec_usage: key plus record) and entry
 *                          count, expired-but-not-collected and damaged
 *                          records included (as "usage" in LMDB); acct "2"
 *                          says they are counted that way (a hash without
 *                          it counted value bytes only, and is recounted)
 *   akv:{c:N}      hash    hits:S, misses:S: read counters per scope, in
 *                          COUNTER_SHARDS shards (N = 0..15); a process
 *                          adds to one, stats sums them all
 *   akv:format     string  "3": marks the database as an agentkv store;
 *                          read when a connection opens, never written by
 *                          an operation. "1" and "2" are the layouts of
 *                          earlier versions (a registry zset akv:ns, one
 *                          counters hash akv:c; "1": usage counted value
 *                          bytes only), upgraded by the first connection
 *                          (upgrade_store)
 *
 * There is no registry of namespaces: one would be written with every
 * write, in another hash slot than the namespace's. Scans over all
 * sandboxes find the namespaces by their keys (ns_scan, SCAN MATCH). So a
 * write touches its namespace's slot only.
 *
 * Records are never given a Redis TTL. Expiry is decided by the store's
 * clock (injectable, like on LMDB): an expired record is invisible at once
 * and is collected by prune, by the server's background expiry, or by a
 * write that needs its room. A native TTL would let Redis drop records
 * behind the quota counters' back.
 *
 * Atomicity: each write (put, delete, batch) is one Lua script that checks
 * every precondition and quota against a private view of the namespace
 * before it changes anything, then applies the whole change, so concurrent
 * writers in any number of processes can neither lose an update nor cross a
 * quota, and a refused batch leaves nothing behind. The independent puts
 * that a server gathers in one turn (redis_put_many) go as one script per
 * namespace, PUTS: the same code, each put checked and applied on its own
 * in arrival order (a refused one changes nothing, the others go on), so
 * that Redis reads and writes the namespace's usage once and each key once
 * for all of them: Redis runs scripts on its one thread, and the script,
 * not the network, was the cost of a write. Scans read pages of
 * SCAN_PAGE keys, each page one consistent script call; they are not one
 * snapshot over a whole namespace, unlike LMDB.
 *
 * Durability is Redis' own: with appendonly yes and appendfsync always a
 * write is on disk before Redis answers, and so before agentkv acknowledges
 * it (docs/operations.md).
 *
 * Connections and routing: redis-cluster.c, for a single Redis and a
 * Redis Cluster alike (learnt from the node): a pool of hiredis contexts
 * per node, each used by one thread at a time; each command goes to the
 * node that owns its namespace's hash slot, following redirections.
 * Commands over several namespaces are pipelined per node. A context that
 * saw an I/O error or a timeout is dropped; the next operation connects
 * anew (on a cluster, after a fresh slot map), so a restarted Redis or a
 * promoted replica is picked up without a restart of the process. Opening
 * the backend does not require Redis to be up: until it is, every
 * operation fails with AKV_EUNAVAILABLE. The format marker is checked by
 * the first operation that reaches Redis (store_check).
 */
#include <errno.h>
#include <signal.h>
#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "record.h"
#include "redis-cluster.h"

#define SCAN_PAGE 128               /* keys per scan page */
#define SCAN_PAGE_BYTES (8u << 20)  /* and bytes, past the first record */
#define BIG_WRITE (1u << 20)        /* a write this large gets more time: */
#define BIG_WRITE_RATE (4u << 20)   /* one more second per 4 MiB */
#define POOL_IDLE_MAX 64
#define NS_KEY_MAX (sizeof "akv:{0:" - 1 + AKV_SANDBOX_MAX + sizeof "}:v")
#define COUNTER_FLUSH_MS 1000
#define COUNTER_SHARDS 16 /* akv:{c:0} .. akv:{c:15} */
#define COUNTER_KEY_0 "akv:{c:0}"

/* ---- Lua scripts ---------------------------------------------------------
 *
 * All numbers cross the boundary as decimal strings; Lua numbers are
 * doubles, exact for the milliseconds, lengths and versions agentkv uses
 * (all below 2^53). */

/* The record layout of record.c, read and resealed in Lua. Records of this
 * backend are of format 2 (akv_rec_encode with AKV_REC_FORMAT_SHA1): their
 * header checksum is a SHA-1, which scripts can compute (redis.sha1hex);
 * format 3 (CRC-32C) is the LMDB backend's. hdr() returns
 * nil for a record that does not decode, by the rules of akv_rec_decode
 * (layout, format-2 header checksum, timestamps and version in range, a
 * printable content type, format-1 metadata that parses; fresh: a record
 * about to be written, which agentkv has just encoded: its version may be
 * 0 and its checksum is not checked again); seal() recomputes the format-2
 * checksum (the first 8 bytes of the SHA-1 of header bytes 1..80, content
 * type and metadata) after a script patched the header. Usage is counted as in
 * record.h's akv_rec_usage: #key + #record. recount() recomputes a
 * namespace's usage from its hash; a usage hash without acct = 2 was
 * counted the format-1 way (value bytes only) and is recounted before any
 * use. */
#define LUA_PRELUDE                                                          \
    "local function sum8(h80, ctml)\n"                                       \
    "  local d = redis.sha1hex(h80 .. ctml)\n"                               \
    "  return struct.pack('>I4I4', tonumber(string.sub(d, 1, 8), 16),\n"     \
    "                     tonumber(string.sub(d, 9, 16), 16))\n"             \
    "end\n"                                                                  \
    "local TMAX = 253402300799999\n"                                        \
    "local function tok(t) return t >= 0 and t <= TMAX end\n"                \
    "local function hdr(b, fresh)\n"                                         \
    "  if type(b) ~= 'string' or #b < 80 or string.byte(b, 1) ~= 107\n"      \
    "  then return nil end\n"                                                \
    "  local f = string.byte(b, 2)\n"                                        \
    "  local hl = (f == 1 and 80) or (f == 2 and 88) or nil\n"               \
    "  if not hl or #b < hl then return nil end\n"                           \
    "  local ctl, ml, ver, cat, uat, exp, vl =\n"                           \
    "    struct.unpack('<I2I4i8i8i8i8i8', b, 3)\n"                           \
    "  if hl + ctl + ml + vl ~= #b then return nil end\n"                    \
    "  if f == 2 and not fresh and\n"                                        \
    "     string.sub(b, 81, 88) ~= sum8(string.sub(b, 1, 80),\n"              \
    "       string.sub(b, 89, 88 + ctl + ml)) then return nil end\n"         \
    "  if (ver < 1 and not fresh) or not tok(cat) or not tok(uat)\n"         \
    "     or not tok(exp) or string.find(string.sub(b, hl + 1, hl + ctl),\n" \
    "       '[^ -~]') then return nil end\n"                                 \
    "  if f == 1 and ml > 0 then\n"                                          \
    "    local m = string.sub(b, hl + ctl + 1, hl + ctl + ml)\n"             \
    "    if string.sub(m, 1, 1) ~= '{' or not pcall(cjson.decode, m)\n"      \
    "    then return nil end\n"                                              \
    "  end\n"                                                                \
    "  return {ver = ver, cat = cat, exp = exp, vl = vl, f = f,\n"           \
    "          ctml = ctl + ml, sha = string.sub(b, 49, 80)}\n"              \
    "end\n"                                                                  \
    "local function seal(h80, rest, ctml)\n"                                 \
    "  return h80 .. sum8(h80, string.sub(rest, 1, ctml)) .. rest\n"         \
    "end\n"                                                                  \
    "local function recount(v)\n"                                            \
    "  local all, b, e = redis.call('HGETALL', v), 0, 0\n"                   \
    "  for j = 1, #all, 2 do\n"                                              \
    "    b, e = b + #all[j] + #all[j + 1], e + 1\n"                          \
    "  end\n"                                                                \
    "  return b, e\n"                                                        \
    "end\n"                                                                  \
    "local function expired(h, now) return h.exp ~= 0 and h.exp <= now end\n" \
    "local function num(n) return string.format('%.0f', n) end\n"

/* WRITE: puts and deletes, all or nothing.
 * KEYS: v, o, x, u of each write's namespace (4 per write).
 * ARGV: per write: op ('p' put, 'd' delete, 'D' delete that must find a
 *       record), key, record, now, quota, if-match (32 bytes or empty;
 *       on a delete too: the record must be live with that SHA-256),
 *       flags ('c' create-only, 'r' restore).
 * Returns {'ok', a1, b1, c1, a2, …}: per put version, created_at, created
 * (0/1); per delete was_live (0/1), 0, 0. Refusals: {'exists', i},
 * {'mismatch', i}, {'nomatch', i}, {'quota', i, live, would_be},
 * {'notfound', i}. The quota arithmetic is put_in_txn's in backend-lmdb.c,
 * in stored bytes: a record that does not decode is replaced like an
 * absent one and counts as live; as damage may have changed its length,
 * exact() first recounts its namespace as this script sees it.
 * The writes are decided first against a private view (shadow: each key's
 * record as the writes so far left it, with its parsed header in hs, so a
 * record is parsed and checked once per script), then applied: each key
 * once, with the record of its last write, whose header (version,
 * created_at, checksum) is sealed only then; the usage hash only if its
 * figures changed, the order index only for a key that was absent. The
 * same body is PUTS below, with INDEP true. */
#define LUA_WRITE_BODY \
    "local NA = 7\n" \
    "local shadow, hs, final, usage, ops, known, base = {}, {}, {}, {}, {}, {}, {}\n" \
    "local out = INDEP and {} or {'ok'}\n" \
    "local function head(b)\n" \
    "  local h = known[b]\n" \
    "  if h then return h end\n" \
    "  h = hdr(b)\n" \
    "  if h then known[b] = h end\n" \
    "  return h\n" \
    "end\n" \
    "local function get(v, key)\n" \
    "  local s = shadow[v]\n" \
    "  if s and s[key] ~= nil then return s[key], hs[v][key] end\n" \
    "  local b = redis.call('HGET', v, key)\n" \
    "  base[v] = base[v] or {}\n" \
    "  base[v][key] = b\n" \
    "  return b, b and head(b)\n" \
    "end\n" \
    "local function use(v, u)\n" \
    "  local x = usage[v]\n" \
    "  if not x then\n" \
    "    local r = redis.call('HMGET', u, 'bytes', 'entries', 'acct')\n" \
    "    x = {b = tonumber(r[1]) or 0, e = tonumber(r[2]) or 0, u = u}\n" \
    "    if r[3] ~= '2' then x.b, x.e = recount(v) else x.b0, x.e0 = x.b, x.e end\n" \
    "    usage[v] = x\n" \
    "  end\n" \
    "  return x\n" \
    "end\n" \
    "local function put(p)\n" \
    "  local v = p.v\n" \
    "  shadow[v], hs[v], final[v] = shadow[v] or {}, hs[v] or {}, final[v] or {}\n" \
    "  shadow[v][p.key], hs[v][p.key], final[v][p.key] = p.blob, p.h, p\n" \
    "  ops[#ops + 1] = p\n" \
    "end\n" \
    "local function del(v, o, x, key)\n" \
    "  put({v = v, o = o, x = x, key = key, blob = false})\n" \
    "end\n" \
    "local function exact(v, us)\n" \
    "  local b, e, seen, s = 0, 0, {}, shadow[v] or {}\n" \
    "  local all = redis.call('HGETALL', v)\n" \
    "  for j = 1, #all, 2 do\n" \
    "    local k, val = all[j], all[j + 1]\n" \
    "    seen[k] = true\n" \
    "    if s[k] ~= nil then val = s[k] end\n" \
    "    if val then b, e = b + #k + #val, e + 1 end\n" \
    "  end\n" \
    "  for k, val in pairs(s) do\n" \
    "    if val and not seen[k] then b, e = b + #k + #val, e + 1 end\n" \
    "  end\n" \
    "  us.b, us.e = b, e\n" \
    "end\n" \
    "local function expired_list(v, x, now)\n" \
    "  local list, seen = {}, {}\n" \
    "  for _, k in ipairs(redis.call('ZRANGEBYSCORE', x, '-inf', num(now))) do\n" \
    "    seen[k] = true\n" \
    "    local b, h = get(v, k)\n" \
    "    if h and expired(h, now) then list[#list + 1] = {k, #k + #b} end\n" \
    "  end\n" \
    "  for k, b in pairs(shadow[v] or {}) do\n" \
    "    if b and not seen[k] then\n" \
    "      local h = hs[v][k]\n" \
    "      if h and expired(h, now) then list[#list + 1] = {k, #k + #b} end\n" \
    "    end\n" \
    "  end\n" \
    "  return list\n" \
    "end\n" \
    "local function one(i)\n" \
    "  local a, k = (i - 1) * NA, INDEP and 0 or (i - 1) * 4\n" \
    "  local op, key, blob = ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]\n" \
    "  local now, quota = tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5])\n" \
    "  local im, flags = ARGV[a + 6], ARGV[a + 7]\n" \
    "  local v, o, x = KEYS[k + 1], KEYS[k + 2], KEYS[k + 3]\n" \
    "  local us = use(v, KEYS[k + 4])\n" \
    "  if op ~= 'p' then\n" \
    "    local old, oh = get(v, key)\n" \
    "    if im ~= '' then\n" \
    "      local live = oh and not expired(oh, now)\n" \
    "      if not live or oh.sha ~= im then\n" \
    "        return {live and 'mismatch' or 'nomatch', i}\n" \
    "      end\n" \
    "    end\n" \
    "    if not old then\n" \
    "      if op == 'D' then return {'notfound', i} end\n" \
    "      out[#out + 1] = 0\n" \
    "    else\n" \
    "      if not oh then exact(v, us) end\n" \
    "      us.b, us.e = us.b - #key - #old, us.e - 1\n" \
    "      del(v, o, x, key)\n" \
    "      out[#out + 1] = (oh and expired(oh, now)) and 0 or 1\n" \
    "    end\n" \
    "    out[#out + 1] = 0\n" \
    "    out[#out + 1] = 0\n" \
    "    return nil\n" \
    "  end\n" \
    "  local restore = string.find(flags, 'r', 1, true)\n" \
    "  local nh = hdr(blob, true)\n" \
    "  if not nh then return redis.error_reply('malformed record') end\n" \
    "  local nb = #key + #blob\n" \
    "  while true do\n" \
    "    local old, oh = get(v, key)\n" \
    "    if old and not oh then exact(v, us) end\n" \
    "    local oexp = oh and expired(oh, now)\n" \
    "    local live = oh and not oexp\n" \
    "    local ob = old and #key + #old or 0\n" \
    "    if not restore then\n" \
    "      if string.find(flags, 'c', 1, true) and live then\n" \
    "        return {'exists', i}\n" \
    "      end\n" \
    "      if im ~= '' and (not live or oh.sha ~= im) then\n" \
    "        return {live and 'mismatch' or 'nomatch', i}\n" \
    "      end\n" \
    "    end\n" \
    "    local after = us.b - math.min(ob, us.b) + nb\n" \
    "    if nb > ob and after > quota then\n" \
    "      local ex, exb = expired_list(v, x, now), 0\n" \
    "      for _, e in ipairs(ex) do exb = exb + e[2] end\n" \
    "      local lv = math.max(us.b - exb, 0)\n" \
    "      local wb = lv - ((old and not oexp and ob <= lv) and ob or 0) + nb\n" \
    "      if #ex == 0 or wb > quota then\n" \
    "        return {'quota', i, num(lv), num(wb)}\n" \
    "      end\n" \
    "      for _, e in ipairs(ex) do\n" \
    "        del(v, o, x, e[1])\n" \
    "        us.b, us.e = us.b - e[2], us.e - 1\n" \
    "      end\n" \
    "    else\n" \
    "      local h = nh\n" \
    "      if restore then h = hdr(blob)\n" \
    "      else\n" \
    "        h = {ver = live and oh.ver + 1 or 1, cat = live and oh.cat or now,\n" \
    "             exp = nh.exp, vl = nh.vl, f = 2, ctml = nh.ctml, sha = nh.sha}\n" \
    "      end\n" \
    "      us.b = math.max(us.b - ob, 0) + nb\n" \
    "      if not old then us.e = us.e + 1 end\n" \
    "      put({v = v, o = o, x = x, key = key, blob = blob, h = h,\n" \
    "           exp = nh.exp, seal = not restore})\n" \
    "      out[#out + 1] = restore and nh.ver or h.ver\n" \
    "      out[#out + 1] = restore and nh.cat or h.cat\n" \
    "      out[#out + 1] = live and 0 or 1\n" \
    "      return nil\n" \
    "    end\n" \
    "  end\n" \
    "end\n" \
    "for i = 1, #ARGV / NA do\n" \
    "  if INDEP then out[#out + 1] = 'ok' end\n" \
    "  local no = one(i)\n" \
    "  if no then\n" \
    "    if not INDEP or no.err then return no end\n" \
    "    out[#out] = no[1]\n" \
    "    out[#out + 1] = no[3] or 0\n" \
    "    out[#out + 1] = no[4] or 0\n" \
    "    out[#out + 1] = 0\n" \
    "  end\n" \
    "end\n" \
    "for _, p in ipairs(ops) do\n" \
    "  local v, key, blob = p.v, p.key, p.blob\n" \
    "  if final[v][key] == p then\n" \
    "    local was = base[v] and base[v][key]\n" \
    "    if blob then\n" \
    "      if p.seal then\n" \
    "        local h = p.h\n" \
    "        blob = seal(string.sub(blob, 1, 8) ..\n" \
    "                    struct.pack('<i8i8', h.ver, h.cat) ..\n" \
    "                    string.sub(blob, 25, 80),\n" \
    "                    string.sub(blob, 89), h.ctml)\n" \
    "      end\n" \
    "      redis.call('HSET', v, key, blob)\n" \
    "      if not was then redis.call('ZADD', p.o, 0, key) end\n" \
    "      if p.exp ~= 0 then redis.call('ZADD', p.x, num(p.exp), key)\n" \
    "      else\n" \
    "        local wh = was and head(was)\n" \
    "        if not wh or wh.exp ~= 0 then redis.call('ZREM', p.x, key) end\n" \
    "      end\n" \
    "    else\n" \
    "      redis.call('HDEL', v, key)\n" \
    "      redis.call('ZREM', p.o, key)\n" \
    "      redis.call('ZREM', p.x, key)\n" \
    "    end\n" \
    "  end\n" \
    "end\n" \
    "for v, us in pairs(usage) do\n" \
    "  local b, e = math.max(us.b, 0), math.max(us.e, 0)\n" \
    "  if b ~= us.b0 or e ~= us.e0 then\n" \
    "    redis.call('HSET', us.u, 'bytes', num(b), 'entries', num(e),\n" \
    "               'acct', '2')\n" \
    "  end\n" \
    "end\n" \
    "return out\n"

static const char lua_write[] = LUA_PRELUDE "local INDEP = false\n"
    LUA_WRITE_BODY;

/* PUTS: independent puts of one namespace, each applied or refused on
 * its own (as if by one WRITE each, in order), in one script: one read
 * of the usage counters and one write of them for all, a key written
 * once however many of the puts name it. KEYS: the namespace's v, o, x,
 * u, once for all the puts; ARGV as for WRITE.
 * Returns four entries per put: 'ok', version, created_at, created; or
 * the refusal ('exists', 'mismatch', 'nomatch', 'quota' with live and
 * would_be, then 0) of that put alone. */
static const char lua_puts[] = LUA_PRELUDE "local INDEP = true\n"
    LUA_WRITE_BODY;

/* REMOVE: KEYS v, o, x, u; ARGV mode ('all' or 'expired'), now.
 * Returns {removed, live_removed}. */
static const char lua_remove[] = LUA_PRELUDE
    "local v, o, x, u = KEYS[1], KEYS[2], KEYS[3], KEYS[4]\n"
    "local now = tonumber(ARGV[2])\n"
    "local dead = {}\n"
    "for _, k in ipairs(redis.call('ZRANGEBYSCORE', x, '-inf', num(now))) do\n"
    "  local b = redis.call('HGET', v, k)\n"
    "  local h = hdr(b)\n"
    "  if not b then redis.call('ZREM', x, k)\n"
    "  elseif h and expired(h, now) then dead[#dead + 1] = {k, #k + #b} end\n"
    "end\n"
    "if ARGV[1] == 'all' then\n"
    "  local n = redis.call('HLEN', v)\n"
    "  redis.call('DEL', v, o, x, u)\n"
    "  return {n, n - #dead}\n"
    "end\n"
    "if #dead == 0 then return {0, 0} end\n"
    "local bytes = 0\n"
    "for _, d in ipairs(dead) do\n"
    "  redis.call('HDEL', v, d[1])\n"
    "  redis.call('ZREM', o, d[1])\n"
    "  redis.call('ZREM', x, d[1])\n"
    "  bytes = bytes + d[2]\n"
    "end\n"
    "local r = redis.call('HMGET', u, 'bytes', 'entries', 'acct')\n"
    "local b, e = (tonumber(r[1]) or 0) - bytes, (tonumber(r[2]) or 0) - #dead\n"
    "if r[3] ~= '2' then b, e = recount(v) end\n"
    "redis.call('HSET', u, 'bytes', num(math.max(b, 0)),\n"
    "           'entries', num(math.max(e, 0)), 'acct', '2')\n"
    "return {#dead, 0}\n";

/* UPGRADE: KEYS v, u. Recounts a namespace whose usage was counted the
 * format-1 way; returns 1 if it did, 0 if it was current. */
static const char lua_upgrade[] = LUA_PRELUDE
    "if redis.call('HGET', KEYS[2], 'acct') == '2' then return 0 end\n"
    "local b, e = recount(KEYS[1])\n"
    "redis.call('HSET', KEYS[2], 'bytes', num(b), 'entries', num(e),\n"
    "           'acct', '2')\n"
    "return 1\n";

/* SCAN: KEYS v, o; ARGV start (a ZRANGEBYLEX bound), count, bytes.
 * Returns {keys, records, more}: at most count keys, fewer once the
 * records reach bytes (so that a page of large artifacts stays small); a
 * record is nil where the index names a key the hash does not hold; more
 * is 1 when the namespace may hold further keys. */
static const char lua_scan[] =
    "local n, limit = tonumber(ARGV[2]), tonumber(ARGV[3])\n"
    "local ks = redis.call('ZRANGEBYLEX', KEYS[2], ARGV[1], '+', 'LIMIT', 0, n)\n"
    "local keys, recs, bytes = {}, {}, 0\n"
    "for i, k in ipairs(ks) do\n"
    "  local b = redis.call('HGET', KEYS[1], k)\n"
    "  keys[i], recs[i] = k, b\n"
    "  if b then bytes = bytes + #b end\n"
    "  if bytes >= limit and i < #ks then return {keys, recs, 1} end\n"
    "end\n"
    "return {keys, recs, #ks == n and 1 or 0}\n";

/* TOUCH: KEYS v, x; ARGV key, expires_at. Rewrites only expires_at (and
 * reseals a format-2 header). A record that does not decode is left for
 * the next read to report. */
static const char lua_touch[] = LUA_PRELUDE
    "local b = redis.call('HGET', KEYS[1], ARGV[1])\n"
    "local h = hdr(b)\n"
    "if not h then return 0 end\n"
    "local e = tonumber(ARGV[2])\n"
    "local h80 = string.sub(b, 1, 32) .. struct.pack('<i8', e) ..\n"
    "            string.sub(b, 41, 80)\n"
    "if h.f == 2 then b = seal(h80, string.sub(b, 89), h.ctml)\n"
    "else b = h80 .. string.sub(b, 81) end\n"
    "redis.call('HSET', KEYS[1], ARGV[1], b)\n"
    "if e == 0 then redis.call('ZREM', KEYS[2], ARGV[1])\n"
    "else redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1]) end\n"
    "return 1\n";

enum { S_WRITE, S_REMOVE, S_SCAN, S_TOUCH, S_UPGRADE, S_PUTS, S_COUNT };
static const char *const scripts[S_COUNT] = {lua_write, lua_remove, lua_scan,
                                             lua_touch, lua_upgrade, lua_puts};

/* ---- SIGPIPE ------------------------------------------------------------
 *
 * hiredis writes with write(2): a Redis that went away raises SIGPIPE,
 * whose default action ends the process. The agentkv program ignores
 * SIGPIPE; a library must not change the process' signal dispositions, so
 * when SIGPIPE was not ignored at open, the signal is blocked in the
 * calling thread while it uses a connection, and one that this use raised
 * is consumed before the mask is restored. The write then fails with
 * EPIPE, which is an ordinary I/O error (unavailable). The disposition is
 * read once, at open, to keep a system call off every read. */

struct pipe_guard {
    bool active;
    bool was_pending; /* a SIGPIPE was already pending: not ours to take */
    sigset_t old;
};

static bool sigpipe_ignored(void)
{
    struct sigaction sa;
    return sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN;
}

static void pipe_guard_begin(struct pipe_guard *g, bool needed)
{
    g->active = needed;
    if (!g->active)
        return;
    sigset_t block, pending;
    sigemptyset(&block);
    sigaddset(&block, SIGPIPE);
    sigpending(&pending);
    g->was_pending = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &block, &g->old);
}

static void pipe_guard_end(struct pipe_guard *g)
{
    if (!g->active)
        return;
    sigset_t pending;
    sigpending(&pending);
    if (!g->was_pending && sigismember(&pending, SIGPIPE) == 1) {
        sigset_t pipe_only;
        sigemptyset(&pipe_only);
        sigaddset(&pipe_only, SIGPIPE);
        const struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_only, NULL, &zero) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
    g->active = false;
}

/* ---- the backend ------------------------------------------------------- */

/* A connection for one operation: a redisContext of node `node` (of
 * redis-cluster.c's pools), for commands on hash slot `slot` (the
 * namespace's); the router may move it to another node on a redirection. */
struct conn {
    redisContext *c;
    int node;
    int slot;
    struct pipe_guard guard; /* of the thread using the connection */
};

typedef struct redis_backend {
    akv_backend base;
    struct akv_redis_url url;
    struct timeval timeout;
    char where[320]; /* "redis at HOST:PORT/DB", for messages */
    char sha[S_COUNT][41];
    bool guard_sigpipe; /* SIGPIPE was not ignored at open */
    akv_rc *rc;           /* routing, pools (redis-cluster.c) */
    _Atomic bool checked; /* the format marker was read (store_check) */
    /* Reads counted here and added to akv:c at most once a second, so
     * that a get costs one round trip. */
    _Atomic uint64_t hits[AKV_SCOPE_COUNT], misses[AKV_SCOPE_COUNT];
    _Atomic int64_t flushed_at;
    char counter_key[16]; /* this process' shard, akv:{c:N} */
} redis_backend;

static const akv_backend_ops redis_ops;

/* Reports an I/O failure of c, or an error reply, with the code and a
 * message that say what is wrong: an operation that a sharded endpoint
 * cannot take as sent (CROSSSLOT; MOVED/ASK from an endpoint that did not
 * say it is a cluster node, such as a proxy that passes redirections on)
 * is invalid_argument, since sending it again cannot help; the rest —
 * transient states (LOADING, BUSY, TRYAGAIN, CLUSTERDOWN, a connection
 * lost), full memory (OOM), a read-only replica (READONLY), scripting or
 * permissions refused (NOSCRIPT, NOPERM) — is unavailable, each with its
 * cause named. */
static int redis_fail(redis_backend *rb, redisContext *c,
                      const redisReply *r, const char *what)
{
    if (r && r->type == REDIS_REPLY_ERROR) {
        const char *e = r->str;
        if (strncmp(e, "OOM", 3) == 0)
            return akv_fail(AKV_EUNAVAILABLE,
                            "%s: %s is out of memory (%s); raise maxmemory",
                            what, rb->where, e);
        if (strncmp(e, "CROSSSLOT", 9) == 0)
            return akv_fail(AKV_EINVAL,
                            "%s: %s is sharded (%s): an operation that spans "
                            "sandboxes or scopes must be made one namespace "
                            "at a time there", what, rb->where, e);
        if (strncmp(e, "MOVED ", 6) == 0 || strncmp(e, "ASK ", 4) == 0)
            return akv_fail(AKV_EINVAL,
                            "%s: %s redirected the command (%s) but is not a "
                            "Redis Cluster node agentkv can follow (a proxy "
                            "that passes redirections on?): give agentkv a "
                            "cluster node or a proxy that routes by key",
                            what, rb->where, e);
        if (strncmp(e, "READONLY", 8) == 0)
            return akv_fail(AKV_EUNAVAILABLE,
                            "%s: %s is a read-only replica (%s): point the URL "
                            "at the master", what, rb->where, e);
        if (strncmp(e, "NOSCRIPT", 8) == 0 || strncmp(e, "NOPERM", 6) == 0)
            return akv_fail(AKV_EUNAVAILABLE,
                            "%s: %s refused a command agentkv needs (%s); see "
                            "the access rules in docs/operations.md", what,
                            rb->where, e);
        return akv_fail(AKV_EUNAVAILABLE, "%s: %s answered: %s", what,
                        rb->where, e);
    }
    if (c == NULL && r == NULL && akv_last_error()->code != AKV_OK)
        return akv_last_error()->code; /* no node reached: said why */
    if (c && c->err) {
        /* A socket timeout (SO_RCVTIMEO) reads as EAGAIN. */
        const char *why = c->errstr;
        if (c->err == REDIS_ERR_IO &&
            strcmp(c->errstr, strerror(EAGAIN)) == 0)
            why = "timed out";
        return akv_fail(AKV_EUNAVAILABLE, "%s: %s: %s", what, rb->where, why);
    }
    return akv_fail(AKV_EUNAVAILABLE, "%s: %s gave an unexpected reply", what,
                    rb->where);
}

/* ---- connections ------------------------------------------------------- */

/* Runs one command on cn for its slot (following redirections, see
 * redis-cluster.h); NULL when the connection failed (cn->c->err says why,
 * or cn->c is NULL and the error is set). idempotent: a read, which may
 * be sent again after an I/O error. */
static redisReply *rexec(redis_backend *rb, struct conn *cn, bool idempotent,
                         int argc, const char **argv, const size_t *lens)
{
    return akv_rc_exec(rb->rc, &cn->c, &cn->node, cn->slot, idempotent, argc,
                       argv, lens);
}

static int store_check(redis_backend *rb);

/* Takes a connection to the owner of slot (any node when slot < 0) for
 * the calling thread into *cn (the caller's: no allocation, so that an
 * operation over many namespaces cannot fail half-way for want of
 * memory); conn_give() hands it back. Between the two the
 * thread's SIGPIPE is guarded. The first successful call also checks the
 * store's format marker. */
static int conn_take(redis_backend *rb, int slot, struct conn *cn)
{
    struct pipe_guard g;
    pipe_guard_begin(&g, rb->guard_sigpipe);
    int rc = AKV_OK;
    if (!atomic_load(&rb->checked) && (rc = store_check(rb)) != AKV_OK) {
        pipe_guard_end(&g);
        return rc;
    }
    cn->slot = slot;
    cn->c = akv_rc_get(rb->rc, slot, &cn->node);
    if (cn->c == NULL) {
        rc = akv_last_error()->code;
        pipe_guard_end(&g);
        return rc != AKV_OK ? rc : akv_fail(AKV_EUNAVAILABLE, "%s: no node "
                                            "reachable", rb->where);
    }
    cn->guard = g;
    return AKV_OK;
}

/* Returns a connection to its node's pool (a failed one is dropped). */
static void conn_give(redis_backend *rb, struct conn *cn)
{
    struct pipe_guard g = cn->guard;
    akv_rc_put(rb->rc, cn->node, cn->c);
    cn->c = NULL;
    pipe_guard_end(&g);
}

/* Runs script s by digest, loading it with EVAL if this Redis has not seen
 * it (after a restart, or on another node). argv[0..2] are filled here:
 * the caller leaves them free and passes argc including them. Scripts
 * write: never sent twice after an I/O error. */
static redisReply *run_script(redis_backend *rb, struct conn *cn, int s,
                              int argc, const char **argv, size_t *lens,
                              int nkeys)
{
    char nk[16];
    snprintf(nk, sizeof nk, "%d", nkeys);
    argv[0] = "EVALSHA";
    lens[0] = 7;
    argv[1] = rb->sha[s];
    lens[1] = 40;
    argv[2] = nk;
    lens[2] = strlen(nk);
    redisReply *r = rexec(rb, cn, false, argc, argv, lens);
    if (r && r->type == REDIS_REPLY_ERROR &&
        strncmp(r->str, "NOSCRIPT", 8) == 0) {
        freeReplyObject(r);
        argv[0] = "EVAL";
        lens[0] = 4;
        argv[1] = scripts[s];
        lens[1] = strlen(scripts[s]);
        r = rexec(rb, cn, false, argc, argv, lens);
    }
    return r;
}

/* After a write that succeeded on cn: with ?wait=N, WAIT until N replicas
 * of that master have it (or wait_timeout passed), so that the write
 * survives the loss of the master once acknowledged. Fewer replicas in
 * time: AKV_EUNAVAILABLE — the write is on the master (and most likely
 * reaches its replicas later), but it is not acknowledged as durable. */
static int wait_replicas(redis_backend *rb, struct conn *cn)
{
    if (rb->url.wait_replicas == 0 || cn->c == NULL)
        return AKV_OK;
    char n[16], ms[24];
    snprintf(n, sizeof n, "%d", rb->url.wait_replicas);
    snprintf(ms, sizeof ms, "%lld", (long long)rb->url.wait_timeout_ms);
    const char *argv[3] = {"WAIT", n, ms};
    size_t lens[3] = {4, strlen(n), strlen(ms)};
    /* WAIT must reach the node that took the write: no routing. */
    struct timeval t = {rb->url.wait_timeout_ms / 1000 + rb->timeout.tv_sec + 1,
                        0};
    redisSetTimeout(cn->c, t);
    redisReply *r = redisCommandArgv(cn->c, 3, argv, lens);
    if (cn->c->err == 0)
        redisSetTimeout(cn->c, rb->timeout);
    int rc = AKV_OK;
    if (r == NULL || r->type != REDIS_REPLY_INTEGER)
        rc = redis_fail(rb, cn->c, r, "waiting for replicas");
    else if (r->integer < rb->url.wait_replicas)
        rc = akv_fail(AKV_EUNAVAILABLE, "%s: written on the master, but only "
                      "%lld of %d replicas confirmed it within %lld ms",
                      rb->where, r->integer, rb->url.wait_replicas,
                      (long long)rb->url.wait_timeout_ms);
    if (r)
        freeReplyObject(r);
    return rc;
}

/* ---- keys -------------------------------------------------------------- */

/* The four keys of a namespace: akv:{S:SB}:v, :o, :x, :u. */
struct ns_keys {
    char k[4][NS_KEY_MAX];
    size_t len;
    int slot; /* the hash slot of all four */
};

static void ns_keys(struct ns_keys *nk, int scope, const char *sb,
                    size_t sb_len)
{
    /* On every read: plain copies, no printf. */
    static const char suffix[4] = {'v', 'o', 'x', 'u'};
    char *k = nk->k[0];
    memcpy(k, "akv:{", 5);
    k[5] = (char)('0' + scope);
    k[6] = ':';
    memcpy(k + 7, sb, sb_len);
    memcpy(k + 7 + sb_len, "}:v", 3);
    nk->len = 10 + sb_len;
    for (int i = 1; i < 4; i++) {
        memcpy(nk->k[i], k, nk->len);
        nk->k[i][nk->len - 1] = suffix[i];
    }
    nk->slot = (int)akv_rc_slot(k, nk->len);
}

/* The name of a namespace as ns_list holds it, "S:SB": what the hash tag
 * of its keys holds. */
static size_t ns_member(char *buf, int scope, const char *sb, size_t sb_len)
{
    buf[0] = (char)('0' + scope);
    buf[1] = ':';
    memcpy(buf + 2, sb, sb_len);
    return 2 + sb_len;
}

/* A list of namespaces as "S:SB" members: names (owned, from a scan) or
 * fixed (the scopes of one sandbox). */
struct ns_name {
    size_t len;
    char s[2 + AKV_SANDBOX_MAX];
};
struct ns_list {
    struct ns_name *names;
    size_t n;
    struct ns_name fixed[AKV_SCOPE_COUNT];
};

static int ns_name_cmp(const void *a, const void *b)
{
    const struct ns_name *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Every namespace of the database on connection c (of one scope, or all
 * with AKV_SCOPE_ALL), sorted, into l->names. There is no registry key: a
 * namespace is known by its own keys (its records hash :v or its usage
 * hash :u), found with SCAN. A registry would be one more key written
 * with every write, in another hash slot than the namespace's: a hot key
 * and a second shard on every write of a Redis Cluster. SCAN visits each
 * key of the database once, and a namespace has four keys whatever its
 * number of entries, so listing costs in proportion to the namespaces. */
static int ns_scan_node(redis_backend *rb, redisContext *c, int scope,
                        struct ns_list *l, size_t *cap);

/* On a Redis Cluster every master holds a share of the namespaces: each
 * is scanned, and the lists merged. */
static int ns_scan(redis_backend *rb, int scope, struct ns_list *l)
{
    int nodes[64];
    size_t nn = akv_rc_masters(rb->rc, nodes, 64), cap = 0;
    int rc = AKV_OK;
    l->names = NULL;
    l->n = 0;
    for (size_t k = 0; k < nn && rc == AKV_OK; k++) {
        redisContext *c = akv_rc_get_node(rb->rc, nodes[k]);
        if (c == NULL) {
            rc = akv_last_error()->code;
            break;
        }
        rc = ns_scan_node(rb, c, scope, l, &cap);
        akv_rc_put(rb->rc, nodes[k], c);
    }
    if (rc != AKV_OK) {
        free(l->names);
        l->names = NULL;
        l->n = 0;
        return rc;
    }
    if (l->n == 0) {
        /* names == NULL would read as fixed[]: keep an empty list. */
        l->names = malloc(sizeof *l->names);
        if (l->names == NULL)
            return akv_fail(AKV_ENOMEM, "out of memory");
        return AKV_OK;
    }
    qsort(l->names, l->n, sizeof *l->names, ns_name_cmp);
    size_t u = 1;
    for (size_t i = 1; i < l->n; i++)
        if (ns_name_cmp(&l->names[i], &l->names[u - 1]) != 0)
            l->names[u++] = l->names[i];
    l->n = u;
    return AKV_OK;
}

/* The namespaces of one node's database, appended to l (*cap: its
 * allocated size). */
static int ns_scan_node(redis_backend *rb, redisContext *c, int scope,
                        struct ns_list *l, size_t *capp)
{
    char match[16];
    if (scope == AKV_SCOPE_ALL)
        snprintf(match, sizeof match, "akv:{?:*}:[vu]");
    else
        snprintf(match, sizeof match, "akv:{%c:*}:[vu]", '0' + scope);
    size_t cap = *capp;
    char cursor[32] = "0";
    int rc = AKV_OK;
    do {
        const char *argv[6] = {"SCAN", cursor, "MATCH", match, "COUNT",
                               "1000"};
        size_t lens[6] = {4, strlen(cursor), 5, strlen(match), 5, 4};
        redisReply *r = redisCommandArgv(c, 6, argv, lens);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
            r->element[0]->type != REDIS_REPLY_STRING ||
            r->element[0]->len >= sizeof cursor ||
            r->element[1]->type != REDIS_REPLY_ARRAY) {
            rc = redis_fail(rb, c, r, "listing namespaces");
            if (r)
                freeReplyObject(r);
            break;
        }
        memcpy(cursor, r->element[0]->str, r->element[0]->len);
        cursor[r->element[0]->len] = 0;
        const redisReply *keys = r->element[1];
        for (size_t i = 0; i < keys->elements && rc == AKV_OK; i++) {
            const redisReply *k = keys->element[i];
            /* akv:{S:SB}:v — the member is what the braces hold. */
            if (k->type != REDIS_REPLY_STRING || k->len < 11 ||
                k->len > 8 + 2 + AKV_SANDBOX_MAX ||
                k->str[k->len - 3] != '}' || k->str[k->len - 2] != ':' ||
                memchr(k->str + 5, '}', k->len - 8) != NULL)
                continue;
            if (l->n == cap) {
                size_t nc = cap ? 2 * cap : 64;
                struct ns_name *nn = realloc(l->names, nc * sizeof *nn);
                if (nn == NULL) {
                    rc = akv_fail(AKV_ENOMEM, "out of memory");
                    break;
                }
                l->names = nn;
                cap = nc;
            }
            l->names[l->n].len = k->len - 8;
            memcpy(l->names[l->n].s, k->str + 5, k->len - 8);
            l->n++;
        }
        freeReplyObject(r);
    } while (rc == AKV_OK && strcmp(cursor, "0") != 0);
    *capp = cap;
    return rc;
}

/* The move from the layout of formats 1 and 2 (one registry zset akv:ns,
 * one counters hash akv:c) to format 3, in one script so that two
 * processes upgrading at once cannot count the reads twice: the counts go
 * to counter shard 0, the registry is dropped (namespaces are found by
 * their own keys), and the marker says 3, which older agentkv versions
 * refuse to open (they would register namespaces nobody reads). It names
 * keys of several hash slots: it is for the single Redis those formats
 * ran on (on a Redis Cluster they never worked). */
static const char upgrade_layout_lua[] =
    "if redis.call('GET', KEYS[4]) == '3' then return 0 end\n"
    "local a = redis.call('HGETALL', KEYS[1])\n"
    "for i = 1, #a, 2 do\n"
    "  local n = tonumber(a[i + 1])\n"
    "  if n and n == math.floor(n) and n > 0 then\n"
    "    redis.call('HINCRBY', KEYS[2], a[i], a[i + 1])\n"
    "  end\n"
    "end\n"
    "redis.call('DEL', KEYS[1], KEYS[3])\n"
    "redis.call('SET', KEYS[4], '3')\n"
    "return 1\n";

/* Brings a store of format 1 or 2 to format 3. Format 1 counted usage
 * as value bytes only: every namespace's usage is recounted first by a
 * script of its own (one hash slot each, as everywhere). Then the layout
 * moves (upgrade_layout_lua). The write scripts recount a namespace whose
 * usage hash lacks acct = 2 by themselves, and listing does not need the
 * registry, so a failure here (a read-only replica, say) is only logged:
 * the next process tries again. */
static void upgrade_store(redis_backend *rb, struct conn *cn, char from)
{
    akv_error saved = *akv_last_error();
    bool ok = true;
    size_t done = 0;
    int slot = cn->slot;
    if (from == '1') {
        struct ns_list l = {0};
        ok = ns_scan(rb, AKV_SCOPE_ALL, &l) == AKV_OK;
        for (size_t i = 0; ok && i < l.n; i++) {
            const struct ns_name *e = &l.names[i];
            if (e->len < 3 || e->s[1] != ':' || e->s[0] < '0' ||
                e->s[0] >= '0' + AKV_SCOPE_COUNT)
                continue;
            struct ns_keys nk;
            ns_keys(&nk, e->s[0] - '0', e->s + 2, e->len - 2);
            const char *argv[5] = {NULL, NULL, NULL, nk.k[0], nk.k[3]};
            size_t lens[5] = {0, 0, 0, nk.len, nk.len};
            cn->slot = (int)akv_rc_slot(nk.k[0], nk.len);
            redisReply *r = run_script(rb, cn, S_UPGRADE, 5, argv, lens, 2);
            ok = r && r->type == REDIS_REPLY_INTEGER;
            if (ok)
                done += r->integer == 1;
            if (r)
                freeReplyObject(r);
        }
        free(l.names);
        if (ok)
            akv_log("info", "%s: quota usage of %zu namespaces recounted "
                    "(value, metadata and key bytes)", rb->where, done);
    }
    if (ok) {
        const char *argv[7] = {"EVAL", upgrade_layout_lua, "4", "akv:c",
                               COUNTER_KEY_0, "akv:ns", "akv:format"};
        size_t lens[7] = {4, strlen(upgrade_layout_lua), 1, 5,
                          strlen(COUNTER_KEY_0), 6, 10};
        cn->slot = slot;
        redisReply *r = cn->c ? rexec(rb, cn, false, 7, argv, lens) : NULL;
        ok = r && r->type == REDIS_REPLY_INTEGER;
        if (ok && r->integer == 1)
            akv_log("info", "%s: store upgraded to format 3 (no namespace "
                    "registry, read counters sharded)", rb->where);
        else if (!ok && r && r->type == REDIS_REPLY_ERROR)
            akv_log("warning", "%s: upgrade to format 3: %s", rb->where,
                    r->str);
        if (r)
            freeReplyObject(r);
    }
    if (!ok)
        akv_log("warning", "%s: could not upgrade the store to format 3 yet; "
                "the next process tries again", rb->where);
    cn->slot = slot;
    akv_error_restore(&saved);
}

/* Reads the store's format marker akv:format (on the node of its slot),
 * once per process: sets it on an empty database, upgrades an older
 * format, refuses an unknown one. Read first: a database that is already
 * ours needs no write, so a Redis that refuses writes (maxmemory reached,
 * a replica) can still serve reads. */
static int store_check(redis_backend *rb)
{
    struct conn cn = {.slot = (int)akv_rc_slot("akv:format", 10)};
    cn.c = akv_rc_get(rb->rc, cn.slot, &cn.node);
    if (cn.c == NULL)
        return akv_last_error()->code;
    int rc = AKV_OK;
    const char *get[2] = {"GET", "akv:format"};
    const size_t getl[2] = {3, 10};
    const char *set[4] = {"SET", "akv:format", "3", "NX"};
    const size_t setl[4] = {3, 10, 1, 2};
    redisReply *r = rexec(rb, &cn, true, 2, get, getl);
    if (r && r->type == REDIS_REPLY_NIL) {
        freeReplyObject(r);
        r = rexec(rb, &cn, true, 4, set, setl);
        if (r && r->type != REDIS_REPLY_ERROR) {
            freeReplyObject(r);
            r = rexec(rb, &cn, true, 2, get, getl);
        }
    }
    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
        rc = redis_fail(rb, cn.c, r, "opening the store");
    } else if (r->type == REDIS_REPLY_STRING &&
               (r->len != 1 || r->str[0] < '1' || r->str[0] > '3')) {
        rc = akv_fail(AKV_EUNAVAILABLE, "%s holds an agentkv store of an "
                      "unknown format", rb->where);
    } else if (r->type != REDIS_REPLY_STRING) {
        rc = akv_fail(AKV_EUNAVAILABLE, "%s: akv:format is not a string; "
                      "the database holds something else", rb->where);
    } else {
        if (r->str[0] != '3')
            upgrade_store(rb, &cn, r->str[0]);
        atomic_store(&rb->checked, true);
    }
    if (r)
        freeReplyObject(r);
    akv_rc_put(rb->rc, cn.node, cn.c);
    return rc;
}

/* ---- open / close ------------------------------------------------------ */

static void sha1_hex(const char *text, char out[41])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(text, strlen(text), md, &n, EVP_sha1(), NULL);
    for (unsigned i = 0; i < n && i < 20; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void counters_flush(redis_backend *rb);

static void redis_close(akv_backend *be)
{
    redis_backend *rb = (redis_backend *)be;
    if (rb == NULL)
        return;
    /* Counted reads not yet in Redis: one last try, best effort. */
    if (rb->rc)
        counters_flush(rb);
    akv_rc_free(rb->rc);
    akv_redis_url_free(&rb->url);
    free(rb);
}

int akv_backend_redis_open(const char *url, const struct akv_config *cfg,
                           unsigned flags, akv_backend **out)
{
    (void)cfg;
    (void)flags;
    redis_backend *rb = calloc(1, sizeof *rb);
    if (rb == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    rb->base.ops = &redis_ops;
    int rc = akv_redis_url_parse(url, &rb->url);
    if (rc != AKV_OK) {
        redis_close(&rb->base);
        return rc;
    }
    rb->timeout.tv_sec = rb->url.timeout_ms / 1000;
    rb->timeout.tv_usec = (rb->url.timeout_ms % 1000) * 1000;
    snprintf(rb->where, sizeof rb->where, "redis at %s:%d/%d", rb->url.host,
             rb->url.port, rb->url.db);
    if ((rc = akv_rc_new(&rb->url, rb->where, &rb->rc)) != AKV_OK) {
        redis_close(&rb->base);
        return rc;
    }
    for (int i = 0; i < S_COUNT; i++)
        sha1_hex(scripts[i], rb->sha[i]);
    /* Each process adds its read counts to one of COUNTER_SHARDS hashes,
     * picked at random: no hash is written by every process, and on a
     * Redis Cluster they spread over the slots (and so the masters). */
    snprintf(rb->counter_key, sizeof rb->counter_key, "akv:{c:%u}",
             (unsigned)(((uint64_t)getpid() * 2654435761u ^
                         (uint64_t)akv_realtime_ms()) % COUNTER_SHARDS));
    rb->guard_sigpipe = !sigpipe_ignored();
    /* Connect now when Redis is up, so that a misconfigured server shows
     * at once in the first command's error; a Redis that is down is not a
     * reason to refuse to open (the server starts and reports 503 until
     * it is back). */
    struct conn cnb, *cn = &cnb;
    if (conn_take(rb, -1, cn) == AKV_OK)
        conn_give(rb, cn);
    akv_error_clear();
    *out = &rb->base;
    return AKV_OK;
}

/* ---- reads ------------------------------------------------------------- */

static int redis_get(akv_backend *be, const akv_ns *ns, const char *key,
                     size_t key_len, akv_rec *rec, void **hold)
{
    redis_backend *rb = (redis_backend *)be;
    struct ns_keys nk;
    ns_keys(&nk, ns->scope, ns->sandbox, ns->sandbox_len);
    struct conn cnb, *cn = &cnb;
    int rc = conn_take(rb, nk.slot, cn);
    if (rc != AKV_OK)
        return rc;
    const char *argv[3] = {"HGET", nk.k[0], key};
    size_t lens[3] = {4, nk.len, key_len};
    redisReply *r = rexec(rb, cn, true, 3, argv, lens);
    if (r == NULL || (r->type != REDIS_REPLY_STRING &&
                      r->type != REDIS_REPLY_NIL)) {
        rc = redis_fail(rb, cn->c, r, "reading entry");
    } else if (r->type == REDIS_REPLY_NIL) {
        rc = AKV_ENOTFOUND;
    } else {
        rc = akv_rec_decode(r->str, r->len, rec);
    }
    conn_give(rb, cn);
    if (rc != AKV_OK) {
        if (r)
            freeReplyObject(r);
        return rc;
    }
    *hold = r;
    return AKV_OK;
}

/* Runs n commands pipelined per node (redis-cluster.c), under the
 * SIGPIPE guard, after the store check; replies[i] NULL when command i's
 * node failed. */
static int pipeline(redis_backend *rb, size_t n, const unsigned *slots,
                    const int *argcs, const char *const *const *argvs,
                    const size_t *const *lenss, bool idempotent,
                    redisReply **replies)
{
    struct pipe_guard g;
    pipe_guard_begin(&g, rb->guard_sigpipe);
    int rc = AKV_OK;
    if (!atomic_load(&rb->checked))
        rc = store_check(rb);
    if (rc == AKV_OK)
        rc = akv_rc_pipeline(rb->rc, n, slots, argcs, argvs, lenss,
                             idempotent, replies);
    pipe_guard_end(&g);
    return rc;
}

/* Pipelined HGETs: all requests written at once (per node on a cluster),
 * the replies read in order, one round trip per node for all of them. */
static void redis_get_many(akv_backend *be, size_t n, const akv_ns *ns,
                           const char *const *keys, const size_t *key_lens,
                           akv_rec *recs, void **holds, int *rcs)
{
    redis_backend *rb = (redis_backend *)be;
    struct ns_keys *nk = malloc((n ? n : 1) * sizeof *nk);
    unsigned *slots = malloc((n ? n : 1) * sizeof *slots);
    int *argcs = malloc((n ? n : 1) * sizeof *argcs);
    const char *(*av)[3] = malloc((n ? n : 1) * sizeof *av);
    size_t (*al)[3] = malloc((n ? n : 1) * sizeof *al);
    const char ***argvs = malloc((n ? n : 1) * sizeof *argvs);
    const size_t **lenss = malloc((n ? n : 1) * sizeof *lenss);
    redisReply **replies = calloc(n ? n : 1, sizeof *replies);
    int rc = AKV_OK;
    if (!nk || !slots || !argcs || !av || !al || !argvs || !lenss ||
        !replies)
        rc = akv_fail(AKV_ENOMEM, "out of memory");
    for (size_t i = 0; rc == AKV_OK && i < n; i++) {
        ns_keys(&nk[i], ns[i].scope, ns[i].sandbox, ns[i].sandbox_len);
        slots[i] = (unsigned)nk[i].slot;
        argcs[i] = 3;
        av[i][0] = "HGET";
        av[i][1] = nk[i].k[0];
        av[i][2] = keys[i];
        al[i][0] = 4;
        al[i][1] = nk[i].len;
        al[i][2] = key_lens[i];
        argvs[i] = av[i];
        lenss[i] = al[i];
    }
    if (rc == AKV_OK)
        rc = pipeline(rb, n, slots, argcs,
                      (const char *const *const *)argvs, lenss, true, replies);
    akv_error failed = {0};
    for (size_t i = 0; i < n; i++) {
        redisReply *r = replies ? replies[i] : NULL;
        holds[i] = NULL;
        if (rc != AKV_OK) {
            rcs[i] = rc;
        } else if (r == NULL || (r->type != REDIS_REPLY_STRING &&
                                 r->type != REDIS_REPLY_NIL)) {
            rcs[i] = r ? redis_fail(rb, NULL, r, "reading entry")
                       : akv_fail(AKV_EUNAVAILABLE, "reading entry: %s: "
                                  "connection failed", rb->where);
            failed = *akv_last_error();
        } else if (r->type == REDIS_REPLY_NIL) {
            rcs[i] = AKV_ENOTFOUND;
        } else if ((rcs[i] = akv_rec_decode(r->str, r->len, &recs[i])) ==
                   AKV_OK) {
            holds[i] = r;
            r = NULL;
        }
        if (r)
            freeReplyObject(r);
    }
    if (failed.code != AKV_OK)
        akv_error_restore(&failed);
    free(nk);
    free(slots);
    free(argcs);
    free(av);
    free(al);
    free(argvs);
    free(lenss);
    free(replies);
}

static void redis_release(akv_backend *be, void *hold)
{
    (void)be;
    freeReplyObject(hold);
}

/* ---- writes ------------------------------------------------------------ */

/* Per-write arguments of the WRITE script, formatted. */
struct write_args {
    char now[AKVX_INT_BUF], quota[AKVX_INT_BUF];
    size_t now_len, quota_len;
    char *blob;
    size_t blob_len;
};

static int reply_int(const redisReply *r, long long *v)
{
    if (r->type == REDIS_REPLY_INTEGER) {
        *v = r->integer;
        return 0;
    }
    if (r->type == REDIS_REPLY_STRING) {
        char *end;
        errno = 0;
        *v = strtoll(r->str, &end, 10);
        return errno || end == r->str ? -1 : 0;
    }
    return -1;
}

/* Runs the WRITE script for w[0..n) (ops: 'p', 'd' or, for a lone delete
 * that must find its record, 'D') and interprets its answer. res receives
 * three integers per write. */
/* The script's arguments for write i: its namespace's 4 keys at
 * argv[3 + 4i] (keys: WRITE's n writes each give theirs; PUTS, all of one
 * namespace, 1: only write 0 places them), then op, key, record, now,
 * quota, If-Match and flags at argv[3 + 4 keys + 7i]. Memory for the
 * record and the numbers goes to wa[i] and nk[i], which must outlive
 * argv. */
static int write_args(const akv_write *x, size_t i, size_t keys, char del_op,
                      struct ns_keys *nk, struct write_args *wa,
                      const char **argv, size_t *lens)
{
    ns_keys(nk, x->ns.scope, x->ns.sandbox, x->ns.sandbox_len);
    for (int j = 0; i < keys && j < 4; j++) {
        argv[3 + 4 * i + j] = nk->k[j];
        lens[3 + 4 * i + j] = nk->len;
    }
    size_t a = 3 + 4 * keys + 7 * i;
    wa->now_len = akvx_i64_dec((long long)x->now, wa->now);
    wa->quota_len = akvx_u64_dec((unsigned long long)x->quota, wa->quota);
    static const char flags[4][3] = {"", "c", "r", "cr"};
    int fl = (x->create_only ? 1 : 0) | (x->restore ? 2 : 0);
    if (x->del) {
        argv[a] = del_op == 'D' ? "D" : "d";
    } else {
        akv_rec rec = x->rec;
        if (!x->restore) {
            rec.version = 0;
            rec.created_at = 0;
            rec.updated_at = x->now;
            rec.expires_at = x->ttl_ms > 0 ? x->now + x->ttl_ms : 0;
        }
        wa->blob_len = akv_rec_encoded_size(&rec);
        if ((wa->blob = malloc(wa->blob_len)) == NULL)
            return akv_fail(AKV_ENOMEM, "out of memory");
        akv_rec_encode(&rec, AKV_REC_FORMAT_SHA1, wa->blob);
        argv[a] = "p";
    }
    lens[a] = 1;
    argv[a + 1] = x->key;
    lens[a + 1] = x->key_len;
    argv[a + 2] = wa->blob ? wa->blob : "";
    lens[a + 2] = wa->blob_len;
    argv[a + 3] = wa->now;
    lens[a + 3] = wa->now_len;
    argv[a + 4] = wa->quota;
    lens[a + 4] = wa->quota_len;
    argv[a + 5] = x->if_match ? (const char *)x->if_match : "";
    lens[a + 5] = x->if_match ? 32 : 0;
    argv[a + 6] = flags[fl];
    lens[a + 6] = strlen(flags[fl]);
    return AKV_OK;
}

/* The error that refusal st of write x stands for (exists, mismatch,
 * nomatch, notfound; quota with live and would, the namespace's figures,
 * both non-NULL); any other st: an unexpected reply. */
static int write_refusal(redis_backend *rb, redisContext *c, const char *st,
                         const akv_write *x, const redisReply *live_r,
                         const redisReply *would_r)
{
    long long live = 0, would = 0;
    if (strcmp(st, "exists") == 0)
        return akv_fail(AKV_EPRECONDITION,
                        "key already exists (create-only write)");
    if (strcmp(st, "mismatch") == 0)
        return akv_fail(AKV_EPRECONDITION,
                        "current SHA-256 does not match If-Match");
    if (strcmp(st, "nomatch") == 0)
        return akv_fail(AKV_EPRECONDITION,
                        "no current entry to match If-Match");
    if (strcmp(st, "notfound") == 0)
        return akv_fail(AKV_ENOTFOUND, "no such entry");
    if (strcmp(st, "quota") == 0 && live_r && would_r &&
        reply_int(live_r, &live) == 0 && reply_int(would_r, &would) == 0)
        return akv_fail_quota(
            x->ns.scope, (uint64_t)live, x->quota, (uint64_t)would,
            "%s quota of sandbox %.*s: %llu bytes used, quota %llu, "
            "this write would make %llu (stored bytes count value, "
            "metadata and key)",
            akv_scope_name(x->ns.scope), (int)x->ns.sandbox_len,
            x->ns.sandbox, (unsigned long long)live,
            (unsigned long long)x->quota, (unsigned long long)would);
    return redis_fail(rb, c, NULL, "writing entry");
}

/* Reads the write script's reply r: "ok" with 3 numbers per write into
 * res, or the failure (exists, mismatch, nomatch, notfound, quota with the
 * index of the write and its figures) as the error it stands for. */
static int write_result(redis_backend *rb, redisContext *c, redisReply *r,
                        const akv_write *w, size_t n, long long *res)
{
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
        r->element[0]->type != REDIS_REPLY_STRING)
        return redis_fail(rb, c, r, "writing entry");
    const char *st = r->element[0]->str;
    long long idx = 0;
    if (r->elements >= 2)
        reply_int(r->element[1], &idx);
    const akv_write *x = idx >= 1 && (size_t)idx <= n ? &w[idx - 1] : w;
    if (strcmp(st, "ok") != 0)
        return write_refusal(rb, c, st, x,
                             r->elements == 4 ? r->element[2] : NULL,
                             r->elements == 4 ? r->element[3] : NULL);
    if (r->elements != 1 + 3 * n)
        return redis_fail(rb, c, NULL, "writing entry");
    for (size_t i = 0; i < 3 * n; i++)
        if (reply_int(r->element[1 + i], &res[i]) != 0)
            return redis_fail(rb, c, NULL, "writing entry");
    return AKV_OK;
}

/* Runs the write script over w[0..n) (all of one namespace, in order):
 * arguments, the script, its result. */
static int write_script(redis_backend *rb, const akv_write *w, size_t n,
                        char del_op, long long *res)
{
    int rc = AKV_OK;
    size_t argc = 3 + 4 * n + 7 * n;
    const char **argv = calloc(argc, sizeof *argv);
    size_t *lens = calloc(argc, sizeof *lens);
    struct ns_keys *nk = calloc(n, sizeof *nk);
    struct write_args *wa = calloc(n, sizeof *wa);
    if (!argv || !lens || !nk || !wa) {
        rc = akv_fail(AKV_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        if ((rc = write_args(&w[i], i, n, del_op, &nk[i], &wa[i], argv,
                             lens)) != AKV_OK)
            goto done;
    struct conn cnb, *cn = &cnb;
    if ((rc = conn_take(rb, nk[0].slot, cn)) != AKV_OK)
        goto done;
    /* Redis copies, scripts and (with appendfsync always) syncs a large
     * write before it answers: give it time in proportion. */
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += wa[i].blob_len;
    bool slow = total >= BIG_WRITE;
    if (slow) {
        struct timeval t = rb->timeout;
        t.tv_sec += (time_t)(total / BIG_WRITE_RATE) + 1;
        redisSetTimeout(cn->c, t);
    }
    redisReply *r = run_script(rb, cn, S_WRITE, (int)argc, argv, lens,
                               (int)(4 * n));
    rc = write_result(rb, cn->c, r, w, n, res);
    if (r)
        freeReplyObject(r);
    if (rc == AKV_OK)
        rc = wait_replicas(rb, cn);
    if (slow && cn->c->err == 0)
        redisSetTimeout(cn->c, rb->timeout);
    conn_give(rb, cn);
done:
    if (wa)
        for (size_t i = 0; i < n; i++)
            free(wa[i].blob);
    free(argv);
    free(lens);
    free(nk);
    free(wa);
    return rc;
}

/* Fills the stored record of put w from the script's three results. */
static void stored(const akv_write *w, const long long *res, akv_rec *out)
{
    *out = w->rec;
    if (!w->restore) {
        out->version = (uint64_t)res[0];
        out->created_at = res[1];
        out->updated_at = w->now;
        out->expires_at = w->ttl_ms > 0 ? w->now + w->ttl_ms : 0;
    }
}

static int redis_put(akv_backend *be, const akv_write *w, akv_rec *out,
                     int *created)
{
    long long res[3];
    int rc = write_script((redis_backend *)be, w, 1, 'd', res);
    if (rc != AKV_OK)
        return rc;
    if (out)
        stored(w, res, out);
    if (created)
        *created = (int)res[2];
    return AKV_OK;
}

/* The results of put w from its four entries e[0..4) of a PUTS reply. */
static int puts_result(redis_backend *rb, const akv_write *w,
                       redisReply *const *e, akv_rec *out, int *created)
{
    long long res[3];
    if (e[0]->type != REDIS_REPLY_STRING)
        return redis_fail(rb, NULL, NULL, "writing entry");
    if (strcmp(e[0]->str, "ok") != 0)
        return write_refusal(rb, NULL, e[0]->str, w, e[1], e[2]);
    for (int j = 0; j < 3; j++)
        if (reply_int(e[1 + j], &res[j]) != 0)
            return redis_fail(rb, NULL, NULL, "writing entry");
    stored(w, res, out);
    *created = (int)res[2];
    return AKV_OK;
}

/* Independent puts, pipelined and grouped: the puts of one namespace go
 * to Redis as one PUTS script (each applied or refused on its own, in
 * order, as by a WRITE of its own: atomic alone, as redis_put), the
 * scripts of all namespaces sent at once to each node, the replies read
 * in order — one round trip per node for all of them, and in Redis one
 * script, one read and one update of the usage counters per namespace,
 * one write per key (redirections are followed by akv_rc_recv). A
 * NOSCRIPT reply means the script did not run: that namespace's puts go
 * again on a call of their own, which loads it. A put whose connection
 * failed has an unknown outcome (unavailable), as with redis_put. Large
 * records, and every put when WAIT follows each write (?wait=N), go one
 * at a time, in redis_puts_recv.
 *
 * redis_puts_send builds and sends the scripts; struct puts_sent holds
 * them (the arguments point into its own arrays and into w, borrowed)
 * until redis_puts_recv reads the replies. */
struct puts_sent {
    size_t n, ng;
    const akv_write *w;
    bool ok;      /* the scripts were built (else every put goes alone) */
    size_t *grp;  /* put → its group, or ALONE */
    size_t *head; /* group → its first put */
    size_t *cnt;  /* group → its puts */
    size_t *pos;  /* group → puts placed so far */
    size_t *at;   /* group → its first argument */
    struct ns_keys *nk;
    struct write_args *wa;
    unsigned *slots;
    int *argcs;
    const char ***argvs;
    const size_t **lenss;
    const char **argv;
    size_t *lens;
    redisReply **replies;  /* group → its reply (owned) */
    akv_rc_sent *inflight; /* NULL: nothing sent */
    int prc;               /* the sending's outcome */
    akv_error perr;
};
#define ALONE ((size_t)-1)

static void puts_sent_free(struct puts_sent *ps)
{
    if (ps->wa)
        for (size_t i = 0; i < ps->n; i++)
            free(ps->wa[i].blob);
    free(ps->grp);
    free(ps->head);
    free(ps->cnt);
    free(ps->pos);
    free(ps->at);
    free(ps->nk);
    free(ps->wa);
    free(ps->slots);
    free(ps->argcs);
    free(ps->argvs);
    free(ps->lenss);
    free(ps->argv);
    free(ps->lens);
    for (size_t g = 0; ps->replies && g < ps->ng; g++)
        if (ps->replies[g])
            freeReplyObject(ps->replies[g]);
    free(ps->replies);
    free(ps);
}

static void *redis_puts_send(akv_backend *be, size_t n, const akv_write *w,
                             int *fd, int64_t *timeout_ms)
{
    redis_backend *rb = (redis_backend *)be;
    *fd = -1;
    *timeout_ms = (int64_t)rb->timeout.tv_sec * 1000 +
                  rb->timeout.tv_usec / 1000;
    struct puts_sent *ps = calloc(1, sizeof *ps);
    if (ps == NULL)
        return NULL;
    size_t m = n ? n : 1, ng = 0, nargs = 0;
    ps->n = n;
    ps->w = w;
    ps->grp = calloc(m, sizeof *ps->grp);
    ps->head = calloc(m, sizeof *ps->head);
    ps->cnt = calloc(m, sizeof *ps->cnt);
    ps->pos = calloc(m, sizeof *ps->pos);
    ps->at = calloc(m, sizeof *ps->at);
    ps->nk = calloc(m, sizeof *ps->nk);
    ps->wa = calloc(m, sizeof *ps->wa);
    ps->slots = calloc(m, sizeof *ps->slots);
    ps->argcs = calloc(m, sizeof *ps->argcs);
    ps->argvs = calloc(m, sizeof *ps->argvs);
    ps->lenss = calloc(m, sizeof *ps->lenss);
    ps->replies = calloc(m, sizeof *ps->replies);
    if (!ps->replies || !ps->grp || !ps->head || !ps->cnt || !ps->pos || !ps->at ||
        !ps->nk || !ps->wa || !ps->slots || !ps->argcs || !ps->argvs ||
        !ps->lenss) {
        puts_sent_free(ps);
        return NULL;
    }
    size_t *grp = ps->grp, *head = ps->head, *cnt = ps->cnt, *at = ps->at;
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        const akv_ns *ns = &w[i].ns;
        grp[i] = ALONE;
        if (rb->url.wait_replicas > 0 ||
            akv_rec_encoded_size(&w[i].rec) >= BIG_WRITE)
            continue;
        size_t g = 0;
        while (g < ng && !(w[head[g]].ns.scope == ns->scope &&
                           w[head[g]].ns.sandbox_len == ns->sandbox_len &&
                           memcmp(w[head[g]].ns.sandbox, ns->sandbox,
                                  ns->sandbox_len) == 0))
            g++;
        if (g == ng)
            head[ng++] = i;
        grp[i] = g;
        cnt[g]++;
    }
    ps->ng = ng;
    for (size_t g = 0; g < ng; g++) {
        at[g] = nargs;
        nargs += 3 + 4 + 7 * cnt[g];
    }
    if (ng > 0) {
        ps->argv = calloc(nargs, sizeof *ps->argv);
        ps->lens = calloc(nargs, sizeof *ps->lens);
        ok = ps->argv && ps->lens;
    }
    for (size_t i = 0; ok && i < n; i++) {
        size_t g = grp[i];
        if (g == ALONE)
            continue;
        akv_error_clear();
        if (write_args(&w[i], ps->pos[g]++, 1, 'd', &ps->nk[i], &ps->wa[i],
                       ps->argv + at[g], ps->lens + at[g]) != AKV_OK) {
            ok = false; /* out of memory: all go one at a time */
            break;
        }
        ps->slots[g] = (unsigned)ps->nk[i].slot;
    }
    for (size_t g = 0; ok && g < ng; g++) {
        const char **argv = ps->argv + at[g];
        size_t *lens = ps->lens + at[g];
        argv[0] = "EVALSHA";
        lens[0] = 7;
        argv[1] = rb->sha[S_PUTS];
        lens[1] = 40;
        argv[2] = "4"; /* the namespace's keys, once */
        lens[2] = 1;
        ps->argcs[g] = (int)(3 + 4 + 7 * cnt[g]);
        ps->argvs[g] = argv;
        ps->lenss[g] = lens;
    }
    ps->ok = ok;
    if (ok && ng > 0) {
        struct pipe_guard g;
        pipe_guard_begin(&g, rb->guard_sigpipe);
        akv_error_clear();
        ps->prc = AKV_OK;
        if (!atomic_load(&rb->checked))
            ps->prc = store_check(rb);
        if (ps->prc == AKV_OK)
            ps->prc = akv_rc_send(rb->rc, ng, ps->slots, ps->argcs,
                                  (const char *const *const *)ps->argvs,
                                  ps->lenss, false, &ps->inflight);
        pipe_guard_end(&g);
        ps->perr = *akv_last_error();
        if (ps->inflight)
            *fd = akv_rc_sent_fd(ps->inflight);
    }
    return ps;
}

static void redis_puts_recv(akv_backend *be, void *sent, bool timed_out,
                            akv_rec *out, int *created, int *rcs,
                            akv_error *errs)
{
    redis_backend *rb = (redis_backend *)be;
    struct puts_sent *ps = sent;
    size_t n = ps->n, ng = ps->ng;
    const akv_write *w = ps->w;
    redisReply **replies = ps->replies;
    bool ok = ps->ok;
    if (ps->inflight) {
        struct pipe_guard g;
        pipe_guard_begin(&g, rb->guard_sigpipe);
        akv_error_clear();
        akv_rc_recv(ps->inflight, timed_out, replies);
        ps->inflight = NULL;
        pipe_guard_end(&g);
        if (timed_out)
            akv_fail(AKV_EUNAVAILABLE, "writing entry: %s: timed out",
                     rb->where);
        ps->perr = *akv_last_error();
    }
    for (size_t g = 0; ok && g < ng; g++) {
        redisReply *r = replies[g];
        if (ps->prc == AKV_OK && r && r->type == REDIS_REPLY_ERROR &&
            strncmp(r->str, "NOSCRIPT", 8) == 0) {
            /* Not run: again on its own connection, loading the script. */
            freeReplyObject(r);
            replies[g] = r = NULL;
            struct conn cnb, *cn = &cnb;
            akv_error_clear();
            if (conn_take(rb, (int)ps->slots[g], cn) == AKV_OK) {
                r = replies[g] = run_script(rb, cn, S_PUTS, ps->argcs[g],
                                            ps->argv + ps->at[g],
                                            ps->lens + ps->at[g], 4);
                if (r == NULL)
                    redis_fail(rb, cn->c, NULL, "writing entry");
                conn_give(rb, cn);
            }
            ps->perr = *akv_last_error();
        }
        bool whole = r && r->type == REDIS_REPLY_ARRAY &&
                     r->elements == 4 * ps->cnt[g];
        for (size_t i = 0, p = 0; i < n; i++) {
            if (ps->grp[i] != g)
                continue;
            akv_error_clear();
            if (ps->prc != AKV_OK || r == NULL) {
                akv_error_restore(&ps->perr);
                rcs[i] = ps->perr.code != AKV_OK
                             ? ps->perr.code
                             : akv_fail(AKV_EUNAVAILABLE, "writing entry: "
                                        "%s: connection failed", rb->where);
            } else if (!whole) {
                rcs[i] = redis_fail(rb, NULL, r, "writing entry");
            } else {
                rcs[i] = puts_result(rb, &w[i], r->element + 4 * p, &out[i],
                                     &created[i]);
            }
            errs[i] = *akv_last_error();
            p++;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (ok && ps->grp[i] != ALONE)
            continue;
        akv_error_clear();
        rcs[i] = redis_put(be, &w[i], &out[i], &created[i]);
        errs[i] = *akv_last_error();
    }
    puts_sent_free(ps);
}

static void redis_put_many(akv_backend *be, size_t n, const akv_write *w,
                           akv_rec *out, int *created, int *rcs,
                           akv_error *errs)
{
    int fd;
    int64_t timeout_ms;
    void *sent = redis_puts_send(be, n, w, &fd, &timeout_ms);
    if (sent) {
        redis_puts_recv(be, sent, false, out, created, rcs, errs);
        return;
    }
    for (size_t i = 0; i < n; i++) { /* no memory to group them */
        akv_error_clear();
        rcs[i] = redis_put(be, &w[i], &out[i], &created[i]);
        errs[i] = *akv_last_error();
    }
}

static int redis_del(akv_backend *be, const akv_ns *ns, const char *key,
                     size_t key_len, int64_t now, bool *was_live)
{
    akv_write w = {.ns = *ns, .key = key, .key_len = key_len, .now = now,
                   .del = true};
    long long res[3];
    int rc = write_script((redis_backend *)be, &w, 1, 'D', res);
    if (rc == AKV_OK && was_live)
        *was_live = res[0] != 0;
    return rc;
}

static int redis_write_batch(akv_backend *be, const akv_write *w, size_t n,
                             akv_rec *out)
{
    if (n == 0)
        return AKV_OK;
    for (size_t i = 1; i < n; i++)
        if (w[i].ns.scope != w[0].ns.scope ||
            w[i].ns.sandbox_len != w[0].ns.sandbox_len ||
            memcmp(w[i].ns.sandbox, w[0].ns.sandbox, w[0].ns.sandbox_len))
            return akv_fail(AKV_EINVAL, "a batch spans namespaces (one "
                                        "script may not)");
    long long *res = malloc(3 * n * sizeof *res);
    if (res == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    int rc = write_script((redis_backend *)be, w, n, 'd', res);
    if (rc == AKV_OK && out)
        for (size_t i = 0; i < n; i++)
            if (!w[i].del)
                stored(&w[i], &res[3 * i], &out[i]);
    free(res);
    return rc;
}

static int redis_touch(akv_backend *be, const akv_ns *ns, const char *key,
                       size_t key_len, int64_t expires_at)
{
    redis_backend *rb = (redis_backend *)be;
    struct ns_keys nk;
    ns_keys(&nk, ns->scope, ns->sandbox, ns->sandbox_len);
    struct conn cnb, *cn = &cnb;
    int rc = conn_take(rb, nk.slot, cn);
    if (rc != AKV_OK)
        return rc;
    char exp[24];
    snprintf(exp, sizeof exp, "%lld", (long long)expires_at);
    const char *argv[7] = {NULL, NULL, NULL, nk.k[0], nk.k[2], key, exp};
    size_t lens[7] = {0, 0, 0, nk.len, nk.len, key_len, strlen(exp)};
    redisReply *r = run_script(rb, cn, S_TOUCH, 7, argv, lens, 2);
    if (r == NULL || r->type != REDIS_REPLY_INTEGER)
        rc = redis_fail(rb, cn->c, r, "refreshing expiry");
    else
        rc = wait_replicas(rb, cn);
    if (r)
        freeReplyObject(r);
    conn_give(rb, cn);
    return rc;
}

/* ---- namespaces -------------------------------------------------------- */

/* The namespaces ns covers, in (scope digit, sandbox bytes) order: the
 * order of LMDB's keys. With a sandbox given no lookup is needed; without,
 * the database is scanned (ns_scan). */
static int ns_list(redis_backend *rb, const akv_ns *ns, struct ns_list *l)
{
    memset(l, 0, sizeof *l);
    if (ns->sandbox) {
        int first = ns->scope == AKV_SCOPE_ALL ? 0 : ns->scope;
        int last = ns->scope == AKV_SCOPE_ALL ? AKV_SCOPE_COUNT - 1 : ns->scope;
        for (int s = first; s <= last; s++, l->n++)
            l->fixed[l->n].len = ns_member(l->fixed[l->n].s, s, ns->sandbox,
                                           ns->sandbox_len);
        return AKV_OK;
    }
    struct pipe_guard g;
    pipe_guard_begin(&g, rb->guard_sigpipe);
    int rc = AKV_OK;
    if (!atomic_load(&rb->checked))
        rc = store_check(rb);
    if (rc == AKV_OK)
        rc = ns_scan(rb, ns->scope, l);
    pipe_guard_end(&g);
    return rc;
}

/* Member i of l as scope and sandbox; false if it is not well formed. */
static bool ns_at(const struct ns_list *l, size_t i, akv_ns *ns)
{
    const struct ns_name *nm = l->names ? &l->names[i] : &l->fixed[i];
    const char *m = nm->s;
    size_t len = nm->len;
    if (len < 3 || len > 2 + AKV_SANDBOX_MAX || m[1] != ':' || m[0] < '0' ||
        m[0] >= '0' + AKV_SCOPE_COUNT)
        return false;
    ns->scope = m[0] - '0';
    ns->sandbox = m + 2;
    ns->sandbox_len = len - 2;
    if (akv_sandbox_check(ns->sandbox, ns->sandbox_len) != AKV_OK) {
        akv_error_clear(); /* not ours: skipped, not an error */
        return false;
    }
    return true;
}

/* ---- scan -------------------------------------------------------------- */

/* Scans one namespace page by page. Returns fn's non-zero value, AKV_OK,
 * or an error. */
static int scan_ns(redis_backend *rb, const akv_ns *ns, const char *prefix,
                   size_t prefix_len, const char *after, size_t after_len,
                   akv_scan_fn fn, void *ctx)
{
    struct ns_keys nk;
    ns_keys(&nk, ns->scope, ns->sandbox, ns->sandbox_len);
    /* Start at the later of prefix (inclusive) and after (exclusive). */
    char start[1 + AKV_KEY_MAX];
    size_t start_len = 1;
    start[0] = '-';
    const char *from = NULL;
    size_t from_len = 0;
    bool exclusive = false;
    if (prefix && prefix_len) {
        from = prefix;
        from_len = prefix_len;
    }
    if (after && (from == NULL ||
                  akvx_keycmp(after, after_len, from, from_len) >= 0)) {
        from = after;
        from_len = after_len;
        exclusive = true;
    }
    char count[16], bytes[16];
    snprintf(count, sizeof count, "%d", SCAN_PAGE);
    snprintf(bytes, sizeof bytes, "%u", SCAN_PAGE_BYTES);
    for (;;) {
        if (from) {
            if (from_len > AKV_KEY_MAX)
                from_len = AKV_KEY_MAX;
            start[0] = exclusive ? '(' : '[';
            memmove(start + 1, from, from_len); /* from may be start + 1 */
            start_len = 1 + from_len;
        }
        struct conn cnb, *cn = &cnb;
        int rc = conn_take(rb, nk.slot, cn);
        if (rc != AKV_OK)
            return rc;
        const char *argv[8] = {NULL, NULL, NULL, nk.k[0], nk.k[1], start,
                               count, bytes};
        size_t lens[8] = {0,         0,    0, nk.len, nk.len, start_len,
                          strlen(count), strlen(bytes)};
        redisReply *r = run_script(rb, cn, S_SCAN, 8, argv, lens, 2);
        long long more = 0;
        if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
            reply_int(r->element[2], &more) != 0 ||
            r->element[0]->type != REDIS_REPLY_ARRAY ||
            r->element[1]->type != REDIS_REPLY_ARRAY ||
            r->element[0]->elements != r->element[1]->elements) {
            rc = redis_fail(rb, cn->c, r, "scanning entries");
            if (r)
                freeReplyObject(r);
            conn_give(rb, cn);
            return rc;
        }
        conn_give(rb, cn);
        const redisReply *ks = r->element[0], *bs = r->element[1];
        int stop = 0;
        bool past = false;
        for (size_t i = 0; i < ks->elements && !stop; i++) {
            const redisReply *k = ks->element[i], *b = bs->element[i];
            if (k->type != REDIS_REPLY_STRING)
                continue;
            if (prefix && (k->len < prefix_len ||
                           memcmp(k->str, prefix, prefix_len) != 0)) {
                past = true; /* sorted: beyond the prefix range */
                break;
            }
            if (b->type != REDIS_REPLY_STRING)
                continue; /* deleted between the index and the hash read */
            akv_rec rec;
            if (akv_rec_decode(b->str, b->len, &rec) != AKV_OK) {
                /* As on LMDB: passed on as damaged, so that readers report
                 * it instead of skipping it silently. */
                akv_rec_damaged(&rec, b->len);
                akv_error_clear();
            }
            stop = fn(ctx, ns, k->str, k->len, &rec);
        }
        size_t got = ks->elements;
        if (got > 0) {
            const redisReply *last = ks->element[got - 1];
            from_len = last->len < sizeof start - 1 ? last->len
                                                    : sizeof start - 1;
            memcpy(start + 1, last->str, from_len);
        }
        freeReplyObject(r);
        if (stop)
            return stop;
        if (past || !more || got == 0)
            return AKV_OK;
        from = start + 1; /* from_len set above */
        exclusive = true;
    }
}

static int redis_scan(akv_backend *be, const akv_ns *ns, const char *prefix,
                      size_t prefix_len, const char *after, size_t after_len,
                      akv_scan_fn fn, void *ctx)
{
    redis_backend *rb = (redis_backend *)be;
    struct ns_list l;
    int rc = ns_list(rb, ns, &l);
    for (size_t i = 0; i < l.n && rc == AKV_OK; i++) {
        akv_ns one;
        if (ns_at(&l, i, &one))
            rc = scan_ns(rb, &one, prefix, prefix_len, after, after_len, fn,
                         ctx);
    }
    free(l.names);
    return rc;
}

static int redis_remove(akv_backend *be, const akv_ns *ns, bool expired_only,
                        int64_t now, uint64_t counts[AKV_SCOPE_COUNT],
                        uint64_t *live_removed)
{
    redis_backend *rb = (redis_backend *)be;
    struct ns_list l;
    int rc = ns_list(rb, ns, &l);
    char nowbuf[24];
    snprintf(nowbuf, sizeof nowbuf, "%lld", (long long)now);
    const char *mode = expired_only ? "expired" : "all";
    for (size_t i = 0; i < l.n && rc == AKV_OK; i++) {
        akv_ns one;
        if (!ns_at(&l, i, &one))
            continue;
        struct ns_keys nk;
        ns_keys(&nk, one.scope, one.sandbox, one.sandbox_len);
        struct conn cnb, *cn = &cnb;
        if ((rc = conn_take(rb, nk.slot, cn)) != AKV_OK)
            break;
        const char *argv[9] = {NULL,     NULL,     NULL, nk.k[0], nk.k[1],
                               nk.k[2], nk.k[3], mode, nowbuf};
        size_t lens[9] = {0,      0,      0, nk.len,       nk.len,
                          nk.len, nk.len, strlen(mode), strlen(nowbuf)};
        redisReply *r = run_script(rb, cn, S_REMOVE, 9, argv, lens, 4);
        long long removed, live;
        if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
            reply_int(r->element[0], &removed) != 0 ||
            reply_int(r->element[1], &live) != 0) {
            rc = redis_fail(rb, cn->c, r, "removing entries");
        } else {
            if (counts)
                counts[one.scope] += (uint64_t)removed;
            if (live_removed)
                *live_removed += (uint64_t)live;
            if (removed > 0)
                rc = wait_replicas(rb, cn);
        }
        if (r)
            freeReplyObject(r);
        conn_give(rb, cn);
    }
    free(l.names);
    return rc;
}

/* Runs, for each well-formed namespace i of l, the command
 * {op, its usage hash akv:{S:SB}:u, args[0..nargs)} (nargs <= 2),
 * pipelined per node; replies[i] is its reply (NULL for a namespace that
 * is not well formed, or whose node failed: *failed then set). */
static int ns_pipeline(redis_backend *rb, const struct ns_list *l,
                       const char *op, int nargs, const char *const *args,
                       redisReply **replies, bool *failed)
{
    size_t n = l->n ? l->n : 1;
    struct ns_keys *nk = malloc(n * sizeof *nk);
    unsigned *slots = malloc(n * sizeof *slots);
    int *argcs = malloc(n * sizeof *argcs);
    const char *(*av)[4] = malloc(n * sizeof *av);
    size_t (*al)[4] = malloc(n * sizeof *al);
    const char ***argvs = malloc(n * sizeof *argvs);
    const size_t **lenss = malloc(n * sizeof *lenss);
    unsigned char *ok = calloc(n, 1);
    redisReply **got = calloc(n, sizeof *got);
    size_t k = 0;
    int rc = AKV_OK;
    *failed = false;
    if (!nk || !slots || !argcs || !av || !al || !argvs || !lenss || !ok ||
        !got) {
        rc = akv_fail(AKV_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < l->n; i++) {
        akv_ns one;
        replies[i] = NULL;
        if (!ns_at(l, i, &one))
            continue;
        ok[i] = 1;
        ns_keys(&nk[k], one.scope, one.sandbox, one.sandbox_len);
        slots[k] = (unsigned)nk[k].slot;
        argcs[k] = 2 + nargs;
        av[k][0] = op;
        al[k][0] = strlen(op);
        av[k][1] = nk[k].k[3];
        al[k][1] = nk[k].len;
        for (int j = 0; j < nargs; j++) {
            av[k][2 + j] = args[j];
            al[k][2 + j] = strlen(args[j]);
        }
        argvs[k] = av[k];
        lenss[k] = al[k];
        k++;
    }
    rc = pipeline(rb, k, slots, argcs, (const char *const *const *)argvs,
                  lenss, true, got);
    if (rc == AKV_OK)
        for (size_t i = 0, j = 0; i < l->n; i++)
            if (ok[i]) {
                replies[i] = got[j++];
                if (replies[i] == NULL)
                    *failed = true;
            }
out:
    free(nk);
    free(slots);
    free(argcs);
    free(av);
    free(al);
    free(argvs);
    free(lenss);
    free(ok);
    free(got);
    return rc;
}

/* Every namespace's usage hash, pipelined: one round trip per node. */
static int redis_usage(akv_backend *be, uint64_t entries[AKV_SCOPE_COUNT],
                       uint64_t bytes[AKV_SCOPE_COUNT])
{
    redis_backend *rb = (redis_backend *)be;
    akv_ns all = {NULL, 0, AKV_SCOPE_ALL};
    struct ns_list l;
    int rc = ns_list(rb, &all, &l);
    if (rc != AKV_OK)
        return rc;
    redisReply **rs = calloc(l.n ? l.n : 1, sizeof *rs);
    bool failed = false;
    static const char *const fields[2] = {"bytes", "entries"};
    if (rs == NULL)
        rc = akv_fail(AKV_ENOMEM, "out of memory");
    else
        rc = ns_pipeline(rb, &l, "HMGET", 2, fields, rs, &failed);
    if (rc == AKV_OK && failed)
        rc = akv_fail(AKV_EUNAVAILABLE, "reading usage: %s: connection "
                      "failed", rb->where);
    for (size_t i = 0; rs && i < l.n; i++) {
        redisReply *r = rs[i];
        akv_ns one;
        if (r == NULL || !ns_at(&l, i, &one))
            continue;
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            if (rc == AKV_OK)
                rc = redis_fail(rb, NULL, r, "reading usage");
        } else if (rc == AKV_OK) {
            long long b = 0, e = 0;
            if (r->element[0]->type != REDIS_REPLY_NIL)
                reply_int(r->element[0], &b);
            if (r->element[1]->type != REDIS_REPLY_NIL)
                reply_int(r->element[1], &e);
            bytes[one.scope] += b > 0 ? (uint64_t)b : 0;
            entries[one.scope] += e > 0 ? (uint64_t)e : 0;
        }
        freeReplyObject(r);
    }
    free(rs);
    free(l.names);
    return rc;
}

/* ---- counters ---------------------------------------------------------- */

/* Moves the counts gathered in this process into its counter shard,
 * pipelined. On
 * failure they are put back for the next try. */
static void counters_flush(redis_backend *rb)
{
    uint64_t h[AKV_SCOPE_COUNT], m[AKV_SCOPE_COUNT], any = 0;
    for (int i = 0; i < AKV_SCOPE_COUNT; i++) {
        h[i] = atomic_exchange(&rb->hits[i], 0);
        m[i] = atomic_exchange(&rb->misses[i], 0);
        any |= h[i] | m[i];
    }
    if (any == 0)
        return;
    akv_error saved = *akv_last_error();
    struct conn cnb, *cn = &cnb;
    size_t klen = strlen(rb->counter_key);
    bool taken = conn_take(rb, (int)akv_rc_slot(rb->counter_key, klen), cn) ==
                 AKV_OK;
    bool ok = taken;
    /* One HINCRBY at a time, each following redirections; a count whose
     * command did not succeed is put back for the next try (one that
     * failed on an I/O error may have been added: counts are statistics,
     * an over-count after a lost connection is accepted). */
    for (int i = 0; i < 2 * AKV_SCOPE_COUNT; i++) {
        uint64_t *v = i < AKV_SCOPE_COUNT ? &h[i] : &m[i - AKV_SCOPE_COUNT];
        if (*v == 0 || !ok)
            continue;
        char field[16], num[24];
        snprintf(field, sizeof field, "%s:%d",
                 i < AKV_SCOPE_COUNT ? "hits" : "misses",
                 i % AKV_SCOPE_COUNT);
        snprintf(num, sizeof num, "%llu", (unsigned long long)*v);
        const char *argv[4] = {"HINCRBY", rb->counter_key, field, num};
        size_t lens[4] = {7, klen, strlen(field), strlen(num)};
        redisReply *r = rexec(rb, cn, false, 4, argv, lens);
        if (r && r->type == REDIS_REPLY_INTEGER)
            *v = 0;
        else
            ok = false;
        if (r)
            freeReplyObject(r);
        if (cn->c == NULL)
            ok = false;
    }
    if (taken)
        conn_give(rb, cn);
    for (int i = 0; i < AKV_SCOPE_COUNT; i++) {
        if (h[i])
            atomic_fetch_add(&rb->hits[i], h[i]);
        if (m[i])
            atomic_fetch_add(&rb->misses[i], m[i]);
    }
    akv_error_restore(&saved);
}

static void redis_count(akv_backend *be, akv_scope scope, bool hit)
{
    redis_backend *rb = (redis_backend *)be;
    atomic_fetch_add_explicit(hit ? &rb->hits[scope] : &rb->misses[scope], 1,
                              memory_order_relaxed);
    int64_t now = akv_realtime_ms(), last = atomic_load(&rb->flushed_at);
    if (now - last >= COUNTER_FLUSH_MS &&
        atomic_compare_exchange_strong(&rb->flushed_at, &last, now))
        counters_flush(rb);
}

static void redis_counters(akv_backend *be, uint64_t hits[AKV_SCOPE_COUNT],
                           uint64_t misses[AKV_SCOPE_COUNT])
{
    redis_backend *rb = (redis_backend *)be;
    for (int i = 0; i < AKV_SCOPE_COUNT; i++) {
        hits[i] = atomic_load(&rb->hits[i]);
        misses[i] = atomic_load(&rb->misses[i]);
    }
    akv_error saved = *akv_last_error();
    /* Every shard, pipelined per node; a shard that cannot be read counts
     * 0. */
    char keys[COUNTER_SHARDS][16];
    unsigned slots[COUNTER_SHARDS];
    int argcs[COUNTER_SHARDS];
    const char *av[COUNTER_SHARDS][2];
    size_t al[COUNTER_SHARDS][2];
    const char *const *argvs[COUNTER_SHARDS];
    const size_t *lenss[COUNTER_SHARDS];
    redisReply *rs[COUNTER_SHARDS];
    for (int k = 0; k < COUNTER_SHARDS; k++) {
        snprintf(keys[k], sizeof keys[k], "akv:{c:%d}", k);
        av[k][0] = "HGETALL";
        al[k][0] = 7;
        av[k][1] = keys[k];
        al[k][1] = strlen(keys[k]);
        slots[k] = akv_rc_slot(keys[k], al[k][1]);
        argcs[k] = 2;
        argvs[k] = av[k];
        lenss[k] = al[k];
    }
    if (pipeline(rb, COUNTER_SHARDS, slots, argcs, argvs, lenss, true, rs) !=
        AKV_OK) {
        akv_error_restore(&saved);
        return;
    }
    for (int k = 0; k < COUNTER_SHARDS; k++) {
        redisReply *r = rs[k];
        if (r == NULL)
            continue;
        if (r->type != REDIS_REPLY_ARRAY) {
            freeReplyObject(r);
            continue;
        }
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
            const redisReply *f = r->element[i];
            long long v;
            int s;
            if (f->type != REDIS_REPLY_STRING ||
                reply_int(r->element[i + 1], &v) != 0 || v < 0)
                continue;
            if (sscanf(f->str, "hits:%d", &s) == 1 && s >= 0 &&
                s < AKV_SCOPE_COUNT)
                hits[s] += (uint64_t)v;
            else if (sscanf(f->str, "misses:%d", &s) == 1 && s >= 0 &&
                     s < AKV_SCOPE_COUNT)
                misses[s] += (uint64_t)v;
        }
        freeReplyObject(r);
    }
    akv_error_restore(&saved);
}

/* The namespaces (ns_scan) whose usage hash counts entries: the list,
 * then one HGET per namespace, pipelined per node. */
static int redis_namespaces(akv_backend *be,
                            int (*fn)(void *ctx, const akv_ns *ns), void *ctx)
{
    redis_backend *rb = (redis_backend *)be;
    akv_ns all = {NULL, 0, AKV_SCOPE_ALL};
    struct ns_list l;
    int rc = ns_list(rb, &all, &l);
    if (rc != AKV_OK)
        return rc;
    redisReply **rs = calloc(l.n ? l.n : 1, sizeof *rs);
    bool failed = false;
    static const char *const field[1] = {"entries"};
    if (rs == NULL)
        rc = akv_fail(AKV_ENOMEM, "out of memory");
    else
        rc = ns_pipeline(rb, &l, "HGET", 1, field, rs, &failed);
    if (rc == AKV_OK && failed)
        rc = akv_fail(AKV_EUNAVAILABLE, "reading usage: %s: connection "
                      "failed", rb->where);
    for (size_t i = 0; rs && i < l.n; i++) {
        redisReply *r = rs[i];
        akv_ns one;
        long long e = 0;
        if (r == NULL || !ns_at(&l, i, &one))
            continue;
        if (r->type == REDIS_REPLY_ERROR) {
            if (rc == AKV_OK)
                rc = redis_fail(rb, NULL, r, "reading usage");
        } else if (rc == AKV_OK && r->type != REDIS_REPLY_NIL &&
                   reply_int(r, &e) == 0 && e > 0) {
            rc = fn(ctx, &one);
        }
        freeReplyObject(r);
    }
    free(rs);
    free(l.names);
    return rc;
}

static const akv_backend_ops redis_ops = {
    .name = "redis",
    .remote = true,
    .close = redis_close,
    .get = redis_get,
    .release = redis_release,
    .get_many = redis_get_many,
    .put = redis_put,
    .del = redis_del,
    .touch = redis_touch,
    .scan = redis_scan,
    .remove = redis_remove,
    .usage = redis_usage,
    .count = redis_count,
    .counters = redis_counters,
    .backup = NULL, /* use export, or Redis' own persistence */
    .write_batch = redis_write_batch,
    .put_many = redis_put_many,
    .put_many_send = redis_puts_send,
    .put_many_recv = redis_puts_recv,
    .namespaces = redis_namespaces,
};
