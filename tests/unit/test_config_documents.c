/*
 * test_config_documents.c - the configuration loader (server/config.h) on
 * good input: the defaults, the shipped config/cachewire.yaml, and YAML
 * documents that set every key, some keys or none.
 */
#include "config_cases.h"
#include "log.h"

#ifndef CW_SOURCE_DIR
#error "CW_SOURCE_DIR must name the source tree (tests/CMakeLists.txt)"
#endif

static void assert_same_config(const cw_config *a, const cw_config *b)
{
	assert_int_equal(a->listen_count, b->listen_count);
	for (int i = 0; i < a->listen_count; i++)
		assert_string_equal(a->listen[i], b->listen[i]);
	assert_int_equal(a->max_in_flight, b->max_in_flight);
	assert_int_equal(a->max_message_bytes, b->max_message_bytes);
	assert_int_equal(a->default_timeout_ms, b->default_timeout_ms);
	assert_int_equal(a->drain_timeout_ms, b->drain_timeout_ms);
	assert_string_equal(a->redis_url, b->redis_url);
	assert_int_equal(a->pool_size, b->pool_size);
	assert_int_equal(a->connect_timeout_ms, b->connect_timeout_ms);
	assert_int_equal(a->command_timeout_ms, b->command_timeout_ms);
	assert_string_equal(a->namespace_, b->namespace_);
	assert_int_equal(a->max_key_bytes, b->max_key_bytes);
	assert_int_equal(a->max_value_bytes, b->max_value_bytes);
	assert_int_equal(a->clear_batch, b->clear_batch);
	assert_int_equal(a->log_level, b->log_level);
	/* optional strings: NULL in both, or equal */
	const char *const pairs[][2] = {
	    {a->redis_user, b->redis_user},
	    {a->redis_password, b->redis_password},
	    {a->redis_password_file, b->redis_password_file},
	    {a->tls_cert_file, b->tls_cert_file},
	    {a->tls_key_file, b->tls_key_file},
	    {a->tls_client_ca_file, b->tls_client_ca_file},
	    {a->auth_tokens_file, b->auth_tokens_file},
	};
	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		if (pairs[i][0] == NULL || pairs[i][1] == NULL)
			assert_ptr_equal(pairs[i][0], pairs[i][1]);
		else
			assert_string_equal(pairs[i][0], pairs[i][1]);
	}
	assert_int_equal(a->tls_min_version, b->tls_min_version);
	assert_int_equal(a->auth_tokens == NULL, b->auth_tokens == NULL);
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
	assert_int_equal(c->max_in_flight, 256);
	assert_int_equal(c->max_message_bytes, 33 * MIB);
	assert_int_equal(c->drain_timeout_ms, 10000);
	assert_int_equal(c->default_timeout_ms, 5000);
	assert_string_equal(c->redis_url, "redis://127.0.0.1:6379/0");
	assert_int_equal(c->pool_size, 4);
	assert_int_equal(c->connect_timeout_ms, 1000);
	assert_int_equal(c->command_timeout_ms, 5000);
	assert_string_equal(c->namespace_, "cachewire");
	assert_int_equal(c->max_key_bytes, 4096);
	assert_int_equal(c->max_value_bytes, 32 * MIB);
	assert_int_equal(c->clear_batch, 512);
	assert_int_equal(c->log_level, CW_LOG_INFO);
	assert_null(c->redis_user);
	assert_null(c->redis_password);
	assert_null(c->tls_cert_file);
	assert_null(c->tls_client_ca_file);
	assert_int_equal(c->tls_min_version, 12);
	assert_null(c->auth_tokens_file);
	assert_null(c->auth_tokens);
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
	assert_int_equal(
	    parse(&c,
	        "listen: tcp://[::1]:1\n"
	        "server: {max_in_flight: 1, max_message_bytes: 1GiB, "
	        "default_timeout_ms: 1}\n"
	        "redis: {url: 'unix:///r.sock', pool_size: 1, "
	        "connect_timeout_ms: 1, command_timeout_ms: 1, user: u, "
	        "password: p}\n"
	        "cache: {namespace: x, max_key_bytes: 1, "
	        "max_value_bytes: 1, clear_batch: 1}\n"
	        "log: {level: error}\n"
	        "tls: {min_version: '1.3'}\n",
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
	                          "  max_in_flight: 1024\n"
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
	assert_int_equal(c->max_in_flight, 1024);
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
	assert_int_equal(c->max_in_flight, 256);
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
	const char text[] = "server: {max_in_flight: 7}\nserver: junk";
	/* Only the first line is given; the duplicate after it is unseen. */
	assert_int_equal(
	    cw_config_parse_yaml(c, "t.yaml", text, 26, err, sizeof err), 0);
	assert_int_equal(c->max_in_flight, 7);
}

/* What SIGHUP reports: every key that differs, by path, in table order. */
static void test_changed_keys(void **state)
{
	const cw_config *defaults = *state;
	char paths[8][48], err[256] = "";
	cw_config c;

	assert_int_equal(cw_config_changed(defaults, defaults, paths, 8), 0);
	assert_int_equal(cw_config_defaults(&c), 0);
	assert_int_equal(parse(&c,
	                     "listen: [tcp://127.0.0.1:7420, ipc:///tmp/x]\n"
	                     "server: {max_in_flight: 7}\n"
	                     "redis: {url: 'redis://h:1/2'}\n"
	                     "cache: {max_value_bytes: 1MiB}\n"
	                     "log: {level: debug}\n",
	                     err, sizeof err),
	    0);
	assert_int_equal(cw_config_changed(defaults, &c, paths, 8), 5);
	assert_string_equal(paths[0], "listen");
	assert_string_equal(paths[1], "server.max_in_flight");
	assert_string_equal(paths[2], "redis.url");
	assert_string_equal(paths[3], "cache.max_value_bytes");
	assert_string_equal(paths[4], "log.level");
	/* room for fewer: the count is still the whole */
	assert_int_equal(cw_config_changed(&c, defaults, paths, 2), 5);
	assert_string_equal(paths[1], "server.max_in_flight");
	cw_config_free(&c);
}

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
	    T(test_changed_keys),
	};
	return cmocka_run_group_tests_name(
	    "config documents", tests, NULL, NULL);
}
