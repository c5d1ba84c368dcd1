/*
 * loadgen: the load generator of benchmarks/echo.py, which builds it with
 * `gcc -O2` into benchmarks/.build/ and runs it pinned to its own CPU.
 *
 *   loadgen pingpong --port P | --unix PATH  [-c 100] [-s 64] [-d 3] [-w 0.5]
 *   loadgen bulk     --port P | --unix PATH  [-c 1] [--chunk 65536] [-d 3] [-w 0.5]
 *   loadgen connrate --port P | --unix PATH  [--inflight 50] [--graceful] [-d 3] [-w 0.5]
 *
 * pingpong: C connections, each with one S-byte message in flight; round trips/s.
 * bulk:     C connections (default 1) writing 64 KiB chunks while reading the echo; MB/s.
 * connrate: N connections in flight, each connect, 16-byte echo, close; connections/s.
 *
 * Single-threaded, level-triggered epoll. It only ever connects to 127.0.0.1 or
 * a UNIX socket path: there is deliberately no host option. Every echoed byte is
 * checked against what was sent. The main loop is bounded by a hard deadline and
 * an iteration count, every inner loop by a count, so a hung server costs at
 * most the deadline. One JSON line goes to stdout; "errors" > 0 means the
 * figures are not to be trusted.
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

enum mode { PINGPONG, BULK, CONNRATE };
enum state { FREE, CONNECTING, OPEN, DEAD };

/* A prime period below 256 makes every byte within a period distinct, so a
 * dropped, repeated or reordered byte never lines up with the pattern. */
#define PERIOD 251
#define CONNRATE_SIZE 16
#define HIST_MAX_US 1000000
#define MAX_EVENTS 256
#define MAX_PENDING_CONNECTS 64 /* a burst of SYNs beyond the backlog costs a 1 s retransmit */
#define IO_ROUNDS 16            /* reads or writes per readiness event, so no socket starves the rest */
#define MAX_LOOPS 1000000000LL  /* the count bound of the main loop; the deadline comes first */

struct conn {
    int fd;
    enum state state;
    uint32_t id;
    uint32_t seq;     /* message number on this connection */
    uint64_t sent;    /* bytes written: of the current message, or of the stream in bulk */
    uint64_t rcvd;    /* bytes read back, likewise */
    double t_start;   /* when the current message (connrate: connection) began */
    int want_out;     /* EPOLLOUT registered */
};

static struct {
    enum mode mode;
    int port;
    const char *path;
    int conns, size, chunk, inflight, graceful;
    double duration, warmup, connect_timeout;
    long long max_errors;
} opt = {
    .mode = PINGPONG, .port = 0, .path = NULL,
    .conns = -1, .size = 64, .chunk = 65536, .inflight = 50, .graceful = 0,
    .duration = 3.0, .warmup = 0.5, .connect_timeout = 10.0, .max_errors = 1000,
};

static struct {
    long long ops, bytes; /* completed inside the window */
    long long connect_err, io_err, eof_err, mismatch;
    long long connected, alive, pending;
} st;

static uint8_t *pat, *rbuf;
static size_t rbuf_len;
static int ep;
static struct conn *conns;
static int nconns;
static double win_start = -1, win_end = -1;
static uint32_t *hist;
static long long hist_n;

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

static long long errors(void) { return st.connect_err + st.io_err + st.eof_err + st.mismatch; }

static void die(const char *msg)
{
    fprintf(stderr, "loadgen: %s\n", msg);
    exit(2);
}

static size_t msg_size(void) { return opt.mode == CONNRATE ? CONNRATE_SIZE : (size_t)opt.size; }

/* Each message starts at its own place in the pattern, so an echo of an earlier
 * message, or of another connection's, fails the check. */
static const uint8_t *msg_bytes(const struct conn *c)
{
    return pat + (c->id * 7u + c->seq * 13u) % PERIOD;
}

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
        if (!opt.path && !opt.graceful) {
            struct linger lg = {.l_onoff = 1, .l_linger = 0};
            setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
        close(c->fd);
    }
    if (c->state == OPEN)
        st.alive--;
    if (c->state == CONNECTING)
        st.pending--;
    c->fd = -1;
    c->want_out = 0;
    c->state = next;
}

static void fail(struct conn *c, long long *counter)
{
    (*counter)++;
    close_conn(c, opt.mode == CONNRATE ? FREE : DEAD);
}

static void start_message(struct conn *c, double t);
static void do_write(struct conn *c);

static void on_connected(struct conn *c, double t)
{
    st.pending--;
    st.connected++;
    st.alive++;
    c->state = OPEN;
    c->sent = c->rcvd = 0;
    if (opt.mode == BULK) {
        set_out(c, 1);
        do_write(c);
    } else {
        start_message(c, t);
    }
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

static void start_message(struct conn *c, double t)
{
    c->sent = c->rcvd = 0;
    c->t_start = t;
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
            if (c->sent >= msg_size())
                break;
            p = msg_bytes(c) + c->sent;
            len = msg_size() - c->sent;
        }
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
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
        set_out(c, c->sent < msg_size());
}

static void record_latency(double t0, double t1)
{
    double us = (t1 - t0) * 1e6;
    hist[us < 0 ? 0 : us > HIST_MAX_US ? HIST_MAX_US : (size_t)us]++;
    hist_n++;
}

static void message_done(struct conn *c)
{
    double t = now();
    if (counting(t)) {
        st.ops++;
        st.bytes += (long long)msg_size();
        record_latency(c->t_start, t);
    }
    c->seq++;
    if (opt.mode == CONNRATE)
        close_conn(c, FREE); /* the main loop opens the next one */
    else
        start_message(c, t);
}

static void do_read(struct conn *c)
{
    for (int i = 0; i < IO_ROUNDS && c->state == OPEN; i++) {
        size_t want;
        const uint8_t *expect;
        if (opt.mode == BULK) {
            want = rbuf_len;
            expect = pat + c->rcvd % PERIOD;
        } else {
            /* Never read past the current message: bytes beyond it would be
             * an echo of something not sent, caught as the next message's mismatch. */
            want = msg_size() - c->rcvd;
            expect = msg_bytes(c) + c->rcvd;
            if (want == 0)
                return;
        }
        ssize_t n = recv(c->fd, rbuf, want, 0);
        if (n > 0) {
            if (memcmp(rbuf, expect, (size_t)n) != 0 || c->rcvd + (uint64_t)n > c->sent) {
                fail(c, &st.mismatch);
                return;
            }
            c->rcvd += (uint64_t)n;
            if (opt.mode == BULK) {
                if (counting(now()))
                    st.bytes += n;
            } else if (c->rcvd == msg_size()) {
                message_done(c);
                return; /* the next message was just sent: its echo cannot be here yet */
            }
        } else if (n == 0) {
            fail(c, &st.eof_err);
            return;
        } else if (errno == EAGAIN || errno == EINTR) {
            return;
        } else {
            fail(c, &st.io_err);
            return;
        }
    }
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
    if (c->state != OPEN)
        return;
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
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
            "usage: loadgen pingpong|bulk|connrate (--port P | --unix PATH)\n"
            "  [-c CONNECTIONS] [-s SIZE] [-d DURATION_S] [-w WARMUP_S] [--chunk BYTES]\n"
            "  [--inflight N] [--graceful] [--connect-timeout S] [--max-errors N]\n");
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
        {"inflight", required_argument, 0, 'n'},
        {"graceful", no_argument, 0, 'g'},
        {"connect-timeout", required_argument, 0, 't'},
        {"max-errors", required_argument, 0, 'e'},
        {0, 0, 0, 0},
    };
    if (argc < 2)
        usage();
    if (!strcmp(argv[1], "pingpong"))
        opt.mode = PINGPONG;
    else if (!strcmp(argv[1], "bulk"))
        opt.mode = BULK;
    else if (!strcmp(argv[1], "connrate"))
        opt.mode = CONNRATE;
    else
        usage();
    int ch;
    optind = 2;
    while ((ch = getopt_long(argc, argv, "p:u:c:s:d:w:", longopts, NULL)) != -1) {
        switch (ch) {
        case 'p': opt.port = atoi(optarg); break;
        case 'u': opt.path = optarg; break;
        case 'c': opt.conns = atoi(optarg); break;
        case 's': opt.size = atoi(optarg); break;
        case 'd': opt.duration = atof(optarg); break;
        case 'w': opt.warmup = atof(optarg); break;
        case 'k': opt.chunk = atoi(optarg); break;
        case 'n': opt.inflight = atoi(optarg); break;
        case 'g': opt.graceful = 1; break;
        case 't': opt.connect_timeout = atof(optarg); break;
        case 'e': opt.max_errors = atoll(optarg); break;
        default: usage();
        }
    }
    if (opt.conns < 0)
        opt.conns = opt.mode == BULK ? 1 : 100;
    if (!opt.path && (opt.port <= 0 || opt.port > 65535))
        die("need --port 1..65535 or --unix PATH");
    if (opt.path && strlen(opt.path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
        die("UNIX socket path too long");
    if (opt.conns < 1 || opt.conns > 100000 || opt.inflight < 1 || opt.inflight > 100000)
        die("connections and inflight must be 1..100000");
    if (opt.size < 1 || opt.size > (1 << 24) || opt.chunk < 1 || opt.chunk > (1 << 24))
        die("size and chunk must be 1..16 MiB");
    if (!(opt.duration > 0 && opt.duration <= 3600 && opt.warmup >= 0 && opt.warmup <= 600 &&
          opt.connect_timeout > 0 && opt.connect_timeout <= 600))
        die("duration 0..3600 s, warmup 0..600 s, connect timeout 0..600 s");
}

int main(int argc, char **argv)
{
    parse(argc, argv);
    signal(SIGPIPE, SIG_IGN);

    rbuf_len = opt.chunk > 65536 ? (size_t)opt.chunk : 65536;
    size_t biggest = (size_t)opt.size > rbuf_len ? (size_t)opt.size : rbuf_len;
    if ((size_t)opt.chunk > biggest)
        biggest = (size_t)opt.chunk;
    pat = malloc(PERIOD + biggest);
    rbuf = malloc(rbuf_len);
    hist = calloc(HIST_MAX_US + 1, sizeof *hist);
    nconns = opt.mode == CONNRATE ? opt.inflight : opt.conns;
    conns = calloc((size_t)nconns, sizeof *conns);
    if (!pat || !rbuf || !hist || !conns)
        die("out of memory");
    for (size_t i = 0; i < PERIOD + biggest; i++)
        pat[i] = (uint8_t)(i % PERIOD);
    for (int i = 0; i < nconns; i++) {
        conns[i].fd = -1;
        conns[i].id = (uint32_t)i;
    }
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die("epoll_create1 failed");

    double t_begin = now();
    double connect_deadline = t_begin + opt.connect_timeout;
    double hard_deadline = connect_deadline + opt.warmup + opt.duration + 1.0;
    double cpu_win_start = 0, cpu_win_end = 0, t_stop = 0;
    int next_connect = 0, cpu_started = 0, complete = 0;
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
            if ((next_connect == nconns && st.pending == 0) || t >= connect_deadline) {
                for (int i = 0; i < nconns; i++)
                    if (conns[i].state == CONNECTING)
                        fail(&conns[i], &st.connect_err);
                /* the warm-up starts once every connection is up, so it is as long at C=1000 as at C=1 */
                win_start = t + opt.warmup;
                win_end = win_start + opt.duration;
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
        rate = opt.mode == BULK ? mbps : (double)st.ops / covered;
    double cpu = cpu_started && covered > 0 ? (cpu_win_end - cpu_win_start) / covered : 0;

    const char *mode = opt.mode == PINGPONG ? "pingpong" : opt.mode == BULK ? "bulk" : "connrate";
    const char *unit = opt.mode == PINGPONG ? "round trips/s" : opt.mode == BULK ? "MB/s" : "connections/s";
    printf("{\"mode\": \"%s\", \"transport\": \"%s\", \"connections\": %d, \"size\": %zu, "
           "\"duration\": %.3f, \"complete\": %s, \"rate\": %.1f, \"unit\": \"%s\", "
           "\"ops\": %lld, \"bytes\": %lld, \"mb_per_s\": %.1f, ",
           mode, opt.path ? "unix" : "tcp", nconns, opt.mode == BULK ? (size_t)opt.chunk : msg_size(),
           covered, complete ? "true" : "false", rate, unit, st.ops, st.bytes, mbps);
    if (hist_n > 0)
        printf("\"p50_us\": %lld, \"p99_us\": %lld, ", percentile_us(0.5), percentile_us(0.99));
    else
        printf("\"p50_us\": null, \"p99_us\": null, ");
    printf("\"connected\": %lld, \"alive\": %lld, \"errors\": %lld, "
           "\"error_detail\": {\"connect\": %lld, \"io\": %lld, \"eof\": %lld, \"mismatch\": %lld}, "
           "\"cpu\": %.3f, \"cpu_total_s\": %.3f, \"wall_s\": %.3f}\n",
           st.connected, st.alive, errors(), st.connect_err, st.io_err, st.eof_err, st.mismatch,
           cpu, cpu_win_end, t_stop - t_begin);
    return 0;
}
