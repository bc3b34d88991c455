/*
 * test_config.c - the configuration loader (server/config.h): defaults, the
 * shipped config/cachewire.yaml, YAML documents, every kind of error with
 * its exact file:line:col, CACHEWIRE_* variables, sizes and validation.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "log.h"

#ifndef CW_SOURCE_DIR
#error "CW_SOURCE_DIR must name the source tree (tests/CMakeLists.txt)"
#endif

#define MIB ((size_t)1 << 20)

/* ---- helpers ------------------------------------------------------------ */

static int setup(void **state)
{
	cw_config *c = malloc(sizeof *c);
	assert_non_null(c);
	assert_int_equal(cw_config_defaults(c), 0);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	cw_config_free(*state);
	free(*state);
	return 0;
}

/* Parse text as "t.yaml" into c. */
static int parse(cw_config *c, const char *text, char *err, size_t len)
{
	err[0] = '\0';
	return cw_config_parse_yaml(c, "t.yaml", text, strlen(text), err, len);
}

/* text must fail with exactly `want`; and leak nothing (ASan). */
static void expect_yaml_error(const char *text, const char *want)
{
	cw_config c;
	char err[512];
	assert_int_equal(cw_config_defaults(&c), 0);
	int rc = parse(&c, text, err, sizeof err);
	if (rc != -1 || strcmp(err, want) != 0)
		print_error("document:\n%s\nwant: %s\ngot:  %s (rc %d)\n", text,
		    want, err, rc);
	assert_int_equal(rc, -1);
	assert_string_equal(err, want);
	assert_null(strchr(err, '\n'));
	cw_config_free(&c);
}

/* envp must fail with exactly `want`. */
static void expect_env_error(char *const *envp, const char *want)
{
	cw_config c;
	char err[512] = "";
	assert_int_equal(cw_config_defaults(&c), 0);
	int rc = cw_config_apply_env(&c, envp, err, sizeof err);
	if (rc != -1 || strcmp(err, want) != 0)
		print_error("want: %s\ngot:  %s (rc %d)\n", want, err, rc);
	assert_int_equal(rc, -1);
	assert_string_equal(err, want);
	cw_config_free(&c);
}

static void assert_same_config(const cw_config *a, const cw_config *b)
{
	assert_int_equal(a->listen_count, b->listen_count);
	for (int i = 0; i < a->listen_count; i++)
		assert_string_equal(a->listen[i], b->listen[i]);
	assert_int_equal(a->workers, b->workers);
	assert_int_equal(a->max_message_bytes, b->max_message_bytes);
	assert_int_equal(a->default_timeout_ms, b->default_timeout_ms);
	assert_string_equal(a->redis_url, b->redis_url);
	assert_int_equal(a->pool_size, b->pool_size);
	assert_int_equal(a->connect_timeout_ms, b->connect_timeout_ms);
	assert_int_equal(a->command_timeout_ms, b->command_timeout_ms);
	assert_string_equal(a->namespace_, b->namespace_);
	assert_int_equal(a->max_key_bytes, b->max_key_bytes);
	assert_int_equal(a->max_value_bytes, b->max_value_bytes);
	assert_int_equal(a->clear_batch, b->clear_batch);
	assert_int_equal(a->log_level, b->log_level);
}

/* A file in a fresh temporary directory holding text; free the result. */
static char *temp_file(const char *text)
{
	char dir[] = "/tmp/cw-test-config-XXXXXX";
	assert_non_null(mkdtemp(dir));
	size_t len = strlen(dir) + 16;
	char *path = malloc(len);
	assert_non_null(path);
	snprintf(path, len, "%s/c.yaml", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void remove_temp_file(char *path)
{
	unlink(path);
	*strrchr(path, '/') = '\0';
	rmdir(path);
	free(path);
}

/* ---- defaults and the shipped file ------------------------------------- */

static void test_defaults(void **state)
{
	const cw_config *c = *state;
	char err[256] = "";
	assert_int_equal(c->listen_count, 2);
	assert_string_equal(c->listen[0], "tcp://127.0.0.1:7420");
	assert_string_equal(c->listen[1], "ipc:///tmp/cachewire.sock");
	assert_null(c->listen[2]);
	assert_int_equal(c->workers, 16);
	assert_int_equal(c->max_message_bytes, 33 * MIB);
	assert_int_equal(c->default_timeout_ms, 5000);
	assert_string_equal(c->redis_url, "redis://127.0.0.1:6379/0");
	assert_int_equal(c->pool_size, 8);
	assert_int_equal(c->connect_timeout_ms, 1000);
	assert_int_equal(c->command_timeout_ms, 5000);
	assert_string_equal(c->namespace_, "cachewire");
	assert_int_equal(c->max_key_bytes, 4096);
	assert_int_equal(c->max_value_bytes, 32 * MIB);
	assert_int_equal(c->clear_batch, 512);
	assert_int_equal(c->log_level, CW_LOG_INFO);
	assert_int_equal(cw_config_validate(c, err, sizeof err), 0);
	assert_string_equal(err, "");
}

static void test_log_level_names(void **state)
{
	(void)state;
	assert_string_equal(cw_log_level_name(CW_LOG_DEBUG), "DEBUG");
	assert_string_equal(cw_log_level_name(CW_LOG_INFO), "INFO");
	assert_string_equal(cw_log_level_name(CW_LOG_WARN), "WARN");
	assert_string_equal(cw_log_level_name(CW_LOG_ERROR), "ERROR");
	assert_string_equal(
	    cw_log_level_name((enum cw_log_level)42), "UNKNOWN");
}

static void test_shipped_file_equals_defaults(void **state)
{
	const cw_config *defaults = *state;
	cw_config c;
	char err[512] = "";
	/* Start from something else, so the file must set every key. */
	assert_int_equal(cw_config_defaults(&c), 0);
	assert_int_equal(parse(&c,
	                     "listen: tcp://[::1]:1\n"
	                     "server: {workers: 1, max_message_bytes: 1GiB, "
	                     "default_timeout_ms: 1}\n"
	                     "redis: {url: 'unix:///r.sock', pool_size: 1, "
	                     "connect_timeout_ms: 1, command_timeout_ms: 1}\n"
	                     "cache: {namespace: x, max_key_bytes: 1, "
	                     "max_value_bytes: 1, clear_batch: 1}\n"
	                     "log: {level: error}\n",
	                     err, sizeof err),
	    0);
	int rc = cw_config_load_file(
	    &c, CW_SOURCE_DIR "/config/cachewire.yaml", err, sizeof err);
	if (rc != 0)
		print_error("%s\n", err);
	assert_int_equal(rc, 0);
	assert_same_config(&c, defaults);
	assert_int_equal(cw_config_validate(&c, err, sizeof err), 0);
	cw_config_free(&c);
}

/* ---- documents -------------------------------------------------------- */

static void test_full_document(void **state)
{
	cw_config *c = *state;
	char err[512] = "";
	static const char doc[] = "# every key, none at its default\n"
	                          "listen:\n"
	                          "  - tcp://0.0.0.0:9000\n"
	                          "  - \"tcp6://[::1]:9001\"\n"
	                          "  - tcp4://*:9002\n"
	                          "  - ipc:///run/cw.sock\n"
	                          "server:\n"
	                          "  workers: 1024\n"
	                          "  max_message_bytes: 1GiB\n"
	                          "  default_timeout_ms: 3600000\n"
	                          "redis:\n"
	                          "  url: 'unix:///var/run/redis.sock?db=3'\n"
	                          "  pool_size: 256\n"
	                          "  connect_timeout_ms: 250\n"
	                          "  command_timeout_ms: 750\n"
	                          "cache:\n"
	                          "  namespace: app-1_v2.cache\n"
	                          "  max_key_bytes: 1MiB\n"
	                          "  max_value_bytes: 512MiB\n"
	                          "  clear_batch: 100000\n"
	                          "log:\n"
	                          "  level: DEBUG\n";
	int rc = parse(c, doc, err, sizeof err);
	if (rc != 0)
		print_error("%s\n", err);
	assert_int_equal(rc, 0);
	assert_int_equal(c->listen_count, 4);
	assert_string_equal(c->listen[0], "tcp://0.0.0.0:9000");
	assert_string_equal(c->listen[1], "tcp6://[::1]:9001");
	assert_string_equal(c->listen[2], "tcp4://*:9002");
	assert_string_equal(c->listen[3], "ipc:///run/cw.sock");
	assert_null(c->listen[4]);
	assert_int_equal(c->workers, 1024);
	assert_int_equal(c->max_message_bytes, 1024 * MIB);
	assert_int_equal(c->default_timeout_ms, 3600000);
	assert_string_equal(c->redis_url, "unix:///var/run/redis.sock?db=3");
	assert_int_equal(c->pool_size, 256);
	assert_int_equal(c->connect_timeout_ms, 250);
	assert_int_equal(c->command_timeout_ms, 750);
	assert_string_equal(c->namespace_, "app-1_v2.cache");
	assert_int_equal(c->max_key_bytes, MIB);
	assert_int_equal(c->max_value_bytes, 512 * MIB);
	assert_int_equal(c->clear_batch, 100000);
	assert_int_equal(c->log_level, CW_LOG_DEBUG);
	assert_int_equal(cw_config_validate(c, err, sizeof err), 0);
}

static void test_partial_document_keeps_the_rest(void **state)
{
	cw_config *c = *state;
	char err[256] = "";
	assert_int_equal(parse(c,
	                     "listen: ipc:///tmp/one.sock\n"
	                     "redis:\n  pool_size: 3\n"
	                     "cache:\n" /* a section with nothing in it */
	                     "log: {level: warn}\n",
	                     err, sizeof err),
	    0);
	assert_int_equal(c->listen_count, 1);
	assert_string_equal(c->listen[0], "ipc:///tmp/one.sock");
	assert_null(c->listen[1]);
	assert_int_equal(c->pool_size, 3);
	assert_int_equal(c->workers, 16);
	assert_string_equal(c->redis_url, "redis://127.0.0.1:6379/0");
	assert_string_equal(c->namespace_, "cachewire");
	assert_int_equal(c->log_level, CW_LOG_WARN);
}

static void test_empty_documents_change_nothing(void **state)
{
	const cw_config *defaults = *state;
	static const char *const docs[] = {
	    "",
	    "\n\n",
	    "# only a comment\n",
	    "---\n",
	    "---\n...\n",
	    "~\n",
	    "server:\nredis: ~\n",
	};
	for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
		cw_config c;
		char err[256] = "";
		assert_int_equal(cw_config_defaults(&c), 0);
		int rc = parse(&c, docs[i], err, sizeof err);
		if (rc != 0)
			print_error("\"%s\": %s\n", docs[i], err);
		assert_int_equal(rc, 0);
		assert_same_config(&c, defaults);
		cw_config_free(&c);
	}
}

static void test_text_need_not_be_terminated(void **state)
{
	cw_config *c = *state;
	char err[256] = "";
	const char text[] = "server: {workers: 7}\nserver: junk";
	/* Only the first line is given; the duplicate after it is unseen. */
	assert_int_equal(
	    cw_config_parse_yaml(c, "t.yaml", text, 21, err, sizeof err), 0);
	assert_int_equal(c->workers, 7);
}

/* ---- errors, each at its exact position ------------------------------------
 */

static void test_error_syntax(void **state)
{
	(void)state;
	expect_yaml_error("server:\n  workers: 4\n bad: 1\n",
	    "t.yaml:3:2: YAML syntax error: did not find expected key "
	    "(while parsing a block mapping at 1:1)");
	expect_yaml_error("listen: [tcp://a:1\n",
	    "t.yaml:2:1: YAML syntax error: did not find expected ',' or ']' "
	    "(while parsing a flow sequence at 1:9)");
	expect_yaml_error("server:\n  workers: \"4\n",
	    "t.yaml:3:1: YAML syntax error: found unexpected end of stream "
	    "(while scanning a quoted scalar at 2:12)");
	expect_yaml_error("server:\n\tworkers: 4\n",
	    "t.yaml:2:1: YAML syntax error: found character that cannot "
	    "start any token (while scanning for the next token at 2:1)");
	expect_yaml_error("log: {level: *nope}\n",
	    "t.yaml:1:14: YAML syntax error: found undefined alias");
	expect_yaml_error("log:\n  level: \"in\xff\"\n",
	    "t.yaml:2:13: YAML syntax error: invalid leading UTF-8 octet "
	    "(byte 0xff)");
}

static void test_error_unknown_key(void **state)
{
	(void)state;
	expect_yaml_error("server:\n  workers: 4\n  worker: 4\n",
	    "t.yaml:3:3: unknown key server.worker (did you mean "
	    "server.workers?)");
	expect_yaml_error("server:\n  pool_size: 4\n",
	    "t.yaml:2:3: unknown key server.pool_size (did you mean "
	    "redis.pool_size?)");
	expect_yaml_error("redis:\n  URL: redis://h\n",
	    "t.yaml:2:3: unknown key redis.URL (did you mean redis.url?)");
	expect_yaml_error(
	    "cache:\n  colour: red\n", "t.yaml:2:3: unknown key cache.colour");
	expect_yaml_error(
	    "cache:\n  \"a b\": 1\n", "t.yaml:2:3: unknown key \"cache.a b\"");
}

static void test_error_unknown_section(void **state)
{
	(void)state;
	expect_yaml_error("log: {level: info}\nserevr:\n  workers: 4\n",
	    "t.yaml:2:1: unknown section serevr (did you mean server?)");
	expect_yaml_error("listn: tcp://h:1\n",
	    "t.yaml:1:1: unknown section listn (did you mean listen?)");
	expect_yaml_error("workers: 4\n",
	    "t.yaml:1:1: unknown section workers (did you mean "
	    "server.workers?)");
	expect_yaml_error(
	    "metrics: {}\n", "t.yaml:1:1: unknown section metrics");
}

static void test_error_wrong_type(void **state)
{
	(void)state;
	expect_yaml_error("redis:\n  pool_size: [1, 2]\n",
	    "t.yaml:2:14: expected an integer for redis.pool_size, got a "
	    "sequence");
	expect_yaml_error("redis:\n  url:\n    host: h\n",
	    "t.yaml:3:5: expected a URL for redis.url, got a mapping");
	expect_yaml_error("server: 4\n",
	    "t.yaml:1:9: expected a mapping of keys for section server, got "
	    "\"4\"");
	expect_yaml_error("cache: [a]\n",
	    "t.yaml:1:8: expected a mapping of keys for section cache, got a "
	    "sequence");
	expect_yaml_error("listen: {tcp: 1}\n",
	    "t.yaml:1:9: expected a URL or a list of URLs for listen, got a "
	    "mapping");
	expect_yaml_error("listen:\n  - tcp://h:1\n  - [ipc:///a]\n",
	    "t.yaml:3:5: expected a URL in listen, got a sequence");
	expect_yaml_error("[server]: 1\n",
	    "t.yaml:1:1: expected a key (a plain string), got a sequence");
	expect_yaml_error("cache:\n  namespace: \"a\\0b\"\n",
	    "t.yaml:2:14: expected a string for cache.namespace, got a value "
	    "containing a NUL byte");
}

static void test_error_not_a_number(void **state)
{
	(void)state;
	expect_yaml_error("redis:\n  pool_size: abc\n",
	    "t.yaml:2:14: expected an integer for redis.pool_size, got "
	    "\"abc\"");
	expect_yaml_error("server:\n  workers: 1.5\n",
	    "t.yaml:2:12: expected an integer for server.workers, got "
	    "\"1.5\"");
	expect_yaml_error("server:\n  workers:\n",
	    "t.yaml:2:11: expected an integer for server.workers, got \"\"");
	expect_yaml_error("server:\n  workers: 0x10\n",
	    "t.yaml:2:12: expected an integer for server.workers, got "
	    "\"0x10\"");
	expect_yaml_error("cache:\n  max_value_bytes: 12KB\n",
	    "t.yaml:2:20: expected a size (bytes, or a number with a KiB, "
	    "MiB or GiB suffix) for cache.max_value_bytes, got \"12KB\"");
}

static void test_error_out_of_range(void **state)
{
	(void)state;
	expect_yaml_error("redis:\n  pool_size: 0\n",
	    "t.yaml:2:14: redis.pool_size must be 1..256, got 0");
	expect_yaml_error("redis:\n  pool_size: -3\n",
	    "t.yaml:2:14: redis.pool_size must be 1..256, got -3");
	expect_yaml_error("server:\n  workers: 99999999999999999999999\n",
	    "t.yaml:2:12: server.workers must be 1..1024, got "
	    "\"99999999999999999999999\"");
	expect_yaml_error("server:\n  default_timeout_ms: 3600001\n",
	    "t.yaml:2:23: server.default_timeout_ms must be 1..3600000, got "
	    "3600001");
	expect_yaml_error("cache:\n  max_value_bytes: 1GiB\n",
	    "t.yaml:2:20: cache.max_value_bytes must be 1..512MiB, got 1GiB");
	expect_yaml_error("cache:\n  max_key_bytes: 1048577\n",
	    "t.yaml:2:18: cache.max_key_bytes must be 1..1MiB, got 1048577");
	expect_yaml_error("server:\n  max_message_bytes: 100\n",
	    "t.yaml:2:22: server.max_message_bytes must be 1KiB..1GiB, got "
	    "100");
	expect_yaml_error("cache:\n  clear_batch: 100001\n",
	    "t.yaml:2:16: cache.clear_batch must be 1..100000, got 100001");
}

static void test_error_bad_enum_and_namespace(void **state)
{
	(void)state;
	expect_yaml_error("log:\n  level: verbose\n",
	    "t.yaml:2:10: log.level must be one of debug, info, warn, error, "
	    "got \"verbose\"");
	expect_yaml_error("cache:\n  namespace: \"my cache\"\n",
	    "t.yaml:2:14: cache.namespace must be 1 to 64 characters from "
	    "A-Z a-z 0-9 _ . -, got \"my cache\"");
	expect_yaml_error("cache:\n  namespace: a:b\n",
	    "t.yaml:2:14: cache.namespace must be 1 to 64 characters from "
	    "A-Z a-z 0-9 _ . -, got \"a:b\"");
	expect_yaml_error("cache:\n  namespace: ''\n",
	    "t.yaml:2:14: cache.namespace must be 1 to 64 characters from "
	    "A-Z a-z 0-9 _ . -, got \"\"");
	expect_yaml_error("cache:\n  namespace: "
	                  "x1234567890123456789012345678901234567890123456789"
	                  "0123456789abcde\n",
	    "t.yaml:2:14: cache.namespace must be 1 to 64 characters from "
	    "A-Z a-z 0-9 _ . -, got "
	    "\"x12345678901234567890123456789012345678901234567...\"");
}

static void test_error_bad_listen(void **state)
{
	(void)state;
	expect_yaml_error("listen: http://h:80\n",
	    "t.yaml:1:9: bad listen URL \"http://h:80\": the scheme must be "
	    "tcp://, tcp4://, tcp6:// or ipc://");
	expect_yaml_error("listen:\n  - tcp://h:1\n  - tcp://h\n",
	    "t.yaml:3:5: bad listen URL \"tcp://h\": expected tcp://host:port "
	    "with a port 0..65535");
	expect_yaml_error("listen: [tcp://h:70000]\n",
	    "t.yaml:1:10: bad listen URL \"tcp://h:70000\": expected "
	    "tcp://host:port with a port 0..65535");
	expect_yaml_error("listen: [tcp://h/x:1]\n",
	    "t.yaml:1:10: bad listen URL \"tcp://h/x:1\": the host may not "
	    "hold '/', '?', '#' or spaces");
	expect_yaml_error("listen: tcp6://::1:7420\n",
	    "t.yaml:1:9: bad listen URL \"tcp6://::1:7420\": put an IPv6 "
	    "address in brackets: tcp://[::1]:7420");
	expect_yaml_error("listen: tcp://[::1]7420\n",
	    "t.yaml:1:9: bad listen URL \"tcp://[::1]7420\": expected "
	    "tcp://host:port with a port 0..65535");
	expect_yaml_error("listen: ipc://\n",
	    "t.yaml:1:9: bad listen URL \"ipc://\": expected "
	    "ipc:///path/to/socket");
	expect_yaml_error("listen: [ipc:///a, tcp://h:1, ipc:///a]\n",
	    "t.yaml:1:31: listen URL \"ipc:///a\" is given twice");

	/* CW_MAX_LISTEN + 1 items: the error is at the one too many. */
	char doc[1024] = "listen:\n";
	for (int i = 0; i <= CW_MAX_LISTEN; i++)
		snprintf(doc + strlen(doc), sizeof doc - strlen(doc),
		    "  - tcp://h:%d\n", 1000 + i);
	char want[128];
	snprintf(want, sizeof want, "t.yaml:%d:5: more than %d listen URLs",
	    CW_MAX_LISTEN + 2, CW_MAX_LISTEN);
	expect_yaml_error(doc, want);
}

static void test_error_bad_redis_url(void **state)
{
	(void)state;
	expect_yaml_error("redis:\n  url: http://h:6379\n",
	    "t.yaml:2:8: invalid redis.url: unsupported scheme \"http\" (use "
	    "redis:// or unix://)");
	/* The password never appears in a message. */
	cw_config c;
	char err[512];
	assert_int_equal(cw_config_defaults(&c), 0);
	assert_int_equal(parse(&c, "redis:\n  url: redis://:s3cret@h:99999/0\n",
	                     err, sizeof err),
	    -1);
	assert_non_null(strstr(err, "t.yaml:2:8: invalid redis.url: "));
	assert_null(strstr(err, "s3cret"));
	cw_config_free(&c);
}

static void test_error_duplicate_key(void **state)
{
	(void)state;
	expect_yaml_error("server:\n  workers: 1\n  workers: 2\n",
	    "t.yaml:3:3: duplicate key server.workers (first at line 2, "
	    "column 3)");
	expect_yaml_error("log: {level: info}\nserver: {}\nlog: {}\n",
	    "t.yaml:3:1: duplicate key log (first at line 1, column 1)");
	expect_yaml_error("listen: tcp://h:1\nlisten: tcp://h:2\n",
	    "t.yaml:2:1: duplicate key listen (first at line 1, column 1)");
}

static void test_error_document_shape(void **state)
{
	(void)state;
	expect_yaml_error("- server\n- redis\n",
	    "t.yaml:1:1: expected a mapping of sections (listen, server, "
	    "redis, cache, log) at the top level, got a sequence");
	expect_yaml_error("\n  hello\n",
	    "t.yaml:2:3: expected a mapping of sections (listen, server, "
	    "redis, cache, log) at the top level, got \"hello\"");
	expect_yaml_error("server: {workers: 2}\n---\nserver: {workers: 3}\n",
	    "t.yaml:2:1: a second YAML document; a configuration file holds "
	    "one");
	expect_yaml_error("server: {workers: 2}\n---\n[\n",
	    "t.yaml:4:1: YAML syntax error: did not find expected node "
	    "content (while parsing a flow node at 4:1)");
}

static void test_error_buffer_is_optional_and_truncated(void **state)
{
	cw_config *c = *state;
	const char *doc = "redis:\n  pool_size: 0\n";
	char small[12];
	memset(small, 'x', sizeof small);
	assert_int_equal(
	    cw_config_parse_yaml(c, "t.yaml", doc, strlen(doc), NULL, 0), -1);
	assert_int_equal(cw_config_parse_yaml(c, "t.yaml", doc, strlen(doc),
	                     small, sizeof small),
	    -1);
	assert_string_equal(small, "t.yaml:2:14");
	assert_int_equal(cw_config_apply_env(c,
	                     (char *const[]){"CACHEWIRE_X=1", NULL}, NULL, 0),
	    -1);
}

/* ---- files ----------------------------------------------------------------
 */

static void test_load_file_reports_its_path(void **state)
{
	cw_config *c = *state;
	char err[512], want[600];
	char *path = temp_file("server:\n  workers: 2\nredis:\n  pool: 3\n");
	assert_int_equal(cw_config_load_file(c, path, err, sizeof err), -1);
	snprintf(want, sizeof want,
	    "%s:4:3: unknown key redis.pool (did you mean redis.pool_size?)",
	    path);
	assert_string_equal(err, want);
	assert_int_equal(c->workers, 2); /* partly applied */
	remove_temp_file(path);
}

static void test_unreadable_file(void **state)
{
	cw_config *c = *state;
	char err[512];
	assert_int_equal(cw_config_load_file(
	                     c, "/nonexistent/cachewire.yaml", err, sizeof err),
	    -1);
	assert_string_equal(err, "/nonexistent/cachewire.yaml: cannot read: "
	                         "No such file or directory");
	assert_int_equal(cw_config_load_file(c, "/tmp", err, sizeof err), -1);
	assert_string_equal(err, "/tmp: cannot read: Is a directory");

	if (geteuid() != 0) { /* root reads anything */
		char *path = temp_file("log: {level: warn}\n");
		char want[600];
		assert_int_equal(chmod(path, 0), 0);
		assert_int_equal(
		    cw_config_load_file(c, path, err, sizeof err), -1);
		snprintf(want, sizeof want, "%s: cannot read: %s", path,
		    strerror(EACCES));
		assert_string_equal(err, want);
		remove_temp_file(path);
	}
	/* Nothing was changed. */
	assert_int_equal(c->log_level, CW_LOG_INFO);
}

static void test_file_too_large(void **state)
{
	cw_config *c = *state;
	char err[512], want[600];
	size_t n = ((size_t)1 << 20) + 1;
	char *big = malloc(n + 1);
	assert_non_null(big);
	memset(big, '#', n);
	big[n] = '\0';
	char *path = temp_file(big);
	free(big);
	assert_int_equal(cw_config_load_file(c, path, err, sizeof err), -1);
	snprintf(
	    want, sizeof want, "%s: cannot read: %s", path, strerror(EFBIG));
	assert_string_equal(err, want);
	remove_temp_file(path);
}

/* ---- environment -------------------------------------------------------- */

static void test_env_overrides(void **state)
{
	cw_config *c = *state;
	char err[512] = "";
	char *envp[] = {
	    "HOME=/root",
	    "CACHEWIRE_LISTEN= tcp://0.0.0.0:1 "
	    ",ipc:///tmp/a.sock,tcp6://[::]:2",
	    "CACHEWIRE_SERVER_WORKERS=3",
	    "CACHEWIRE_SERVER_MAX_MESSAGE_BYTES=64MiB",
	    "CACHEWIRE_SERVER_DEFAULT_TIMEOUT_MS=10",
	    "CACHEWIRE_REDIS_URL=redis://u:p%40ss@redis:6380/2",
	    "CACHEWIRE_REDIS_POOL_SIZE=4",
	    "CACHEWIRE_REDIS_CONNECT_TIMEOUT_MS=11",
	    "CACHEWIRE_REDIS_COMMAND_TIMEOUT_MS=12",
	    "CACHEWIRE_CACHE_NAMESPACE=ns",
	    "CACHEWIRE_CACHE_MAX_KEY_BYTES=1KiB",
	    "CACHEWIRE_CACHE_MAX_VALUE_BYTES=1048576",
	    "CACHEWIRE_CACHE_CLEAR_BATCH=13",
	    "CACHEWIRE_LOG_LEVEL=Error",
	    "CACHEWIRE_SERVER_WORKERS=5", /* the last one wins */
	    /* Other programs' variables and main.c's are left alone. */
	    "CACHEWIRE_URL=tcp://elsewhere:1",
	    "CACHEWIRE_CONFIG=/etc/cachewire/cachewire.yaml",
	    "CACHEWIRE_TIMEOUT=whatever",
	    "cachewire_lower=1",
	    "CACHEWIRE_NO_EQUALS_SIGN",
	    NULL,
	};
	int rc = cw_config_apply_env(c, envp, err, sizeof err);
	if (rc != 0)
		print_error("%s\n", err);
	assert_int_equal(rc, 0);
	assert_int_equal(c->listen_count, 3);
	assert_string_equal(c->listen[0], "tcp://0.0.0.0:1");
	assert_string_equal(c->listen[1], "ipc:///tmp/a.sock");
	assert_string_equal(c->listen[2], "tcp6://[::]:2");
	assert_null(c->listen[3]);
	assert_int_equal(c->workers, 5);
	assert_int_equal(c->max_message_bytes, 64 * MIB);
	assert_int_equal(c->default_timeout_ms, 10);
	assert_string_equal(c->redis_url, "redis://u:p%40ss@redis:6380/2");
	assert_int_equal(c->pool_size, 4);
	assert_int_equal(c->connect_timeout_ms, 11);
	assert_int_equal(c->command_timeout_ms, 12);
	assert_string_equal(c->namespace_, "ns");
	assert_int_equal(c->max_key_bytes, 1024);
	assert_int_equal(c->max_value_bytes, MIB);
	assert_int_equal(c->clear_batch, 13);
	assert_int_equal(c->log_level, CW_LOG_ERROR);
	assert_int_equal(cw_config_validate(c, err, sizeof err), 0);

	/* A single URL, and NULL / empty environments. */
	assert_int_equal(cw_config_apply_env(c,
	                     (char *const[]){"CACHEWIRE_LISTEN=ipc:///x", NULL},
	                     err, sizeof err),
	    0);
	assert_int_equal(c->listen_count, 1);
	assert_string_equal(c->listen[0], "ipc:///x");
	assert_null(c->listen[1]);
	assert_int_equal(cw_config_apply_env(c, NULL, err, sizeof err), 0);
	assert_int_equal(
	    cw_config_apply_env(c, (char *const[]){NULL}, err, sizeof err), 0);
}

static void test_env_overrides_the_file(void **state)
{
	cw_config *c = *state;
	char err[256];
	assert_int_equal(parse(c, "server: {workers: 7}\nredis: {pool_size: 2}",
	                     err, sizeof err),
	    0);
	assert_int_equal(
	    cw_config_apply_env(c,
	        (char *const[]){"CACHEWIRE_SERVER_WORKERS=9", NULL}, err,
	        sizeof err),
	    0);
	assert_int_equal(c->workers, 9);
	assert_int_equal(c->pool_size, 2);
}

static void test_env_errors(void **state)
{
	(void)state;
	expect_env_error((char *const[]){"CACHEWIRE_SERVER_WORKERS=x", NULL},
	    "CACHEWIRE_SERVER_WORKERS: expected an integer, got \"x\"");
	expect_env_error((char *const[]){"CACHEWIRE_SERVER_WORKERS=", NULL},
	    "CACHEWIRE_SERVER_WORKERS: expected an integer, got \"\"");
	expect_env_error((char *const[]){"CACHEWIRE_SERVER_WORKERS= 4", NULL},
	    "CACHEWIRE_SERVER_WORKERS: expected an integer, got \" 4\"");
	expect_env_error((char *const[]){"CACHEWIRE_REDIS_POOL_SIZE=0", NULL},
	    "CACHEWIRE_REDIS_POOL_SIZE: must be 1..256, got 0");
	expect_env_error(
	    (char *const[]){"CACHEWIRE_CACHE_MAX_VALUE_BYTES=2GiB", NULL},
	    "CACHEWIRE_CACHE_MAX_VALUE_BYTES: must be 1..512MiB, got 2GiB");
	expect_env_error((char *const[]){"CACHEWIRE_LOG_LEVEL=trace", NULL},
	    "CACHEWIRE_LOG_LEVEL: must be one of debug, info, warn, error, "
	    "got \"trace\"");
	expect_env_error((char *const[]){"CACHEWIRE_CACHE_NAMESPACE=a/b", NULL},
	    "CACHEWIRE_CACHE_NAMESPACE: must be 1 to 64 characters from "
	    "A-Z a-z 0-9 _ . -, got \"a/b\"");
	expect_env_error((char *const[]){"CACHEWIRE_REDIS_URL=redis://", NULL},
	    "CACHEWIRE_REDIS_URL: invalid Redis URL: missing host");
	expect_env_error((char *const[]){"CACHEWIRE_LISTEN=", NULL},
	    "CACHEWIRE_LISTEN: empty URL in the list");
	expect_env_error((char *const[]){"CACHEWIRE_LISTEN=tcp://h:1,", NULL},
	    "CACHEWIRE_LISTEN: empty URL in the list");
	expect_env_error(
	    (char *const[]){"CACHEWIRE_LISTEN=tcp://h:1, udp://h:2", NULL},
	    "CACHEWIRE_LISTEN: bad listen URL \"udp://h:2\": the scheme must "
	    "be tcp://, tcp4://, tcp6:// or ipc://");
	expect_env_error(
	    (char *const[]){"CACHEWIRE_LISTEN=ipc:///a,ipc:///a", NULL},
	    "CACHEWIRE_LISTEN: listen URL \"ipc:///a\" is given twice");
	expect_env_error((char *const[]){"CACHEWIRE_LISTEN=ipc:///a,ipc:///b,"
	                                 "ipc:///c,ipc:///d,ipc:///e,ipc:///f,"
	                                 "ipc:///g,ipc:///h,ipc:///i,ipc:///j,"
	                                 "ipc:///k,ipc:///l,ipc:///m,ipc:///n,"
	                                 "ipc:///o,ipc:///p,ipc:///q",
	                     NULL},
	    "CACHEWIRE_LISTEN: more than 16 listen URLs");
	/* The first bad variable is reported. */
	expect_env_error(
	    (char *const[]){"CACHEWIRE_SERVER_WORKERS=2",
	        "CACHEWIRE_REDIS_POOL_SIZE=999", "CACHEWIRE_LOG_LEVEL=x", NULL},
	    "CACHEWIRE_REDIS_POOL_SIZE: must be 1..256, got 999");
}

static void test_env_unknown_variables(void **state)
{
	(void)state;
	expect_env_error((char *const[]){"CACHEWIRE_SERVER_WORKRES=4", NULL},
	    "CACHEWIRE_SERVER_WORKRES: unknown variable (did you mean "
	    "CACHEWIRE_SERVER_WORKERS?)");
	expect_env_error((char *const[]){"CACHEWIRE_WORKERS=4", NULL},
	    "CACHEWIRE_WORKERS: unknown variable (did you mean "
	    "CACHEWIRE_SERVER_WORKERS?)");
	expect_env_error((char *const[]){"CACHEWIRE_SERVER_POOL_SIZE=4", NULL},
	    "CACHEWIRE_SERVER_POOL_SIZE: unknown variable (did you mean "
	    "CACHEWIRE_REDIS_POOL_SIZE?)");
	expect_env_error((char *const[]){"CACHEWIRE_LISTENS=tcp://h:1", NULL},
	    "CACHEWIRE_LISTENS: unknown variable (did you mean "
	    "CACHEWIRE_LISTEN?)");
	expect_env_error((char *const[]){"CACHEWIRE_CONFG=/etc/x", NULL},
	    "CACHEWIRE_CONFG: unknown variable (did you mean "
	    "CACHEWIRE_CONFIG?)");
	expect_env_error((char *const[]){"CACHEWIRE_REDIS=redis://h", NULL},
	    "CACHEWIRE_REDIS: unknown variable (did you mean "
	    "CACHEWIRE_REDIS_URL?)");
	expect_env_error((char *const[]){"CACHEWIRE_COLOUR=red", NULL},
	    "CACHEWIRE_COLOUR: unknown variable");
	expect_env_error((char *const[]){"CACHEWIRE_=1", NULL},
	    "CACHEWIRE_: unknown variable");
	expect_env_error((char *const[]){"CACHEWIRE_log_level=info", NULL},
	    "CACHEWIRE_log_level: unknown variable (did you mean "
	    "CACHEWIRE_LOG_LEVEL?)");
}

/* ---- sizes ----------------------------------------------------------------
 */

static void test_sizes(void **state)
{
	static const struct {
		const char *text;
		size_t bytes;
	} good[] = {
	    {"1", 1},
	    {"4096", 4096},
	    {"1KiB", 1024},
	    {"3 KiB", 3072},
	    {"2MiB", 2 * MIB},
	    {"512MiB", 512 * MIB},
	    {"0512", 512},
	};
	static const char *const bad[] = {
	    "1K",
	    "1KB",
	    "1kib",
	    "1 MB",
	    "1.5MiB",
	    "MiB",
	    "-1",
	    "+1",
	    "1MiB ",
	    "1e6",
	    "1_000",
	    "0x100",
	    "1GiBx",
	};
	cw_config *c = *state;
	char err[512], var[64], want[256];
	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		snprintf(var, sizeof var, "CACHEWIRE_CACHE_MAX_VALUE_BYTES=%s",
		    good[i].text);
		int rc = cw_config_apply_env(
		    c, (char *const[]){var, NULL}, err, sizeof err);
		if (rc != 0)
			print_error("%s: %s\n", good[i].text, err);
		assert_int_equal(rc, 0);
		assert_int_equal(c->max_value_bytes, good[i].bytes);
	}
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		snprintf(var, sizeof var, "CACHEWIRE_CACHE_MAX_VALUE_BYTES=%s",
		    bad[i]);
		snprintf(want, sizeof want,
		    "CACHEWIRE_CACHE_MAX_VALUE_BYTES: expected a size (bytes, "
		    "or "
		    "a number with a KiB, MiB or GiB suffix), got \"%s\"",
		    bad[i]);
		expect_env_error((char *const[]){var, NULL}, want);
	}
	expect_env_error(
	    (char *const[]){"CACHEWIRE_CACHE_MAX_VALUE_BYTES=0", NULL},
	    "CACHEWIRE_CACHE_MAX_VALUE_BYTES: must be 1..512MiB, got 0");
	expect_env_error(
	    (char *const[]){"CACHEWIRE_CACHE_MAX_VALUE_BYTES=536870913", NULL},
	    "CACHEWIRE_CACHE_MAX_VALUE_BYTES: must be 1..512MiB, got "
	    "536870913");
	expect_env_error((char *const[]){"CACHEWIRE_CACHE_MAX_VALUE_BYTES="
	                                 "9999999999GiB",
	                     NULL},
	    "CACHEWIRE_CACHE_MAX_VALUE_BYTES: must be 1..512MiB, got "
	    "\"9999999999GiB\"");
}

/* ---- validation -----------------------------------------------------------
 */

static void expect_invalid(const cw_config *c, const char *want)
{
	char err[512] = "";
	int rc = cw_config_validate(c, err, sizeof err);
	if (rc != -1 || strcmp(err, want) != 0)
		print_error("want: %s\ngot:  %s (rc %d)\n", want, err, rc);
	assert_int_equal(rc, -1);
	assert_string_equal(err, want);
}

static void test_validate_value_fits_message(void **state)
{
	cw_config *c = *state;
	char err[512];
	/* The defaults leave exactly 1MiB - 4096 - 64KiB to spare. */
	c->max_message_bytes = 32 * MIB + 4096 + 64 * 1024;
	assert_int_equal(cw_config_validate(c, err, sizeof err), 0);
	c->max_message_bytes--;
	expect_invalid(c,
	    "cache.max_value_bytes (32MiB) plus cache.max_key_bytes (4KiB) "
	    "and 64KiB of envelope must fit server.max_message_bytes "
	    "(33624063): raise it to at least 33624064 or lower the others");

	/* The same through the file. */
	cw_config d;
	assert_int_equal(cw_config_defaults(&d), 0);
	assert_int_equal(
	    parse(&d, "cache: {max_value_bytes: 512MiB}\n", err, sizeof err),
	    0);
	expect_invalid(&d,
	    "cache.max_value_bytes (512MiB) plus cache.max_key_bytes (4KiB) "
	    "and 64KiB of envelope must fit server.max_message_bytes "
	    "(33MiB): raise it to at least 536940544 or lower the others");
	cw_config_free(&d);
}

static void test_validate_fields_set_directly(void **state)
{
	cw_config *c = *state;
	c->workers = 0;
	expect_invalid(c, "server.workers must be 1..1024, got 0");
	c->workers = 16;
	c->max_key_bytes = 2 * MIB;
	expect_invalid(c, "cache.max_key_bytes must be 1..1MiB, got 2MiB");
	c->max_key_bytes = 4096;
	c->log_level = (enum cw_log_level)9;
	expect_invalid(
	    c, "log.level must be one of debug, info, warn, error, got 9");
	c->log_level = CW_LOG_ERROR;

	free(c->namespace_);
	c->namespace_ = NULL;
	expect_invalid(c, "cache.namespace is not set");
	c->namespace_ = strdup("no spaces please");
	assert_non_null(c->namespace_);
	expect_invalid(c,
	    "cache.namespace must be 1 to 64 characters from A-Z a-z 0-9 _ . "
	    "-, got \"no spaces please\"");
	free(c->namespace_);
	c->namespace_ = strdup("ok");

	free(c->redis_url);
	c->redis_url = strdup("memcached://h");
	assert_non_null(c->redis_url);
	expect_invalid(c, "invalid redis.url: unsupported scheme "
	                  "\"memcached\" (use redis:// or unix://)");
	free(c->redis_url);
	c->redis_url = strdup("redis://h");

	char *second = c->listen[1];
	c->listen[1] = NULL;
	c->listen_count = 1;
	char err[256];
	assert_int_equal(cw_config_validate(c, err, sizeof err), 0);
	c->listen[1] = strdup(c->listen[0]);
	c->listen_count = 2;
	expect_invalid(c, "listen URL \"tcp://127.0.0.1:7420\" is given twice");
	free(c->listen[1]);
	c->listen[1] = second;
	c->listen[1][0] = 'x';
	expect_invalid(c, "bad listen URL \"xpc:///tmp/cachewire.sock\": the "
	                  "scheme must be tcp://, tcp4://, tcp6:// or ipc://");
}

static void test_validate_listen_not_empty(void **state)
{
	cw_config *c = *state;
	char err[256];
	assert_int_equal(parse(c, "listen: []\n", err, sizeof err), 0);
	assert_int_equal(c->listen_count, 0);
	expect_invalid(c, "listen must name 1..16 URLs, got 0");
}

static void test_free_twice(void **state)
{
	(void)state;
	cw_config c;
	assert_int_equal(cw_config_defaults(&c), 0);
	cw_config_free(&c);
	cw_config_free(&c);
	assert_null(c.redis_url);
	assert_int_equal(c.listen_count, 0);
	cw_config_free(NULL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_defaults),
	    T(test_log_level_names),
	    T(test_shipped_file_equals_defaults),
	    T(test_full_document),
	    T(test_partial_document_keeps_the_rest),
	    T(test_empty_documents_change_nothing),
	    T(test_text_need_not_be_terminated),
	    T(test_error_syntax),
	    T(test_error_unknown_key),
	    T(test_error_unknown_section),
	    T(test_error_wrong_type),
	    T(test_error_not_a_number),
	    T(test_error_out_of_range),
	    T(test_error_bad_enum_and_namespace),
	    T(test_error_bad_listen),
	    T(test_error_bad_redis_url),
	    T(test_error_duplicate_key),
	    T(test_error_document_shape),
	    T(test_error_buffer_is_optional_and_truncated),
	    T(test_load_file_reports_its_path),
	    T(test_unreadable_file),
	    T(test_file_too_large),
	    T(test_env_overrides),
	    T(test_env_overrides_the_file),
	    T(test_env_errors),
	    T(test_env_unknown_variables),
	    T(test_sizes),
	    T(test_validate_value_fits_message),
	    T(test_validate_fields_set_directly),
	    T(test_validate_listen_not_empty),
	    T(test_free_twice),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
