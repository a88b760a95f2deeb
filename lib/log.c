/* log.c -- see log.h.  One line per call, written with a single write(2) so
 * that lines from different threads never interleave. */
#include <config.h>
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static enum vlog_level level = VLL_INFO;

static const char *const names[] = { "err", "warn", "info", "debug" };

void
vlog_set_level(enum vlog_level l)
{
    WRITE_ONCE(level, l);
}

enum vlog_level
vlog_get_level(void)
{
    return READ_ONCE(level);
}

int
vlog_level_from_string(const char *s, enum vlog_level *out)
{
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        if (!strcmp(s, names[i])) {
            *out = (enum vlog_level) i;
            return 0;
        }
    }
    if (!strcmp(s, "dbg") || !strcmp(s, "error") || !strcmp(s, "warning")) {
        *out = s[0] == 'd' ? VLL_DBG : s[0] == 'e' ? VLL_ERR : VLL_WARN;
        return 0;
    }
    return -EINVAL;
}

const char *
vlog_level_to_string(enum vlog_level l)
{
    return (unsigned) l < ARRAY_SIZE(names) ? names[l] : "?";
}

void
vlogv(enum vlog_level l, const char *fmt, va_list args)
{
    if (l > vlog_get_level()) {
        return;
    }

    char line[1024];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%02d:%02d:%02d.%03ld vuswitch %s: ",
                     tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
                     vlog_level_to_string(l));
    int m = vsnprintf(line + n, sizeof line - n - 1, fmt, args);
    n += m < 0 ? 0 : MIN((size_t) m, sizeof line - n - 2);
    line[n++] = '\n';
    ssize_t r = write(STDERR_FILENO, line, n);
    (void) r;
}

void
vlog(enum vlog_level l, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vlogv(l, fmt, args);
    va_end(args);
}

int
vlog_rl_allow(struct vlog_rl *rl)
{
    enum { BURST = 5 };
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    uint64_t now = ts.tv_sec;
    if (now != rl->last_sec) {
        uint64_t refill = rl->last_sec ? now - rl->last_sec : BURST;
        rl->tokens = MIN(BURST, rl->tokens + refill);
        rl->last_sec = now;
        if (rl->suppressed && rl->tokens) {
            uint32_t n = rl->suppressed;
            rl->suppressed = 0;
            vlog(VLL_WARN, "(%u similar messages suppressed)", n);
        }
    }
    if (rl->tokens) {
        rl->tokens--;
        return 1;
    }
    rl->suppressed++;
    return 0;
}
