/*
 * yaml.c - cw_config_parse_yaml (config.h): load the document with
 * libyaml, walk its mapping of sections, find each key in the key table
 * and hand its text to cw__cfg_set_value. Every error is reported at the
 * offending node as "name:line:col: msg".
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <yaml.h>

#include "config_internal.h"
#include "grpc_server.h"
#include "redis_url.h"

struct ydoc {
	yaml_document_t *doc;
	const char *name;
	char *errbuf;
	size_t errlen;
};

/* "name:line:col: msg" at node n (libyaml counts from 0, we from 1). */
static int yfail(struct ydoc *y, const yaml_node_t *n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int yfail(struct ydoc *y, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cw_vfail_at(y->errbuf, y->errlen, y->name, n->start_mark.line,
	    n->start_mark.column, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- nodes ------------------------------------------------------------- */

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
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

/* "a mapping", "a sequence" or the scalar quoted. */
static const char *describe(char *buf, size_t len, const yaml_node_t *n)
{
	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a sequence";
	return cw__cfg_quote(buf, len, scalar(n));
}

/* A key as typed: as it is when it looks like one, else quoted. */
static const char *key_text(
    char *buf, size_t len, const char *prefix, const char *name)
{
	char full[160];
	bool plain = strlen(name) <= 64 && name[0] != '\0';
	for (const char *p = name; plain && *p != '\0'; p++)
		plain = isalnum((unsigned char)*p) || strchr("_.-", *p);
	snprintf(full, sizeof full, "%s%.64s", prefix, name);
	if (plain) {
		snprintf(buf, len, "%s", full);
		return buf;
	}
	return cw__cfg_quote(buf, len, full);
}

/* n's text, which must be a scalar without NUL characters. */
static int text_of(
    struct ydoc *y, const yaml_node_t *n, const char *what, const char **out)
{
	char q[256];
	if (n->type != YAML_SCALAR_NODE)
		return yfail(y, n, "expected %s, got %s", what,
		    describe(q, sizeof q, n));
	if (strlen(scalar(n)) != n->data.scalar.length)
		return yfail(y, n,
		    "expected %s, got a value containing a NUL byte", what);
	*out = scalar(n);
	return 0;
}

static yaml_node_t *node(struct ydoc *y, int id)
{
	return yaml_document_get_node(y->doc, id);
}

/* The key of pair p in mapping m, checked to be a string not seen before. */
static int pair_key(struct ydoc *y, const yaml_node_t *m,
    const yaml_node_pair_t *p, const char *prefix, const char **out)
{
	const yaml_node_t *kn = node(y, p->key);
	char q[256];
	if (text_of(y, kn, "a key (a plain string)", out) != 0)
		return -1;
	for (const yaml_node_pair_t *o = m->data.mapping.pairs.start; o < p;
	     o++) {
		const yaml_node_t *prev = node(y, o->key);
		if (strcmp(scalar(prev), *out) == 0)
			return yfail(y, kn,
			    "duplicate key %s (first at line %zu, column %zu)",
			    key_text(q, sizeof q, prefix, *out),
			    prev->start_mark.line + 1,
			    prev->start_mark.column + 1);
	}
	return 0;
}

/* ---- keys -------------------------------------------------------------- */

static const struct key *find_key(const char *section, const char *name)
{
	for (size_t i = 0; i < cw__cfg_nkeys; i++) {
		const struct key *k = &cw__cfg_keys[i];
		if ((section == NULL) != (k->section == NULL))
			continue;
		if (section != NULL && strcmp(section, k->section) != 0)
			continue;
		if (strcmp(name, k->name) == 0)
			return k;
	}
	return NULL;
}

static bool is_section(const char *name)
{
	for (size_t i = 0; i < cw__cfg_nkeys; i++)
		if (cw__cfg_keys[i].section &&
		    strcmp(cw__cfg_keys[i].section, name) == 0)
			return true;
	return false;
}

/*
 * The key the user probably meant by `name` in section (NULL: at the top
 * level): a key of the same section, else a section, else a key elsewhere.
 */
static void yaml_hint(
    const char *section, const char *name, struct suggestion *s)
{
	char path[96];
	for (size_t i = 0; i < cw__cfg_nkeys; i++) {
		const struct key *k = &cw__cfg_keys[i];
		cw__cfg_key_path(path, sizeof path, k);
		if (section == NULL) {
			const char *top = k->section ? k->section : k->name;
			cw__cfg_suggest(s, name, top, top, 0);
			if (k->section != NULL)
				cw__cfg_suggest(s, name, k->name, path, 1);
		} else {
			bool same = k->section && !strcmp(k->section, section);
			cw__cfg_suggest(s, name, k->name, path, same ? 0 : 1);
		}
	}
}

/* "listen, server, redis, cache, tls, auth, grpc, admin, log": what the top
 * level may hold.
 */
static const char *top_names(char *buf, size_t len)
{
	const struct key *keys = cw__cfg_keys;
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < cw__cfg_nkeys; i++) {
		const char *top =
		    keys[i].section ? keys[i].section : keys[i].name;
		bool seen = false;
		for (size_t j = 0; j < i; j++)
			seen |= !strcmp(top,
			    keys[j].section ? keys[j].section : keys[j].name);
		if (!seen && o < len)
			o += (size_t)snprintf(
			    buf + o, len - o, "%s%s", o ? ", " : "", top);
	}
	return buf;
}

/* ---- the walk ---------------------------------------------------------- */

/* redis.nodes as a YAML list: each item checked where it is, then joined
 * with commas as the environment gives them. */
static int apply_nodes(
    struct ydoc *y, cw_config *c, const struct key *k, const yaml_node_t *v)
{
	char path[96], msg[MSG_MAX], joined[64 * 264] = "";
	const char *text = NULL;
	size_t used = 0;
	cw__cfg_key_path(path, sizeof path, k);
	for (const yaml_node_item_t *i = v->data.sequence.items.start;
	     i < v->data.sequence.items.top; i++) {
		const yaml_node_t *item = node(y, *i);
		char what[128];
		snprintf(what, sizeof what, "%s in %s",
		    k->type == KT_NODES ? "host:port" : "an entry", path);
		if (text_of(y, item, what, &text) != 0)
			return -1;
		cw_error err = {0};
		if (strchr(text, ',') != NULL)
			return yfail(y, item, "%s: one %s per list item", path,
			    k->type == KT_NODES ? "host:port" : "entry");
		if (k->type == KT_NODES) {
			cw_redis_node n;
			if (cw_redis_node_parse(text, &n, &err) != CW_OK)
				return yfail(
				    y, item, "%s: %s", path, err.message);
			cw_redis_node_free(&n);
		} else {
			cw_grpc_addr a;
			int n;
			if (cw_grpc_listen_parse(text, &a, 1, &n, &err) !=
			    CW_OK)
				return yfail(y, item, "%s", err.message);
		}
		int w = snprintf(joined + used, sizeof joined - used, "%s%s",
		    used ? "," : "", text);
		if (w < 0 || (size_t)w >= sizeof joined - used)
			return yfail(y, item, "%s names too many nodes", path);
		used += (size_t)w;
	}
	if (cw__cfg_set_value(c, k, joined, path, msg, sizeof msg) != 0)
		return yfail(y, v, "%s", msg);
	return 0;
}

/* Set k from value node v. */
static int apply_node(
    struct ydoc *y, cw_config *c, const struct key *k, const yaml_node_t *v)
{
	char path[96], msg[MSG_MAX], what[160];
	const char *text = NULL;
	cw__cfg_key_path(path, sizeof path, k);
	if (k->type == KT_LISTEN && v->type == YAML_SEQUENCE_NODE) {
		struct urls l = {0};
		for (const yaml_node_item_t *i = v->data.sequence.items.start;
		     i < v->data.sequence.items.top; i++) {
			const yaml_node_t *item = node(y, *i);
			if (text_of(y, item, "a URL in listen", &text) != 0) {
				cw__cfg_urls_free(&l);
				return -1;
			}
			if (cw__cfg_urls_add(
			        &l, text, strlen(text), msg, sizeof msg) != 0) {
				cw__cfg_urls_free(&l);
				return yfail(y, item, "%s", msg);
			}
		}
		cw__cfg_urls_commit(c, &l);
		return 0;
	}
	if ((k->type == KT_NODES || k->type == KT_GRPC_LISTEN) &&
	    v->type == YAML_SEQUENCE_NODE)
		return apply_nodes(y, c, k, v);
	snprintf(
	    what, sizeof what, "%s for %s", cw__cfg_type_name(k->type), path);
	if (text_of(y, v, what, &text) != 0)
		return -1;
	if (k->type == KT_LISTEN) {
		/* One URL: no comma splitting in YAML. */
		struct urls l = {0};
		if (cw__cfg_urls_add(&l, text, strlen(text), msg, sizeof msg) !=
		    0)
			return yfail(y, v, "%s", msg);
		cw__cfg_urls_commit(c, &l);
		return 0;
	}
	if (cw__cfg_set_value(c, k, text, path, msg, sizeof msg) != 0)
		return yfail(y, v, "%s", msg);
	return 0;
}

static int apply_section(
    struct ydoc *y, cw_config *c, const char *section, const yaml_node_t *m)
{
	char prefix[80], q[256], hint[128];
	snprintf(prefix, sizeof prefix, "%s.", section);
	if (is_null(m))
		return 0;
	if (m->type != YAML_MAPPING_NODE)
		return yfail(y, m,
		    "expected a mapping of keys for section %s, "
		    "got %s",
		    section, describe(q, sizeof q, m));
	for (const yaml_node_pair_t *p = m->data.mapping.pairs.start;
	     p < m->data.mapping.pairs.top; p++) {
		const char *name = NULL;
		if (pair_key(y, m, p, prefix, &name) != 0)
			return -1;
		const struct key *k = find_key(section, name);
		if (k == NULL) {
			struct suggestion s = {0};
			yaml_hint(section, name, &s);
			return yfail(y, node(y, p->key), "unknown key %s%s",
			    key_text(q, sizeof q, prefix, name),
			    cw__cfg_did_you_mean(hint, sizeof hint, &s));
		}
		if (apply_node(y, c, k, node(y, p->value)) != 0)
			return -1;
	}
	return 0;
}

static int apply_root(struct ydoc *y, cw_config *c, const yaml_node_t *root)
{
	char q[256], hint[128], names[128];
	if (is_null(root))
		return 0;
	if (root->type != YAML_MAPPING_NODE)
		return yfail(y, root,
		    "expected a mapping of sections (%s) at the top level, "
		    "got %s",
		    top_names(names, sizeof names),
		    describe(q, sizeof q, root));
	for (const yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top; p++) {
		const char *name = NULL;
		if (pair_key(y, root, p, "", &name) != 0)
			return -1;
		const struct key *k = find_key(NULL, name);
		int rc;
		if (k != NULL) {
			rc = apply_node(y, c, k, node(y, p->value));
		} else if (is_section(name)) {
			rc = apply_section(y, c, name, node(y, p->value));
		} else {
			struct suggestion s = {0};
			yaml_hint(NULL, name, &s);
			return yfail(y, node(y, p->key), "unknown section %s%s",
			    key_text(q, sizeof q, "", name),
			    cw__cfg_did_you_mean(hint, sizeof hint, &s));
		}
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* ---- the document ------------------------------------------------------ */

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

static int syntax_error(const yaml_parser_t *p, const char *name,
    const char *text, size_t len, char *errbuf, size_t errlen)
{
	const char *problem = p->problem ? p->problem : "unknown error";
	char ctx[160] = "";
	size_t line, col;
	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return cw_fail_line(errbuf, errlen, "%s: out of memory", name);
	case YAML_READER_ERROR:
		position(text, len, p->problem_offset, &line, &col);
		if (p->problem_value != -1)
			snprintf(ctx, sizeof ctx, " (byte 0x%02x)",
			    (unsigned)p->problem_value & 0xffu);
		return cw_fail_line(errbuf, errlen,
		    "%s:%zu:%zu: YAML syntax error: %s%s", name, line, col,
		    problem, ctx);
	default:
		if (p->context != NULL)
			snprintf(ctx, sizeof ctx, " (%s at %zu:%zu)",
			    p->context, p->context_mark.line + 1,
			    p->context_mark.column + 1);
		return cw_fail_line(errbuf, errlen,
		    "%s:%zu:%zu: YAML syntax error: %s%s", name,
		    p->problem_mark.line + 1, p->problem_mark.column + 1,
		    problem, ctx);
	}
}

int cw_config_parse_yaml(cw_config *c, const char *name, const char *text,
    size_t len, char *errbuf, size_t errlen)
{
	yaml_parser_t p;
	yaml_document_t doc, next;
	if (name == NULL)
		name = "<string>";
	if (text == NULL)
		text = "", len = 0;
	if (!yaml_parser_initialize(&p))
		return cw_fail_line(errbuf, errlen, "%s: out of memory", name);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	if (!yaml_parser_load(&p, &doc)) {
		int rc = syntax_error(&p, name, text, len, errbuf, errlen);
		yaml_parser_delete(&p);
		return rc;
	}

	struct ydoc y = {&doc, name, errbuf, errlen};
	const yaml_node_t *root = yaml_document_get_root_node(&doc);
	int rc = root ? apply_root(&y, c, root) : 0;
	/* A root means a document, not the end: there must be no other. */
	if (rc == 0 && root != NULL) {
		if (!yaml_parser_load(&p, &next)) {
			rc = syntax_error(&p, name, text, len, errbuf, errlen);
		} else {
			if (yaml_document_get_root_node(&next) != NULL)
				rc = cw_fail_line(errbuf, errlen,
				    "%s:%zu:%zu: a second YAML document; a "
				    "configuration file holds one",
				    name, next.start_mark.line + 1,
				    next.start_mark.column + 1);
			yaml_document_delete(&next);
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&p);
	return rc;
}
