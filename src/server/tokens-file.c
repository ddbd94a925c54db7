/*
 * tokens-file.c — the tokens file, shared by `agentkv token` and
 * `agentkv serve`: reading it, and rewriting it to create or revoke a token.
 *
 * Tokens are 32 random bytes from OpenSSL's RAND_bytes, written as "akv_"
 * plus 43 base64url characters. Only their SHA-256 is stored.
 *
 * The file is rewritten whole on every change: a temporary file (mode 0600)
 * is written, fsync'ed and renamed over the old one (and the directory
 * fsync'ed) while an exclusive flock on "FILE.lock" keeps concurrent
 * `agentkv token` commands apart. The server refuses to load a tokens file
 * that group or others may read or write (tokens_read_private).
 *
 * The server's in-memory table of the tokens read here is auth.c.
 */
#include "auth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <openssl/sha.h>

#include "akvx.h"
/* ---- small helpers ------------------------------------------------------ */

static int failf(char *msg, size_t msglen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int failf(char *msg, size_t msglen, int code, const char *fmt, ...)
{
    if (msg && msglen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, msglen, fmt, ap);
        va_end(ap);
    }
    return code;
}

const char *auth_role_name(enum auth_role role)
{
    return role == ROLE_ADMIN ? "admin" : role == ROLE_AGENT ? "agent" : "none";
}

int auth_role_parse(const char *s, enum auth_role *out)
{
    if (strcmp(s, "admin") == 0)
        *out = ROLE_ADMIN;
    else if (strcmp(s, "agent") == 0)
        *out = ROLE_AGENT;
    else
        return -1;
    return 0;
}

int auth_pattern_check(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n > TOKEN_PATTERN_MAX)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || strchr("_-*?[]!", c)))
            return -1;
    }
    return 0;
}

/* ---- labels: percent-encoding so that a label is one field ------------- */

void tokens_label_encode(const char *label, char *out, size_t outlen)
{
    static const char digits[] = "0123456789ABCDEF";
    size_t o = 0;
    if (label[0] == '\0' || strcmp(label, "-") == 0) {
        snprintf(out, outlen, "%s", label[0] ? "%2D" : "-");
        return;
    }
    for (const unsigned char *p = (const unsigned char *)label; *p; p++) {
        if (o + 4 > outlen)
            break;
        if (*p <= 0x20 || *p >= 0x7f || *p == '%') {
            out[o++] = '%';
            out[o++] = digits[*p >> 4];
            out[o++] = digits[*p & 15];
        } else {
            out[o++] = (char)*p;
        }
    }
    out[o] = '\0';
}

static int label_decode(const char *in, char *out, size_t outlen)
{
    size_t o = 0;
    const char *why;
    if (strcmp(in, "-") == 0) {
        out[0] = '\0';
        return 0;
    }
    if (akvx_pct_decode(in, strlen(in), out, outlen - 1, &o, &why) != 0)
        return -1;
    out[o] = '\0';
    return 0;
}

/* ---- reading ------------------------------------------------------------ */

/* Parses one line into e. Returns 0, or -1 with a reason in why. */
static int parse_line(char *line, struct token_entry *e, const char **why)
{
    char *f[7];
    size_t n = 0;
    char *save = NULL;
    for (char *t = strtok_r(line, " ", &save); t && n < 7;
         t = strtok_r(NULL, " ", &save))
        f[n++] = t;
    if (n != 6) {
        *why = "expected 6 space-separated fields";
        return -1;
    }
    memset(e, 0, sizeof *e);
    if (strlen(f[0]) != TOKEN_ID_LEN) {
        *why = "bad id";
        return -1;
    }
    if (!akvx_hex_lower(f[0], TOKEN_ID_LEN)) {
        *why = "bad id";
        return -1;
    }
    memcpy(e->id, f[0], TOKEN_ID_LEN + 1);
    if (strlen(f[1]) != 64) {
        *why = "bad sha256";
        return -1;
    }
    if (!akvx_hex_lower(f[1], 64) || akvx_hex_decode(f[1], 64, e->hash) != 0) {
        *why = "bad sha256";
        return -1;
    }
    if (auth_role_parse(f[2], &e->role) != 0) {
        *why = "role must be admin or agent";
        return -1;
    }
    if (auth_pattern_check(f[3]) != 0) {
        *why = "bad sandbox pattern";
        return -1;
    }
    snprintf(e->pattern, sizeof e->pattern, "%s", f[3]);
    if (label_decode(f[4], e->label, sizeof e->label) != 0) {
        *why = "bad label encoding";
        return -1;
    }
    if (akv_time_parse(f[5], strlen(f[5]), &e->created_at) != AKV_OK) {
        *why = "bad created_at time";
        return -1;
    }
    return 0;
}

/* tokens_read, and with private_only the check the server makes before it
 * trusts the file (on the descriptor it reads, so the file checked is the
 * file read): like ssh with its keys, a tokens file that group or others
 * may read or write is refused. Anyone who can write it can add an admin
 * token; hashes that others can read can be attacked offline. */
static int read_tokens(const char *path, int private_only,
                       struct token_entry **out, size_t *count, char *msg,
                       size_t msglen)
{
    FILE *f = fopen(path, "r");
    *out = NULL;
    *count = 0;
    if (f == NULL) {
        if (errno == ENOENT)
            return failf(msg, msglen, AKV_ENOTFOUND, "no tokens file %s",
                         path);
        return failf(msg, msglen, AKV_EUNAVAILABLE, "cannot read %s: %s",
                     path, strerror(errno));
    }
    struct stat st;
    if (private_only && fstat(fileno(f), &st) == 0 &&
        (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        fclose(f);
        return failf(msg, msglen, AKV_EUNAVAILABLE,
                     "tokens file %s is mode %04o; it must not be readable "
                     "or writable by group or others (chmod 600 %s)",
                     path, (unsigned)(st.st_mode & 07777), path);
    }
    struct token_entry *v = NULL;
    size_t n = 0, cap = 0, lineno = 0;
    char *line = NULL;
    size_t linecap = 0;
    ssize_t got;
    int rc = AKV_OK;
    while ((got = getline(&line, &linecap, f)) >= 0) {
        lineno++;
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
            line[--got] = '\0';
        if (got == 0 || line[0] == '#')
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            struct token_entry *nv = realloc(v, nc * sizeof *nv);
            if (nv == NULL) {
                rc = failf(msg, msglen, AKV_ENOMEM, "out of memory");
                break;
            }
            v = nv;
            cap = nc;
        }
        const char *why = NULL;
        if (parse_line(line, &v[n], &why) != 0) {
            rc = failf(msg, msglen, AKV_EINVAL, "tokens file %s line %zu: %s",
                       path, lineno, why);
            break;
        }
        for (size_t i = 0; i < n; i++)
            if (strcmp(v[i].id, v[n].id) == 0) {
                rc = failf(msg, msglen, AKV_EINVAL,
                           "tokens file %s line %zu: duplicate id %s", path,
                           lineno, v[n].id);
                break;
            }
        if (rc != AKV_OK)
            break;
        n++;
    }
    if (rc == AKV_OK && ferror(f))
        rc = failf(msg, msglen, AKV_EUNAVAILABLE, "cannot read %s", path);
    free(line);
    fclose(f);
    if (rc != AKV_OK) {
        free(v);
        return rc;
    }
    *out = v;
    *count = n;
    return AKV_OK;
}

int tokens_read(const char *path, struct token_entry **out, size_t *count,
                char *msg, size_t msglen)
{
    return read_tokens(path, 0, out, count, msg, msglen);
}

int tokens_read_private(const char *path, struct token_entry **out,
                        size_t *count, char *msg, size_t msglen)
{
    return read_tokens(path, 1, out, count, msg, msglen);
}

/* ---- writing ------------------------------------------------------------ */

/* Creates the directory of path like mkdir -p. The default tokens file
 * lives in the store directory, so the last directory is made 0700
 * whatever the umask, as the store makes its own (an existing one is left
 * as it is). */
static int ensure_dir(const char *path, char *msg, size_t msglen)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir)
        return AKV_OK;
    *slash = '\0';
    if (akvx_mkdir_p(dir, 0700) != 0)
        return failf(msg, msglen, AKV_EUNAVAILABLE, "cannot create %s: %s",
                     dir, strerror(errno));
    return AKV_OK;
}

static int lock_file(const char *path, int *fd, char *msg, size_t msglen)
{
    char lock[4200];
    snprintf(lock, sizeof lock, "%s.lock", path);
    *fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (*fd < 0)
        return failf(msg, msglen, AKV_EUNAVAILABLE, "cannot open %s: %s", lock,
                     strerror(errno));
    fchmod(*fd, 0600); /* exactly, whatever the umask (0277 gives 0400) */
    while (flock(*fd, LOCK_EX) != 0) {
        if (errno == EINTR)
            continue;
        int e = errno;
        close(*fd);
        return failf(msg, msglen, AKV_EUNAVAILABLE, "cannot lock %s: %s", lock,
                     strerror(e));
    }
    return AKV_OK;
}

static void format_line(const struct token_entry *e, char *out, size_t outlen)
{
    char sha[65], label[TOKEN_LABEL_MAX * 3 + 4], created[AKV_TIME_BUF];
    akvx_hex_encode(e->hash, 32, sha);
    tokens_label_encode(e->label, label, sizeof label);
    snprintf(out, outlen, "%s %s %s %s %s %s\n", e->id, sha,
             auth_role_name(e->role), e->pattern, label,
             akv_time_format(e->created_at, created));
}

/* Writes entries to path atomically (temporary file, fsync, rename). */
static int write_all(const char *path, const struct token_entry *v, size_t n,
                     char *msg, size_t msglen)
{
    static const char head[] =
        "# agentkv tokens: id sha256(token) role sandbox-pattern label "
        "created_at (docs/http.md)\n";
    /* Exactly 0600 whatever the umask: serve refuses a tokens file that
     * others may read or write. */
    char *text = malloc(sizeof head + n * 1024), *o = text;
    if (text == NULL)
        return failf(msg, msglen, AKV_ENOMEM, "out of memory");
    o += snprintf(o, sizeof head, "%s", head);
    for (size_t i = 0; i < n; i++) {
        format_line(&v[i], o, 1024);
        o += strlen(o);
    }
    const char *step;
    int rc = AKV_OK;
    if (akvx_replace_file(path, text, (size_t)(o - text), 0600, &step) != 0)
        rc = failf(msg, msglen, AKV_EUNAVAILABLE, "cannot %s %s: %s", step,
                   path, strerror(errno));
    free(text);
    return rc;
}

int tokens_create(const char *path, enum auth_role role, const char *pattern,
                  const char *label, char token[TOKEN_BUF],
                  struct token_entry *entry, char *msg, size_t msglen)
{
    if (role != ROLE_ADMIN && role != ROLE_AGENT)
        return failf(msg, msglen, AKV_EINVAL, "role must be admin or agent");
    if (auth_pattern_check(pattern) != 0)
        return failf(msg, msglen, AKV_EINVAL,
                     "invalid sandbox pattern: 1 to %d characters of "
                     "A-Z a-z 0-9 _ - and the glob characters * ? [ ] !",
                     TOKEN_PATTERN_MAX);
    if (strlen(label) > TOKEN_LABEL_MAX)
        return failf(msg, msglen, AKV_EINVAL,
                     "label too long (at most %d bytes)", TOKEN_LABEL_MAX);
    for (const unsigned char *p = (const unsigned char *)label; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return failf(msg, msglen, AKV_EINVAL,
                         "label holds a control character");
    int rc = ensure_dir(path, msg, msglen);
    if (rc != AKV_OK)
        return rc;
    int lfd;
    if ((rc = lock_file(path, &lfd, msg, msglen)) != AKV_OK)
        return rc;

    struct token_entry *v = NULL;
    size_t n = 0;
    rc = tokens_read(path, &v, &n, msg, msglen);
    if (rc == AKV_ENOTFOUND)
        rc = AKV_OK;
    struct token_entry *nv = NULL;
    if (rc == AKV_OK && (nv = realloc(v, (n + 1) * sizeof *v)) == NULL)
        rc = failf(msg, msglen, AKV_ENOMEM, "out of memory");
    if (rc != AKV_OK) {
        free(v);
        close(lfd);
        return rc;
    }
    v = nv;

    unsigned char secret[32], idbytes[TOKEN_ID_LEN / 2];
    struct token_entry *e = &v[n];
    memset(e, 0, sizeof *e);
    int unique;
    do {
        if (RAND_bytes(idbytes, sizeof idbytes) != 1) {
            free(v);
            close(lfd);
            return failf(msg, msglen, AKV_EUNAVAILABLE,
                         "no randomness for the token id");
        }
        akvx_hex_encode(idbytes, sizeof idbytes, e->id);
        unique = 1;
        for (size_t i = 0; i < n; i++)
            if (strcmp(v[i].id, e->id) == 0)
                unique = 0;
    } while (!unique);
    if (RAND_bytes(secret, sizeof secret) != 1) {
        free(v);
        close(lfd);
        return failf(msg, msglen, AKV_EUNAVAILABLE,
                     "no randomness for the token");
    }
    memcpy(token, "akv_", 4);
    akvx_base64url_encode(secret, sizeof secret, token + 4);
    OPENSSL_cleanse(secret, sizeof secret);
    SHA256((const unsigned char *)token, strlen(token), e->hash);
    e->role = role;
    snprintf(e->pattern, sizeof e->pattern, "%s", pattern);
    snprintf(e->label, sizeof e->label, "%s", label);
    e->created_at = server_wall_ms();

    rc = write_all(path, v, n + 1, msg, msglen);
    if (rc == AKV_OK && entry)
        *entry = *e;
    if (rc != AKV_OK)
        OPENSSL_cleanse(token, TOKEN_BUF);
    free(v);
    close(lfd);
    return rc;
}

int tokens_revoke(const char *path, const char *id, struct token_entry *removed,
                  char *msg, size_t msglen)
{
    int lfd, rc;
    if ((rc = lock_file(path, &lfd, msg, msglen)) != AKV_OK)
        return rc;
    struct token_entry *v = NULL;
    size_t n = 0;
    rc = tokens_read(path, &v, &n, msg, msglen);
    if (rc == AKV_ENOTFOUND)
        rc = failf(msg, msglen, AKV_ENOTFOUND, "no token %s (no tokens file %s)",
                   id, path);
    size_t i = 0;
    if (rc == AKV_OK) {
        while (i < n && strcmp(v[i].id, id) != 0)
            i++;
        if (i == n)
            rc = failf(msg, msglen, AKV_ENOTFOUND, "no token with id '%.*s'",
                       64, id);
    }
    if (rc == AKV_OK) {
        if (removed)
            *removed = v[i];
        memmove(&v[i], &v[i + 1], (n - i - 1) * sizeof *v);
        rc = write_all(path, v, n - 1, msg, msglen);
    }
    free(v);
    close(lfd);
    return rc;
}
