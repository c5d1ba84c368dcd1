/*
 * loadgen: the load generator of benchmarks/echo.py, resp.py and tls.py, which
 * build it with `gcc -O2` into benchmarks/.build/ and run it pinned to its own CPU.
 *
 *   loadgen pingpong --port P | --unix PATH  [-c 100] [-s 64] [-d 3] [-w 0.5]
 *   loadgen bulk     --port P | --unix PATH  [-c 1] [--chunk 65536] [-d 3] [-w 0.5]
 *   loadgen connrate --port P | --unix PATH  [--inflight 50] [--graceful] [-d 3] [-w 0.5]
 *   loadgen resp     --port P | --unix PATH  [-c 50] [-P 1] [-d 3] [-w 0.5]
 *   loadgen hold     --port P | --unix PATH  [-n 1000] [--hold 3]
 *   ... [--tls [--tls-version 1.3|1.2] [--tls-ca FILE]]
 *   loadgen features                        prints "tls" when built with OpenSSL
 *
 * pingpong: C connections, each with one S-byte message in flight; round trips/s.
 * bulk:     C connections (default 1) writing 64 KiB chunks while reading the echo; MB/s.
 * connrate: N connections in flight, each connect, 16-byte echo, close; connections/s
 *           (with --tls: each a full handshake, so handshakes/s).
 * resp:     C connections speaking a RESP subset (PING, SET key value, GET key in a
 *           fixed 1:1:1 mix, each GET reading the SET just before it), P requests
 *           sent at once and all P replies awaited before the next batch (as
 *           redis-benchmark -P does); requests/s, latency per request.
 * hold:     N connections, each a 1-byte echo, then idle: prints "READY n" once
 *           all are idle, stays idle --hold seconds (the runner samples the
 *           server's memory meanwhile), then the JSON line.
 *
 * --tls runs any mode over TLS (OpenSSL, client side): the client offers one
 * cipher suite (TLS 1.3: TLS_AES_128_GCM_SHA256; TLS 1.2:
 * ECDHE-{ECDSA,RSA}-AES128-GCM-SHA256) and one group (X25519), so every server
 * negotiates the same; it keeps no sessions and sends no tickets, so every
 * connection makes a full handshake. The certificate is checked only with
 * --tls-ca (it costs the client, not the server). Built with
 * -DLOADGEN_NO_TLS when the OpenSSL headers are missing; --tls then fails.
 *
 * Single-threaded, level-triggered epoll. It only ever connects to 127.0.0.1 or
 * a UNIX socket path: there is deliberately no host option. Every echoed byte
 * and every RESP reply is checked against what was expected. The main loop is
 * bounded by a hard deadline and an iteration count, every inner loop by a
 * count, so a hung server costs at most the deadline. One JSON line goes to
 * stdout; "errors" > 0 means the figures are not to be trusted.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#ifndef LOADGEN_NO_TLS
#include <openssl/err.h>
#include <openssl/ssl.h>
#else
typedef struct ssl_st SSL;
#endif

enum mode { PINGPONG, BULK, CONNRATE, RESP, HOLD };
/* HANDSHAKING: TCP is up, the TLS handshake is not done; IDLE: hold mode's
 * connection after its echo. */
enum state { FREE, CONNECTING, HANDSHAKING, OPEN, IDLE, DEAD };

/* A prime period below 256 makes every byte within a period distinct, so a
 * dropped, repeated or reordered byte never lines up with the pattern. */
#define PERIOD 251
#define CONNRATE_SIZE 16
#define HOLD_SIZE 1
#define HIST_MAX_US 1000000
#define MAX_EVENTS 256
#define MAX_PENDING_CONNECTS 64 /* a burst of SYNs beyond the backlog costs a 1 s retransmit */
#define IO_ROUNDS 16            /* reads or writes per readiness event, so no socket starves the rest */
#define MAX_LOOPS 1000000000LL  /* the count bound of the main loop; the deadline comes first */
#define MAX_PIPELINE 1024
#define RESP_KEYS 64            /* keys per connection: SETs reuse them, so the server's table stays small */
#define RESP_MAX_REQ 64         /* bytes of the longest request (SET) and of the longest reply (GET) */

struct conn {
    int fd;
    enum state state;
    uint32_t id;
    uint32_t seq;     /* message (resp: request) number on this connection */
    uint64_t sent;    /* bytes written: of the current message or batch, or of the stream in bulk */
    uint64_t rcvd;    /* bytes read back, likewise */
    double t_start;   /* when the current message or batch (connrate: connection) began */
    int want_out;     /* EPOLLOUT registered */
    int read_wants_write; /* TLS: a read needs the socket writable first */
    SSL *ssl;
    /* What the current message or batch sends and what must come back; every
     * mode but bulk. ends[i] is where reply i ends in exp (one reply but in resp). */
    const uint8_t *out, *exp;
    size_t out_len, exp_len;
    uint32_t *ends;
    int nreq, ndone;
    uint8_t *rq_buf, *rp_buf; /* resp: this connection's batch of requests and of replies */
};

static struct {
    enum mode mode;
    int port;
    const char *path;
    int conns, size, chunk, inflight, graceful, pipeline, nhold;
    double duration, warmup, connect_timeout, hold;
    long long max_errors;
    int tls, tls_version;
    const char *tls_ca;
} opt = {
    .mode = PINGPONG, .port = 0, .path = NULL,
    .conns = -1, .size = 64, .chunk = 65536, .inflight = 50, .graceful = 0, .pipeline = 1,
    .nhold = 1000, .duration = 3.0, .warmup = 0.5, .connect_timeout = 10.0, .hold = 3.0,
    .max_errors = 1000, .tls = 0, .tls_version = 13, .tls_ca = NULL,
};

static struct {
    long long ops, bytes; /* completed inside the window */
    long long connect_err, tls_err, io_err, eof_err, mismatch;
    long long connected, alive, pending, idle;
} st;

static uint8_t *pat, *rbuf;
static size_t rbuf_len;
static int ep;
static struct conn *conns;
static int nconns;
static double win_start = -1, win_end = -1;
static uint32_t *hist;
static long long hist_n;
static char tls_desc[160] = "";

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

static int counting(double t) { return win_start >= 0 && t >= win_start && t < win_end; }

static long long errors(void)
{
    return st.connect_err + st.tls_err + st.io_err + st.eof_err + st.mismatch;
}

static void die(const char *msg)
{
    fprintf(stderr, "loadgen: %s\n", msg);
    exit(2);
}

static size_t msg_size(void)
{
    return opt.mode == CONNRATE ? CONNRATE_SIZE : opt.mode == HOLD ? HOLD_SIZE : (size_t)opt.size;
}

/* ---- TLS: the only place that knows OpenSSL ---- */

#ifndef LOADGEN_NO_TLS
static SSL_CTX *tls_ctx;

static void tls_init(void)
{
    int version = opt.tls_version == 12 ? TLS1_2_VERSION : TLS1_3_VERSION;
    tls_ctx = SSL_CTX_new(TLS_client_method());
    if (!tls_ctx)
        die("SSL_CTX_new failed");
    SSL_CTX_set_min_proto_version(tls_ctx, version);
    SSL_CTX_set_max_proto_version(tls_ctx, version);
    if (!SSL_CTX_set_ciphersuites(tls_ctx, "TLS_AES_128_GCM_SHA256") ||
        !SSL_CTX_set_cipher_list(tls_ctx, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256") ||
        !SSL_CTX_set1_groups_list(tls_ctx, "X25519:P-256"))
        die("cannot restrict the cipher suites or groups");
    SSL_CTX_set_session_cache_mode(tls_ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(tls_ctx, SSL_OP_NO_TICKET | SSL_OP_IGNORE_UNEXPECTED_EOF);
    long mode = SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER;
    if (opt.mode == HOLD)
        mode |= SSL_MODE_RELEASE_BUFFERS; /* thousands of idle connections: keep the client small */
    SSL_CTX_set_mode(tls_ctx, mode);
    if (opt.tls_ca) {
        if (SSL_CTX_load_verify_locations(tls_ctx, opt.tls_ca, NULL) != 1)
            die("cannot load --tls-ca");
        SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_PEER, NULL);
    } else {
        SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_NONE, NULL);
    }
}

static int tls_start(struct conn *c)
{
    c->ssl = SSL_new(tls_ctx);
    if (!c->ssl || !SSL_set_fd(c->ssl, c->fd))
        return -1;
    SSL_set_connect_state(c->ssl);
    SSL_set_tlsext_host_name(c->ssl, "localhost");
    if (opt.tls_ca && !SSL_set1_host(c->ssl, "localhost"))
        return -1;
    return 0;
}

static void tls_describe(SSL *ssl)
{
    int nid = SSL_get_negotiated_group(ssl);
    const char *group = nid > 0 ? OBJ_nid2sn(nid) : "?";
    snprintf(tls_desc, sizeof tls_desc, "%s %s %s", SSL_get_version(ssl),
             SSL_get_cipher_name(ssl), group ? group : "?");
}

static int tls_resumed(struct conn *c) { return SSL_session_reused(c->ssl); }

static void tls_free(struct conn *c, int notify)
{
    if (!c->ssl)
        return;
    if (notify)
        SSL_shutdown(c->ssl); /* one close_notify, not waiting for the peer's */
    SSL_free(c->ssl);
    c->ssl = NULL;
    ERR_clear_error();
}

/* 1: done; 0: in progress (interest set); -1: failed. */
static int tls_handshake(struct conn *c, int *want_out)
{
    int r = SSL_do_handshake(c->ssl);
    if (r == 1)
        return 1;
    switch (SSL_get_error(c->ssl, r)) {
    case SSL_ERROR_WANT_READ: *want_out = 0; return 0;
    case SSL_ERROR_WANT_WRITE: *want_out = 1; return 0;
    default: ERR_clear_error(); return -1;
    }
}

/* As send()/recv(): > 0 bytes, 0 end of stream, -1 with errno (EAGAIN: try later). */
static ssize_t tls_io(struct conn *c, void *p, size_t len, int writing)
{
    int n = writing ? SSL_write(c->ssl, p, (int)len) : SSL_read(c->ssl, p, (int)len);
    if (n > 0)
        return n;
    switch (SSL_get_error(c->ssl, n)) {
    case SSL_ERROR_WANT_READ: errno = EAGAIN; return -1;
    case SSL_ERROR_WANT_WRITE:
        if (!writing)
            c->read_wants_write = 1;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN: return 0;
    default: ERR_clear_error(); errno = EPROTO; return -1;
    }
}

static int tls_pending(struct conn *c) { return c->ssl && SSL_pending(c->ssl) > 0; }
#else
static void tls_init(void) { die("built without OpenSSL (-DLOADGEN_NO_TLS): no --tls"); }
static int tls_start(struct conn *c) { (void)c; return -1; }
static void tls_describe(SSL *ssl) { (void)ssl; }
static int tls_resumed(struct conn *c) { (void)c; return 0; }
static void tls_free(struct conn *c, int notify) { (void)c; (void)notify; }
static int tls_handshake(struct conn *c, int *want_out) { (void)c; (void)want_out; return -1; }
static ssize_t tls_io(struct conn *c, void *p, size_t len, int writing)
{
    (void)c; (void)p; (void)len; (void)writing;
    errno = EPROTO;
    return -1;
}
static int tls_pending(struct conn *c) { (void)c; return 0; }
#endif

static ssize_t io_send(struct conn *c, const uint8_t *p, size_t len)
{
    if (c->ssl)
        return tls_io(c, (void *)p, len, 1);
    return send(c->fd, p, len, MSG_NOSIGNAL);
}

static ssize_t io_recv(struct conn *c, uint8_t *p, size_t len)
{
    if (c->ssl)
        return tls_io(c, p, len, 0);
    return recv(c->fd, p, len, 0);
}

/* ---- connections ---- */

static void set_out(struct conn *c, int on)
{
    if (c->want_out == on)
        return;
    struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.u32 = c->id};
    if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
        c->want_out = on;
}

static void close_conn(struct conn *c, enum state next)
{
    if (c->fd >= 0) {
        /* A TCP close with RST leaves no TIME_WAIT entry behind; with a graceful
         * close the client's ephemeral ports, not the server, would cap connrate. */
        int reset = !opt.path && !opt.graceful;
        tls_free(c, !reset && c->state == OPEN);
        if (reset) {
            struct linger lg = {.l_onoff = 1, .l_linger = 0};
            setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
        close(c->fd);
    }
    if (c->state == OPEN || c->state == IDLE)
        st.alive--;
    if (c->state == IDLE)
        st.idle--;
    if (c->state == CONNECTING || c->state == HANDSHAKING)
        st.pending--;
    c->fd = -1;
    c->want_out = 0;
    c->read_wants_write = 0;
    c->state = next;
}

static void fail(struct conn *c, long long *counter)
{
    (*counter)++;
    close_conn(c, opt.mode == CONNRATE ? FREE : DEAD);
}

static void start_message(struct conn *c, double t);
static void do_write(struct conn *c);

static void on_open(struct conn *c, double t)
{
    st.pending--;
    st.connected++;
    st.alive++;
    c->state = OPEN;
    c->sent = c->rcvd = 0;
    if (c->ssl && tls_resumed(c)) {
        fail(c, &st.tls_err); /* loadgen never offers a session: every handshake must be full */
        return;
    }
    if (c->ssl && !tls_desc[0])
        tls_describe(c->ssl);
    if (opt.mode == BULK) {
        set_out(c, 1);
        do_write(c);
    } else {
        start_message(c, t);
    }
}

static void do_handshake(struct conn *c, double t)
{
    int want_out = 0, r = tls_handshake(c, &want_out);
    if (r < 0)
        fail(c, &st.tls_err);
    else if (r == 0)
        set_out(c, want_out);
    else
        on_open(c, t);
}

static void on_connected(struct conn *c, double t)
{
    if (!opt.tls) {
        on_open(c, t);
        return;
    }
    c->state = HANDSHAKING;
    if (tls_start(c) < 0) {
        fail(c, &st.tls_err);
        return;
    }
    do_handshake(c, t);
}

static void start_connect(struct conn *c, double t)
{
    int fd, r;
    if (opt.path) {
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            die("socket() failed: raise RLIMIT_NOFILE?");
        strncpy(a.sun_path, opt.path, sizeof a.sun_path - 1);
        r = connect(fd, (struct sockaddr *)&a, sizeof a);
    } else {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port)};
        int one = 1;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            die("socket() failed: raise RLIMIT_NOFILE?");
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        r = connect(fd, (struct sockaddr *)&a, sizeof a);
    }
    c->fd = fd;
    c->want_out = 1;
    c->t_start = t;
    c->state = CONNECTING;
    st.pending++;
    if (r < 0 && errno != EINPROGRESS) {
        fail(c, &st.connect_err);
        return;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = c->id};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
        die("epoll_ctl(ADD) failed");
    if (r == 0)
        on_connected(c, t);
}

/* ---- the RESP mix ---- */

static size_t append(uint8_t *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return n;
}

/* Request r of connection c (r counts from 0 on each connection): SET, then a
 * GET of the same key, then PING. The value names the connection and the SET,
 * so a GET answered from another key, connection or an older SET fails the check. */
static void resp_request(const struct conn *c, uint32_t r, size_t *rq_len, size_t *rp_len,
                         uint8_t *rq, uint8_t *rp)
{
    char key[16], value[20], buf[RESP_MAX_REQ + 1];
    uint32_t set = r / 3;
    snprintf(key, sizeof key, "k%05u:%04u", c->id % 100000u, set % RESP_KEYS);
    snprintf(value, sizeof value, "%08x%08x", c->id, set);
    switch (r % 3) {
    case 0:
        snprintf(buf, sizeof buf, "*3\r\n$3\r\nSET\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n",
                 strlen(key), key, strlen(value), value);
        *rq_len = append(rq, buf);
        *rp_len = append(rp, "+OK\r\n");
        break;
    case 1:
        snprintf(buf, sizeof buf, "*2\r\n$3\r\nGET\r\n$%zu\r\n%s\r\n", strlen(key), key);
        *rq_len = append(rq, buf);
        snprintf(buf, sizeof buf, "$%zu\r\n%s\r\n", strlen(value), value);
        *rp_len = append(rp, buf);
        break;
    default:
        *rq_len = append(rq, "*1\r\n$4\r\nPING\r\n");
        *rp_len = append(rp, "+PONG\r\n");
    }
}

/* ---- messages ---- */

/* Each message starts at its own place in the pattern, so an echo of an earlier
 * message, or of another connection's, fails the check. */
static const uint8_t *msg_bytes(const struct conn *c)
{
    return pat + (c->id * 7u + c->seq * 13u) % PERIOD;
}

static void start_message(struct conn *c, double t)
{
    c->sent = c->rcvd = 0;
    c->t_start = t;
    c->ndone = 0;
    if (opt.mode == RESP) {
        size_t rq_off = 0, rp_off = 0;
        for (int i = 0; i < opt.pipeline; i++) {
            size_t rq_len, rp_len;
            resp_request(c, c->seq + (uint32_t)i, &rq_len, &rp_len, c->rq_buf + rq_off,
                         c->rp_buf + rp_off);
            rq_off += rq_len;
            rp_off += rp_len;
            c->ends[i] = (uint32_t)rp_off;
        }
        c->out = c->rq_buf;
        c->exp = c->rp_buf;
        c->out_len = rq_off;
        c->exp_len = rp_off;
        c->nreq = opt.pipeline;
    } else {
        c->out = c->exp = msg_bytes(c);
        c->out_len = c->exp_len = msg_size();
        c->ends[0] = (uint32_t)msg_size();
        c->nreq = 1;
    }
    do_write(c);
}

static void do_write(struct conn *c)
{
    for (int i = 0; i < IO_ROUNDS && c->state == OPEN; i++) {
        const uint8_t *p;
        size_t len;
        if (opt.mode == BULK) {
            p = pat + c->sent % PERIOD;
            len = (size_t)opt.chunk;
        } else {
            if (c->sent >= c->out_len)
                break;
            p = c->out + c->sent;
            len = c->out_len - c->sent;
        }
        ssize_t n = io_send(c, p, len);
        if (n > 0) {
            c->sent += (uint64_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            break;
        } else {
            fail(c, &st.io_err);
            return;
        }
    }
    if (c->state == OPEN && opt.mode != BULK)
        set_out(c, c->sent < c->out_len || c->read_wants_write);
}

static void record_latency(double t0, double t1)
{
    double us = (t1 - t0) * 1e6;
    hist[us < 0 ? 0 : us > HIST_MAX_US ? HIST_MAX_US : (size_t)us]++;
    hist_n++;
}

/* Replies that rcvd now covers; 1 when the whole message or batch is back. */
static int replies_done(struct conn *c)
{
    double t = -1;
    while (c->ndone < c->nreq && c->rcvd >= c->ends[c->ndone]) {
        if (t < 0)
            t = now();
        if (counting(t)) {
            st.ops++;
            st.bytes += opt.mode == RESP ? 0 : (long long)msg_size();
            record_latency(c->t_start, t);
        }
        c->ndone++;
    }
    return c->ndone == c->nreq;
}

static void message_done(struct conn *c)
{
    c->seq += (uint32_t)c->nreq;
    if (opt.mode == CONNRATE) {
        close_conn(c, FREE); /* the main loop opens the next one */
    } else if (opt.mode == HOLD) {
        c->state = IDLE;
        st.idle++;
        set_out(c, 0);
    } else {
        start_message(c, now());
    }
}

static void do_read(struct conn *c)
{
    c->read_wants_write = 0;
    for (int i = 0; (i < IO_ROUNDS || tls_pending(c)) && i < 4 * IO_ROUNDS && c->state == OPEN; i++) {
        size_t want;
        const uint8_t *expect;
        if (opt.mode == BULK) {
            want = rbuf_len;
            expect = pat + c->rcvd % PERIOD;
        } else {
            /* Never read past the current message or batch: bytes beyond it
             * would answer something not sent, caught as the next one's mismatch. */
            want = c->exp_len - c->rcvd;
            expect = c->exp + c->rcvd;
            if (want == 0)
                return;
        }
        ssize_t n = io_recv(c, rbuf, want);
        if (n > 0) {
            if (memcmp(rbuf, expect, (size_t)n) != 0 ||
                (opt.mode != RESP && c->rcvd + (uint64_t)n > c->sent)) {
                fail(c, &st.mismatch);
                return;
            }
            c->rcvd += (uint64_t)n;
            if (opt.mode == BULK) {
                if (counting(now()))
                    st.bytes += n;
            } else if (replies_done(c)) {
                message_done(c);
                return; /* the next message was just sent: its answer cannot be here yet */
            }
        } else if (n == 0) {
            fail(c, &st.eof_err);
            return;
        } else if (errno == EAGAIN || errno == EINTR) {
            if (c->read_wants_write)
                set_out(c, 1);
            return;
        } else {
            fail(c, &st.io_err);
            return;
        }
    }
}

/* An idle held connection: anything but EAGAIN means the server gave it up. */
static void check_idle(struct conn *c)
{
    uint8_t b;
    ssize_t n = io_recv(c, &b, 1);
    if (n > 0)
        fail(c, &st.mismatch);
    else if (n == 0)
        fail(c, &st.eof_err);
    else if (errno != EAGAIN && errno != EINTR)
        fail(c, &st.io_err);
}

static void on_event(struct conn *c, uint32_t events)
{
    if (c->state == CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err)
            fail(c, &st.connect_err);
        else if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            on_connected(c, now());
        return;
    }
    if (c->state == HANDSHAKING) {
        do_handshake(c, now());
        return;
    }
    if (c->state == IDLE) {
        check_idle(c);
        return;
    }
    if (c->state != OPEN)
        return;
    if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) || (c->read_wants_write && (events & EPOLLOUT)))
        do_read(c);
    if (c->state == OPEN && (events & EPOLLOUT))
        do_write(c);
}

static long long percentile_us(double q)
{
    long long target = (long long)(q * (double)hist_n), acc = 0;
    for (long long us = 0; us <= HIST_MAX_US; us++) {
        acc += hist[us];
        if (acc > target)
            return us;
    }
    return HIST_MAX_US;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: loadgen pingpong|bulk|connrate|resp|hold (--port P | --unix PATH)\n"
            "  [-c CONNECTIONS] [-s SIZE] [-d DURATION_S] [-w WARMUP_S] [--chunk BYTES]\n"
            "  [--inflight N] [--graceful] [-P PIPELINE] [-n HOLD_CONNS] [--hold S]\n"
            "  [--connect-timeout S] [--max-errors N] [--tls [--tls-version 1.2|1.3] [--tls-ca FILE]]\n");
    exit(2);
}

static void parse(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"port", required_argument, 0, 'p'},
        {"unix", required_argument, 0, 'u'},
        {"connections", required_argument, 0, 'c'},
        {"size", required_argument, 0, 's'},
        {"duration", required_argument, 0, 'd'},
        {"warmup", required_argument, 0, 'w'},
        {"chunk", required_argument, 0, 'k'},
        {"inflight", required_argument, 0, 'i'},
        {"graceful", no_argument, 0, 'g'},
        {"pipeline", required_argument, 0, 'P'},
        {"hold-conns", required_argument, 0, 'n'},
        {"hold", required_argument, 0, 'H'},
        {"connect-timeout", required_argument, 0, 't'},
        {"max-errors", required_argument, 0, 'e'},
        {"tls", no_argument, 0, 'T'},
        {"tls-version", required_argument, 0, 'V'},
        {"tls-ca", required_argument, 0, 'C'},
        {0, 0, 0, 0},
    };
    static const char *modes[] = {"pingpong", "bulk", "connrate", "resp", "hold"};
    if (argc < 2)
        usage();
    if (!strcmp(argv[1], "features")) { /* what this build can do, for the runners */
#ifndef LOADGEN_NO_TLS
        puts("tls");
#else
        puts("");
#endif
        exit(0);
    }
    int found = 0;
    for (int m = 0; m < (int)(sizeof modes / sizeof *modes); m++)
        if (!strcmp(argv[1], modes[m])) {
            opt.mode = (enum mode)m;
            found = 1;
        }
    if (!found)
        usage();
    int ch;
    optind = 2;
    while ((ch = getopt_long(argc, argv, "p:u:c:s:d:w:P:n:", longopts, NULL)) != -1) {
        switch (ch) {
        case 'p': opt.port = atoi(optarg); break;
        case 'u': opt.path = optarg; break;
        case 'c': opt.conns = atoi(optarg); break;
        case 's': opt.size = atoi(optarg); break;
        case 'd': opt.duration = atof(optarg); break;
        case 'w': opt.warmup = atof(optarg); break;
        case 'k': opt.chunk = atoi(optarg); break;
        case 'i': opt.inflight = atoi(optarg); break;
        case 'g': opt.graceful = 1; break;
        case 'P': opt.pipeline = atoi(optarg); break;
        case 'n': opt.nhold = atoi(optarg); break;
        case 'H': opt.hold = atof(optarg); break;
        case 't': opt.connect_timeout = atof(optarg); break;
        case 'e': opt.max_errors = atoll(optarg); break;
        case 'T': opt.tls = 1; break;
        case 'V': opt.tls_version = !strcmp(optarg, "1.2") ? 12 : !strcmp(optarg, "1.3") ? 13 : 0; break;
        case 'C': opt.tls_ca = optarg; break;
        default: usage();
        }
    }
    if (opt.conns < 0)
        opt.conns = opt.mode == BULK ? 1 : opt.mode == RESP ? 50 : 100;
    if (!opt.path && (opt.port <= 0 || opt.port > 65535))
        die("need --port 1..65535 or --unix PATH");
    if (opt.path && strlen(opt.path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
        die("UNIX socket path too long");
    if (opt.conns < 1 || opt.conns > 100000 || opt.inflight < 1 || opt.inflight > 100000 ||
        opt.nhold < 1 || opt.nhold > 100000)
        die("connections, inflight and hold connections must be 1..100000");
    if (opt.size < 1 || opt.size > (1 << 24) || opt.chunk < 1 || opt.chunk > (1 << 24))
        die("size and chunk must be 1..16 MiB");
    if (opt.pipeline < 1 || opt.pipeline > MAX_PIPELINE)
        die("pipeline must be 1..1024");
    if (opt.tls_version == 0)
        die("--tls-version is 1.2 or 1.3");
    if (!(opt.duration > 0 && opt.duration <= 3600 && opt.warmup >= 0 && opt.warmup <= 600 &&
          opt.connect_timeout > 0 && opt.connect_timeout <= 600 && opt.hold >= 0 && opt.hold <= 600))
        die("duration 0..3600 s, warmup and hold 0..600 s, connect timeout 0..600 s");
}

static void setup(void)
{
    rbuf_len = opt.chunk > 65536 ? (size_t)opt.chunk : 65536;
    size_t biggest = (size_t)opt.size > rbuf_len ? (size_t)opt.size : rbuf_len;
    pat = malloc(PERIOD + biggest);
    rbuf = malloc(rbuf_len);
    hist = calloc(HIST_MAX_US + 1, sizeof *hist);
    nconns = opt.mode == CONNRATE ? opt.inflight : opt.mode == HOLD ? opt.nhold : opt.conns;
    conns = calloc((size_t)nconns, sizeof *conns);
    if (!pat || !rbuf || !hist || !conns)
        die("out of memory");
    for (size_t i = 0; i < PERIOD + biggest; i++)
        pat[i] = (uint8_t)(i % PERIOD);
    int per_conn = opt.mode == RESP ? opt.pipeline : 1;
    uint32_t *ends = calloc((size_t)nconns * (size_t)per_conn, sizeof *ends);
    if (!ends)
        die("out of memory");
    for (int i = 0; i < nconns; i++) {
        conns[i].fd = -1;
        conns[i].id = (uint32_t)i;
        conns[i].ends = ends + (size_t)i * (size_t)per_conn;
        if (opt.mode == RESP) {
            conns[i].rq_buf = malloc((size_t)opt.pipeline * RESP_MAX_REQ);
            conns[i].rp_buf = malloc((size_t)opt.pipeline * RESP_MAX_REQ);
            if (!conns[i].rq_buf || !conns[i].rp_buf)
                die("out of memory");
        }
    }
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die("epoll_create1 failed");
    if (opt.tls)
        tls_init();
}

int main(int argc, char **argv)
{
    parse(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    setup();

    double t_begin = now();
    double connect_deadline = t_begin + opt.connect_timeout;
    double hard_deadline = connect_deadline + opt.warmup + opt.duration + opt.hold + 1.0;
    double cpu_win_start = 0, cpu_win_end = 0, t_stop = 0;
    int next_connect = 0, cpu_started = 0, complete = 0;
    long long ready = -1;
    struct epoll_event events[MAX_EVENTS];

    if (opt.mode == CONNRATE) {
        win_start = t_begin + opt.warmup;
        win_end = win_start + opt.duration;
    }
    for (long long loop = 0; loop < MAX_LOOPS; loop++) {
        double t = now();
        if (win_start >= 0 && !cpu_started && t >= win_start) {
            cpu_started = 1;
            cpu_win_start = cpu_seconds();
        }
        if (win_end >= 0 && t >= win_end) {
            complete = 1;
            break;
        }
        if (t >= hard_deadline || errors() > opt.max_errors)
            break;

        if (opt.mode == CONNRATE) {
            for (int i = 0; i < nconns; i++)
                if (conns[i].state == FREE)
                    start_connect(&conns[i], t);
        } else if (win_start < 0) {
            while (next_connect < nconns && st.pending < MAX_PENDING_CONNECTS)
                start_connect(&conns[next_connect++], t);
            int settled = opt.mode == HOLD ? st.idle == st.alive && st.pending == 0
                                           : st.pending == 0;
            if ((next_connect == nconns && settled) || t >= connect_deadline) {
                for (int i = 0; i < nconns; i++)
                    if (conns[i].state == CONNECTING || conns[i].state == HANDSHAKING ||
                        (opt.mode == HOLD && conns[i].state == OPEN))
                        fail(&conns[i], &st.connect_err);
                if (opt.mode == HOLD) {
                    /* the window is the idle hold; the runner samples memory during it */
                    ready = st.idle;
                    printf("READY %lld\n", ready);
                    fflush(stdout);
                    win_start = t;
                    win_end = t + opt.hold;
                } else {
                    /* the warm-up starts once every connection is up, so it is as long at C=1000 as at C=1 */
                    win_start = t + opt.warmup;
                    win_end = win_start + opt.duration;
                }
            }
        }
        if (opt.mode != CONNRATE && win_start >= 0 && st.alive == 0)
            break;

        double next = win_start >= 0 ? (t < win_start ? win_start : win_end) : connect_deadline;
        int timeout_ms = (int)((next - t) * 1000.0) + 1;
        if (timeout_ms > 100)
            timeout_ms = 100;
        int n = epoll_wait(ep, events, MAX_EVENTS, timeout_ms);
        if (n < 0 && errno != EINTR)
            die("epoll_wait failed");
        for (int i = 0; i < n; i++)
            on_event(&conns[events[i].data.u32], events[i].events);
    }
    t_stop = now();
    cpu_win_end = cpu_seconds();

    double covered = 0;
    if (win_start >= 0 && t_stop > win_start)
        covered = (complete ? win_end : t_stop) - win_start;
    double rate = 0, mbps = covered > 0 ? (double)st.bytes / covered / 1e6 : 0;
    if (covered > 0)
        rate = opt.mode == BULK ? mbps : opt.mode == HOLD ? (double)st.idle : (double)st.ops / covered;
    double cpu = cpu_started && covered > 0 ? (cpu_win_end - cpu_win_start) / covered : 0;

    static const char *mode_names[] = {"pingpong", "bulk", "connrate", "resp", "hold"};
    static const char *units[] = {"round trips/s", "MB/s", "connections/s", "requests/s",
                                  "idle connections"};
    const char *unit = opt.mode == CONNRATE && opt.tls ? "handshakes/s" : units[opt.mode];
    size_t size = opt.mode == BULK ? (size_t)opt.chunk : opt.mode == RESP ? 0 : msg_size();
    printf("{\"mode\": \"%s\", \"transport\": \"%s\", \"tls\": \"%s\", \"connections\": %d, "
           "\"size\": %zu, \"pipeline\": %d, \"duration\": %.3f, \"complete\": %s, "
           "\"rate\": %.1f, \"unit\": \"%s\", \"ops\": %lld, \"bytes\": %lld, \"mb_per_s\": %.1f, ",
           mode_names[opt.mode], opt.path ? "unix" : "tcp", tls_desc, nconns, size,
           opt.mode == RESP ? opt.pipeline : 1, covered, complete ? "true" : "false", rate, unit,
           st.ops, st.bytes, mbps);
    if (hist_n > 0)
        printf("\"p50_us\": %lld, \"p99_us\": %lld, ", percentile_us(0.5), percentile_us(0.99));
    else
        printf("\"p50_us\": null, \"p99_us\": null, ");
    printf("\"ready\": %lld, \"connected\": %lld, \"alive\": %lld, \"errors\": %lld, "
           "\"error_detail\": {\"connect\": %lld, \"tls\": %lld, \"io\": %lld, \"eof\": %lld, "
           "\"mismatch\": %lld}, \"cpu\": %.3f, \"cpu_total_s\": %.3f, \"wall_s\": %.3f}\n",
           ready, st.connected, st.alive, errors(), st.connect_err, st.tls_err, st.io_err,
           st.eof_err, st.mismatch, cpu, cpu_win_end, t_stop - t_begin);
    return 0;
}
