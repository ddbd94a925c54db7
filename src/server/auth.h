/*
 * auth.h — API tokens: the tokens file (tokens-file.c, shared by `agentkv
 * token` and `agentkv serve`), and the server's in-memory token table that
 * SIGHUP swaps atomically, with the bearer-token check (auth.c).
 *
 * The tokens file holds one line per token (docs/http.md, "Tokens file"):
 *
 *   ID SHA256 ROLE PATTERN LABEL CREATED_AT
 *
 * separated by single spaces: ID is 12 lowercase hex digits, SHA256 the 64
 * lowercase hex digits of the SHA-256 of the token text, ROLE "admin" or
 * "agent", PATTERN a sandbox glob (fnmatch(3) syntax, "*" for admins),
 * LABEL free text percent-encoded so that it holds no space ("-" when
 * empty), CREATED_AT an RFC 3339 UTC time. Lines starting with '#' and
 * empty lines are ignored. Tokens themselves are never stored.
 */
#ifndef AKV_AUTH_H
#define AKV_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "server.h"

#define TOKEN_ID_LEN 12
#define TOKEN_PATTERN_MAX 128
#define TOKEN_LABEL_MAX 200
/* "akv_" + 43 base64url characters (32 random bytes) + NUL. */
#define TOKEN_BUF 64

struct token_entry {
    char id[TOKEN_ID_LEN + 1];
    unsigned char hash[32];
    enum auth_role role;
    char pattern[TOKEN_PATTERN_MAX + 1];
    char label[TOKEN_LABEL_MAX + 1];
    int64_t created_at; /* ms since the epoch */
};

const char *auth_role_name(enum auth_role role);
/* "admin" or "agent"; 0 on success, -1 otherwise. */
int auth_role_parse(const char *s, enum auth_role *out);
/* A sandbox pattern: 1..128 characters of A-Z a-z 0-9 _ - * ? [ ] !. */
int auth_pattern_check(const char *pattern);

/*
 * Reads the tokens file. AKV_OK with an owned array (free()) and its
 * length; AKV_ENOTFOUND when the file does not exist; AKV_EINVAL naming
 * the line of the first malformed entry; AKV_EUNAVAILABLE when the file
 * cannot be read. msg receives the message of a failure.
 */
int tokens_read(const char *path, struct token_entry **out, size_t *n,
                char *msg, size_t msglen);
/* The same for the server, which trusts only a private file: one that
 * group or others may read or write is AKV_EUNAVAILABLE, naming the file,
 * its mode and the chmod that fixes it. */
int tokens_read_private(const char *path, struct token_entry **out, size_t *n,
                        char *msg, size_t msglen);
/*
 * Creates a token: random text into token (TOKEN_BUF bytes), its entry
 * appended to the file (created with mode 0600 if missing, together with
 * its directory), written atomically under a lock so that concurrent
 * `token` commands do not lose each other's lines. *entry (may be NULL)
 * receives the new entry.
 */
int tokens_create(const char *path, enum auth_role role, const char *pattern,
                  const char *label, char token[TOKEN_BUF],
                  struct token_entry *entry, char *msg, size_t msglen);
/* Removes the entry with this id. AKV_ENOTFOUND when there is none. */
int tokens_revoke(const char *path, const char *id, struct token_entry *removed,
                  char *msg, size_t msglen);
/* The label as written in the file (percent-encoded, "-" when empty). */
void tokens_label_encode(const char *label, char *out, size_t outlen);

/* ---- the server's table (auth.c) ---------------------------------------- */

struct auth;
struct auth_cache;

/* disabled = --no-auth: every request is an admin. */
struct auth *auth_new(const char *path, int disabled);
void auth_free(struct auth *a);
/* (Re)loads the file and swaps the table in; on failure the old table
 * stays. A missing file loads as an empty table. A file that group or
 * others may read or write is refused (AKV_EUNAVAILABLE naming the file,
 * its mode and the chmod that fixes it). */
int auth_load(struct auth *a, char *msg, size_t msglen);
/* Number of tokens in the current table. */
size_t auth_count(struct auth *a);
int auth_disabled(const struct auth *a);

/* One worker's reference to the current table: taken again only after a
 * reload, so a lookup costs no lock. */
struct auth_cache *auth_cache_new(struct auth *a);
void auth_cache_free(struct auth_cache *c);
/*
 * What one connection remembers of the last token it presented: the token
 * and the entry it named in the table of generation gen (0: nothing). A
 * keep-alive connection that sends the same token again is answered from
 * it, without the SHA-256 and the pass over the table; the token is
 * compared in constant time, and a reload (a new generation) forgets it.
 * The connection owns it, zeroed when made, and wipes it when it closes
 * (auth_memo_wipe). Used only with the worker's auth_cache that filled it.
 */
struct auth_memo {
    uint_fast64_t gen;
    size_t idx;
    size_t len;
    unsigned char token[TOKEN_BUF];
};
void auth_memo_wipe(struct auth_memo *m);

/*
 * The entry whose hash equals SHA-256(token), compared in constant time
 * against every entry, or NULL. Valid until the next lookup on c. memo
 * (may be NULL) is the connection's, consulted first and refilled.
 */
const struct token_entry *auth_lookup(struct auth_cache *c,
                                      struct auth_memo *memo,
                                      const char *token, size_t len);
/*
 * The one bearer-token check of the server (REST routes and /mcp): the
 * entry of the token in an Authorization header value (authorization.p NULL
 * when the header is absent), or NULL with *why saying what to answer with
 * 401: the header is missing, is not "Bearer TOKEN", or names no token in
 * the table. c NULL (it could not be allocated) answers "out of memory".
 * memo as for auth_lookup. Valid until the next lookup on c.
 */
const struct token_entry *auth_bearer(struct auth_cache *c,
                                      struct auth_memo *memo,
                                      struct http_span authorization,
                                      const char **why);
/* Whether the entry may address the sandbox (admins: any; agents: matching
 * their pattern, never _global). */
int auth_sandbox_allowed(const struct token_entry *e, const char *sandbox);

#endif /* AKV_AUTH_H */
