/* test-stats.c -- what vuswitchctl relies on: the layout of the stats
 * segment (cache-line separation of writers), the read-only mapping, the
 * sequence lock, the JSON writer and reader, and the control socket
 * protocol end to end (a real socket in a temporary directory, fake
 * daemon callbacks).  Needs no privileges. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl-server.h"
#include "cunit.h"
#include "json.h"
#include "log.h"
#include "options.h"
#include "stats.h"

/* ---- Layout ------------------------------------------------------------- */

static void
test_layout(void)
{
    /* Each writer (a worker, a queue direction, the control thread) owns
     * whole cache lines: no false sharing between threads. */
    CU_ASSERT_EQUAL(sizeof(struct stats_dir) % CACHE_LINE_SIZE, 0);
    CU_ASSERT_EQUAL(sizeof(struct stats_worker) % CACHE_LINE_SIZE, 0);
    CU_ASSERT_EQUAL(offsetof(struct stats_queue, tx) % CACHE_LINE_SIZE, 0);
    CU_ASSERT(offsetof(struct stats_queue, tx) >= sizeof(struct stats_dir));
    CU_ASSERT_EQUAL(offsetof(struct stats_port, info), 0);
    CU_ASSERT_EQUAL(offsetof(struct stats_port, queues) % CACHE_LINE_SIZE, 0);
    CU_ASSERT(offsetof(struct stats_port, queues)
              >= sizeof(struct stats_port_info));
    CU_ASSERT_EQUAL(sizeof(struct stats_port) % CACHE_LINE_SIZE, 0);
    CU_ASSERT_EQUAL(offsetof(struct stats_segment, workers) % CACHE_LINE_SIZE,
                    0);
    CU_ASSERT_EQUAL(offsetof(struct stats_segment, ports) % CACHE_LINE_SIZE,
                    0);
    CU_ASSERT(sizeof(struct stats_header) <= CACHE_LINE_SIZE);
    CU_ASSERT(sizeof(struct stats_segment) < 64 * 1024 * 1024);
}

static void
test_drop_names(void)
{
    static const char *const expected[] = {
        "dst_ring_full", "no_rx_buffers", "mtu_exceeded", "bad_descriptor",
        "bad_address", "header_too_short", "port_down", "ring_disabled",
        "sink_full", "no_destination",
    };
    CU_ASSERT_EQUAL(N_DROP_REASONS, sizeof expected / sizeof expected[0]);
    for (int i = 0; i < N_DROP_REASONS; i++) {
        CU_ASSERT_PTR_NOT_NULL_FATAL(stats_drop_names[i]);
        CU_ASSERT_STRING_EQUAL(stats_drop_names[i], expected[i]);
    }
}

/* ---- The segment -------------------------------------------------------- */

static void
test_create_and_map(void)
{
    struct stats_segment *seg;
    int fd;
    CU_ASSERT_EQUAL_FATAL(stats_create(&seg, &fd), 0);
    CU_ASSERT_EQUAL(seg->hdr.magic, STATS_MAGIC);
    CU_ASSERT_EQUAL(seg->hdr.version, STATS_VERSION);
    CU_ASSERT_EQUAL(seg->hdr.size, sizeof *seg);
    CU_ASSERT_EQUAL(seg->hdr.max_ports, STATS_MAX_PORTS);
    CU_ASSERT_EQUAL(seg->hdr.pid, getpid());
    CU_ASSERT(seg->hdr.tsc_hz > 1000000);
    CU_ASSERT(seg->hdr.start_time > 1600000000);
    CU_ASSERT_EQUAL(seg->workers[0].cpu, -1);
    CU_ASSERT_EQUAL(seg->ports[3].info.rx_owner[2], -1);
    CU_ASSERT(fcntl(fd, F_GETFD) & FD_CLOEXEC);

    int ro = stats_open_readonly(fd);
    CU_ASSERT_FATAL(ro >= 0);
    CU_ASSERT_EQUAL(fcntl(ro, F_GETFL) & O_ACCMODE, O_RDONLY);
    CU_ASSERT_EQUAL(mmap(NULL, sizeof *seg, PROT_READ | PROT_WRITE,
                         MAP_SHARED, ro, 0), MAP_FAILED);
    CU_ASSERT_EQUAL(errno, EACCES);
    /* Whoever holds the read-only fd cannot shrink the segment either. */
    CU_ASSERT_NOT_EQUAL(ftruncate(ro, 4096), 0);

    const struct stats_segment *view;
    CU_ASSERT_EQUAL_FATAL(stats_map_readonly(ro, &view), 0);
    CU_ASSERT_EQUAL(mprotect((void *) view, sizeof *view,
                             PROT_READ | PROT_WRITE), -1);
    CU_ASSERT_EQUAL(errno, EACCES);

    /* The daemon's stores show through the client's view. */
    seg->ports[5].queues[1].rx.packets = 42;
    seg->workers[2].frames = 7;
    CU_ASSERT_EQUAL(view->ports[5].queues[1].rx.packets, 42);
    CU_ASSERT_EQUAL(view->workers[2].frames, 7);

    /* A write through the view kills the writer. */
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL);
        ((volatile struct stats_segment *) view)->workers[0].frames = 1;
        _exit(0);
    }
    int status;
    CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
    CU_ASSERT(!(WIFEXITED(status) && WEXITSTATUS(status) == 0));
    CU_ASSERT_EQUAL(seg->workers[0].frames, 0);

    munmap((void *) view, sizeof *view);
    munmap(seg, sizeof *seg);
    close(ro);
    close(fd);
}

static void
test_map_rejects(void)
{
    const struct stats_segment *view;
    int fd = memfd_create("not-stats", MFD_CLOEXEC);
    CU_ASSERT_EQUAL(ftruncate(fd, 4096), 0);
    CU_ASSERT_EQUAL(stats_map_readonly(fd, &view), -EPROTO);
    CU_ASSERT_EQUAL(ftruncate(fd, sizeof(struct stats_segment)), 0);
    CU_ASSERT_EQUAL(stats_map_readonly(fd, &view), -EPROTO);  /* no magic */
    close(fd);
    CU_ASSERT_EQUAL(stats_map_readonly(fd, &view), -EBADF);
}

static void
test_sums(void)
{
    struct stats_port port;
    memset(&port, 0, sizeof port);
    port.queues[0].rx.packets = 10;
    port.queues[3].rx.packets = 5;
    port.queues[0].rx.bytes = 1000;
    port.queues[0].rx.drops[DROP_MTU_EXCEEDED] = 2;
    port.queues[2].rx.drops[DROP_BAD_ADDRESS] = 1;
    port.queues[1].tx.packets = 4;
    port.queues[1].tx.drops[DROP_NO_RX_BUFFERS] = 3;
    port.queues[15].tx.kicks = 9;

    struct stats_dir rx, tx;
    stats_port_sum(&port, &rx, &tx);
    CU_ASSERT_EQUAL(rx.packets, 15);
    CU_ASSERT_EQUAL(rx.bytes, 1000);
    CU_ASSERT_EQUAL(rx.drops[DROP_MTU_EXCEEDED], 2);
    CU_ASSERT_EQUAL(stats_dir_dropped(&rx), 3);
    CU_ASSERT_EQUAL(tx.packets, 4);
    CU_ASSERT_EQUAL(stats_dir_dropped(&tx), 3);
    CU_ASSERT_EQUAL(tx.kicks, 9);
}

/* ---- Sequence lock ------------------------------------------------------ */

static void
test_seqlock_basic(void)
{
    static struct stats_port_info info, copy;
    stats_port_info_begin(&info);
    strcpy(info.name, "vm1");
    info.in_use = 1;
    CU_ASSERT_EQUAL(stats_port_info_read(&info, &copy), -EAGAIN);
    stats_port_info_end(&info);
    CU_ASSERT_EQUAL(info.seq, 2);
    CU_ASSERT_EQUAL(stats_port_info_read(&info, &copy), 0);
    CU_ASSERT_STRING_EQUAL(copy.name, "vm1");
    CU_ASSERT_EQUAL(copy.in_use, 1);
}

static struct stats_port_info shared_info;
static volatile int writer_done;

static void *
seqlock_writer(void *arg)
{
    (void) arg;
    for (unsigned i = 0; i < 200000; i++) {
        stats_port_info_begin(&shared_info);
        snprintf(shared_info.name, sizeof shared_info.name, "p%u", i);
        snprintf(shared_info.path, sizeof shared_info.path, "p%u", i);
        shared_info.mtu = i;
        shared_info.features = i * 3ull;
        stats_port_info_end(&shared_info);
    }
    writer_done = 1;
    return NULL;
}

/* A reader never gets a copy mixed from two writes. */
static void
test_seqlock_concurrent(void)
{
    pthread_t t;
    pthread_create(&t, NULL, seqlock_writer, NULL);
    unsigned torn = 0, reads = 0;
    while (!writer_done) {
        struct stats_port_info copy;
        if (stats_port_info_read(&shared_info, &copy) == 0 && copy.seq) {
            reads++;
            char mtu[32];
            snprintf(mtu, sizeof mtu, "p%u", copy.mtu);
            if (copy.seq & 1 || strcmp(copy.name, copy.path)
                || strcmp(copy.name, mtu) || copy.features != copy.mtu * 3ull) {
                torn++;
            }
        }
    }
    pthread_join(t, NULL);
    CU_ASSERT_EQUAL(torn, 0);
    CU_ASSERT(reads > 0);
}

/* ---- JSON --------------------------------------------------------------- */

static void
test_json_writer(void)
{
    struct json j;
    json_init(&j, false);
    CU_ASSERT_STRING_EQUAL(json_text(&j), "");
    json_object_begin(&j);
    json_kv_bool(&j, "ok", true);
    json_kv_string(&j, "s", "a\"b\\c\n\t\x01\x7f/é");
    json_kv_u64(&j, "max", UINT64_MAX);
    json_kv_i64(&j, "min", INT64_MIN);
    json_key(&j, "list");
    json_array_begin(&j);
    json_null(&j);
    json_bool(&j, false);
    json_array_begin(&j);
    json_array_end(&j);
    json_object_begin(&j);
    json_object_end(&j);
    json_u64(&j, 0);
    json_array_end(&j);
    json_key(&j, "raw");
    json_string_n(&j, "abcdef", 3);
    json_key(&j, "bad");
    json_string(&j, "x\xff\xc3y");
    json_object_end(&j);
    CU_ASSERT_EQUAL(json_error(&j), 0);
    CU_ASSERT_STRING_EQUAL(json_text(&j),
        "{\"ok\":true,\"s\":\"a\\\"b\\\\c\\n\\t\\u0001\\u007f/é\","
        "\"max\":18446744073709551615,\"min\":-9223372036854775808,"
        "\"list\":[null,false,[],{},0],\"raw\":\"abc\","
        "\"bad\":\"x\\ufffd\\ufffdy\"}");
    CU_ASSERT_EQUAL(json_length(&j), strlen(json_text(&j)));
    char *text = json_steal(&j);
    CU_ASSERT_PTR_NOT_NULL(text);
    CU_ASSERT_STRING_EQUAL(json_text(&j), "");
    free(text);
    json_destroy(&j);
}

static void
test_json_pretty(void)
{
    struct json j;
    json_init(&j, true);
    json_object_begin(&j);
    json_kv_string(&j, "name", "a");
    json_key(&j, "q");
    json_array_begin(&j);
    json_u64(&j, 1);
    json_u64(&j, 2);
    json_array_end(&j);
    json_key(&j, "e");
    json_array_begin(&j);
    json_array_end(&j);
    json_object_end(&j);
    CU_ASSERT_STRING_EQUAL(json_text(&j),
        "{\n  \"name\": \"a\",\n  \"q\": [\n    1,\n    2\n  ],\n"
        "  \"e\": []\n}");
    json_destroy(&j);

    /* Big documents grow the buffer. */
    json_init(&j, false);
    json_array_begin(&j);
    for (int i = 0; i < 10000; i++) {
        json_string(&j, "0123456789");
    }
    json_array_end(&j);
    CU_ASSERT_EQUAL(json_length(&j), 2 + 10000 * 12 + 9999);
    json_destroy(&j);
}

static void
test_json_reader(void)
{
    const char *text = " {\"ok\" : true, \"n\":-12, \"big\":18446744073709551615,"
                       "\"r\":1.5e3, \"s\":\"a\\\"\\u00e9\\ud83d\\ude00\\n\","
                       "\"a\":[1,[],{}], \"z\":null, \"f\":false} ";
    struct json_value v;
    char err[128];
    CU_ASSERT_EQUAL_FATAL(json_parse(text, strlen(text), &v, err, sizeof err),
                          0);
    CU_ASSERT_EQUAL(v.type, JSON_OBJECT);
    CU_ASSERT_TRUE(json_get_bool(&v, "ok", false));
    CU_ASSERT_FALSE(json_get_bool(&v, "f", true));
    CU_ASSERT_EQUAL(json_get_int(&v, "n", 0), -12);
    CU_ASSERT_EQUAL(json_get(&v, "big")->type, JSON_REAL);
    CU_ASSERT_EQUAL(json_get(&v, "r")->u.real, 1500.0);
    CU_ASSERT_STRING_EQUAL(json_get_string(&v, "s"),
                           "a\"\xc3\xa9\xf0\x9f\x98\x80\n");
    CU_ASSERT_EQUAL(json_get(&v, "a")->u.c.n, 3);
    CU_ASSERT_EQUAL(json_get(&v, "z")->type, JSON_NULL);
    CU_ASSERT_PTR_NULL(json_get(&v, "missing"));
    CU_ASSERT_PTR_NULL(json_get_string(&v, "n"));
    json_value_free(&v);

    const char *bad[] = { "", "{", "[1,]", "{\"a\"}", "{\"a\":1,}", "01",
                          "\"abc", "\"\\x\"", "tru", "[1] 2", "{1:2}",
                          "\"a\nb\"", "-", "1.", "1e",
                          /* deeper than JSON_MAX_DEPTH */
                          ("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]"
                           "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]") };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        if (json_parse(bad[i], strlen(bad[i]), &v, err, sizeof err)
            != -EINVAL || !err[0]) {
            fprintf(stderr, "\naccepted bad JSON '%s'\n", bad[i]);
            CU_FAIL("bad JSON accepted");
        }
    }
    /* The length bounds the input, not a NUL. */
    CU_ASSERT_EQUAL(json_parse("[1]xyz", 3, &v, err, sizeof err), 0);
    json_value_free(&v);
}

/* What the writer writes, the reader reads back. */
static void
test_json_round_trip(void)
{
    struct json j;
    json_init(&j, true);
    json_object_begin(&j);
    json_kv_string(&j, "s", "tab\there \"quoted\" \x02 é");
    json_kv_i64(&j, "i", -5);
    json_object_end(&j);
    struct json_value v;
    CU_ASSERT_EQUAL_FATAL(json_parse(json_text(&j), json_length(&j), &v, NULL,
                                     0), 0);
    CU_ASSERT_STRING_EQUAL(json_get_string(&v, "s"),
                           "tab\there \"quoted\" \x02 é");
    CU_ASSERT_EQUAL(json_get_int(&v, "i", 0), -5);
    json_value_free(&v);
    json_destroy(&j);
}

/* ---- The control socket --------------------------------------------------
 * A server thread runs ctl_server_run_once() as the daemon's control
 * thread would; the test thread plays vuswitchctl. */

struct fake {
    int n_add, n_del, n_flush;
    struct port_spec spec;
    char flushed[64];
    bool flushed_all;
    int add_error;
    int stats_fd;               /* the daemon's read-write segment fd */
};

static int
fake_add_port(const struct port_spec *spec, char *err, size_t es, void *aux)
{
    struct fake *f = aux;
    f->n_add++;
    f->spec = *spec;
    if (f->add_error) {
        snprintf(err, es, "port '%s' already exists", spec->name);
    }
    return f->add_error;
}

static int
fake_del_port(const char *name, char *err, size_t es, void *aux)
{
    struct fake *f = aux;
    f->n_del++;
    if (strcmp(name, "vm1")) {
        snprintf(err, es, "no port named %s", name);
        return -ENOENT;
    }
    return 0;
}

static int
fake_fdb_flush(const char *port, char *err, size_t es, void *aux)
{
    struct fake *f = aux;
    f->n_flush++;
    f->flushed_all = !port;
    snprintf(f->flushed, sizeof f->flushed, "%s", port ? port : "");
    return 0;
}

static void
fake_fdb_json(struct json *j, void *aux)
{
    for (int i = 0; i < 2; i++) {
        json_object_begin(j);
        json_kv_string(j, "mac", i ? "52:54:00:00:00:02" : "52:54:00:00:00:01");
        json_kv_string(j, "port", i ? "vm2" : "vm1");
        json_kv_u64(j, "age", 3 + i);
        json_object_end(j);
    }
}

static int
fake_stats_fd(void *aux)
{
    return stats_open_readonly(((struct fake *) aux)->stats_fd);
}

static const struct ctl_ops fake_ops = {
    .add_port = fake_add_port,
    .del_port = fake_del_port,
    .fdb_flush = fake_fdb_flush,
    .fdb_json = fake_fdb_json,
    .get_stats_fd = fake_stats_fd,
};

struct server_thread {
    struct ctl_server *server;
    volatile int stop;
    pthread_t thread;
};

static void *
serve_loop(void *arg)
{
    struct server_thread *st = arg;
    while (!st->stop) {
        struct pollfd pfd = { ctl_server_fd(st->server), POLLIN, 0 };
        if (poll(&pfd, 1, 20) > 0) {
            ctl_server_run_once(st->server);
        }
    }
    return NULL;
}

static int
connect_to(const char *path)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    strcpy(sun.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(fd, (struct sockaddr *) &sun, sizeof sun)) {
        close(fd);
        return -errno;
    }
    return fd;
}

/* Sends 'request' (as is: include the newline) and returns the parsed
 * reply; '*fdp' gets a passed fd or -1. */
static int
request(const char *path, const char *req, size_t len, struct json_value *v,
        int *fdp)
{
    int fd = connect_to(path);
    if (fd < 0) {
        return fd;
    }
    CU_ASSERT_EQUAL(send(fd, req, len, MSG_NOSIGNAL), (ssize_t) len);
    static char reply[1 << 16];
    size_t got = 0;
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    *fdp = -1;
    for (;;) {
        struct iovec iov = { reply + got, sizeof reply - 1 - got };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                              .msg_control = control.buf,
                              .msg_controllen = sizeof control.buf };
        ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
        if (n <= 0) {
            break;
        }
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        if (c && c->cmsg_type == SCM_RIGHTS) {
            memcpy(fdp, CMSG_DATA(c), sizeof(int));
        }
        got += n;
    }
    close(fd);
    reply[got] = '\0';
    CU_ASSERT(got > 0 && reply[got - 1] == '\n');
    char err[128];
    int r = json_parse(reply, got, v, err, sizeof err);
    if (r) {
        fprintf(stderr, "\nbad reply '%s': %s\n", reply, err);
    }
    return r;
}

static int
request_str(const char *path, const char *req, struct json_value *v)
{
    char line[256];
    int fd;
    snprintf(line, sizeof line, "%s\n", req);
    int r = request(path, line, strlen(line), v, &fd);
    CU_ASSERT_EQUAL(fd, -1);
    return r;
}

static void
expect_error(const char *path, const char *req, const char *needle)
{
    struct json_value v;
    CU_ASSERT_EQUAL_FATAL(request_str(path, req, &v), 0);
    CU_ASSERT_FALSE(json_get_bool(&v, "ok", true));
    const char *msg = json_get_string(&v, "error");
    if (!msg || !strstr(msg, needle)) {
        fprintf(stderr, "\n'%s': error '%s' lacks '%s'\n", req,
                msg ? msg : "(none)", needle);
        CU_FAIL("error message");
    }
    json_value_free(&v);
}

static void
expect_ok(const char *path, const char *req, struct json_value *v)
{
    CU_ASSERT_EQUAL_FATAL(request_str(path, req, v), 0);
    if (!json_get_bool(v, "ok", false)) {
        fprintf(stderr, "\n'%s' failed: %s\n", req,
                json_get_string(v, "error"));
        CU_FAIL("request failed");
    }
}

static char tmpdir[64];
static char sock_path[128];

/* Also quiets the server's info lines: the replies are what is tested. */
static void
make_tmpdir(void)
{
    vlog_set_level(VLL_WARN);
    strcpy(tmpdir, "/tmp/test-stats.XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(tmpdir));
    snprintf(sock_path, sizeof sock_path, "%s/control.sock", tmpdir);
}

static void
test_ctl_commands(void)
{
    struct fake fake = { 0 };
    struct stats_segment *seg;
    CU_ASSERT_EQUAL_FATAL(stats_create(&seg, &fake.stats_fd), 0);
    make_tmpdir();

    char err[256];
    struct server_thread st = { 0 };
    CU_ASSERT_EQUAL_FATAL(ctl_server_create(sock_path, &fake_ops, &fake,
                                            &st.server, err, sizeof err), 0);
    struct stat s;
    CU_ASSERT_EQUAL(stat(sock_path, &s), 0);
    CU_ASSERT_TRUE(S_ISSOCK(s.st_mode));
    CU_ASSERT_EQUAL(s.st_mode & 0777, 0660);
    pthread_create(&st.thread, NULL, serve_loop, &st);

    struct json_value v;
    expect_ok(sock_path, "version", &v);
    CU_ASSERT_STRING_EQUAL(json_get_string(&v, "version"), PACKAGE_VERSION);
    CU_ASSERT_EQUAL(json_get_int(&v, "pid", 0), getpid());
    json_value_free(&v);

    /* add-port: the SPEC is parsed, spaces of a filter included. */
    expect_ok(sock_path, "add-port cap=pcap:/tmp/c.pcap,filter=tcp port 80",
              &v);
    json_value_free(&v);
    CU_ASSERT_EQUAL(fake.n_add, 1);
    CU_ASSERT_STRING_EQUAL(fake.spec.name, "cap");
    CU_ASSERT_EQUAL(fake.spec.type, PORT_PCAP);
    CU_ASSERT_STRING_EQUAL(fake.spec.filter, "tcp port 80");
    expect_ok(sock_path, "add-port  vm3=vhost:/tmp/vm3.sock,queues=2\r", &v);
    json_value_free(&v);
    CU_ASSERT_EQUAL(fake.spec.n_queues, 2);

    expect_error(sock_path, "add-port a=vhots:/x", "port 'a': unknown type "
                 "'vhots' (expected vhost, tap or pcap)");
    CU_ASSERT_EQUAL(fake.n_add, 2);     /* bad SPECs never reach the op */
    expect_error(sock_path, "add-port", "usage: add-port SPEC");
    fake.add_error = -EEXIST;
    expect_error(sock_path, "add-port vm1=vhost:/tmp/1", "port 'vm1' already "
                 "exists");
    fake.add_error = 0;

    expect_ok(sock_path, "del-port vm1", &v);
    json_value_free(&v);
    expect_error(sock_path, "del-port nope", "no port named nope");
    expect_error(sock_path, "del-port", "usage: del-port NAME");
    expect_error(sock_path, "del-port a b", "usage: del-port NAME");

    expect_ok(sock_path, "fdb-flush", &v);
    json_value_free(&v);
    CU_ASSERT_TRUE(fake.flushed_all);
    expect_ok(sock_path, "fdb-flush vm2", &v);
    json_value_free(&v);
    CU_ASSERT_FALSE(fake.flushed_all);
    CU_ASSERT_STRING_EQUAL(fake.flushed, "vm2");

    expect_ok(sock_path, "fdb", &v);
    const struct json_value *fdb = json_get(&v, "fdb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fdb);
    CU_ASSERT_EQUAL(fdb->type, JSON_ARRAY);
    CU_ASSERT_EQUAL_FATAL(fdb->u.c.n, 2);
    CU_ASSERT_STRING_EQUAL(json_get_string(&fdb->u.c.items[1], "port"),
                           "vm2");
    CU_ASSERT_EQUAL(json_get_int(&fdb->u.c.items[1], "age", 0), 4);
    json_value_free(&v);

    enum vlog_level saved = vlog_get_level();
    expect_ok(sock_path, "log-level warn", &v);
    CU_ASSERT_STRING_EQUAL(json_get_string(&v, "log_level"), "warn");
    json_value_free(&v);
    CU_ASSERT_EQUAL(vlog_get_level(), VLL_WARN);
    expect_error(sock_path, "log-level loud", "bad log level 'loud'");
    vlog_set_level(saved);

    expect_error(sock_path, "bogus", "unknown command 'bogus'");
    expect_error(sock_path, "", "unknown command ''");

    st.stop = 1;
    pthread_join(st.thread, NULL);
    ctl_server_destroy(st.server);
    CU_ASSERT_EQUAL(access(sock_path, F_OK), -1);   /* unlinked */
    rmdir(tmpdir);
    munmap(seg, sizeof *seg);
    close(fake.stats_fd);
}

static void
test_ctl_stats_fd(void)
{
    struct fake fake = { 0 };
    struct stats_segment *seg;
    CU_ASSERT_EQUAL_FATAL(stats_create(&seg, &fake.stats_fd), 0);
    seg->ports[1].queues[0].rx.packets = 1234;
    make_tmpdir();
    char err[256];
    struct server_thread st = { 0 };
    CU_ASSERT_EQUAL_FATAL(ctl_server_create(sock_path, &fake_ops, &fake,
                                            &st.server, err, sizeof err), 0);
    pthread_create(&st.thread, NULL, serve_loop, &st);

    struct json_value v;
    int fd;
    CU_ASSERT_EQUAL_FATAL(request(sock_path, "stats-fd\n", 9, &v, &fd), 0);
    CU_ASSERT_TRUE(json_get_bool(&v, "ok", false));
    json_value_free(&v);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
    const struct stats_segment *view;
    CU_ASSERT_EQUAL_FATAL(stats_map_readonly(fd, &view), 0);
    CU_ASSERT_EQUAL(view->ports[1].queues[0].rx.packets, 1234);
    munmap((void *) view, sizeof *view);
    close(fd);

    /* A request without the final newline is still a request (EOF ends
     * it); one longer than the limit is refused. */
    int sfd = connect_to(sock_path);
    CU_ASSERT_EQUAL(send(sfd, "version", 7, 0), 7);
    shutdown(sfd, SHUT_WR);
    char buf[256] = "";
    ssize_t n = 0, m;
    while ((m = recv(sfd, buf + n, sizeof buf - 1 - n, 0)) > 0) {
        n += m;
    }
    close(sfd);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"ok\":true"));

    static char huge[CTL_MAX_REQUEST + 100];
    memset(huge, 'a', sizeof huge);
    huge[sizeof huge - 1] = '\n';
    CU_ASSERT_EQUAL(request(sock_path, huge, sizeof huge, &v, &fd), 0);
    CU_ASSERT_FALSE(json_get_bool(&v, "ok", true));
    CU_ASSERT_PTR_NOT_NULL(strstr(json_get_string(&v, "error"),
                                  "request too long"));
    json_value_free(&v);

    st.stop = 1;
    pthread_join(st.thread, NULL);
    ctl_server_destroy(st.server);
    rmdir(tmpdir);
    munmap(seg, sizeof *seg);
    close(fake.stats_fd);
}

static double
now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The control thread is never held longer than about a second. */
static void
test_ctl_slow_client(void)
{
    struct fake fake = { 0 };
    make_tmpdir();
    char err[256];
    struct ctl_server *server;
    CU_ASSERT_EQUAL_FATAL(ctl_server_create(sock_path, &fake_ops, &fake,
                                            &server, err, sizeof err), 0);
    CU_ASSERT_EQUAL(ctl_server_run_once(server), 0);    /* nobody waiting */

    int fd = connect_to(sock_path);
    CU_ASSERT_EQUAL(send(fd, "ver", 3, 0), 3);          /* and then silence */
    double t0 = now_sec();
    CU_ASSERT_EQUAL(ctl_server_run_once(server), 1);
    double dt = now_sec() - t0;
    CU_ASSERT(dt >= 0.9 && dt < 1.5);
    char c;
    CU_ASSERT_EQUAL(recv(fd, &c, 1, 0), 0);             /* dropped */
    close(fd);
    ctl_server_destroy(server);
    rmdir(tmpdir);
}

/* One daemon per socket; a socket file left by a dead one is replaced. */
static void
test_ctl_socket_takeover(void)
{
    struct fake fake = { 0 };
    char err[256] = "";
    struct ctl_server *a, *b = NULL;
    make_tmpdir();

    CU_ASSERT_EQUAL_FATAL(ctl_server_create(sock_path, &fake_ops, &fake, &a,
                                            err, sizeof err), 0);
    CU_ASSERT_EQUAL(ctl_server_create(sock_path, &fake_ops, &fake, &b, err,
                                      sizeof err), -EADDRINUSE);
    CU_ASSERT_PTR_NULL(b);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "another vuswitch is running"));
    CU_ASSERT_EQUAL(ctl_server_run_once(a), 1);     /* the silent probe */
    CU_ASSERT_EQUAL(access(sock_path, F_OK), 0);    /* left alone */
    ctl_server_destroy(a);

    /* Stale: bound, never unlinked, nobody listening. */
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    strcpy(sun.sun_path, sock_path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CU_ASSERT_EQUAL(bind(fd, (struct sockaddr *) &sun, sizeof sun), 0);
    close(fd);
    CU_ASSERT_EQUAL(ctl_server_create(sock_path, &fake_ops, &fake, &b, err,
                                      sizeof err), 0);
    ctl_server_destroy(b);

    /* Not a socket: not ours to remove. */
    fd = open(sock_path, O_CREAT | O_WRONLY, 0600);
    close(fd);
    b = NULL;
    CU_ASSERT_EQUAL(ctl_server_create(sock_path, &fake_ops, &fake, &b, err,
                                      sizeof err), -EEXIST);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a socket"));
    CU_ASSERT_EQUAL(access(sock_path, F_OK), 0);
    unlink(sock_path);

    /* A missing directory that is not the default one is not created. */
    char path[200];
    snprintf(path, sizeof path, "%s/missing/control.sock", tmpdir);
    CU_ASSERT_EQUAL(ctl_server_create(path, &fake_ops, &fake, &b, err,
                                      sizeof err), -ENOENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "No such file or directory"));
    rmdir(tmpdir);
}

static const struct cunit_test tests[] = {
    CUNIT_TEST(test_layout),
    CUNIT_TEST(test_drop_names),
    CUNIT_TEST(test_create_and_map),
    CUNIT_TEST(test_map_rejects),
    CUNIT_TEST(test_sums),
    CUNIT_TEST(test_seqlock_basic),
    CUNIT_TEST(test_seqlock_concurrent),
    CUNIT_TEST(test_json_writer),
    CUNIT_TEST(test_json_pretty),
    CUNIT_TEST(test_json_reader),
    CUNIT_TEST(test_json_round_trip),
    CUNIT_TEST(test_ctl_commands),
    CUNIT_TEST(test_ctl_stats_fd),
    CUNIT_TEST(test_ctl_slow_client),
    CUNIT_TEST(test_ctl_socket_takeover),
};

CUNIT_MAIN("stats", tests)
