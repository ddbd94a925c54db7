/*
 * agentkv-tokens.h — token counting that equals OpenAI's tiktoken.
 *
 * A separate public header so that programs which only count tokens do not
 * pull in the store API, and the store API does not grow with it. It
 * follows the conventions of agentkv.h: every function returns AKV_OK (0) or
 * a negative AKV_E* code, with the detail in akv_last_error(), and ownership
 * is stated on every prototype. Link with libagentkv.
 *
 * Two encodings are known: "o200k_base" (the default) and "cl100k_base".
 * The ids produced are those of tiktoken's encode_ordinary() for the same
 * text: special tokens such as "<|endoftext|>" are counted as plain text.
 * Input is bytes; bytes that are not valid UTF-8 are read the way a UTF-8
 * decoder that follows the WHATWG Encoding Standard reads them (every
 * maximal ill-formed subsequence becomes U+FFFD), which is what tiktoken
 * sees when such a file is handed to it as a string. docs/tokenizer.md
 * explains the choice and where the encoding data comes from.
 */
#ifndef AGENTKV_TOKENS_H
#define AGENTKV_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * AKV_API marks the public API: libagentkv is built with hidden visibility
 * (-fvisibility=hidden), so only declarations carrying AKV_API are exported
 * from the shared library; everything else in src/lib stays internal.
 * Every header in include/ defines it the same way.
 */
#ifndef AKV_API
#if defined(__GNUC__) || defined(__clang__)
#define AKV_API __attribute__((visibility("default")))
#else
#define AKV_API
#endif
#endif

#define AKV_ENCODING_DEFAULT "o200k_base"

/* Environment variable naming a directory that holds <name>.json. */
#define AKV_TOKENIZER_DIR_ENV "AGENTKV_TOKENIZER_DIR"

typedef struct akv_encoding akv_encoding;

/*
 * Finds an encoding by name (NULL means AKV_ENCODING_DEFAULT), loading its
 * data on first use: <dir>/<name>.bin (the table the build compiles) or
 * <dir>/<name>.json (tiktoken's file), where dir is tried in order
 *   1. $AGENTKV_TOKENIZER_DIR,
 *   2. the install tree's share/agentkv/tokenizers,
 *   3. ../share/agentkv/tokenizers from the running executable's directory
 *      (an install tree moved elsewhere),
 *   4. the build tree's share/agentkv/tokenizers (where `make deps` puts it).
 * The first load in a process does the work (about 0.1 s for o200k_base);
 * later calls, from any thread, return the same handle at once. Concurrent
 * first calls are serialised, and a failed load is retried by the next call.
 *
 * Errors: AKV_EINVAL for an unknown name; AKV_EUNAVAILABLE when no data file
 * is found, or it cannot be read, or it is not the expected encoding (the
 * message names the files tried); AKV_ENOMEM.
 *
 * @note Borrowed: the handle is immutable, may be used by any number of
 * threads at once, and stays valid until the process exits. Never free it.
 */
AKV_API int akv_encoding_load(const char *name, const akv_encoding **out);

/* The encoding's name ("o200k_base"). Borrowed, static. */
AKV_API const char *akv_encoding_name(const akv_encoding *enc);

/*
 * Counts the tokens of text[0..len) (any bytes; NUL is an ordinary byte)
 * into *count without building the id array.
 * Errors: AKV_EINVAL for a NULL argument (text may be NULL when len is 0);
 * AKV_ENOMEM. Thread-safe.
 */
AKV_API int akv_tokens_count(const akv_encoding *enc, const char *text,
                             size_t len, size_t *count);

/*
 * Encodes text[0..len) into token ids. *n is the number of ids; it equals
 * what akv_tokens_count() gives for the same input.
 * Errors: as akv_tokens_count(). On error *ids is NULL and *n is 0.
 *
 * @note Owned: *ids (NULL when *n is 0) is the caller's; free it with
 * akv_tokens_free().
 */
AKV_API int akv_tokens_encode(const akv_encoding *enc, const char *text,
                              size_t len, uint32_t **ids, size_t *n);

/* Frees an id array from akv_tokens_encode(). NULL is a no-op. */
AKV_API void akv_tokens_free(uint32_t *ids);

/*
 * Turns ids back into bytes: the concatenation of each token's bytes (a
 * special token gives its text, "<|endoftext|>"). For valid UTF-8 input,
 * decoding what akv_tokens_encode() produced gives back the input exactly.
 *
 * @note Caller buffer: *len is buf's size on entry and the number of bytes
 * needed on return. AKV_ENOBUFS when it does not fit (nothing is written
 * past buf + the size given; pass buf = NULL, *len = 0 to ask the size).
 * AKV_EINVAL for an id the encoding does not have. Nothing is appended (no
 * NUL terminator).
 */
AKV_API int akv_tokens_decode(const akv_encoding *enc, const uint32_t *ids,
                              size_t n, char *buf, size_t *len);

#ifdef __cplusplus
}
#endif

#endif /* AGENTKV_TOKENS_H */
