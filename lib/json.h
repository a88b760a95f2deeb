/* json.h -- a small JSON writer into a growable buffer, and a small reader.
 *
 * The writer serves the control server's replies (control thread) and
 * vuswitchctl's --json output; the reader lets vuswitchctl understand the
 * replies.  Neither is for the datapath: both allocate.
 *
 * Writer: calls describe the document in order; commas, colons and (with
 * 'pretty') newlines and indentation are inserted automatically.
 *
 *     struct json j;
 *     json_init(&j, false);
 *     json_object_begin(&j);
 *     json_kv_bool(&j, "ok", true);
 *     json_key(&j, "ports");
 *     json_array_begin(&j);
 *     json_string(&j, "vm1");
 *     json_array_end(&j);
 *     json_object_end(&j);
 *     if (!json_error(&j)) puts(json_text(&j));   // {"ok":true,"ports":["vm1"]}
 *     json_destroy(&j);
 *
 * Out of memory is sticky: later calls do nothing and json_error() returns
 * -ENOMEM.  Misuse (a value where a key is due) is a bug of ours and
 * asserts.  One 'struct json' per thread. */
#ifndef VU_JSON_H
#define VU_JSON_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 32

struct json {
    char *buf;                  /* NUL-terminated text, owned */
    size_t len, cap;
    int error;                  /* 0 or -ENOMEM */
    bool pretty;
    bool want_key;              /* inside an object, a key is due */
    unsigned depth;             /* containers open */
    char open[JSON_MAX_DEPTH];  /* '{' or '[' of each open container */
    bool not_first[JSON_MAX_DEPTH]; /* that container has items already */
};

void json_init(struct json *, bool pretty);
void json_destroy(struct json *);          /* frees the text */

/* The text so far ("" if nothing); valid until the next call. */
const char *json_text(const struct json *);
size_t json_length(const struct json *);
int json_error(const struct json *);

/* Gives the text to the caller, who must free() it; the writer is reset to
 * empty.  NULL after an allocation failure. */
char *json_steal(struct json *);

void json_object_begin(struct json *);
void json_object_end(struct json *);
void json_array_begin(struct json *);
void json_array_end(struct json *);
void json_key(struct json *, const char *);

void json_string(struct json *, const char *);
/* At most 'max' bytes of 's' (stops at a NUL): for fixed-size fields of
 * shared memory that another process may leave unterminated. */
void json_string_n(struct json *, const char *s, size_t max);
void json_u64(struct json *, uint64_t);
void json_i64(struct json *, int64_t);
void json_bool(struct json *, bool);
void json_null(struct json *);

/* Key and value in one call. */
void json_kv_string(struct json *, const char *key, const char *);
void json_kv_u64(struct json *, const char *key, uint64_t);
void json_kv_i64(struct json *, const char *key, int64_t);
void json_kv_bool(struct json *, const char *key, bool);

/* ---- Reader ---------------------------------------------------------------
 *
 * json_parse() builds a tree of 'struct json_value'; strings are decoded
 * (escapes, \u with surrogate pairs, to UTF-8); numbers are kept as
 * int64_t when they are integers that fit, as double otherwise. */

enum json_type {
    JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_INTEGER, JSON_REAL,
    JSON_STRING, JSON_ARRAY, JSON_OBJECT,
};

struct json_value {
    enum json_type type;
    union {
        int64_t integer;
        double real;
        char *string;
        struct {
            size_t n;
            struct json_value *items;   /* array elements or member values */
            char **keys;                /* object member names, else NULL */
        } c;
    } u;
};

/* Parses 'len' bytes of 'text' (one value, surrounded by white space only).
 * Returns 0 and fills '*out' (free with json_value_free), or -EINVAL with
 * the place and reason in 'err', or -ENOMEM. */
int json_parse(const char *text, size_t len, struct json_value *out,
               char *err, size_t err_size);
void json_value_free(struct json_value *);

/* The member 'key' of an object, or NULL (also if 'v' is no object). */
const struct json_value *json_get(const struct json_value *v,
                                  const char *key);
/* Convenience lookups: the member's value if it has that type, else the
 * default / NULL. */
const char *json_get_string(const struct json_value *, const char *key);
int64_t json_get_int(const struct json_value *, const char *key,
                     int64_t dflt);
bool json_get_bool(const struct json_value *, const char *key, bool dflt);

#endif /* json.h */
