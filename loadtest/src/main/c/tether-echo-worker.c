/*
 * tether-echo-worker: the C reference worker of the benchmarks (docs/benchmarks.md, docs/workers.md).
 *
 * One message in, N "delta" events and one "result" event out, each line written with one write(2)
 * as soon as it is made: the smallest worker that streams, so that a benchmark measures what carries
 * the lines (the gateway, or websocketd) and not the worker. libc only; built at benchmark time with
 * the machine's C compiler:  cc -O2 -o tether-echo-worker tether-echo-worker.c
 *
 * Modes
 *   (default)     the gateway's worker protocol: prints {"type":"ready"} once, then reads JSON lines
 *                 on stdin: "message" starts a turn, "shutdown" (or end of input) exits 0, every other
 *                 type ("session", "interrupt", ...) is ignored (a turn ends before the next line is
 *                 read, so there is never one to interrupt).
 *   --websocketd  websocketd's line mode (one text frame in = one stdin line, one stdout line = one
 *                 frame out): no ready line; each line is a message in the same form as the gateway
 *                 sends it, and the answer is the same lines. A line that is not a message is answered
 *                 {"type":"error","message":...}.
 *
 * A message line: {"type":"message","id":"<id>","data":<data>}, where data is
 *   "some text"                            the text, 3 deltas; or
 *   {"text":"some text","deltas":N}        both optional: text "" and N 3 when absent; N in 0..1000000.
 * The answer, for N = 3 and text "hello tether":
 *   {"type":"delta","id":"<id>","text":"hell"}
 *   {"type":"delta","id":"<id>","text":"o te"}
 *   {"type":"delta","id":"<id>","text":"ther"}
 *   {"type":"result","id":"<id>","text":"hello tether"}
 * The text is split into N nearly equal parts as the gateway's in-process echo worker splits it
 * (parts of ceil(len / N) characters, empty parts when N exceeds the length); escapes and UTF-8
 * sequences are never cut. Strings are copied as they came (escapes kept), so no decoding is needed.
 *
 * Robustness: lines of any length up to 64 MiB (longer ones are discarded up to their newline and
 * reported on stderr); a write to a closed stdout ends the worker (exit 0); diagnostics go to stderr.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_LINE (64L * 1024 * 1024)
#define MAX_DELTAS 1000000L
#define DEFAULT_DELTAS 3L

typedef struct {
    const char *p;
    size_t n;
} span;

static int websocketd_mode;

/* ---- output ------------------------------------------------------------------------------- */

static char *out;
static size_t out_len, out_cap;

static void out_reserve(size_t more) {
    if (out_len + more <= out_cap) {
        return;
    }
    size_t cap = out_cap ? out_cap : 4096;
    while (cap < out_len + more) {
        cap *= 2;
    }
    char *grown = realloc(out, cap);
    if (!grown) {
        fprintf(stderr, "tether-echo-worker: out of memory\n");
        exit(1);
    }
    out = grown;
    out_cap = cap;
}

static void out_put(const char *s, size_t n) {
    out_reserve(n);
    memcpy(out + out_len, s, n);
    out_len += n;
}

static void out_str(const char *s) { out_put(s, strlen(s)); }

/* Writes the buffered line at once (one event, one write) and empties the buffer. */
static void out_flush(void) {
    size_t done = 0;
    while (done < out_len) {
        ssize_t w = write(1, out + done, out_len - done);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            exit(0); /* stdout closed: nobody listens any more */
        }
        done += (size_t) w;
    }
    out_len = 0;
}

/* ---- a minimal JSON scanner over raw bytes ------------------------------------------------ */

static const char *skip_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
        p++;
    }
    return p;
}

/* p at an opening quote; returns the position after the closing quote, or NULL. The content is in *s. */
static const char *scan_string(const char *p, const char *end, span *s) {
    if (p >= end || *p != '"') {
        return NULL;
    }
    const char *q = p + 1;
    while (q < end && *q != '"') {
        if (*q == '\\') {
            q++;
        }
        q++;
    }
    if (q >= end) {
        return NULL;
    }
    s->p = p + 1;
    s->n = (size_t) (q - p - 1);
    return q + 1;
}

/* Skips one value of any kind (nesting bounded); returns the position after it, or NULL. */
static const char *skip_value(const char *p, const char *end) {
    p = skip_ws(p, end);
    if (p >= end) {
        return NULL;
    }
    if (*p == '"') {
        span s;
        return scan_string(p, end, &s);
    }
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (p < end) {
            if (*p == '"') {
                span s;
                p = scan_string(p, end, &s);
                if (!p) {
                    return NULL;
                }
                continue;
            }
            if (*p == '{' || *p == '[') {
                if (++depth > 64) {
                    return NULL;
                }
            } else if (*p == '}' || *p == ']') {
                if (--depth == 0) {
                    return p + 1;
                }
            }
            p++;
        }
        return NULL;
    }
    const char *q = p;
    while (q < end && *q != ',' && *q != '}' && *q != ']' && *q != ' ' && *q != '\t' && *q != '\r' && *q != '\n') {
        q++;
    }
    return q > p ? q : NULL;
}

static int span_is(span s, const char *literal) {
    size_t n = strlen(literal);
    return s.n == n && memcmp(s.p, literal, n) == 0;
}

/*
 * Walks the members of the object at p, calling visit for each (key, raw value). Returns 0 when the
 * text is not one well-formed object (as far as this scanner checks).
 */
typedef void (*member_fn)(span key, span value, void *ctx);

static int each_member(const char *p, const char *end, member_fn visit, void *ctx) {
    p = skip_ws(p, end);
    if (p >= end || *p != '{') {
        return 0;
    }
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}') {
        return 1;
    }
    while (p < end) {
        span key;
        p = scan_string(p, end, &key);
        if (!p) {
            return 0;
        }
        p = skip_ws(p, end);
        if (p >= end || *p != ':') {
            return 0;
        }
        const char *value = skip_ws(p + 1, end);
        const char *after = skip_value(value, end);
        if (!after) {
            return 0;
        }
        visit(key, (span) {value, (size_t) (after - value)}, ctx);
        p = skip_ws(after, end);
        if (p < end && *p == ',') {
            p = skip_ws(p + 1, end);
            continue;
        }
        return p < end && *p == '}';
    }
    return 0;
}

/* ---- messages ----------------------------------------------------------------------------- */

typedef struct {
    span type, id, data;
    int has_type, has_id, has_data, id_is_string;
} line_fields;

static void line_member(span key, span value, void *ctx) {
    line_fields *f = ctx;
    span s;
    if (span_is(key, "type") && scan_string(value.p, value.p + value.n, &s)) {
        f->type = s;
        f->has_type = 1;
    } else if (span_is(key, "id")) {
        f->has_id = 1;
        f->id_is_string = scan_string(value.p, value.p + value.n, &f->id) != NULL;
    } else if (span_is(key, "data")) {
        f->data = value;
        f->has_data = 1;
    }
}

typedef struct {
    span text;
    long deltas;
} turn;

static void data_member(span key, span value, void *ctx) {
    turn *t = ctx;
    if (span_is(key, "text")) {
        span s;
        if (scan_string(value.p, value.p + value.n, &s)) {
            t->text = s;
        }
    } else if (span_is(key, "deltas") && value.n > 0 && value.n < 16) {
        char number[16];
        memcpy(number, value.p, value.n);
        number[value.n] = '\0';
        char *stop;
        long n = strtol(number, &stop, 10);
        if (*stop == '\0') {
            t->deltas = n < 0 ? 0 : n > MAX_DELTAS ? MAX_DELTAS : n;
        }
    }
}

/* Length of the unit (escape sequence, UTF-8 sequence or byte) starting at p: a cut never falls inside one. */
static size_t unit_length(const char *p, const char *end) {
    unsigned char c = (unsigned char) *p;
    size_t n = 1;
    if (c == '\\') {
        n = (p + 1 < end && p[1] == 'u') ? 6 : 2;
        /* A surrogate pair written as two escapes stays whole. */
        if (n == 6 && p + 12 <= end && (p[2] == 'd' || p[2] == 'D') && p[3] != '\0' && strchr("89abAB", p[3]) && p[6] == '\\' && p[7] == 'u') {
            n = 12;
        }
    } else if (c >= 0xF0) {
        n = 4;
    } else if (c >= 0xE0) {
        n = 3;
    } else if (c >= 0xC0) {
        n = 2;
    }
    return p + n <= end ? n : (size_t) (end - p);
}

static void event_line(const char *type, span id, span text) {
    out_str("{\"type\":\"");
    out_str(type);
    out_str("\",\"id\":\"");
    out_put(id.p, id.n);
    out_str("\",\"text\":\"");
    out_put(text.p, text.n);
    out_str("\"}\n");
    out_flush();
}

static void answer(span id, turn t) {
    const char *end = t.text.p + t.text.n;
    size_t units = 0;
    for (const char *p = t.text.p; p < end; p += unit_length(p, end)) {
        units++;
    }
    if (t.deltas > 0) {
        size_t parts = (size_t) t.deltas < units ? (size_t) t.deltas : units;
        if (parts == 0) {
            parts = 1;
        }
        size_t size = (units + parts - 1) / parts;
        const char *p = t.text.p;
        for (long i = 0; i < t.deltas; i++) {
            const char *from = p;
            for (size_t u = 0; u < size && p < end && (size_t) i < parts; u++) {
                p += unit_length(p, end);
            }
            event_line("delta", id, (span) {from, (size_t) (p - from)});
        }
    }
    event_line("result", id, t.text);
}

static void error_line(const char *message) {
    out_str("{\"type\":\"error\",\"message\":\"");
    out_str(message);
    out_str("\"}\n");
    out_flush();
}

/* Handles one input line; returns 0 when the worker should exit. */
static int handle(const char *line, size_t n) {
    const char *end = line + n;
    if (skip_ws(line, end) == end) {
        return 1; /* blank */
    }
    line_fields f = {0};
    if (!each_member(line, end, line_member, &f) || !f.has_type) {
        if (websocketd_mode) {
            error_line("not a message: expected a JSON object with type message, id and data");
        } else {
            fprintf(stderr, "tether-echo-worker: ignoring a line that is not a JSON object with a type\n");
        }
        return 1;
    }
    if (span_is(f.type, "shutdown")) {
        return 0;
    }
    if (!span_is(f.type, "message")) {
        if (websocketd_mode) {
            error_line("unknown type: only message is understood");
        }
        return 1; /* session, interrupt, and types added later */
    }
    if (!f.has_id || !f.id_is_string) {
        /* A turn must still end with a result, or the gateway would wait for one. */
        out_str("{\"type\":\"result\",\"error\":\"message without a string id\"}\n");
        out_flush();
        return 1;
    }
    turn t = {{"", 0}, DEFAULT_DELTAS};
    if (f.has_data) {
        span s;
        if (scan_string(f.data.p, f.data.p + f.data.n, &s)) {
            t.text = s;
        } else {
            each_member(f.data.p, f.data.p + f.data.n, data_member, &t);
        }
    }
    answer(f.id, t);
    return 1;
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--websocketd") == 0) {
            websocketd_mode = 1;
        } else {
            fprintf(stderr, "usage: tether-echo-worker [--websocketd]\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    if (!websocketd_mode) {
        out_str("{\"type\":\"ready\"}\n");
        out_flush();
    }
    size_t cap = 8192, len = 0, scanned = 0;
    int discarding = 0;
    char *buf = malloc(cap);
    if (!buf) {
        return 1;
    }
    for (;;) {
        if (len == cap) {
            if (cap >= (size_t) MAX_LINE) {
                fprintf(stderr, "tether-echo-worker: discarding a line longer than %ld bytes\n", MAX_LINE);
                discarding = 1;
                len = 0;
                scanned = 0;
            } else {
                char *grown = realloc(buf, cap * 2);
                if (!grown) {
                    fprintf(stderr, "tether-echo-worker: out of memory\n");
                    return 1;
                }
                buf = grown;
                cap *= 2;
            }
        }
        ssize_t r = read(0, buf + len, cap - len);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return 1;
        }
        if (r == 0) {
            return 0; /* end of input means shutdown */
        }
        len += (size_t) r;
        size_t start = 0;
        for (size_t i = scanned; i < len; i++) {
            if (buf[i] != '\n') {
                continue;
            }
            if (discarding) {
                discarding = 0;
            } else if (!handle(buf + start, i - start)) {
                return 0;
            }
            start = i + 1;
        }
        memmove(buf, buf + start, len - start);
        len -= start;
        scanned = len;
    }
}
