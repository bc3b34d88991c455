/*
 * test_tokens.c - token files (server/rpc/tokens.c, declared in auth.h):
 * files that parse, every kind of error with its exact "t.yaml:line:col:
 * message" (never showing a token), reading files, and comparing sets.
 * The checks against a set are test_auth.c's.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth_cases.h"

/* ---- token files that parse ---------------------------------------------- */

static void test_parse_good(void **state)
{
	(void)state;
	cw_tokens *t = must_parse(good_doc);
	assert_int_equal(cw_tokens_count(t), 3);
	cw_auth *a = NULL;
	assert_int_equal(cw_auth_new(&a, t, "cachewire", NULL), CW_OK);
	assert_true(cw_auth_enabled(a));
	check_ok(a, TOK_A, "tenant-a", "tenant-a");
	check_ok(a, TOK_A, "shared", "shared");
	check_ok(a, TOK_B, "tenant-b", "tenant-b");
	check_ok(a, TOK_C, "", "c");
	cw_auth_free(a);
}

static void test_parse_styles(void **state)
{
	(void)state;
	/* Flow style all through, a double-quoted token with escapes, the
	 * shortest and longest tokens, the longest namespace. */
	char longest[4097];
	memset(longest, 'x', 4096);
	longest[4096] = '\0';
	const char *ns64 =
	    "n123456789012345678901234567890123456789012345678901234567890123";
	assert_int_equal(strlen(ns64), 64);
	char doc[8192];
	snprintf(doc, sizeof doc,
	    "[{token: \"esc\\x41ped-token-0001\", namespaces: [a.b, A_B-9]},\n"
	    " {namespaces: [%s], token: 0123456789abcdef},\n"
	    " {token: %s, namespaces: [long]}]\n",
	    ns64, longest);
	cw_tokens *t = must_parse(doc);
	assert_int_equal(cw_tokens_count(t), 3);
	cw_auth *a = NULL;
	assert_int_equal(cw_auth_new(&a, t, "cachewire", NULL), CW_OK);
	check_ok(a, "escAped-token-0001", "", "a.b");
	check_ok(a, "escAped-token-0001", "A_B-9", "A_B-9");
	check_ok(a, "0123456789abcdef", "", ns64);
	check_ok(a, longest, "long", "long");
	cw_auth_free(a);
}

/* ---- token files that do not: one table of cases ------------------------- */

typedef struct bad_case {
	const char *name;
	const char *doc;
	const char *want;   /* the whole message, exactly */
	const char *secret; /* a token in doc that must not be shown */
} bad_case;

#define NO_TOKENS                                                              \
	"no tokens: list at least one entry (- token: ..., namespaces: "       \
	"[...]); to turn authentication off, leave auth.tokens_file empty"
#define NS_RULE "must be 1 to 64 characters from A-Z a-z 0-9 _ . -, got "
#define KEYS    "(the keys are token and namespaces)"
#define NS_A    "  namespaces: [a]\n"

static const bad_case bad_cases[] = {
    /* nothing in it */
    {"empty file", "", "t.yaml:1:1: " NO_TOKENS, NULL},
    {"only comments", "# no tokens yet\n\n", "t.yaml:1:1: " NO_TOKENS, NULL},
    {"empty sequence", "\n[]\n", "t.yaml:2:1: " NO_TOKENS, NULL},
    {"null document", "--- ~\n", "t.yaml:1:5: " NO_TOKENS, NULL},

    /* the shape of the document */
    {"top-level mapping", "token: " TOK_A "\nnamespaces: [a]\n",
        "t.yaml:1:1: expected a sequence of entries (- token: ..., "
        "namespaces: [...]) at the top level, got a mapping",
        NULL},
    {"top-level scalar", TOK_A "\n",
        "t.yaml:1:1: expected a sequence of entries (- token: ..., "
        "namespaces: [...]) at the top level, got a string",
        NULL},
    {"entry is a token", "- " TOK_A "\n",
        "t.yaml:1:3: expected entry 1 to be a mapping (token: ..., "
        "namespaces: [...]), got a string",
        NULL},
    {"entry is a sequence", "- token: " TOK_A "\n" NS_A "- [a]\n",
        "t.yaml:3:3: expected entry 2 to be a mapping (token: ..., "
        "namespaces: [...]), got a sequence",
        NULL},
    {"entry is empty", "- token: " TOK_A "\n" NS_A "-\n",
        "t.yaml:3:2: expected entry 2 to be a mapping (token: ..., "
        "namespaces: [...]), got nothing",
        NULL},
    {"second document", "- {token: " TOK_A ", namespaces: [a]}\n---\n[]\n",
        "t.yaml:2:1: a second YAML document; a token file holds one", NULL},

    /* syntax, where libyaml found it */
    {"syntax: unclosed quote", "- token: \"" TOK_A "\n" NS_A,
        "t.yaml:3:1: YAML syntax error: found unexpected end of stream "
        "(while scanning a quoted scalar at 1:10)",
        NULL},
    {"syntax: outdented key", "- token: " TOK_A "\n namespaces: [a]\n",
        "t.yaml:2:2: YAML syntax error: did not find expected '-' "
        "indicator (while parsing a block collection at 1:1)",
        NULL},

    /* anchors, aliases, tags */
    {"anchor", "- token: &t " TOK_A "\n" NS_A,
        "t.yaml:1:10: an anchor (&): a token file has no anchors or aliases",
        NULL},
    {"alias",
        "- token: " TOK_A "\n  namespaces: &n [a]\n"
        "- token: " TOK_B "\n  namespaces: *n\n",
        "t.yaml:2:15: an anchor (&): a token file has no anchors or "
        "aliases",
        NULL},
    {"alias alone", "- token: " TOK_A "\n  namespaces: *n\n",
        "t.yaml:2:15: an alias (*): a token file has no anchors or aliases",
        NULL},
    {"tag", "- token: !!str " TOK_A "\n" NS_A,
        "t.yaml:1:10: a tag (!): a token file has no tags", NULL},

    /* keys */
    {"missing token", "- namespaces: [a]\n", "t.yaml:1:3: entry 1 has no token",
        NULL},
    {"missing namespaces", "- token: " TOK_A "\n",
        "t.yaml:1:3: entry 1 has no namespaces", NULL},
    {"missing both", "- {}\n", "t.yaml:1:3: entry 1 has no token", NULL},
    {"unknown key", "- token: " TOK_A "\n" NS_A "  colour: red\n",
        "t.yaml:3:3: unknown key colour in entry 1 " KEYS, NULL},
    {"unknown key: misspelt", "- tokens: " TOK_A "\n" NS_A,
        "t.yaml:1:3: unknown key tokens in entry 1 " KEYS, NULL},
    {"unknown key: quoted", "- token: " TOK_A "\n" NS_A "  \"a b\": 1\n",
        "t.yaml:3:3: unknown key \"a b\" in entry 1 " KEYS, NULL},
    {"unknown key: a token as the key", "- " TOK_A ": [a]\n",
        "t.yaml:1:3: unknown key of 33 bytes in entry 1 (not shown, in "
        "case it is a token; the keys are token and namespaces)",
        NULL},
    {"key: a sequence", "- [a]: 1\n",
        "t.yaml:1:3: expected a key (token or namespaces) in entry 1, got "
        "a sequence",
        NULL},
    {"duplicate key", "- token: " TOK_A "\n" NS_A "  token: " TOK_B "\n",
        "t.yaml:3:3: duplicate key token in entry 1 (first at line 1, "
        "column 3)",
        NULL},

    /* tokens */
    {"token: a sequence", "- token: [" TOK_A "]\n" NS_A,
        "t.yaml:1:10: expected a string for the token of entry 1, got a "
        "sequence",
        NULL},
    {"token: empty", "- token:\n" NS_A,
        "t.yaml:1:9: token of entry 1 must be 16 to 4096 bytes, got 0", NULL},
    {"token: too short",
        "- token: " TOK_A "\n" NS_A "- token: 'short-secret-15'\n" NS_A,
        "t.yaml:3:10: token of entry 2 must be 16 to 4096 bytes, got 15",
        "short-secret-15"},
    {"token: a space", "- token: \"s3cr3t token-of-16\"\n" NS_A,
        "t.yaml:1:10: token of entry 1 may hold only printable ASCII "
        "without spaces (0x21..0x7e); byte 7 is a space",
        "token-of-16"},
    {"token: a tab", "- token: \"tab-secret\\tafter-the-tab\"\n" NS_A,
        "t.yaml:1:10: token of entry 1 may hold only printable ASCII "
        "without spaces (0x21..0x7e); byte 11 is a control character",
        "tab-secret"},
    {"token: a NUL", "- token: \"nul-secret\\0after-the-nul\"\n" NS_A,
        "t.yaml:1:10: token of entry 1 may hold only printable ASCII "
        "without spaces (0x21..0x7e); byte 11 is a control character",
        "nul-secret"},
    {"token: a block scalar's newline",
        "- token: |\n    block-secret-0123\n" NS_A,
        "t.yaml:1:10: token of entry 1 may hold only printable ASCII "
        "without spaces (0x21..0x7e); byte 18 is a control character",
        "block-secret"},
    {"token: not ASCII", "- token: caf\xc3\xa9-secret-0123456\n" NS_A,
        "t.yaml:1:10: token of entry 1 may hold only printable ASCII "
        "without spaces (0x21..0x7e); byte 4 is not ASCII",
        "secret-0123456"},
    {"token: the same twice",
        "- token: " TOK_A "\n" NS_A "- token: " TOK_B "\n" NS_A
        "- token: '" TOK_A "'\n" NS_A,
        "t.yaml:5:10: token of entry 3 is the same as entry 1's", NULL},
    {"token: the first repeat is reported",
        "- {token: " TOK_A ", namespaces: [a]}\n"
        "- {token: " TOK_B ", namespaces: [a]}\n"
        "- {token: " TOK_B ", namespaces: [b]}\n"
        "- {token: " TOK_A ", namespaces: [b]}\n",
        "t.yaml:3:11: token of entry 3 is the same as entry 2's", NULL},

    /* namespaces */
    {"namespaces: a string", "- token: " TOK_A "\n  namespaces: tenant-a\n",
        "t.yaml:2:15: expected a sequence of namespaces for entry 1, e.g. "
        "[tenant-a], got a string",
        NULL},
    {"namespaces: nothing", "- token: " TOK_A "\n  namespaces:\n",
        "t.yaml:2:14: expected a sequence of namespaces for entry 1, e.g. "
        "[tenant-a], got nothing",
        NULL},
    {"namespaces: a mapping", "- token: " TOK_A "\n  namespaces: {a: 1}\n",
        "t.yaml:2:15: expected a sequence of namespaces for entry 1, e.g. "
        "[tenant-a], got a mapping",
        NULL},
    {"namespaces: empty", "- token: " TOK_A "\n  namespaces: []\n",
        "t.yaml:2:15: namespaces of entry 1 is empty: list at least one", NULL},
    {"namespace: a sequence", "- token: " TOK_A "\n  namespaces: [a, [b]]\n",
        "t.yaml:2:19: expected a namespace (a string) in entry 1, got a "
        "sequence",
        NULL},
    {"namespace: a space", "- token: " TOK_A "\n  namespaces: [a, \"b c\"]\n",
        "t.yaml:2:19: namespace of entry 1 " NS_RULE "\"b c\"", NULL},
    {"namespace: a colon", "- token: " TOK_A "\n  namespaces:\n    - a:b\n",
        "t.yaml:3:7: namespace of entry 1 " NS_RULE "\"a:b\"", NULL},
    {"namespace: empty", "- token: " TOK_A "\n  namespaces: ['']\n",
        "t.yaml:2:16: namespace of entry 1 " NS_RULE "\"\"", NULL},
    {"namespace: NUL and quote escaped",
        "- token: " TOK_A "\n  namespaces: [\"a\\0\\\"b\"]\n",
        "t.yaml:2:16: namespace of entry 1 " NS_RULE "\"a\\x00\\\"b\"", NULL},
    {"namespace: too long, cut in the message",
        "- token: " TOK_A "\n  namespaces: [x1234567890123456789012345678901"
        "234567890123456789012345678901234]\n",
        "t.yaml:2:16: namespace of entry 1 " NS_RULE
        "\"x123456789012345678901234567890123456789012345678901234567890123"
        "...\"",
        NULL},
    {"namespace: twice", "- token: " TOK_A "\n  namespaces: [a, b, a]\n",
        "t.yaml:2:22: namespace \"a\" is given twice in entry 1 (first at "
        "line 2, column 16)",
        NULL},
    {"namespace: the first repeat is reported",
        "- {token: " TOK_A ", namespaces: [a]}\n"
        "- token: " TOK_B "\n"
        "  namespaces:\n"
        "    - z\n"
        "    - b\n"
        "    - b\n"
        "    - z\n",
        "t.yaml:6:7: namespace \"b\" is given twice in entry 2 (first at "
        "line 5, column 7)",
        NULL},
};

static bool bad_case_ok(const bad_case *k)
{
	cw_tokens *t = (cw_tokens *)&t; /* must stay as it is */
	cw_tokens *const before = t;
	char err[512];
	int rc = parse(&t, k->doc, err, sizeof err);
	bool ok = rc == -1 && t == before && strcmp(err, k->want) == 0 &&
	          strchr(err, '\n') == NULL;
	bool leaked = leaks(err, k->secret);
	if (!ok || leaked)
		print_error("case \"%s\"%s\ndocument:\n%s\nwant: %s\ngot:  %s "
		            "(rc %d)\n",
		    k->name, leaked ? " SHOWS A TOKEN" : "", k->doc, k->want,
		    err, rc);
	return ok && !leaked;
}

static void test_bad_files(void **state)
{
	(void)state;
	size_t failed = 0;
	const char *first = NULL;
	for (size_t i = 0; i < sizeof bad_cases / sizeof *bad_cases; i++) {
		if (!bad_case_ok(&bad_cases[i]) && failed++ == 0)
			first = bad_cases[i].name;
	}
	if (failed)
		fail_msg("%zu of %zu cases failed, the first \"%s\"", failed,
		    sizeof bad_cases / sizeof *bad_cases, first);
}

/* A token of 4097 bytes: too long, and not shown. */
static void test_token_too_long(void **state)
{
	(void)state;
	static char doc[4200], tok[4098];
	memset(tok, 'k', 4097);
	tok[4097] = '\0';
	snprintf(doc, sizeof doc, "- token: %s\n" NS_A, tok);
	cw_tokens *t = NULL;
	char err[512];
	assert_int_equal(parse(&t, doc, err, sizeof err), -1);
	assert_string_equal(err,
	    "t.yaml:1:10: token of entry 1 must be 16 to 4096 bytes, "
	    "got 4097");
	assert_null(t);
}

/* 10000 entries are fine, one more is an error at the one too many. */
static void test_too_many_entries(void **state)
{
	(void)state;
	size_t cap = 10001 * 48 + 1, o = 0;
	char *doc = malloc(cap);
	assert_non_null(doc);
	for (int i = 0; i < 10000; i++)
		o += (size_t)snprintf(doc + o, cap - o,
		    "- {token: token-%011d, namespaces: [a]}\n", i);
	cw_tokens *t = must_parse(doc);
	assert_int_equal(cw_tokens_count(t), 10000);
	cw_tokens_free(t);
	t = NULL;
	snprintf(doc + o, cap - o, "- {token: token-%011d, namespaces: [a]}\n",
	    10000);
	char err[512];
	assert_int_equal(parse(&t, doc, err, sizeof err), -1);
	assert_string_equal(err, "t.yaml:10001:3: more than 10000 entries");
	assert_null(t);
	free(doc);
}

/* More than 1 MiB is refused before it is parsed; exactly 1 MiB is not. */
static void test_too_large(void **state)
{
	(void)state;
	size_t mib = (size_t)1 << 20;
	char *doc = malloc(mib + 1);
	assert_non_null(doc);
	const char *entry = "- {token: " TOK_A ", namespaces: [a]}\n";
	size_t n = strlen(entry);
	memcpy(doc, entry, n);
	memset(doc + n, '#', mib + 1 - n); /* one long comment */
	doc[n] = '\n';
	doc[n + 1] = '#';
	cw_tokens *t = NULL;
	char err[512];
	assert_int_equal(
	    cw_tokens_parse(&t, "t.yaml", doc, mib + 1, err, sizeof err), -1);
	assert_string_equal(err, "t.yaml: larger than 1 MiB");
	assert_int_equal(
	    cw_tokens_parse(&t, "t.yaml", doc, mib, err, sizeof err), 0);
	assert_int_equal(cw_tokens_count(t), 1);
	cw_tokens_free(t);
	free(doc);
}

static void test_error_buffer_optional_and_truncated(void **state)
{
	(void)state;
	const char *doc = "- token: " TOK_A "\n";
	cw_tokens *t = NULL;
	char small[12];
	memset(small, 'x', sizeof small);
	assert_int_equal(
	    cw_tokens_parse(&t, "t.yaml", doc, strlen(doc), NULL, 0), -1);
	assert_int_equal(cw_tokens_parse(&t, "t.yaml", doc, strlen(doc), small,
	                     sizeof small),
	    -1);
	assert_string_equal(small, "t.yaml:1:3:");
	assert_null(t);
	/* No name, no text. */
	char err[512];
	assert_int_equal(
	    cw_tokens_parse(&t, NULL, NULL, 0, err, sizeof err), -1);
	assert_string_equal(err, "<string>:1:1: " NO_TOKENS);
}

/* ---- files --------------------------------------------------------------- */

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

static void test_load_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/cw-test-auth-XXXXXX", path[128], err[512], want[512];
	assert_non_null(mkdtemp(dir));
	cw_tokens *t = NULL;

	/* Good: the same set as parsing the text. */
	snprintf(path, sizeof path, "%s/tokens.yaml", dir);
	write_file(path, good_doc);
	assert_int_equal(cw_tokens_load_file(&t, path, err, sizeof err), 0);
	cw_tokens *same = must_parse(good_doc);
	assert_true(cw_tokens_equal(t, same));
	cw_tokens_free(same);
	cw_tokens_free(t);
	t = NULL;

	/* An error names the file by its path. */
	write_file(path, "- token: " TOK_A "\n  namespaces: [a, a]\n");
	assert_int_equal(cw_tokens_load_file(&t, path, err, sizeof err), -1);
	snprintf(want, sizeof want,
	    "%s:2:19: namespace \"a\" is given twice in entry 1 (first at "
	    "line 2, column 16)",
	    path);
	assert_string_equal(err, want);
	assert_null(t);

	/* Empty. */
	write_file(path, "");
	assert_int_equal(cw_tokens_load_file(&t, path, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s:1:1: " NO_TOKENS, path);
	assert_string_equal(err, want);

	/* Larger than 1 MiB. */
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	for (int i = 0; i < 1024; i++)
		fprintf(f, "#%01023d\n", i);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(cw_tokens_load_file(&t, path, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: larger than 1 MiB", path);
	assert_string_equal(err, want);
	assert_null(t);

	/* Missing, a directory, not readable. */
	snprintf(path, sizeof path, "%s/missing.yaml", dir);
	assert_int_equal(cw_tokens_load_file(&t, path, err, sizeof err), -1);
	snprintf(
	    want, sizeof want, "%s: cannot read: %s", path, strerror(ENOENT));
	assert_string_equal(err, want);
	assert_int_equal(cw_tokens_load_file(&t, dir, err, sizeof err), -1);
	snprintf(
	    want, sizeof want, "%s: cannot read: %s", dir, strerror(EISDIR));
	assert_string_equal(err, want);
	snprintf(path, sizeof path, "%s/tokens.yaml", dir);
	if (geteuid() != 0) { /* root reads anything */
		assert_int_equal(chmod(path, 0), 0);
		assert_int_equal(
		    cw_tokens_load_file(&t, path, err, sizeof err), -1);
		snprintf(want, sizeof want, "%s: cannot read: %s", path,
		    strerror(EACCES));
		assert_string_equal(err, want);
	}
	assert_null(t);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* ---- the set ------------------------------------------------------------- */

static void test_tokens_equal(void **state)
{
	(void)state;
	const char *one = "- {token: " TOK_A ", namespaces: [a, b]}\n";
	const char *two = "- {token: " TOK_A ", namespaces: [a, b]}\n"
	                  "- {token: " TOK_B ", namespaces: [c]}\n";
	cw_tokens *a = must_parse(one);
	cw_tokens *a2 = must_parse("- token: '" TOK_A "'\n"
	                           "  namespaces:\n    - a\n    - b\n");
	cw_tokens *other_ns =
	    must_parse("- {token: " TOK_A ", namespaces: [b, a]}\n");
	cw_tokens *fewer_ns =
	    must_parse("- {token: " TOK_A ", namespaces: [a]}\n");
	cw_tokens *other_tok =
	    must_parse("- {token: " TOK_B ", namespaces: [a, b]}\n");
	cw_tokens *b = must_parse(two);
	cw_tokens *swapped =
	    must_parse("- {token: " TOK_B ", namespaces: [c]}\n"
	               "- {token: " TOK_A ", namespaces: [a, b]}\n");
	assert_true(cw_tokens_equal(NULL, NULL));
	assert_false(cw_tokens_equal(a, NULL));
	assert_false(cw_tokens_equal(NULL, a));
	assert_true(cw_tokens_equal(a, a));
	assert_true(cw_tokens_equal(a, a2));
	assert_false(cw_tokens_equal(a, other_ns));
	assert_false(cw_tokens_equal(a, fewer_ns));
	assert_false(cw_tokens_equal(a, other_tok));
	assert_false(cw_tokens_equal(a, b));
	assert_false(cw_tokens_equal(b, swapped));
	assert_int_equal(cw_tokens_count(NULL), 0);
	assert_int_equal(cw_tokens_count(a), 1);
	assert_int_equal(cw_tokens_count(b), 2);
	cw_tokens *all[] = {a, a2, other_ns, fewer_ns, other_tok, b, swapped};
	for (size_t i = 0; i < sizeof all / sizeof *all; i++)
		cw_tokens_free(all[i]);
	cw_tokens_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_good),
	    cmocka_unit_test(test_parse_styles),
	    cmocka_unit_test(test_bad_files),
	    cmocka_unit_test(test_token_too_long),
	    cmocka_unit_test(test_too_many_entries),
	    cmocka_unit_test(test_too_large),
	    cmocka_unit_test(test_error_buffer_optional_and_truncated),
	    cmocka_unit_test(test_load_file),
	    cmocka_unit_test(test_tokens_equal),
	};
	return cmocka_run_group_tests_name("tokens", tests, NULL, NULL);
}
