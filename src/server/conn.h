/*
 * conn.h — one HTTP/1.1 connection, shared by the files that drive it:
 * http-conn.c (reading, writing, timeouts: the state machine and its
 * invariants), accept.c (new connections) and dispatch.c (running the
 * request's handler).
 * Nothing outside the server's connection code includes it.
 */
#ifndef AKV_CONN_H
#define AKV_CONN_H

#include <sys/socket.h>

#include "auth.h"
#include "server.h"

enum conn_state {
    C_IDLE,    /* between requests, no byte of the next one yet */
    C_HEAD,    /* reading a request head */
    C_BODY,    /* reading a Content-Length body */
    C_CHUNKED, /* reading a chunked body */
    C_BUSY,    /* a pool thread runs the handler */
    C_WRITE,   /* waiting for the socket to take the rest of a response */
    C_LINGER,  /* write side closed; discarding input until EOF */
};

struct conn {
    struct worker *w;
    int fd;
    struct event *ev_read, *ev_write;
    int reading;
    struct conn *prev, *next;
    struct pool_job job;   /* runs the handler on a pool thread */
    struct conn *job_next; /* the worker's batch or done list */
    enum conn_state state;

    char *in;
    size_t in_len, in_cap;
    size_t scanned;  /* http_head_end() progress */
    int line_ok;     /* the request line of a partial head was checked */
    int have_head;   /* head is valid for the current request */
    struct http_head head;

    char *body;      /* separate body buffer (large or chunked bodies) */
    size_t body_len, body_cap;
    uint64_t body_need;
    int body_inline; /* the body is in[head_len, head_len + body_need) */
    struct http_chunked chunk;
    uint64_t limit;
    size_t rest;     /* offset in `in` where the next request starts */

    struct http_req req;

    char line[256];  /* status line and the server's own headers */
    struct obuf spill;
    size_t spill_off;

    int64_t t_activity, t_head; /* monotonic ms */
    int64_t t_accept;           /* monotonic ms */
    uint64_t requests;          /* complete heads received so far */
    uint64_t budget;            /* bytes reserved in srv->body_inflight */
    uint64_t t_start;           /* monotonic ns of the request's first byte */
    int keep_alive;
    int peer_eof;
    int status;                 /* of the response being sent */
    uint64_t bytes;             /* body bytes of that response */
    char remote[64];
    struct auth_memo auth_memo; /* the last token sent, for the next */
};

static inline int64_t now_ms(void) /* monotonic */
{
    return (int64_t)(server_now_ns() / 1000000u);
}

/* ---- http-conn.c ---- */

/* A new connection on socket fd of worker w (which counted it in its
 * load already). */
void conn_new(struct worker *w, int fd, const struct sockaddr_storage *ss);
/* Closes and frees c at once, whatever its state. */
void conn_free(struct conn *c);

/* Moves c to state `to`; asserts the move is one of the diagram's. */
void conn_to(struct conn *c, enum conn_state to);
/* Whether the loop reads c's socket. */
void conn_set_reading(struct conn *c, int on);
/* Writes the response in c->req.resp: 0 when fully written and c is ready
 * for the next request, 1 when waiting (socket full, or lingering before
 * closing), -1 when the connection is gone. */
int conn_send_response(struct conn *c);
/* Advances c with the bytes it holds: heads, bodies, requests. */
void conn_process(struct conn *c);

/* ---- dispatch.c ---- */

/* Runs the request of c where its route says (see dispatch.c). Returns
 * what conn_send_response() does, or 1 when the response comes later. */
int conn_dispatch(struct conn *c);

#endif /* AKV_CONN_H */
