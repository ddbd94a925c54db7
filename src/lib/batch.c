/*
 * batch.c — akv_batch_write: several puts and deletes on one namespace in
 * one transaction.
 *
 * Seeding needs it (validate every file, then write all changes or none),
 * and nothing else in the public API offers it: akv_import restores exact
 * versions and timestamps, which is right for a backup and wrong for a seed
 * whose versions must grow. The validation here mirrors akv_put and akv_del
 * in store.c (sandbox, key, size, TTL, content type, metadata, If-Match)
 * and runs over the whole batch before the backend sees any of it; the
 * backend's write_batch op then applies it atomically.
 */
#include <stdlib.h>
#include <string.h>

#include "agentkv-instructions.h"
#include "internal.h"

/* Storage for what each write points at beyond the caller's buffers. */
struct prepared {
    unsigned char match[32];
};

static int keycmp_op(const akv_batch_op *a, const akv_batch_op *b)
{
    return akvx_keycmp(a->key, a->key_len, b->key, b->key_len);
}

static int cmp_ptr(const void *a, const void *b)
{
    return keycmp_op(*(const akv_batch_op *const *)a,
                     *(const akv_batch_op *const *)b);
}

/* Prefixes the thread's last error with the operation's key. */
static int fail_op(int rc, const akv_batch_op *op)
{
    char shown[AKV_QUOTE_BUF], msg[sizeof akv_last_error()->message];
    snprintf(msg, sizeof msg, "%s", akv_last_error()->message);
    return akv_fail(rc, "key '%s': %s", akv_quote(shown, op->key, op->key_len),
                    msg);
}

static int prepare(akv_store *s, const char *sandbox, akv_scope scope,
                   const akv_batch_op *op, akv_write *w, struct prepared *p)
{
    int rc;
    if ((rc = akv_key_check(op->key, op->key_len)) != AKV_OK)
        return rc;
    memset(w, 0, sizeof *w);
    w->ns.sandbox = sandbox;
    w->ns.sandbox_len = strlen(sandbox);
    w->ns.scope = scope;
    w->key = op->key;
    w->key_len = op->key_len;
    w->now = akv_store_now(s);
    const akv_put_opts *o = &op->opts;
    if (o->if_match &&
        akv_hex_decode(o->if_match, strlen(o->if_match), p->match) != AKV_OK)
        return akv_fail(AKV_EINVAL, "invalid If-Match: expected the 64-hex "
                                    "SHA-256 of the current value");
    w->if_match = o->if_match ? p->match : NULL;
    if (op->del) { /* a conditional delete when if_match is set */
        w->del = true;
        return AKV_OK;
    }
    if (op->value == NULL && op->value_len != 0)
        return akv_fail(AKV_EINVAL, "value is NULL");
    if (op->value_len > s->cfg.max_value_size)
        return akv_fail(AKV_ETOOLARGE,
                        "value of %zu bytes is over max_value_size (%llu "
                        "bytes)",
                        op->value_len,
                        (unsigned long long)s->cfg.max_value_size);
    if (o->ttl < AKV_TTL_DEFAULT)
        return akv_fail(AKV_EINVAL, "invalid TTL %lld", (long long)o->ttl);
    const char *ct = o->content_type ? o->content_type
                                     : AKV_DEFAULT_CONTENT_TYPE;
    if ((rc = akv_content_type_check(ct, strlen(ct))) != AKV_OK)
        return rc;
    if (o->metadata &&
        (rc = akv_metadata_check(o->metadata, o->metadata_len)) != AKV_OK)
        return rc;
    int64_t ttl = o->ttl == AKV_TTL_DEFAULT ? s->cfg.ttl[scope] : o->ttl;
    w->ttl_ms = ttl * 1000;
    w->quota = s->cfg.quota[scope];
    w->create_only = o->create_only != 0;
    w->rec.content_type = ct;
    w->rec.content_type_len = strlen(ct);
    w->rec.metadata = o->metadata && o->metadata_len ? o->metadata : NULL;
    w->rec.metadata_len = w->rec.metadata ? o->metadata_len : 0;
    w->rec.value = op->value;
    w->rec.value_len = op->value_len;
    akv_sha256(op->value, op->value_len, w->rec.sha256);
    return AKV_OK;
}

int akv_batch_write(akv_store *s, const char *sandbox, akv_scope scope,
                    const akv_batch_op *ops, size_t n, akv_meta *out)
{
    int rc;
    akv_error_clear();
    if (s == NULL || sandbox == NULL || (ops == NULL && n != 0))
        return akv_fail(AKV_EINVAL, "batch: NULL argument");
    if ((int)scope < 0 || scope >= AKV_SCOPE_COUNT)
        return akv_fail(AKV_EINVAL, "invalid scope %d", (int)scope);
    if ((rc = akv_sandbox_check(sandbox, strlen(sandbox))) != AKV_OK)
        return rc;
    if (n == 0)
        return AKV_OK;

    akv_write *ws = calloc(n, sizeof *ws);
    struct prepared *ps = calloc(n, sizeof *ps);
    akv_rec *recs = calloc(n, sizeof *recs);
    const akv_batch_op **order = calloc(n, sizeof *order);
    if (ws == NULL || ps == NULL || recs == NULL || order == NULL) {
        rc = akv_fail(AKV_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if ((rc = prepare(s, sandbox, scope, &ops[i], &ws[i], &ps[i])) !=
            AKV_OK) {
            rc = fail_op(rc, &ops[i]);
            goto out;
        }
        order[i] = &ops[i];
    }
    /* A key twice would make the outcome depend on the order of writes. */
    qsort(order, n, sizeof *order, cmp_ptr);
    for (size_t i = 1; i < n; i++)
        if (keycmp_op(order[i - 1], order[i]) == 0) {
            rc = akv_fail(AKV_EINVAL, "batch: key appears twice");
            rc = fail_op(rc, order[i]);
            goto out;
        }

    rc = s->be->ops->write_batch(s->be, ws, n, recs);
    if (rc != AKV_OK)
        goto out;
    for (size_t i = 0; out && i < n; i++) {
        if (ops[i].del) {
            memset(&out[i], 0, sizeof out[i]);
            snprintf(out[i].sandbox, sizeof out[i].sandbox, "%s", sandbox);
            snprintf(out[i].origin, sizeof out[i].origin, "%s", sandbox);
            out[i].scope = scope;
            memcpy(out[i].key, ops[i].key, ops[i].key_len);
            out[i].key[ops[i].key_len] = '\0';
            out[i].key_len = ops[i].key_len;
        } else {
            akv_meta_fill(&out[i], sandbox, sandbox, scope, ops[i].key,
                          ops[i].key_len, &recs[i]);
        }
    }
out:
    free(ws);
    free(ps);
    free(recs);
    free(order);
    return rc;
}
