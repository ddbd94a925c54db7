/*
 * admin-token.h — the admin token kept in plain text for the operator who
 * started a store: DIR/admin-token beside the tokens file, mode 0600.
 *
 * A loopback server that finds no tokens file creates an admin token and,
 * besides printing it once, saves it here so that it can be found again
 * (`make run` prints it on every run instead of minting another one).
 * `token list` says which listed token the file holds. Only this file ever
 * holds a token's text; the tokens file keeps hashes.
 */
#ifndef AKV_ADMIN_TOKEN_H
#define AKV_ADMIN_TOKEN_H

#include <stddef.h>

#include "auth.h"

/* The file's path for a tokens file: its directory + "/admin-token". */
void admin_token_path(const char *tokens_path, char *out, size_t outlen);
/* Writes token and a newline to the file, created or replaced with mode
 * 0600 (also when it already existed with other bits). AKV_OK, or
 * AKV_EUNAVAILABLE with msg. */
int admin_token_save(const char *tokens_path, const char *token, char *msg,
                     size_t msglen);
/* The entry of v[0..n) whose hash is the SHA-256 of the token in the file,
 * or NULL (no file, unreadable, or a token no longer listed). */
const struct token_entry *admin_token_find(const char *tokens_path,
                                           const struct token_entry *v,
                                           size_t n);

#endif /* AKV_ADMIN_TOKEN_H */
