/*
 * stats.c - the daemon's /metrics (Prometheus text format 0.0.4) parsed into
 * struct cli_metrics, and formatted for `cachewire stats` (see stats.h).
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "args_internal.h"
#include "stats.h"

/* ---- parsing ------------------------------------------------------------ */

/* The labels we use from one sample; the others are skipped. */
struct labels {
	char method[CLI_METRICS_NAME_MAX];
	char code[CLI_METRICS_NAME_MAX];
	char le[CLI_METRICS_NAME_MAX];
	char version[CLI_METRICS_NAME_MAX];
	bool has_le;
};

/* One line being parsed: p moves from the start towards end. */
struct cursor {
	const char *p, *end;
};

static void skip_blanks(struct cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
		c->p++;
}

static bool at_blank_or_end(const struct cursor *c)
{
	return c->p == c->end || *c->p == ' ' || *c->p == '\t';
}

/* A name of [a-zA-Z_:][a-zA-Z0-9_:]* (no ':' for labels); its length. */
static size_t scan_name(struct cursor *c, bool colons)
{
	const char *start = c->p;

	while (c->p < c->end &&
	       (isalpha((unsigned char)*c->p) || *c->p == '_' ||
	           (colons && *c->p == ':') ||
	           (c->p > start && isdigit((unsigned char)*c->p))))
		c->p++;
	return (size_t)(c->p - start);
}

/* A quoted label value with \\ \" \n escapes into dst (cut to fit). */
static const char *scan_label_value(struct cursor *c, char *dst, size_t cap)
{
	size_t n = 0;
	char ch;

	if (c->p == c->end || *c->p != '"')
		return "label value must be in double quotes";
	for (c->p++; c->p < c->end && *c->p != '"'; c->p++) {
		ch = *c->p;
		if (ch == '\\') {
			if (++c->p == c->end)
				break;
			ch = *c->p == 'n' ? '\n' : *c->p;
			if (*c->p != 'n' && *c->p != '\\' && *c->p != '"')
				return "invalid escape in a label value";
		}
		if (dst != NULL && n + 1 < cap)
			dst[n++] = ch;
	}
	if (c->p == c->end)
		return "unterminated label value";
	c->p++;
	if (dst != NULL)
		dst[n] = '\0';
	return NULL;
}

static const char *scan_labels(struct cursor *c, struct labels *l)
{
	const char *name;
	size_t n;
	char *dst;
	const char *msg;

	c->p++; /* '{' */
	for (;;) {
		skip_blanks(c);
		if (c->p < c->end && *c->p == '}')
			break;
		name = c->p;
		if ((n = scan_name(c, false)) == 0)
			return "expected a label name or '}'";
		dst = n == 6 && memcmp(name, "method", 6) == 0    ? l->method
		      : n == 4 && memcmp(name, "code", 4) == 0    ? l->code
		      : n == 2 && memcmp(name, "le", 2) == 0      ? l->le
		      : n == 7 && memcmp(name, "version", 7) == 0 ? l->version
		                                                  : NULL;
		l->has_le |= dst == l->le;
		skip_blanks(c);
		if (c->p == c->end || *c->p != '=')
			return "expected '=' after a label name";
		c->p++;
		skip_blanks(c);
		if ((msg = scan_label_value(c, dst, CLI_METRICS_NAME_MAX)))
			return msg;
		skip_blanks(c);
		if (c->p < c->end && *c->p == ',')
			c->p++;
		else if (c->p == c->end || *c->p != '}')
			return "expected ',' or '}' after a label";
	}
	c->p++; /* '}' */
	return NULL;
}

/* A float as Go's ParseFloat takes it: decimal, NaN, +Inf, -Inf, 1e3. */
static bool parse_float(const char *s, size_t n, double *v)
{
	char buf[64];
	char *end;

	if (n == 0 || n >= sizeof buf || memchr(s, 'x', n) || memchr(s, 'X', n))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	*v = strtod(buf, &end);
	return *end == '\0';
}

static struct cli_metrics_method *method_of(
    struct cli_metrics *m, const char *name)
{
	size_t i;

	if (name[0] == '\0')
		name = "unknown";
	for (i = 0; i < m->nmethods; i++)
		if (strcmp(m->methods[i].name, name) == 0)
			return &m->methods[i];
	if (m->nmethods == CLI_METRICS_MAX_METHODS)
		return NULL;
	snprintf(m->methods[i].name, sizeof m->methods[i].name, "%s", name);
	return &m->methods[m->nmethods++];
}

static void add_code(struct cli_metrics *m, const char *name, double v)
{
	size_t i;

	if (name[0] == '\0')
		name = "unknown";
	for (i = 0; i < m->ncodes; i++)
		if (strcmp(m->codes[i].name, name) == 0)
			break;
	if (i == m->ncodes) {
		if (m->ncodes == CLI_METRICS_MAX_CODES)
			return;
		snprintf(m->codes[i].name, sizeof m->codes[i].name, "%s", name);
		m->ncodes++;
	}
	m->codes[i].n += v;
}

/* Record bucket le (kept sorted; a repeated le replaces the count). */
static void add_bucket(struct cli_metrics_method *mm, double le, double v)
{
	size_t i = 0;

	while (i < mm->nbuckets && mm->le[i] < le)
		i++;
	if (i < mm->nbuckets && mm->le[i] == le) {
		mm->cumulative[i] = v;
		return;
	}
	if (mm->nbuckets == CLI_METRICS_MAX_BUCKETS)
		return;
	memmove(
	    &mm->le[i + 1], &mm->le[i], (mm->nbuckets - i) * sizeof(double));
	memmove(&mm->cumulative[i + 1], &mm->cumulative[i],
	    (mm->nbuckets - i) * sizeof(double));
	mm->le[i] = le;
	mm->cumulative[i] = v;
	mm->nbuckets++;
}

static void set(struct cli_metric *x, double v)
{
	x->v = v;
	x->seen = true;
}

static void add(struct cli_metric *x, double v)
{
	x->v = x->seen ? x->v + v : v;
	x->seen = true;
}

#define HIST "cachewire_request_duration_seconds_"

/* Store one sample; NULL, or what is wrong with it. */
static const char *record(struct cli_metrics *m, const char *name, size_t n,
    const struct labels *l, double v)
{
	static const struct {
		const char *name;
		size_t offset;
	} plain[] = {
#define PLAIN(s, f) {"cachewire_" s, offsetof(struct cli_metrics, f)}
	    PLAIN("start_time_seconds", start_time),
	    PLAIN("ready", ready),
	    PLAIN("requests_in_flight", in_flight),
	    PLAIN("max_in_flight", max_in_flight),
	    PLAIN("received_bytes_total", received_bytes),
	    PLAIN("sent_bytes_total", sent_bytes),
	    PLAIN("redis_up", redis_up),
	    PLAIN("redis_errors_total", redis_errors),
	    PLAIN("redis_reconnects_total", redis_reconnects),
	    PLAIN("redis_connections", redis_connections),
	    PLAIN("redis_pool_size", redis_pool_size),
	    PLAIN("redis_pending_commands", redis_pending),
#undef PLAIN
	};
	struct cli_metrics_method *mm;
	double le;
	size_t k;

#define IS(s) (n == strlen(s) && memcmp(name, s, n) == 0)
	for (k = 0; k < sizeof plain / sizeof plain[0]; k++)
		if (IS(plain[k].name)) {
			set((struct cli_metric *)((char *)m + plain[k].offset),
			    v);
			return NULL;
		}
	if (IS("cachewire_build_info")) {
		snprintf(m->version, sizeof m->version, "%s", l->version);
	} else if (IS("cachewire_requests_total")) {
		add(&m->requests, v);
		add_code(m, l->code, v);
		if ((mm = method_of(m, l->method)) != NULL)
			add(&mm->requests, v);
	} else if (IS(HIST "bucket")) {
		if (!l->has_le || !parse_float(l->le, strlen(l->le), &le) ||
		    isnan(le))
			return "a histogram bucket needs a number in its le "
			       "label";
		if ((mm = method_of(m, l->method)) != NULL)
			add_bucket(mm, le, v);
	} else if (IS(HIST "count") || IS(HIST "sum")) {
		if ((mm = method_of(m, l->method)) != NULL)
			set(name[n - 1] == 't' ? &mm->count : &mm->sum, v);
	}
#undef IS
	return NULL;
}

/* Parse one line (without its '\n'); NULL or what is wrong. */
static const char *parse_line(
    struct cli_metrics *m, const char *line, size_t len)
{
	struct cursor c = {line, line + len};
	struct labels l;
	const char *name, *tok, *msg;
	size_t n;
	double v;

	if (len > 0 && line[len - 1] == '\r')
		c.end--;
	if (memchr(line, '\0', len) != NULL)
		return "NUL byte in the line";
	skip_blanks(&c);
	if (c.p == c.end || *c.p == '#')
		return NULL; /* blank, # HELP, # TYPE or a comment */
	name = c.p;
	if ((n = scan_name(&c, true)) == 0)
		return "expected a metric name";
	memset(&l, 0, sizeof l);
	skip_blanks(&c);
	if (c.p < c.end && *c.p == '{') {
		if ((msg = scan_labels(&c, &l)) != NULL)
			return msg;
		skip_blanks(&c);
	} else if (c.p == name + n && c.p < c.end) {
		return "expected '{' or a blank after the metric name";
	}
	for (tok = c.p; !at_blank_or_end(&c); c.p++)
		;
	if (c.p == tok)
		return "the sample has no value";
	if (!parse_float(tok, (size_t)(c.p - tok), &v))
		return "the value is not a number";
	skip_blanks(&c);
	tok = c.p;
	if (c.p < c.end && *c.p == '-')
		c.p++;
	while (c.p < c.end && isdigit((unsigned char)*c.p))
		c.p++;
	if (c.p == tok + 1 && *tok == '-')
		return "the timestamp is not an integer";
	if (!at_blank_or_end(&c))
		return c.p == tok ? "unexpected text after the value"
		                  : "the timestamp is not an integer";
	skip_blanks(&c);
	if (c.p != c.end)
		return "unexpected text after the timestamp";
	return record(m, name, n, &l, v);
}

int cli_metrics_parse(const char *text, size_t len, struct cli_metrics *out,
    char *err, size_t errlen)
{
	const char *p = text, *end = text + len, *nl, *msg;
	char shown[48];
	size_t lineno, n, i;

	memset(out, 0, sizeof *out);
	for (lineno = 1; p < end; lineno++, p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if ((msg = parse_line(out, p, (size_t)(nl - p))) == NULL)
			continue;
		n = (size_t)(nl - p) < sizeof shown - 4 ? (size_t)(nl - p)
		                                        : sizeof shown - 4;
		for (i = 0; i < n; i++)
			shown[i] = isprint((unsigned char)p[i]) ? p[i] : '?';
		strcpy(shown + n, n < (size_t)(nl - p) ? "..." : "");
		return fail(
		    err, errlen, "line %zu: %s: '%s'", lineno, msg, shown);
	}
	return 0;
}

double cli_metrics_quantile(const struct cli_metrics_method *mm, double q)
{
	double total, rank;
	size_t i;

	if (mm->nbuckets == 0)
		return NAN;
	total = isinf(mm->le[mm->nbuckets - 1])
	            ? mm->cumulative[mm->nbuckets - 1]
	        : mm->count.seen ? mm->count.v
	                         : mm->cumulative[mm->nbuckets - 1];
	if (!(total > 0) || isinf(total))
		return NAN;
	rank = q * total;
	for (i = 0; i < mm->nbuckets; i++)
		if (mm->cumulative[i] >= rank)
			return mm->le[i];
	return INFINITY;
}
