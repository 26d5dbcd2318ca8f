/* The load generator of bench/nchan_bench.py in C: one process per core, each holding its
 * share of the event streams, so that reading 10,000 streams costs the machine little of
 * the CPU the servers need (the Python reader spends ~15 us per frame; this one ~3 us).
 *
 *   sse_reader PORT N CONCURRENCY REQUEST_FILE MARK_PREFIX MARK_END READY
 *
 * Opens N connections to 127.0.0.1:PORT (at most CONCURRENCY waiting for their first
 * frame at a time), sends each the bytes of REQUEST_FILE, and records for every stream
 * the kernel receive time (SO_TIMESTAMPNS, ns since the epoch) of the first occurrence of
 * each mark: MARK_PREFIX, a decimal number, MARK_END. A stream is ready once READY is
 * seen (an empty READY: its first mark). Prints "ready HELD SECONDS" once every stream is
 * ready or failed; then answers commands on stdin: "report" prints one line per stream,
 * "s BYTES_SINCE_READY ERROR MARK:NS MARK:NS ...", then "cpu SECONDS" and "end";
 * "stop" (or EOF) exits. 127.0.0.1 only. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define TAIL 64

typedef struct {
    long mark;
    int64_t at;
} seen_t;

typedef struct {
    int fd, ready, error, nmarks, room;
    long bytes, bytes_at_ready;
    char tail[TAIL];
    int tail_len;
    seen_t *seen; /* grows as marks arrive: a 20 s run at 20 commits/s has 400 */
} stream_t;

static const char *prefix, *end, *ready_text;
static size_t prefix_len, end_len, ready_len;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void record(stream_t *s, long mark, int64_t at) {
    /* marks mostly arrive in order: look from the newest back a little */
    for (int i = s->nmarks - 1; i >= 0 && i >= s->nmarks - 64; i--)
        if (s->seen[i].mark == mark) return;
    if (s->nmarks == s->room) {
        int room = s->room ? s->room * 2 : 16;
        seen_t *grown = realloc(s->seen, room * sizeof(seen_t));
        if (!grown) return;
        s->seen = grown, s->room = room;
    }
    s->seen[s->nmarks].mark = mark;
    s->seen[s->nmarks++].at = at;
}

/* Scan buf (the stream's tail + new bytes) for marks and the ready text. */
static void scan(stream_t *s, const char *buf, size_t len, int64_t at) {
    const char *p = buf, *stop = buf + len;
    while ((p = memmem(p, stop - p, prefix, prefix_len)) != NULL) {
        const char *q = p + prefix_len;
        long value = 0;
        int digits = 0;
        while (q < stop && *q >= '0' && *q <= '9') value = value * 10 + (*q++ - '0'), digits++;
        if (digits && (size_t)(stop - q) >= end_len && memcmp(q, end, end_len) == 0) {
            record(s, value, at);
            if (!s->ready && ready_len == 0) s->ready = 1, s->bytes_at_ready = s->bytes;
        }
        p += prefix_len;
    }
    if (!s->ready && ready_len && memmem(buf, len, ready_text, ready_len))
        s->ready = 1, s->bytes_at_ready = s->bytes;
}

int main(int argc, char **argv) {
    if (argc != 8) {
        fprintf(stderr, "usage: %s PORT N CONCURRENCY REQUEST_FILE PREFIX END READY\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]), n = atoi(argv[2]), concurrency = atoi(argv[3]);
    prefix = argv[5], end = argv[6], ready_text = argv[7];
    prefix_len = strlen(prefix), end_len = strlen(end), ready_len = strlen(ready_text);
    /* "\n" in the arguments stands for a newline */
    char *fix[] = {(char *)prefix, (char *)end};
    for (int k = 0; k < 2; k++) {
        char *r = fix[k], *w = fix[k];
        while (*r) {
            if (r[0] == '\\' && r[1] == 'n') *w++ = '\n', r += 2;
            else *w++ = *r++;
        }
        *w = 0;
    }
    prefix_len = strlen(prefix), end_len = strlen(end);

    FILE *f = fopen(argv[4], "rb");
    if (!f) { perror("request file"); return 2; }
    static char request[16384];
    size_t request_len = fread(request, 1, sizeof request, f);
    fclose(f);

    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);

    stream_t *streams = calloc(n, sizeof(stream_t));
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)-1};
    epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);

    int opened = 0, settled = 0, announced = 0, one = 1;
    int64_t started = now_ns();
    static char buf[1 << 18];
    static char cbuf[256];
    struct epoll_event events[1024];
    for (;;) {
        while (opened < n && opened - settled < concurrency) {
            stream_t *s = &streams[opened];
            s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            setsockopt(s->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
            if (connect(s->fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS)
                s->error = errno, s->ready = 1, settled++;
            else {
                ev.events = EPOLLOUT | EPOLLIN;
                ev.data.u64 = opened;
                epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev);
            }
            opened++;
        }
        if (!announced && settled == n) {
            int held = 0;
            for (int i = 0; i < n; i++) held += streams[i].error == 0;
            printf("ready %d %.3f\n", held, (now_ns() - started) / 1e9);
            fflush(stdout);
            announced = 1;
        }
        int got = epoll_wait(ep, events, 1024, 50);
        for (int e = 0; e < got; e++) {
            uint64_t id = events[e].data.u64;
            if (id == (uint64_t)-1) {
                char line[64];
                if (!fgets(line, sizeof line, stdin) || strncmp(line, "stop", 4) == 0) return 0;
                if (strncmp(line, "report", 6) == 0) {
                    for (int i = 0; i < n; i++) {
                        stream_t *s = &streams[i];
                        printf("s %ld %d", s->bytes - s->bytes_at_ready, s->error);
                        for (int k = 0; k < s->nmarks; k++)
                            printf(" %ld:%lld", s->seen[k].mark, (long long)s->seen[k].at);
                        printf("\n");
                    }
                    struct rusage ru;
                    getrusage(RUSAGE_SELF, &ru);
                    printf("cpu %.3f\nend\n", ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
                                                 (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
                    fflush(stdout);
                }
                continue;
            }
            stream_t *s = &streams[id];
            if (events[e].events & EPOLLOUT) {
                int err = 0;
                socklen_t l = sizeof err;
                getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &l);
                ev.events = EPOLLIN;
                ev.data.u64 = id;
                epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
                if (err || send(s->fd, request, request_len, MSG_NOSIGNAL) != (ssize_t)request_len) {
                    s->error = err ? err : EIO;
                    if (!s->ready) s->ready = 1, settled++;
                    epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
                    close(s->fd);
                }
                continue;
            }
            for (;;) {
                memcpy(buf, s->tail, s->tail_len);
                struct iovec iov = {buf + s->tail_len, sizeof buf - TAIL};
                struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
                                     .msg_control = cbuf, .msg_controllen = sizeof cbuf};
                ssize_t r = recvmsg(s->fd, &msg, MSG_DONTWAIT);
                if (r < 0 && (errno == EAGAIN || errno == EINTR)) break;
                if (r <= 0) {
                    s->error = r < 0 ? errno : -1; /* -1: closed by the server */
                    if (!s->ready) s->ready = 1, settled++;
                    epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
                    close(s->fd);
                    break;
                }
                int64_t at = 0;
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
                    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
                        struct timespec ts;
                        memcpy(&ts, CMSG_DATA(c), sizeof ts);
                        at = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
                    }
                if (!at) at = now_ns();
                int was_ready = s->ready;
                s->bytes += r;
                size_t len = s->tail_len + r;
                scan(s, buf, len, at);
                if (!was_ready && s->ready) settled++;
                s->tail_len = len < TAIL ? len : TAIL;
                memcpy(s->tail, buf + len - s->tail_len, s->tail_len);
            }
        }
    }
}
