/*
 * tokens.c - token files (auth.h): one walked with libyaml the way
 * yaml.c walks the configuration (every error "name:line:col: msg"
 * at the offending node, never showing a token) into an immutable
 * cw_tokens, and what else a set offers: free, equal, count. The checks
 * against a set are in auth.c; the two share tokens_internal.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "errline.h"
#include "tokens_internal.h"

#define TOKEN_MIN   16
#define TOKEN_MAX   4096
#define ENTRIES_MAX 10000
#define FILE_MAX    ((size_t)1 << 20)

#define NO_TOKENS                                                              \
	"no tokens: list at least one entry (- token: ..., namespaces: "       \
	"[...]); to turn authentication off, leave auth.tokens_file empty"

/* ---- small helpers ------------------------------------------------------- */

/* memset through a volatile pointer: a store the compiler cannot drop. */
static void *(*const volatile wipe_memset)(void *, int, size_t) = memset;

static void wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		wipe_memset(p, 0, n);
}

/* [A-Za-z0-9_.-]{1,64}, as cache.namespace. Shared with auth.c. */
bool cw_ns_valid(const void *p, size_t n)
{
	const unsigned char *s = p;
	if (n < 1 || n > CW_NAMESPACE_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		        (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		        c == '-'))
			return false;
	}
	return true;
}

/*
 * s[0..n) in double quotes for a message: '"' and '\' backslashed, bytes
 * outside 0x20..0x7e as \xNN, cut with "..." once QUOTE_MAX characters are
 * shown. Shared with auth.c.
 */
const char *cw_quote(char buf[QUOTE_BUF], const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t o = 0;
	buf[o++] = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		bool esc = c < 0x20 || c > 0x7e;
		size_t w = esc ? 4 : (c == '"' || c == '\\') ? 2 : 1;
		if (o - 1 + w > QUOTE_MAX) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (esc) {
			snprintf(buf + o, 5, "\\x%02x", c);
		} else if (w == 2) {
			buf[o] = '\\';
			buf[o + 1] = (char)c;
		} else {
			buf[o] = (char)c;
		}
		o += w;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

/* ---- the token file: libyaml --------------------------------------------- */

struct ydoc {
	yaml_document_t *doc;
	const char *name;
	char *errbuf;
	size_t errlen;
};

/* "name:line:col: msg" at mark m (libyaml counts from 0, we from 1). */
static int yfail(struct ydoc *y, const yaml_mark_t *m, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int yfail(struct ydoc *y, const yaml_mark_t *m, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cw_vfail_at(y->errbuf, y->errlen, y->name, m->line, m->column, fmt, ap);
	va_end(ap);
	return -1;
}

static yaml_node_t *node(struct ydoc *y, int id)
{
	return yaml_document_get_node(y->doc, id);
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static size_t seq_len(const yaml_node_t *n)
{
	const yaml_node_item_t *start = n->data.sequence.items.start;
	return (size_t)(n->data.sequence.items.top - start);
}

/* A plain empty, "~" or "null" scalar. */
static bool is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (size_t i = 0; i < sizeof nulls / sizeof *nulls; i++)
		if (strcmp(scalar(n), nulls[i]) == 0)
			return true;
	return false;
}

/* What n is, for "expected ..., got %s": never a scalar's text, which
 * could be a token. */
static const char *describe(const yaml_node_t *n)
{
	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a sequence";
	return is_null(n) ? "nothing" : "a string";
}

/* Line and column (1-based) of byte offset off in text. */
static void position(
    const char *text, size_t len, size_t off, size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && i < len; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

static int syntax_error(
    const yaml_parser_t *p, struct ydoc *y, const char *text, size_t len)
{
	const char *problem = p->problem ? p->problem : "unknown error";
	char ctx[160] = "";
	size_t line, col;
	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return cw_fail_line(
		    y->errbuf, y->errlen, "%s: out of memory", y->name);
	case YAML_READER_ERROR:
		position(text, len, p->problem_offset, &line, &col);
		if (p->problem_value != -1)
			snprintf(ctx, sizeof ctx, " (byte 0x%02x)",
			    (unsigned)p->problem_value & 0xffu);
		return cw_fail_line(y->errbuf, y->errlen,
		    "%s:%zu:%zu: YAML syntax error: %s%s", y->name, line, col,
		    problem, ctx);
	default:
		if (p->context != NULL)
			snprintf(ctx, sizeof ctx, " (%s at %zu:%zu)",
			    p->context, p->context_mark.line + 1,
			    p->context_mark.column + 1);
		return cw_fail_line(y->errbuf, y->errlen,
		    "%s:%zu:%zu: YAML syntax error: %s%s", y->name,
		    p->problem_mark.line + 1, p->problem_mark.column + 1,
		    problem, ctx);
	}
}

/* yaml_parser_delete, after wiping the buffers that held the file's text
 * (best effort: what libyaml keeps elsewhere is freed unwiped). */
static void parser_wipe_delete(yaml_parser_t *p)
{
	yaml_char_t *b = p->buffer.start;
	if (b != NULL)
		wipe(b, (size_t)(p->buffer.end - b));
	if (p->raw_buffer.start != NULL)
		wipe(p->raw_buffer.start,
		    (size_t)(p->raw_buffer.end - p->raw_buffer.start));
	yaml_parser_delete(p);
}

static void event_wipe_delete(yaml_event_t *ev)
{
	if (ev->type == YAML_SCALAR_EVENT)
		wipe(ev->data.scalar.value, ev->data.scalar.length);
	yaml_event_delete(ev);
}

static void document_wipe_delete(yaml_document_t *doc)
{
	for (yaml_node_t *n = doc->nodes.start; n < doc->nodes.top; n++)
		if (n->type == YAML_SCALAR_NODE)
			wipe(n->data.scalar.value, n->data.scalar.length);
	yaml_document_delete(doc);
}

/*
 * The first pass, over libyaml's events: the syntax, one document, and no
 * anchors, aliases or tags (which the document API would not show where
 * they are written).
 */
static int check_events(struct ydoc *y, const char *text, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int docs = 0, rc = 0;
	bool end = false;
	if (!yaml_parser_initialize(&p))
		return cw_fail_line(
		    y->errbuf, y->errlen, "%s: out of memory", y->name);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	while (rc == 0 && !end) {
		if (!yaml_parser_parse(&p, &ev)) {
			rc = syntax_error(&p, y, text, len);
			break;
		}
		const yaml_char_t *anchor = NULL, *tag = NULL;
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			if (++docs == 2)
				rc = yfail(y, &ev.start_mark,
				    "a second YAML document; a token file "
				    "holds one");
			break;
		case YAML_ALIAS_EVENT:
			rc = yfail(y, &ev.start_mark,
			    "an alias (*): a token file has no anchors or "
			    "aliases");
			break;
		case YAML_SCALAR_EVENT:
			anchor = ev.data.scalar.anchor;
			tag = ev.data.scalar.tag;
			break;
		case YAML_SEQUENCE_START_EVENT:
			anchor = ev.data.sequence_start.anchor;
			tag = ev.data.sequence_start.tag;
			break;
		case YAML_MAPPING_START_EVENT:
			anchor = ev.data.mapping_start.anchor;
			tag = ev.data.mapping_start.tag;
			break;
		case YAML_STREAM_END_EVENT:
			end = true;
			break;
		default:
			break;
		}
		if (rc == 0 && anchor != NULL)
			rc = yfail(y, &ev.start_mark,
			    "an anchor (&): a token file has no anchors or "
			    "aliases");
		else if (rc == 0 && tag != NULL)
			rc = yfail(y, &ev.start_mark,
			    "a tag (!): a token file has no tags");
		event_wipe_delete(&ev);
	}
	parser_wipe_delete(&p);
	return rc;
}

/* A key as typed when it cannot be a token (shorter than any), for
 * "unknown key %s". */
static const char *key_text(char buf[QUOTE_BUF], const yaml_node_t *k)
{
	size_t n = k->data.scalar.length;
	if (cw_ns_valid(scalar(k), n) && n < TOKEN_MIN) {
		memcpy(buf, scalar(k), n + 1);
		return buf;
	}
	return cw_quote(buf, scalar(k), n);
}

/* Take v, the token of entry idx (1-based), into e. */
static int take_token(
    struct ydoc *y, const yaml_node_t *v, size_t idx, struct entry *e)
{
	if (v->type != YAML_SCALAR_NODE)
		return yfail(y, &v->start_mark,
		    "expected a string for the token of entry %zu, got %s", idx,
		    describe(v));
	const unsigned char *s = v->data.scalar.value;
	size_t n = v->data.scalar.length;
	if (n < TOKEN_MIN || n > TOKEN_MAX)
		return yfail(y, &v->start_mark,
		    "token of entry %zu must be %d to %d bytes, got %zu", idx,
		    TOKEN_MIN, TOKEN_MAX, n);
	/* Where the bad byte is and what kind, never what it is. */
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return yfail(y, &v->start_mark,
			    "token of entry %zu may hold only printable ASCII "
			    "without spaces (0x21..0x7e); byte %zu is %s",
			    idx, i + 1,
			    s[i] == ' '   ? "a space"
			    : s[i] > 0x7f ? "not ASCII"
			                  : "a control character");
	if ((e->token = malloc(n)) == NULL)
		return cw_fail_line(
		    y->errbuf, y->errlen, "%s: out of memory", y->name);
	memcpy(e->token, s, n);
	e->token_len = n;
	return 0;
}

static int cmp_ns(const void *pa, const void *pb)
{
	const struct ns_name *a = *(const struct ns_name *const *)pa;
	const struct ns_name *b = *(const struct ns_name *const *)pb;
	int c = strcmp(a->s, b->s);
	return c != 0 ? c : (a > b) - (a < b);
}

/* The first namespace of e given twice, reported at the repeat. Sorted, so
 * a long list costs n log n, not n^2. */
static int check_dup_ns(
    struct ydoc *y, const yaml_node_t *seq, size_t idx, struct entry *e)
{
	const struct ns_name **v = malloc(e->nns * sizeof *v);
	const struct ns_name *repeat = NULL, *first = NULL, *group = NULL;
	if (v == NULL)
		return cw_fail_line(
		    y->errbuf, y->errlen, "%s: out of memory", y->name);
	for (size_t i = 0; i < e->nns; i++)
		v[i] = &e->ns[i];
	qsort(v, e->nns, sizeof *v, cmp_ns);
	for (size_t i = 0; i < e->nns; i++) {
		if (i == 0 || strcmp(v[i]->s, v[i - 1]->s) != 0) {
			group = v[i];
		} else if (repeat == NULL || v[i] < repeat) {
			repeat = v[i];
			first = group;
		}
	}
	free(v);
	if (repeat == NULL)
		return 0;
	char q[QUOTE_BUF];
	const yaml_node_item_t *items = seq->data.sequence.items.start;
	const yaml_node_t *at = node(y, items[repeat - e->ns]);
	const yaml_node_t *was = node(y, items[first - e->ns]);
	return yfail(y, &at->start_mark,
	    "namespace %s is given twice in entry %zu (first at line %zu, "
	    "column %zu)",
	    cw_quote(q, repeat->s, repeat->len), idx, was->start_mark.line + 1,
	    was->start_mark.column + 1);
}

/* Take v, the namespaces of entry idx, into e. */
static int take_namespaces(
    struct ydoc *y, const yaml_node_t *v, size_t idx, struct entry *e)
{
	char q[QUOTE_BUF];
	if (v->type != YAML_SEQUENCE_NODE)
		return yfail(y, &v->start_mark,
		    "expected a sequence of namespaces for entry %zu, e.g. "
		    "[tenant-a], got %s",
		    idx, describe(v));
	size_t n = seq_len(v);
	if (n == 0)
		return yfail(y, &v->start_mark,
		    "namespaces of entry %zu is empty: list at least one", idx);
	if ((e->ns = calloc(n, sizeof *e->ns)) == NULL)
		return cw_fail_line(
		    y->errbuf, y->errlen, "%s: out of memory", y->name);
	e->nns = n;
	for (size_t i = 0; i < n; i++) {
		const yaml_node_t *it =
		    node(y, v->data.sequence.items.start[i]);
		if (it->type != YAML_SCALAR_NODE)
			return yfail(y, &it->start_mark,
			    "expected a namespace (a string) in entry %zu, "
			    "got %s",
			    idx, describe(it));
		size_t len = it->data.scalar.length;
		if (!cw_ns_valid(scalar(it), len))
			return yfail(y, &it->start_mark,
			    "namespace of entry %zu must be 1 to %d characters "
			    "from A-Z a-z 0-9 _ . -, got %s",
			    idx, CW_NAMESPACE_MAX,
			    cw_quote(q, scalar(it), len));
		memcpy(e->ns[i].s, scalar(it), len + 1);
		e->ns[i].len = len;
	}
	return check_dup_ns(y, v, idx, e);
}

/* Entry idx (1-based) from its node m into e (freed by the caller). */
static int take_entry(
    struct ydoc *y, const yaml_node_t *m, size_t idx, struct entry *e)
{
	char q[QUOTE_BUF];
	if (m->type != YAML_MAPPING_NODE)
		return yfail(y, &m->start_mark,
		    "expected entry %zu to be a mapping (token: ..., "
		    "namespaces: [...]), got %s",
		    idx, describe(m));
	const yaml_node_t *seen[2] = {NULL, NULL}; /* token, namespaces */
	for (const yaml_node_pair_t *p = m->data.mapping.pairs.start;
	     p < m->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = node(y, p->key);
		if (k->type != YAML_SCALAR_NODE)
			return yfail(y, &k->start_mark,
			    "expected a key (token or namespaces) in entry "
			    "%zu, got %s",
			    idx, describe(k));
		size_t n = k->data.scalar.length;
		int which =
		    n == 5 && memcmp(scalar(k), "token", 5) == 0          ? 0
		    : n == 10 && memcmp(scalar(k), "namespaces", 10) == 0 ? 1
		                                                          : -1;
		if (which < 0 && n >= TOKEN_MIN)
			return yfail(y, &k->start_mark,
			    "unknown key of %zu bytes in entry %zu (not shown, "
			    "in case it is a token; the keys are token and "
			    "namespaces)",
			    n, idx);
		if (which < 0)
			return yfail(y, &k->start_mark,
			    "unknown key %s in entry %zu (the keys are token "
			    "and namespaces)",
			    key_text(q, k), idx);
		if (seen[which] != NULL)
			return yfail(y, &k->start_mark,
			    "duplicate key %s in entry %zu (first at line %zu, "
			    "column %zu)",
			    scalar(k), idx, seen[which]->start_mark.line + 1,
			    seen[which]->start_mark.column + 1);
		seen[which] = k;
		const yaml_node_t *v = node(y, p->value);
		int rc = which == 0 ? take_token(y, v, idx, e)
		                    : take_namespaces(y, v, idx, e);
		if (rc != 0)
			return rc;
	}
	if (seen[0] == NULL)
		return yfail(y, &m->start_mark, "entry %zu has no token", idx);
	if (seen[1] == NULL)
		return yfail(
		    y, &m->start_mark, "entry %zu has no namespaces", idx);
	return 0;
}

static int cmp_token(const void *pa, const void *pb)
{
	const struct entry *a = *(const struct entry *const *)pa;
	const struct entry *b = *(const struct entry *const *)pb;
	if (a->token_len != b->token_len)
		return a->token_len < b->token_len ? -1 : 1;
	int c = memcmp(a->token, b->token, a->token_len);
	return c != 0 ? c : (a > b) - (a < b);
}

static bool same_token(const struct entry *a, const struct entry *b)
{
	return a->token_len == b->token_len &&
	       memcmp(a->token, b->token, a->token_len) == 0;
}

/* The token node of entry mapping m (which has one). */
static const yaml_node_t *token_node(struct ydoc *y, const yaml_node_t *m)
{
	for (const yaml_node_pair_t *p = m->data.mapping.pairs.start;
	     p < m->data.mapping.pairs.top; p++)
		if (strcmp(scalar(node(y, p->key)), "token") == 0)
			return node(y, p->value);
	return m;
}

/* The first entry whose token an earlier entry has, reported at its token
 * by entry numbers only. */
static int check_dup_tokens(
    struct ydoc *y, const yaml_node_t *seq, const cw_tokens *t)
{
	const struct entry **v = malloc(t->n * sizeof *v);
	const struct entry *repeat = NULL, *first = NULL, *group = NULL;
	if (v == NULL)
		return cw_fail_line(
		    y->errbuf, y->errlen, "%s: out of memory", y->name);
	for (size_t i = 0; i < t->n; i++)
		v[i] = &t->e[i];
	qsort(v, t->n, sizeof *v, cmp_token);
	for (size_t i = 0; i < t->n; i++) {
		if (i == 0 || !same_token(v[i], v[i - 1])) {
			group = v[i];
		} else if (repeat == NULL || v[i] < repeat) {
			repeat = v[i];
			first = group;
		}
	}
	free(v);
	if (repeat == NULL)
		return 0;
	size_t r = (size_t)(repeat - t->e), f = (size_t)(first - t->e);
	const yaml_node_t *at =
	    token_node(y, node(y, seq->data.sequence.items.start[r]));
	return yfail(y, &at->start_mark,
	    "token of entry %zu is the same as entry %zu's", r + 1, f + 1);
}

/* The document's entries into a new *out. */
static int take_root(struct ydoc *y, cw_tokens **out)
{
	static const yaml_mark_t top = {0, 0, 0};
	const yaml_node_t *root = yaml_document_get_root_node(y->doc);
	if (root == NULL)
		return yfail(y, &top, NO_TOKENS);
	if (is_null(root) ||
	    (root->type == YAML_SEQUENCE_NODE && seq_len(root) == 0))
		return yfail(y, &root->start_mark, NO_TOKENS);
	if (root->type != YAML_SEQUENCE_NODE)
		return yfail(y, &root->start_mark,
		    "expected a sequence of entries (- token: ..., "
		    "namespaces: [...]) at the top level, got %s",
		    describe(root));
	size_t n = seq_len(root);
	const yaml_node_item_t *items = root->data.sequence.items.start;
	if (n > ENTRIES_MAX)
		return yfail(y, &node(y, items[ENTRIES_MAX])->start_mark,
		    "more than %d entries", ENTRIES_MAX);
	cw_tokens *t = calloc(1, sizeof *t);
	if (t == NULL || (t->e = calloc(n, sizeof *t->e)) == NULL) {
		free(t);
		return cw_fail_line(
		    y->errbuf, y->errlen, "%s: out of memory", y->name);
	}
	t->n = n;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = take_entry(y, node(y, items[i]), i + 1, &t->e[i]);
	if (rc == 0)
		rc = check_dup_tokens(y, root, t);
	if (rc != 0) {
		cw_tokens_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

int cw_tokens_parse(cw_tokens **out, const char *name, const char *text,
    size_t len, char *errbuf, size_t errlen)
{
	yaml_parser_t p;
	yaml_document_t doc;
	if (name == NULL)
		name = "<string>";
	if (text == NULL)
		text = "", len = 0;
	struct ydoc y = {&doc, name, errbuf, errlen};
	if (out == NULL)
		return cw_fail_line(
		    errbuf, errlen, "%s: nowhere to put the tokens", name);
	if (len > FILE_MAX)
		return cw_fail_line(
		    errbuf, errlen, "%s: larger than 1 MiB", name);
	if (check_events(&y, text, len) != 0)
		return -1;
	if (!yaml_parser_initialize(&p))
		return cw_fail_line(errbuf, errlen, "%s: out of memory", name);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	int rc;
	if (!yaml_parser_load(&p, &doc)) {
		rc = syntax_error(&p, &y, text, len);
	} else {
		rc = take_root(&y, out);
		document_wipe_delete(&doc);
	}
	parser_wipe_delete(&p);
	return rc;
}

int cw_tokens_load_file(
    cw_tokens **out, const char *path, char *errbuf, size_t errlen)
{
	if (path == NULL)
		return cw_fail_line(errbuf, errlen, "no token file named");
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return cw_fail_line(errbuf, errlen, "%s: cannot read: %s", path,
		    strerror(errno));
	/* Up to FILE_MAX + 1 bytes, in buffers that are wiped, not realloc'd
	 * (which could leave copies of the tokens behind). */
	char *buf = NULL;
	size_t cap = 0, len = 0;
	int err = 0;
	for (;;) {
		if (len == cap) {
			if (cap > FILE_MAX)
				break;
			size_t ncap = cap ? cap * 2 : 4096;
			if (ncap > FILE_MAX + 1)
				ncap = FILE_MAX + 1;
			char *b = malloc(ncap);
			if (b == NULL) {
				err = ENOMEM;
				break;
			}
			if (len > 0)
				memcpy(b, buf, len);
			wipe(buf, len);
			free(buf);
			buf = b;
			cap = ncap;
		}
		errno = 0;
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0) {
			if (ferror(f))
				err = errno ? errno : EIO;
			break;
		}
	}
	fclose(f);
	int rc;
	if (err != 0)
		rc = cw_fail_line(
		    errbuf, errlen, "%s: cannot read: %s", path, strerror(err));
	else if (len > FILE_MAX)
		rc =
		    cw_fail_line(errbuf, errlen, "%s: larger than 1 MiB", path);
	else
		rc = cw_tokens_parse(out, path, buf, len, errbuf, errlen);
	wipe(buf, len);
	free(buf);
	return rc;
}

void cw_tokens_free(cw_tokens *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++) {
		wipe(t->e[i].token, t->e[i].token_len);
		free(t->e[i].token);
		free(t->e[i].ns);
	}
	free(t->e);
	free(t);
}

bool cw_tokens_equal(const cw_tokens *a, const cw_tokens *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct entry *x = &a->e[i], *y = &b->e[i];
		if (!same_token(x, y) || x->nns != y->nns)
			return false;
		for (size_t j = 0; j < x->nns; j++)
			if (strcmp(x->ns[j].s, y->ns[j].s) != 0)
				return false;
	}
	return true;
}

size_t cw_tokens_count(const cw_tokens *t)
{
	return t ? t->n : 0;
}
