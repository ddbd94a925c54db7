/*
 * admin-token.c — DIR/admin-token: the saved text of the admin token a
 * loopback server creates on its first start (see admin-token.h).
 *
 * The file is written through a temporary file in the same directory,
 * created with mode 0600 and renamed into place, so that the token is never
 * readable by others even for a moment and a crash leaves either the old
 * file or the new one.
 */
#include "admin-token.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

void admin_token_path(const char *tokens_path, char *out, size_t outlen)
{
    const char *slash = strrchr(tokens_path, '/');
    if (slash == NULL)
        snprintf(out, outlen, "admin-token");
    else
        snprintf(out, outlen, "%.*s/admin-token",
                 (int)(slash - tokens_path), tokens_path);
}

int admin_token_save(const char *tokens_path, const char *token, char *msg,
                     size_t msglen)
{
    char path[4096], tmp[4200];
    admin_token_path(tokens_path, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(msg, msglen, "cannot write %s: %s", tmp, strerror(errno));
        return AKV_EUNAVAILABLE;
    }
    size_t len = strlen(token);
    int ok = fchmod(fd, 0600) == 0 && write(fd, token, len) == (ssize_t)len &&
             write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    int err = errno;
    if (close(fd) != 0 && ok) {
        ok = 0;
        err = errno;
    }
    if (ok && rename(tmp, path) != 0) {
        ok = 0;
        err = errno;
    }
    if (!ok) {
        unlink(tmp);
        snprintf(msg, msglen, "cannot write %s: %s", path, strerror(err));
        return AKV_EUNAVAILABLE;
    }
    return AKV_OK;
}

const struct token_entry *admin_token_find(const char *tokens_path,
                                           const struct token_entry *v,
                                           size_t n)
{
    char path[4096], text[TOKEN_BUF + 2];
    admin_token_path(tokens_path, path, sizeof path);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = '\0';
    text[strcspn(text, "\r\n")] = '\0';
    unsigned char hash[32];
    unsigned int hlen = 0;
    if (text[0] == '\0' ||
        !EVP_Digest(text, strlen(text), hash, &hlen, EVP_sha256(), NULL) ||
        hlen != sizeof hash)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (memcmp(v[i].hash, hash, sizeof hash) == 0)
            return &v[i];
    return NULL;
}
