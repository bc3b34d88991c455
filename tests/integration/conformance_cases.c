/*
 * conformance_cases.c - reads the shared conformance cases
 * (tests/conformance/cases.txt, whose header describes the format; or the
 * file named by $CW_CONFORMANCE_CASES) into the steps of conformance.h.
 * conformance_backends.c runs them on every backend (shared_cases);
 * tests/python/test_conformance.py reads the same file for the Python
 * client, so both clients are held to one list of cases.
 *
 * The file is read once, whole, before any case runs: its settings
 * configure the backends, and a mistake in it is an error naming
 * file:line, which shared_cases reports as a failure.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>

#include "conformance.h"

const char *const case_ops[] = {"set", "get", "delete", "clear", "get_many",
    "set_many", "delete_many", "sleep", NULL};

static conf_cases S; /* the file, once read */

/* Say what is wrong in err (512 bytes) and return -1. */
static int oops(char *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, 512, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- tokens: whitespace separates; "..." and (...) group; ',' alone --- */

typedef struct toks {
	char **v;
	size_t n, cap;
} toks;

static void toks_push(toks *t, char *s)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 16;
		t->v = realloc(t->v, t->cap * sizeof *t->v);
		assert_non_null(t->v);
	}
	t->v[t->n++] = s;
}

static void toks_free(toks *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
	*t = (toks){0};
}

static int tokenize(const char *s, toks *t, char *err)
{
	for (;;) {
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '\0' || *s == '#')
			return 0;
		const char *start = s;
		int depth = 0, quoted = 0;
		if (*s == ',')
			s++;
		else
			while (*s &&
			       (quoted || depth ||
			           (!isspace((unsigned char)*s) && *s != ',')))
				if (quoted && *s == '\\' && s[1])
					s += 2;
				else if (*s++ == '"')
					quoted = !quoted;
				else if (!quoted)
					depth += s[-1] == '('   ? 1
					         : s[-1] == ')' ? -1
					                        : 0;
		if (quoted || depth)
			return oops(
			    err, "unterminated %s", quoted ? "quote" : "(");
		toks_push(t, strndup(start, (size_t)(s - start)));
	}
}

/* ---- SIZE: integers (KiB, MiB) and setting names joined by + and - ---- */

static int parse_size(const char **pp, uint64_t *out, char *err)
{
	const char *p = *pp;
	int64_t sum = 0, sign = 1;
	for (;;) {
		int64_t v;
		if (isdigit((unsigned char)*p)) {
			char *end;
			v = (int64_t)strtoll(p, &end, 10);
			p = end;
			if (strncmp(p, "KiB", 3) == 0 ||
			    strncmp(p, "MiB", 3) == 0)
				v <<= *p == 'K' ? 10 : 20, p += 3;
		} else if (isalpha((unsigned char)*p) || *p == '_') {
			const char *n = p;
			while (isalnum((unsigned char)*p) || *p == '_' ||
			       (*p == '.' && p[1] != '.'))
				p++;
			size_t i = 0;
			while (i < S.n_settings &&
			       (strlen(S.names[i]) != (size_t)(p - n) ||
			           strncmp(S.names[i], n, p - n)))
				i++;
			if (i == S.n_settings)
				return oops(err, "unknown setting '%.*s'",
				    (int)(p - n), n);
			v = (int64_t)S.values[i];
		} else {
			return oops(err, "expected a size at '%.20s'", p);
		}
		sum += sign * v;
		if (*p != '+' && *p != '-')
			break;
		sign = *p++ == '+' ? 1 : -1;
	}
	if (sum < 0)
		return oops(err, "negative size %" PRId64, sum);
	*pp = p, *out = (uint64_t)sum;
	return 0;
}

/* A whole token as a SIZE. */
static int size_token(const char *s, uint64_t *out, char *err)
{
	if (parse_size(&s, out, err) != 0)
		return -1;
	return *s ? oops(err, "unexpected '%.20s' after a size", s) : 0;
}

/* ---- bytes: "text", rep(SIZE,"pattern"), seq(SIZE), joined by '+' ---- */

static void put_bytes(bytes *b, const void *p, size_t n)
{
	b->p = realloc(b->p, b->n + n + 1);
	assert_non_null(b->p);
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

/* A "..." at *pp with escapes \\ \" \n \r \t \xHH, appended to b. */
static int quoted(const char **pp, bytes *b, char *err)
{
	const char *p = *pp;
	if (*p++ != '"')
		return oops(err, "expected \"text\" at '%.20s'", *pp);
	for (; *p != '"'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '\\') {
			const char *esc = "\\\\\"\"n\nr\rt\t", *e = esc;
			while (*e && *e != p[1])
				e += 2;
			if (*e) {
				c = (unsigned char)e[1], p++;
			} else if (p[1] == 'x' &&
			           isxdigit((unsigned char)p[2]) &&
			           isxdigit((unsigned char)p[3])) {
				char hex[3] = {p[2], p[3], 0};
				c = (unsigned char)strtol(hex, NULL, 16),
				p += 3;
			} else {
				return oops(err, "bad escape '\\%c'", p[1]);
			}
		}
		put_bytes(b, &c, 1);
	}
	*pp = p + 1;
	return 0;
}

static int parse_bytes(const char *s, bytes *out, char *err)
{
	bytes b = {calloc(1, 1), 0}, pat = {0};
	uint64_t n;
	int rc = 0;
	assert_non_null(b.p);
	while (rc == 0) {
		bool rep = strncmp(s, "rep(", 4) == 0;
		if (*s == '"') {
			rc = quoted(&s, &b, err);
		} else if (rep || strncmp(s, "seq(", 4) == 0) {
			s += 4;
			free(pat.p), pat = (bytes){0};
			if (parse_size(&s, &n, err) ||
			    (rep && (*s++ != ',' || (s += strspn(s, " "), 0) ||
			                quoted(&s, &pat, err) || !pat.n)) ||
			    *s++ != ')')
				rc = *err
				         ? -1
				         : oops(err,
				               "expected rep(SIZE,\"pattern\") "
				               "or seq(SIZE)");
			if (rc == 0) { /* in one piece: values may be 16 MiB */
				b.p = realloc(b.p, b.n + n + 1);
				assert_non_null(b.p);
				for (uint64_t i = 0; i < n; i++)
					b.p[b.n++] = rep ? pat.p[i % pat.n]
					                 : (unsigned char)i;
			}
		} else {
			rc = oops(err,
			    "expected \"text\", rep(SIZE,\"pattern\") or "
			    "seq(SIZE) at '%.20s'",
			    s);
		}
		if (rc == 0 && *s == '\0')
			break;
		if (rc == 0 && *s++ != '+')
			rc = oops(
			    err, "expected '+' or the end at '%.20s'", s - 1);
	}
	free(pat.p);
	if (rc == 0)
		*out = b;
	else
		free(b.p);
	return rc;
}

/* ---- lists and repetition ------------------------------------------------ */

/* Copy of s with every "{i}" replaced by i. */
static char *subst(const char *s, uint64_t i)
{
	char num[24], *out = malloc(strlen(s) * 8 + 1), *o = out;
	assert_non_null(out);
	snprintf(num, sizeof num, "%" PRIu64, i);
	while (*s)
		if (strncmp(s, "{i}", 3) == 0)
			o = stpcpy(o, num), s += 3;
		else
			*o++ = *s++;
	*o = '\0';
	return out;
}

/* Tokens v[0..n) into segments at ',', each ending in "*A..B" repeated;
 * appends segment after segment to segs, each followed by a NULL token. */
static int segments(char **v, size_t n, toks *segs, size_t *count, char *err)
{
	*count = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && strcmp(v[j], ",") != 0)
			j++;
		if (j == i || (j < n && j + 1 == n))
			return oops(err, "empty item in a list");
		uint64_t a = 0, b = 0;
		size_t len = j - i;
		char *dots = v[j - 1][0] == '*' ? strstr(v[j - 1], "..") : NULL;
		if (dots) {
			char *lo = strndup(
			    v[j - 1] + 1, (size_t)(dots - v[j - 1] - 1));
			int rc = size_token(lo, &a, err) ||
			         size_token(dots + 2, &b, err);
			free(lo);
			if (rc || --len == 0)
				return rc ? -1 : oops(err, "nothing to repeat");
		}
		for (uint64_t k = a;; k += a <= b ? 1 : -1) {
			for (size_t t = i; t < i + len; t++)
				toks_push(
				    segs, dots ? subst(v[t], k) : strdup(v[t]));
			toks_push(segs, NULL);
			++*count;
			if (k == b)
				break;
		}
		i = j + 1;
	}
	return 0;
}

static int is_status(const char *s)
{
	for (int c = 1; c <= 16; c++)
		if (strcmp(s, cw_strerror(c)) == 0)
			return c;
	return 0;
}

/* KEY [VALUE [EXPIRY]] from the NULL-terminated tokens v. */
static int parse_item(char **v, bool entry, item *it, char *err)
{
	*it = (item){0};
	size_t n = 0;
	while (v[n])
		n++;
	if (n != (entry ? 2u : 1u) && !(entry && n == 4))
		return oops(err, entry
		                     ? "expected KEY VALUE [ttl MS | at [+-]MS]"
		                     : "expected one KEY");
	if (parse_bytes(v[0], &it->key, err) ||
	    (entry && parse_bytes(v[1], &it->value, err)))
		return -1;
	if (n == 4) {
		const char *ms = v[3];
		uint64_t x;
		bool ttl = strcmp(v[2], "ttl") == 0;
		if (!ttl && strcmp(v[2], "at") != 0)
			return oops(err, "expected ttl or at, not '%s'", v[2]);
		it->xkind = ttl                          ? X_TTL
		            : (*ms == '+' || *ms == '-') ? X_AT_REL
		                                         : X_AT_ABS;
		if (size_token(ms + (it->xkind == X_AT_REL), &x, err) != 0)
			return -1;
		it->xms = *ms == '-' ? -(int64_t)x : (int64_t)x;
		if (it->xkind == X_AT_ABS &&
		    x == 0) /* C: never; Python: 1970 */
			return oops(err,
			    "at 0 means never in C, 1970 in Python: "
			    "use ttl 0");
	}
	return 0;
}

static int parse_result(char **v, result *r, char *err)
{
	static const char *const words[] = {"", "miss", "true", "false"};
	*r = (result){0};
	if (v[0] == NULL || v[1] != NULL)
		return oops(err, "expected one result per item");
	for (int k = R_MISS; k <= R_FALSE; k++)
		if (strcmp(v[0], words[k]) == 0)
			return r->kind = k, 0;
	return parse_bytes(v[0], &r->value, err);
}

/* One step from the tokens v[0..n) (no repetition of the whole step). */
static int parse_step(char **v, size_t n, step *s, char *err)
{
	size_t arrow = 1, nl = 0, nr = 0, i;
	while (arrow < n && strcmp(v[arrow], "->") != 0)
		arrow++;
	bool has_rhs = arrow < n, list = s->op >= GET_MANY && s->op <= DEL_MANY;
	toks L = {0}, R = {0};
	int rc = -1;
	if (segments(v + 1, arrow - 1, &L, &nl, err) != 0)
		goto out;
	if (has_rhs && n > arrow + 1 && is_status(v[arrow + 1])) {
		s->status = is_status(v[arrow + 1]);
		if (n > arrow + 3 ||
		    (n == arrow + 3 &&
		        parse_bytes(v[arrow + 2], &s->message, err)))
			goto bad;
		nr = 0;
	} else if (has_rhs &&
	           segments(v + arrow + 1, n - arrow - 1, &R, &nr, err))
		goto out;
	bool want_rhs = s->op != SET && s->op != SET_MANY && s->op != SLEEP;
	if ((want_rhs && !has_rhs) || (!want_rhs && has_rhs && !s->status)) {
		oops(
		    err, want_rhs ? "expected '-> result'" : "unexpected '->'");
		goto out;
	}
	if (s->op == CLEAR || s->op == SLEEP) { /* one number, or an error */
		char **w = s->op == CLEAR ? R.v : L.v;
		size_t m = s->op == CLEAR ? nr : nl;
		if ((s->op == CLEAR && nl) || (!s->status && m != 1) ||
		    (m == 1 && (w[1] || size_token(w[0], &s->number, err))))
			goto bad;
		rc = 0;
		goto out;
	}
	if ((!list && nl != 1) ||
	    (!s->status && !list && want_rhs && nr != 1) ||
	    (!s->status && list && want_rhs && nr != nl))
		goto bad;
	s->n_items = nl, s->n_results = nr;
	s->items = calloc(nl + 1, sizeof *s->items);
	s->results = calloc(nr + 1, sizeof *s->results);
	assert_non_null(s->items);
	assert_non_null(s->results);
	char **p = L.v; /* segments follow each other, NULL after each */
	for (i = 0; i < nl; i++, p++) {
		if (parse_item(p, s->op == SET || s->op == SET_MANY,
		        &s->items[i], err) != 0)
			goto out;
		while (*p)
			p++;
	}
	for (i = 0, p = R.v; i < nr; i++, p++) {
		if (parse_result(p, &s->results[i], err) != 0)
			goto out;
		if ((s->op == DEL || s->op == DEL_MANY) !=
		    (s->results[i].kind >= R_TRUE)) {
			oops(err,
			    "result %zu: only a delete answers true or false, "
			    "and only that",
			    i);
			goto out;
		}
		while (*p)
			p++;
	}
	rc = 0;
	goto out;
bad:
	if (!*err)
		oops(err, "wrong number of items or results for %s",
		    case_ops[s->op]);
out:
	toks_free(&L);
	toks_free(&R);
	return rc;
}

/* ---- the file ------------------------------------------------------------ */

static void step_free(step *s)
{
	for (size_t i = 0; s->items && i < s->n_items; i++)
		free(s->items[i].key.p), free(s->items[i].value.p);
	for (size_t i = 0; s->results && i < s->n_results; i++)
		free(s->results[i].value.p);
	free(s->items);
	free(s->results);
	free(s->message.p);
}

/* Parse the tokens of a step line into steps appended to c. */
static int add_steps(conf_case *c, int line, toks *t, char *err)
{
	int op = 0;
	while (case_ops[op] && strcmp(case_ops[op], t->v[0]) != 0)
		op++;
	if (!case_ops[op])
		return oops(err, "unknown step '%.40s'", t->v[0]);
	toks seg = {0};
	size_t reps = 1, n = t->n;
	char **v = t->v, *last = t->v[t->n - 1];
	/* set/get/delete ending in *A..B: the whole step, repeated */
	bool repeat = op <= DEL && last[0] == '*' && strstr(last, "..");
	if (repeat && segments(t->v, t->n, &seg, &reps, err) != 0)
		return toks_free(&seg), -1;
	v = repeat ? seg.v : v;
	for (size_t r = 0; r < reps; r++, v += n + 1) {
		for (n = repeat ? 0 : n; repeat && v[n];)
			n++;
		if (c->n == c->cap) {
			c->cap = c->cap ? 2 * c->cap : 16;
			c->steps = realloc(c->steps, c->cap * sizeof *c->steps);
			assert_non_null(c->steps);
		}
		step *s = &c->steps[c->n];
		*s = (step){.op = op, .line = line};
		if (parse_step(v, n, s, err) != 0) {
			step_free(s);
			return toks_free(&seg), -1;
		}
		c->n++;
	}
	toks_free(&seg);
	return 0;
}

/* A setting: NAME SIZE, and the daemon's CACHEWIRE_<NAME> variable. */
static int add_setting(toks *t, char *err)
{
	size_t i = S.n_settings;
	const char *name = t->n == 3 ? t->v[1] : "";
	if (S.n_cases)
		return oops(err, "settings come before the first case");
	if (!*name || i == MAX_SETTINGS || strlen(name) > 60 ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz_.") != strlen(name))
		return oops(err, "expected setting NAME SIZE (NAME: a-z _ .)");
	if (size_token(t->v[2], &S.values[i], err) != 0)
		return -1;
	strcpy(S.names[i], name);
	char *e = stpcpy(S.env_text[i], "CACHEWIRE_");
	for (; *name; name++)
		*e++ = *name == '.' ? '_' : (char)toupper((unsigned char)*name);
	sprintf(e, "=%" PRIu64, S.values[i]);
	S.env[S.n_settings++] = S.env_text[i];
	return 0;
}

/* One line: a setting, "case NAME", "end" or a step of the open case. */
static int load_line(const char *text, int line, conf_case **open, char *err)
{
	toks t = {0};
	int rc = tokenize(text, &t, err);
	const char *w = t.n ? t.v[0] : "";
	if (rc != 0 || t.n == 0) {
	} else if (strcmp(w, "setting") == 0) {
		rc = add_setting(&t, err);
	} else if (strcmp(w, "case") == 0) {
		if (*open)
			rc = oops(err, "case inside case '%s' (no end)",
			    (*open)->name);
		else if (t.n != 2 || strlen(t.v[1]) >= sizeof(*open)->name)
			rc = oops(err, "expected case NAME");
		else {
			S.cases =
			    realloc(S.cases, (S.n_cases + 1) * sizeof *S.cases);
			assert_non_null(S.cases);
			*open = &S.cases[S.n_cases++];
			**open = (conf_case){0};
			strcpy((*open)->name, t.v[1]);
		}
	} else if (strcmp(w, "end") == 0) {
		if (!*open || t.n != 1)
			rc = oops(err, "'end' without a case");
		*open = NULL;
	} else if (!*open) {
		rc = oops(err, "a step outside a case: '%.40s'", w);
	} else {
		rc = add_steps(*open, line, &t, err);
	}
	toks_free(&t);
	return rc;
}

void cases_free(void)
{
	for (size_t i = 0; i < S.n_cases; i++) {
		for (size_t j = 0; j < S.cases[i].n; j++)
			step_free(&S.cases[i].steps[j]);
		free(S.cases[i].steps);
	}
	free(S.cases);
	S.cases = NULL, S.n_cases = 0;
}

const conf_cases *cases_load(void)
{
	if (S.loaded)
		return &S;
	S.loaded = true;
	const char *path = getenv("CW_CONFORMANCE_CASES");
	snprintf(S.path, sizeof S.path, "%s",
	    path && *path ? path
	                  : CW_SOURCE_DIR "/tests/conformance/cases.txt");
	FILE *f = fopen(S.path, "r");
	char *text = NULL, err[512] = "";
	size_t cap = 0;
	int line = 0, rc = f ? 0 : -1;
	conf_case *open = NULL;
	if (!f)
		oops(err, "cannot open: %s", strerror(errno));
	while (rc == 0 && getline(&text, &cap, f) > 0)
		rc = load_line(text, ++line, &open, err);
	if (rc == 0 && open)
		rc = oops(err, "case '%s' has no end", open->name);
	else if (rc == 0 && S.n_cases == 0)
		rc = oops(err, "no cases");
	free(text);
	if (f)
		fclose(f);
	if (rc != 0) {
		snprintf(S.error, sizeof S.error, "%s:%d: %s", S.path,
		    line ? line : 1, err);
		cases_free();
	}
	return &S;
}
