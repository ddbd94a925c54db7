/*
 * auth.c — the server's token table and the bearer-token check.
 *
 * A lookup hashes the presented token and compares the digest with every
 * entry using CRYPTO_memcmp, without stopping at the first match, so the
 * time taken does not depend on which entry (if any) matched or where the
 * digests differ.
 *
 * Reloading (SIGHUP) builds a new table and publishes it under a mutex with
 * a generation counter. Workers keep a counted reference to the table they
 * use and take the new one only when the generation moved, so the hot path
 * is one atomic load; an old table is freed when its last user lets go,
 * never under a request that still looks at it.
 *
 * The file itself (format, reading, rewriting) is tokens-file.c.
 */
/* The one-shot SHA256() of OpenSSL 3 goes through EVP and takes a lock per
 * call; the low-level functions (deprecated, not removed, and what the
 * library uses for values too) do not, and every request hashes a token. */
#define OPENSSL_API_COMPAT 0x10100000L

#include "auth.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

struct token_table {
    atomic_int refs;
    size_t n;
    struct token_entry *v;
};

struct auth {
    char *path;
    int disabled;
    pthread_mutex_t lock;      /* guards cur together with gen */
    struct token_table *cur;   /* holds one reference */
    atomic_uint_fast64_t gen;  /* bumped after each swap */
};

struct auth_cache {
    struct auth *auth;
    struct token_table *t;     /* one reference, or NULL */
    uint_fast64_t gen;
};

static void table_release(struct token_table *t)
{
    if (t && atomic_fetch_sub(&t->refs, 1) == 1) {
        free(t->v);
        free(t);
    }
}

struct auth *auth_new(const char *path, int disabled)
{
    struct auth *a = calloc(1, sizeof *a);
    if (a == NULL)
        return NULL;
    a->path = strdup(path ? path : "");
    a->cur = calloc(1, sizeof *a->cur);
    if (a->path == NULL || a->cur == NULL) {
        free(a->path);
        free(a->cur);
        free(a);
        return NULL;
    }
    atomic_init(&a->cur->refs, 1);
    a->disabled = disabled;
    pthread_mutex_init(&a->lock, NULL);
    atomic_init(&a->gen, 1);
    return a;
}

void auth_free(struct auth *a)
{
    if (a == NULL)
        return;
    table_release(a->cur);
    pthread_mutex_destroy(&a->lock);
    free(a->path);
    free(a);
}

int auth_disabled(const struct auth *a)
{
    return a->disabled;
}

int auth_load(struct auth *a, char *msg, size_t msglen)
{
    struct token_entry *v = NULL;
    size_t n = 0;
    int rc = tokens_read_private(a->path, &v, &n, msg, msglen);
    if (rc == AKV_ENOTFOUND)
        rc = AKV_OK;
    if (rc != AKV_OK)
        return rc;
    struct token_table *t = calloc(1, sizeof *t);
    if (t == NULL) {
        free(v);
        if (msg && msglen)
            snprintf(msg, msglen, "out of memory");
        return AKV_ENOMEM;
    }
    atomic_init(&t->refs, 1);
    t->v = v;
    t->n = n;
    pthread_mutex_lock(&a->lock);
    struct token_table *old = a->cur;
    a->cur = t;
    atomic_fetch_add(&a->gen, 1);
    pthread_mutex_unlock(&a->lock);
    table_release(old);
    return AKV_OK;
}

size_t auth_count(struct auth *a)
{
    pthread_mutex_lock(&a->lock);
    size_t n = a->cur->n;
    pthread_mutex_unlock(&a->lock);
    return n;
}

struct auth_cache *auth_cache_new(struct auth *a)
{
    struct auth_cache *c = calloc(1, sizeof *c);
    if (c)
        c->auth = a;
    return c;
}

void auth_cache_free(struct auth_cache *c)
{
    if (c == NULL)
        return;
    table_release(c->t);
    free(c);
}

void auth_memo_wipe(struct auth_memo *m)
{
    OPENSSL_cleanse(m, sizeof *m);
}

const struct token_entry *auth_lookup(struct auth_cache *c,
                                      struct auth_memo *memo,
                                      const char *token, size_t len)
{
    struct auth *a = c->auth;
    if (c->t == NULL || atomic_load(&a->gen) != c->gen) {
        pthread_mutex_lock(&a->lock);
        struct token_table *t = a->cur;
        atomic_fetch_add(&t->refs, 1);
        c->gen = atomic_load(&a->gen);
        pthread_mutex_unlock(&a->lock);
        table_release(c->t);
        c->t = t;
    }
    /* The length is no secret (every token has the same); the bytes are
     * compared in constant time. */
    if (memo && memo->gen == c->gen && memo->len == len &&
        CRYPTO_memcmp(memo->token, token, len) == 0)
        return &c->t->v[memo->idx];
    unsigned char digest[32];
    SHA256_CTX sha;
    SHA256_Init(&sha);
    SHA256_Update(&sha, token, len);
    SHA256_Final(digest, &sha);
    const struct token_entry *found = NULL;
    for (size_t i = 0; i < c->t->n; i++) {
        /* No early exit: every entry is compared. */
        int same = CRYPTO_memcmp(digest, c->t->v[i].hash, 32) == 0;
        if (same)
            found = &c->t->v[i];
    }
    if (memo) {
        memo->gen = 0;
        if (found && len <= sizeof memo->token) {
            memcpy(memo->token, token, len);
            memo->len = len;
            memo->idx = (size_t)(found - c->t->v);
            memo->gen = c->gen;
        }
    }
    return found;
}

const struct token_entry *auth_bearer(struct auth_cache *c,
                                      struct auth_memo *memo,
                                      struct http_span authorization,
                                      const char **why)
{
    struct http_span bearer;
    const struct token_entry *tok = NULL;
    if (authorization.p == NULL)
        *why = "missing token: send Authorization: Bearer TOKEN";
    else if (http_bearer(authorization, &bearer) != 0)
        *why = "malformed Authorization header: expected Bearer TOKEN";
    else if (c == NULL)
        *why = "out of memory";
    else if ((tok = auth_lookup(c, memo, bearer.p, bearer.len)) == NULL)
        *why = "unknown or revoked token";
    return tok;
}

int auth_sandbox_allowed(const struct token_entry *e, const char *sandbox)
{
    if (e->role == ROLE_ADMIN)
        return 1;
    if (e->role != ROLE_AGENT || strcmp(sandbox, AKV_GLOBAL_SANDBOX) == 0)
        return 0;
    return fnmatch(e->pattern, sandbox, 0) == 0;
}
