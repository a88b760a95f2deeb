/* log.h -- leveled logging to stderr, safe from any thread.
 *
 * Control-path code calls vlog() directly.  Datapath code (workers) must use
 * VLOG_RL(), which prints at most a few lines per second per call site, so
 * that a hostile guest cannot turn the log into a denial of service. */
#ifndef VU_LOG_H
#define VU_LOG_H 1

#include <stdarg.h>
#include <stdint.h>

enum vlog_level { VLL_ERR, VLL_WARN, VLL_INFO, VLL_DBG };

/* Sets and reads the global threshold (any thread). */
void vlog_set_level(enum vlog_level);
enum vlog_level vlog_get_level(void);

/* Parses "err", "warn", "info", "debug"; returns 0 or -EINVAL. */
int vlog_level_from_string(const char *, enum vlog_level *);
const char *vlog_level_to_string(enum vlog_level);

void vlog(enum vlog_level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void vlogv(enum vlog_level, const char *fmt, va_list);

/* Token bucket for rate-limited logging: at most 'burst' lines, refilled at
 * one per second.  Returns nonzero if this line may be printed. */
struct vlog_rl {
    uint64_t last_sec;
    uint32_t tokens;
    uint32_t suppressed;
};
int vlog_rl_allow(struct vlog_rl *);

#define VLOG_ERR(...)  vlog(VLL_ERR, __VA_ARGS__)
#define VLOG_WARN(...) vlog(VLL_WARN, __VA_ARGS__)
#define VLOG_INFO(...) vlog(VLL_INFO, __VA_ARGS__)
#define VLOG_DBG(...)                                   \
    do {                                                \
        if (vlog_get_level() >= VLL_DBG)                \
            vlog(VLL_DBG, __VA_ARGS__);                 \
    } while (0)

/* Rate-limited, per call site; use from workers. */
#define VLOG_RL(LEVEL, ...)                             \
    do {                                                \
        static __thread struct vlog_rl rl__;            \
        if (vlog_rl_allow(&rl__))                       \
            vlog(LEVEL, __VA_ARGS__);                   \
    } while (0)

#endif /* log.h */
