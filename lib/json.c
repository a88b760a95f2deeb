/* json.c -- see json.h.  The writer is used by the daemon's control thread
 * and by vuswitchctl; the reader only by vuswitchctl (and tests), on
 * replies of a daemon it trusts to be sane but not to be bug-free: the
 * reader bounds depth and never reads past 'len'. */
#include <config.h>
#include "json.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* ---- Writer: the buffer ------------------------------------------------- */

void
json_init(struct json *j, bool pretty)
{
    memset(j, 0, sizeof *j);
    j->pretty = pretty;
}

void
json_destroy(struct json *j)
{
    if (j) {
        free(j->buf);
        j->buf = NULL;
        j->len = j->cap = 0;
    }
}

const char *
json_text(const struct json *j)
{
    return j->buf ? j->buf : "";
}

size_t
json_length(const struct json *j)
{
    return j->len;
}

int
json_error(const struct json *j)
{
    return j->error;
}

char *
json_steal(struct json *j)
{
    char *text = j->error ? NULL : j->buf;
    if (j->error) {
        free(j->buf);
    } else if (!text) {
        text = strdup("");
    }
    bool pretty = j->pretty;
    json_init(j, pretty);
    return text;
}

static bool
reserve(struct json *j, size_t n)
{
    if (j->error) {
        return false;
    }
    if (j->len + n + 1 > j->cap) {
        size_t cap = j->cap ? j->cap : 256;
        while (cap < j->len + n + 1) {
            cap *= 2;
        }
        char *buf = realloc(j->buf, cap);
        if (!buf) {
            j->error = -ENOMEM;
            return false;
        }
        j->buf = buf;
        j->cap = cap;
    }
    return true;
}

static void
put(struct json *j, const char *s, size_t n)
{
    if (reserve(j, n)) {
        memcpy(j->buf + j->len, s, n);
        j->len += n;
        j->buf[j->len] = '\0';
    }
}

static void
put_str(struct json *j, const char *s)
{
    put(j, s, strlen(s));
}

static void
put_char(struct json *j, char c)
{
    put(j, &c, 1);
}

static void
newline(struct json *j)
{
    if (j->pretty) {
        put_char(j, '\n');
        for (unsigned i = 0; i < j->depth; i++) {
            put(j, "  ", 2);
        }
    }
}

/* ---- Writer: structure -------------------------------------------------- */

/* Separates an array element from the previous one. */
static void
before_value(struct json *j)
{
    if (j->depth == 0) {
        return;
    }
    if (j->open[j->depth - 1] == '{') {
        assert(!j->want_key);   /* json_key() must come first */
        return;
    }
    if (j->not_first[j->depth - 1]) {
        put_char(j, ',');
    }
    j->not_first[j->depth - 1] = true;
    newline(j);
}

static void
after_value(struct json *j)
{
    j->want_key = j->depth > 0 && j->open[j->depth - 1] == '{';
}

static void
begin(struct json *j, char c)
{
    before_value(j);
    assert(j->depth < JSON_MAX_DEPTH);
    put_char(j, c);
    j->open[j->depth] = c;
    j->not_first[j->depth] = false;
    j->depth++;
    j->want_key = c == '{';
}

static void
end(struct json *j, char c)
{
    assert(j->depth > 0 && j->open[j->depth - 1] == (c == '}' ? '{' : '['));
    assert(c != '}' || j->want_key);
    j->depth--;
    if (j->not_first[j->depth]) {
        newline(j);
    }
    put_char(j, c);
    after_value(j);
}

void json_object_begin(struct json *j) { begin(j, '{'); }
void json_object_end(struct json *j)   { end(j, '}'); }
void json_array_begin(struct json *j)  { begin(j, '['); }
void json_array_end(struct json *j)    { end(j, ']'); }

/* ---- Writer: strings ---------------------------------------------------- */

/* Length of the valid UTF-8 sequence at 's' (at most 'n' bytes), or 0.
 * Rejects overlong forms, surrogates and code points above U+10FFFF, which
 * strict JSON readers (Python's) refuse. */
static size_t
utf8_length(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len = c >= 0xc2 && c <= 0xdf ? 2
                 : c >= 0xe0 && c <= 0xef ? 3
                 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (len == 0 || len > n) {
        return 0;
    }
    unsigned char lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
    unsigned char hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
    if (s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i < len; i++) {
        if (s[i] < 0x80 || s[i] > 0xbf) {
            return 0;
        }
    }
    return len;
}

static void
put_escaped(struct json *j, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *) str;
    put_char(j, '"');
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\', esc[1] = c;
            put(j, esc, 2);
        } else if (c == '\n' || c == '\t' || c == '\r' || c == '\b'
                   || c == '\f') {
            esc[0] = '\\';
            esc[1] = c == '\n' ? 'n' : c == '\t' ? 't' : c == '\r' ? 'r'
                     : c == '\b' ? 'b' : 'f';
            put(j, esc, 2);
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(j, esc, 6);
        } else if (c >= 0x80) {
            size_t len = utf8_length(s + i, n - i);
            if (len) {
                put(j, str + i, len);
                i += len;
                continue;
            }
            put_str(j, "\\ufffd");  /* not UTF-8: keep the JSON valid */
        } else {
            put_char(j, c);
        }
        i++;
    }
    put_char(j, '"');
}

void
json_key(struct json *j, const char *key)
{
    assert(j->depth > 0 && j->open[j->depth - 1] == '{' && j->want_key);
    if (j->not_first[j->depth - 1]) {
        put_char(j, ',');
    }
    j->not_first[j->depth - 1] = true;
    newline(j);
    put_escaped(j, key, strlen(key));
    put_str(j, j->pretty ? ": " : ":");
    j->want_key = false;
}

static void
scalar(struct json *j, const char *text, size_t n)
{
    before_value(j);
    put(j, text, n);
    after_value(j);
}

static void
string_value(struct json *j, const char *s, size_t len)
{
    before_value(j);
    put_escaped(j, s, len);
    after_value(j);
}

void
json_string_n(struct json *j, const char *s, size_t max)
{
    string_value(j, s, strnlen(s, max));
}

void
json_string(struct json *j, const char *s)
{
    string_value(j, s, strlen(s));
}

void
json_u64(struct json *j, uint64_t v)
{
    char buf[24];
    scalar(j, buf, snprintf(buf, sizeof buf, "%" PRIu64, v));
}

void
json_i64(struct json *j, int64_t v)
{
    char buf[24];
    scalar(j, buf, snprintf(buf, sizeof buf, "%" PRId64, v));
}

void
json_bool(struct json *j, bool v)
{
    scalar(j, v ? "true" : "false", v ? 4 : 5);
}

void
json_null(struct json *j)
{
    scalar(j, "null", 4);
}

void
json_kv_string(struct json *j, const char *key, const char *v)
{
    json_key(j, key);
    json_string(j, v);
}

void
json_kv_u64(struct json *j, const char *key, uint64_t v)
{
    json_key(j, key);
    json_u64(j, v);
}

void
json_kv_i64(struct json *j, const char *key, int64_t v)
{
    json_key(j, key);
    json_i64(j, v);
}

void
json_kv_bool(struct json *j, const char *key, bool v)
{
    json_key(j, key);
    json_bool(j, v);
}

/* ---- Reader ------------------------------------------------------------- */

struct parser {
    const char *s;
    size_t len, pos;
    unsigned depth;
    int error;
    char *err;
    size_t err_size;
};

static int __attribute__((format(printf, 2, 3)))
parse_fail(struct parser *p, const char *fmt, ...)
{
    if (!p->error) {
        p->error = -EINVAL;
        if (p->err && p->err_size) {
            int n = snprintf(p->err, p->err_size, "offset %zu: ", p->pos);
            va_list args;
            va_start(args, fmt);
            if (n >= 0 && (size_t) n < p->err_size) {
                vsnprintf(p->err + n, p->err_size - n, fmt, args);
            }
            va_end(args);
        }
    }
    return p->error;
}

static int
no_memory(struct parser *p)
{
    if (!p->error) {
        p->error = -ENOMEM;
        if (p->err && p->err_size) {
            snprintf(p->err, p->err_size, "out of memory");
        }
    }
    return p->error;
}

static int
peek(const struct parser *p)
{
    return p->pos < p->len ? (unsigned char) p->s[p->pos] : -1;
}

static void
skip_space(struct parser *p)
{
    while (p->pos < p->len && strchr(" \t\r\n", p->s[p->pos])) {
        p->pos++;
    }
}

static bool
accept_word(struct parser *p, const char *word)
{
    size_t n = strlen(word);
    if (p->len - p->pos >= n && !memcmp(p->s + p->pos, word, n)) {
        p->pos += n;
        return true;
    }
    return false;
}

/* A growable byte string for decoding. */
struct sbuf {
    char *buf;
    size_t len, cap;
};

static bool
sbuf_put(struct sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = MAX(b->cap * 2, b->len + n + 16);
        char *buf = realloc(b->buf, cap);
        if (!buf) {
            return false;
        }
        b->buf = buf;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = '\0';
    return true;
}

static bool
sbuf_put_utf8(struct sbuf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = cp, n = 1;
    } else if (cp < 0x800) {
        u[0] = 0xc0 | cp >> 6, u[1] = 0x80 | (cp & 0x3f), n = 2;
    } else if (cp < 0x10000) {
        u[0] = 0xe0 | cp >> 12, u[1] = 0x80 | ((cp >> 6) & 0x3f);
        u[2] = 0x80 | (cp & 0x3f), n = 3;
    } else {
        u[0] = 0xf0 | cp >> 18, u[1] = 0x80 | ((cp >> 12) & 0x3f);
        u[2] = 0x80 | ((cp >> 6) & 0x3f), u[3] = 0x80 | (cp & 0x3f), n = 4;
    }
    return sbuf_put(b, u, n);
}

static int
hex4(struct parser *p, uint32_t *out)
{
    if (p->len - p->pos < 4) {
        return parse_fail(p, "truncated \\u escape");
    }
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p->s[p->pos++];
        int d = c >= '0' && c <= '9' ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) {
            return parse_fail(p, "bad \\u escape");
        }
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

/* After "\u": one code point, joining a surrogate pair; a lone surrogate
 * becomes U+FFFD. */
static int
unicode_escape(struct parser *p, uint32_t *cp)
{
    if (hex4(p, cp)) {
        return p->error;
    }
    if (*cp >= 0xd800 && *cp <= 0xdbff && accept_word(p, "\\u")) {
        uint32_t lo;
        if (hex4(p, &lo)) {
            return p->error;
        }
        if (lo >= 0xdc00 && lo <= 0xdfff) {
            *cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
            return 0;
        }
        *cp = 0xfffd;
        return 0;
    }
    if (*cp >= 0xd800 && *cp <= 0xdfff) {
        *cp = 0xfffd;
    }
    return 0;
}

static int
escape(struct parser *p, struct sbuf *b)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    int c = peek(p);
    if (c < 0) {
        return parse_fail(p, "unterminated string");
    }
    p->pos++;
    const char *e = c ? strchr(from, c) : NULL;
    if (e) {
        return sbuf_put(b, &to[e - from], 1) ? 0 : no_memory(p);
    }
    uint32_t cp;
    if (c != 'u') {
        return parse_fail(p, "bad escape '\\%c'", c);
    }
    if (unicode_escape(p, &cp)) {
        return p->error;
    }
    return sbuf_put_utf8(b, cp) ? 0 : no_memory(p);
}

/* At the opening quote; returns the decoded string in '*out' (malloc). */
static int
parse_string(struct parser *p, char **out)
{
    struct sbuf b = { NULL, 0, 0 };
    p->pos++;
    for (;;) {
        int c = peek(p);
        if (c < 0) {
            parse_fail(p, "unterminated string");
            break;
        }
        if (c == '"') {
            p->pos++;
            if (!b.buf && !sbuf_put(&b, "", 0)) {
                no_memory(p);
                break;
            }
            *out = b.buf;
            return 0;
        }
        if (c < 0x20) {
            parse_fail(p, "control character in string");
            break;
        }
        if (c == '\\') {
            p->pos++;
            if (escape(p, &b)) {
                break;
            }
            continue;
        }
        size_t start = p->pos;
        while (p->pos < p->len && p->s[p->pos] != '"' && p->s[p->pos] != '\\'
               && (unsigned char) p->s[p->pos] >= 0x20) {
            p->pos++;
        }
        if (!sbuf_put(&b, p->s + start, p->pos - start)) {
            no_memory(p);
            break;
        }
    }
    free(b.buf);
    return p->error;
}

static void
skip_digits(struct parser *p)
{
    while (peek(p) >= '0' && peek(p) <= '9') {
        p->pos++;
    }
}

static int
parse_number(struct parser *p, struct json_value *v)
{
    size_t start = p->pos;
    bool integer = true;
    if (peek(p) == '-') {
        p->pos++;
    }
    if (peek(p) == '0') {
        p->pos++;
    } else if (peek(p) >= '1' && peek(p) <= '9') {
        skip_digits(p);
    } else {
        return parse_fail(p, "bad number");
    }
    if (peek(p) == '.') {
        p->pos++;
        integer = false;
        if (peek(p) < '0' || peek(p) > '9') {
            return parse_fail(p, "bad number");
        }
        skip_digits(p);
    }
    if (peek(p) == 'e' || peek(p) == 'E') {
        p->pos++;
        integer = false;
        if (peek(p) == '+' || peek(p) == '-') {
            p->pos++;
        }
        if (peek(p) < '0' || peek(p) > '9') {
            return parse_fail(p, "bad number");
        }
        skip_digits(p);
    }

    char buf[64];
    size_t n = p->pos - start;
    if (n >= sizeof buf) {
        return parse_fail(p, "number too long");
    }
    memcpy(buf, p->s + start, n);
    buf[n] = '\0';
    errno = 0;
    long long ll = integer ? strtoll(buf, NULL, 10) : 0;
    if (integer && !errno) {
        v->type = JSON_INTEGER;
        v->u.integer = ll;
    } else {
        v->type = JSON_REAL;
        v->u.real = strtod(buf, NULL);
    }
    return 0;
}

static int parse_value(struct parser *, struct json_value *);

/* Appends an item (and for objects its key, taken over) to container 'v'. */
static int
container_add(struct parser *p, struct json_value *v, struct json_value *item,
              char *key)
{
    size_t n = v->u.c.n;
    if ((n & (n - 1)) == 0) {       /* grow at powers of two */
        size_t cap = n ? 2 * n : 4;
        struct json_value *items = realloc(v->u.c.items, cap * sizeof *items);
        if (items) {
            v->u.c.items = items;
        }
        char **keys = v->type == JSON_OBJECT
                      ? realloc(v->u.c.keys, cap * sizeof *keys) : NULL;
        if (keys) {
            v->u.c.keys = keys;
        }
        if (!items || (v->type == JSON_OBJECT && !keys)) {
            json_value_free(item);
            free(key);
            return no_memory(p);
        }
    }
    v->u.c.items[n] = *item;
    if (v->type == JSON_OBJECT) {
        v->u.c.keys[n] = key;
    }
    v->u.c.n = n + 1;
    return 0;
}

/* One member or element, at its first character; 'key' for objects. */
static int
parse_member(struct parser *p, struct json_value *v)
{
    char *key = NULL;
    if (v->type == JSON_OBJECT) {
        if (peek(p) != '"') {
            return parse_fail(p, "expected a member name");
        }
        if (parse_string(p, &key)) {
            return p->error;
        }
        skip_space(p);
        if (peek(p) != ':') {
            free(key);
            return parse_fail(p, "expected ':'");
        }
        p->pos++;
    }
    struct json_value item;
    if (parse_value(p, &item)) {
        free(key);
        return p->error;
    }
    return container_add(p, v, &item, key);
}

static int
parse_container(struct parser *p, struct json_value *v, char close)
{
    if (++p->depth > JSON_MAX_DEPTH) {
        return parse_fail(p, "nested too deeply");
    }
    v->type = close == '}' ? JSON_OBJECT : JSON_ARRAY;
    p->pos++;
    skip_space(p);
    if (peek(p) == close) {
        p->pos++;
        p->depth--;
        return 0;
    }
    for (;;) {
        skip_space(p);
        if (parse_member(p, v)) {
            return p->error;
        }
        skip_space(p);
        int c = peek(p);
        p->pos++;
        if (c == close) {
            p->depth--;
            return 0;
        }
        if (c != ',') {
            p->pos--;
            return parse_fail(p, "expected ',' or '%c'", close);
        }
    }
}

static int
parse_value(struct parser *p, struct json_value *v)
{
    memset(v, 0, sizeof *v);
    skip_space(p);
    int c = peek(p), error;
    if (c == '{' || c == '[') {
        error = parse_container(p, v, c == '{' ? '}' : ']');
        if (error) {
            json_value_free(v);
        }
        return error;
    }
    if (c == '"') {
        v->type = JSON_STRING;
        return parse_string(p, &v->u.string);
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        return parse_number(p, v);
    }
    if (accept_word(p, "true") || accept_word(p, "false")
        || accept_word(p, "null")) {
        char last = p->s[p->pos - 1];
        v->type = last == 'l' ? JSON_NULL : c == 't' ? JSON_TRUE : JSON_FALSE;
        return 0;
    }
    return parse_fail(p, c < 0 ? "unexpected end" : "unexpected character");
}

int
json_parse(const char *text, size_t len, struct json_value *out, char *err,
           size_t err_size)
{
    struct parser p = { text, len, 0, 0, 0, err, err_size };
    struct json_value v;
    if (parse_value(&p, &v)) {
        return p.error;
    }
    skip_space(&p);
    if (p.pos != len) {
        json_value_free(&v);
        return parse_fail(&p, "junk after the value");
    }
    *out = v;
    return 0;
}

void
json_value_free(struct json_value *v)
{
    if (!v) {
        return;
    }
    if (v->type == JSON_STRING) {
        free(v->u.string);
    } else if (v->type == JSON_ARRAY || v->type == JSON_OBJECT) {
        for (size_t i = 0; i < v->u.c.n; i++) {
            json_value_free(&v->u.c.items[i]);
            if (v->u.c.keys) {
                free(v->u.c.keys[i]);
            }
        }
        free(v->u.c.items);
        free(v->u.c.keys);
    }
    memset(v, 0, sizeof *v);
}

const struct json_value *
json_get(const struct json_value *v, const char *key)
{
    if (!v || v->type != JSON_OBJECT) {
        return NULL;
    }
    for (size_t i = 0; i < v->u.c.n; i++) {
        if (!strcmp(v->u.c.keys[i], key)) {
            return &v->u.c.items[i];
        }
    }
    return NULL;
}

const char *
json_get_string(const struct json_value *v, const char *key)
{
    const struct json_value *m = json_get(v, key);
    return m && m->type == JSON_STRING ? m->u.string : NULL;
}

int64_t
json_get_int(const struct json_value *v, const char *key, int64_t dflt)
{
    const struct json_value *m = json_get(v, key);
    return m && m->type == JSON_INTEGER ? m->u.integer : dflt;
}

bool
json_get_bool(const struct json_value *v, const char *key, bool dflt)
{
    const struct json_value *m = json_get(v, key);
    return !m ? dflt : m->type == JSON_TRUE ? true
           : m->type == JSON_FALSE ? false : dflt;
}
