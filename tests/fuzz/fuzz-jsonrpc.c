/*
 * fuzz-jsonrpc.c — libFuzzer harness for the MCP layer's JSON-RPC decoder
 * and dispatcher (akv_mcp_handle), on a real store in a temporary
 * directory.
 *
 * Each input is handed, as one message, to three sessions: a new one (not
 * initialized), one initialized at 2025-03-26 (the only revision with
 * batches) and one at 2025-11-25. For every answer the harness checks the
 * invariants a client relies on, and aborts when one breaks:
 *   - the answer is one line of valid JSON whose length is out_len;
 *   - it is a response object (jsonrpc "2.0", an id, exactly one of result
 *     and error, an integer code and a string message in an error), or a
 *     non-empty array of them, and arrays come only from the 2025-03-26
 *     session;
 *   - a well-formed request (jsonrpc "2.0", a string or number id, a string
 *     method) is always answered, under its own id;
 *   - a well-formed notification is never answered.
 * Tools may write to the temporary store; it is removed at exit.
 */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "agentkv.h"
#include "../../src/mcp/mcp.h"

static akv_store *store;
static char dir[] = "/tmp/agentkv-fuzz-jsonrpc.XXXXXX";

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void cleanup(void)
{
    if (store)
        akv_store_close(store);
    store = NULL;
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void broken(const char *what, const uint8_t *data, size_t size,
                   const char *out)
{
    fprintf(stderr, "fuzz-jsonrpc: invariant broken: %s\n  input (%zu "
            "bytes): %.*s\n  output: %.300s\n", what, size,
            (int)(size < 300 ? size : 300), (const char *)data,
            out ? out : "(none)");
    abort();
}

static void init_once(void)
{
    if (store)
        return;
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        abort();
    }
    akv_config *cfg;
    if (akv_config_new(&cfg) != AKV_OK ||
        akv_config_set(cfg, "store", "map_size", "64MiB") != AKV_OK ||
        akv_store_open(&store, NULL, dir, cfg, AKV_OPEN_CREATE) != AKV_OK) {
        fprintf(stderr, "fuzz-jsonrpc: cannot open a store in %s: %s\n",
                dir, akv_last_error()->message);
        abort();
    }
    akv_config_free(cfg);
    atexit(cleanup);
}

static akv_mcp_session *session(const char *version)
{
    akv_mcp_session *s;
    if (akv_mcp_session_new(store, "fuzz", 0, &s) != AKV_OK)
        abort();
    if (version) {
        char init[256];
        int n = snprintf(init, sizeof init,
                         "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":"
                         "\"initialize\",\"params\":{\"protocolVersion\":"
                         "\"%s\",\"capabilities\":{},\"clientInfo\":{"
                         "\"name\":\"fuzz\",\"version\":\"0\"}}}", version);
        char *out = akv_mcp_handle(s, init, (size_t)n, NULL);
        if (out == NULL || strstr(out, version) == NULL)
            abort();
        free(out);
    }
    return s;
}

/* One response object, as a client must be able to read it. */
static int response_ok(json_t *r)
{
    json_t *v = json_object_get(r, "jsonrpc");
    json_t *id = json_object_get(r, "id");
    json_t *result = json_object_get(r, "result");
    json_t *error = json_object_get(r, "error");
    if (!json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0)
        return 0;
    if (!(json_is_null(id) || json_is_string(id) || json_is_number(id)))
        return 0;
    if ((result != NULL) == (error != NULL))
        return 0;
    if (error && (!json_is_integer(json_object_get(error, "code")) ||
                  !json_is_string(json_object_get(error, "message"))))
        return 0;
    if (result && !json_is_object(result))
        return 0;
    return 1;
}

/* What the input is, judged independently of the layer. */
enum shape { OTHER, REQUEST, NOTIFICATION };
static enum shape input_shape(json_t *in, json_t **id)
{
    *id = NULL;
    if (!json_is_object(in))
        return OTHER;
    json_t *v = json_object_get(in, "jsonrpc");
    json_t *m = json_object_get(in, "method");
    json_t *i = json_object_get(in, "id");
    if (!json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0 ||
        json_string_length(v) != 3 || !json_is_string(m) ||
        strlen(json_string_value(m)) != json_string_length(m) ||
        json_object_get(in, "result") || json_object_get(in, "error"))
        return OTHER;
    if (i == NULL)
        return NOTIFICATION;
    if (json_is_string(i) || json_is_number(i)) {
        *id = i;
        return REQUEST;
    }
    return OTHER;
}

static void check(akv_mcp_session *s, int batches, const uint8_t *data,
                  size_t size)
{
    size_t len = 0;
    char *out = akv_mcp_handle(s, (const char *)data, size, &len);
    json_t *in = json_loadb((const char *)data, size,
                            JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL |
                                JSON_DECODE_ANY,
                            NULL);
    json_t *want_id;
    enum shape shape = input_shape(in, &want_id);

    if (out == NULL) {
        if (shape == REQUEST || in == NULL)
            broken("a request or unparsable input got no answer", data,
                   size, out);
        json_decref(in);
        return;
    }
    if (strlen(out) != len || memchr(out, '\n', len))
        broken("answer is not one line of out_len bytes", data, size, out);
    json_t *r = json_loadb(out, len, JSON_REJECT_DUPLICATES, NULL);
    if (r == NULL)
        broken("answer is not JSON", data, size, out);
    if (shape == NOTIFICATION)
        broken("a notification was answered", data, size, out);
    if (json_is_array(r)) {
        if (!batches || json_array_size(r) == 0)
            broken("array answer outside a 2025-03-26 batch", data, size,
                   out);
        size_t i;
        json_t *e;
        json_array_foreach(r, i, e) if (!response_ok(e))
            broken("batch element is not a response", data, size, out);
    } else if (!response_ok(r)) {
        broken("answer is not a response object", data, size, out);
    } else if (shape == REQUEST &&
               !json_equal(json_object_get(r, "id"), want_id)) {
        broken("a request was answered under another id", data, size, out);
    }
    json_decref(r);
    json_decref(in);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    static const char *const versions[] = {NULL, "2025-03-26", "2025-11-25"};
    for (size_t i = 0; i < 3; i++) {
        akv_mcp_session *s = session(versions[i]);
        check(s, i == 1, data, size);
        akv_mcp_session_free(s);
    }
    return 0;
}
