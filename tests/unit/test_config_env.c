/*
 * test_config_env.c - CACHEWIRE_* environment variables (server/config.h):
 * every override, their order against the file, every error as one table
 * of cases, and sizes.
 */
#include <stdio.h>

#include "config_cases.h"

/* ---- overrides ---------------------------------------------------------- */

static void test_env_overrides(void **state)
{
	cw_config *c = *state;
	char err[512] = "";
	char *envp[] = {
	    "HOME=/root",
	    "CACHEWIRE_LISTEN= tcp://0.0.0.0:1 "
	    ",ipc:///tmp/a.sock,tcp6://[::]:2",
	    "CACHEWIRE_SERVER_MAX_IN_FLIGHT=3",
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
	    "CACHEWIRE_SERVER_MAX_IN_FLIGHT=5", /* the last one wins */
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
	assert_int_equal(c->max_in_flight, 5);
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
	assert_int_equal(
	    parse(c, "server: {max_in_flight: 7}\nredis: {pool_size: 2}", err,
	        sizeof err),
	    0);
	assert_int_equal(
	    cw_config_apply_env(c,
	        (char *const[]){"CACHEWIRE_SERVER_MAX_IN_FLIGHT=9", NULL}, err,
	        sizeof err),
	    0);
	assert_int_equal(c->max_in_flight, 9);
	assert_int_equal(c->pool_size, 2);
}

/* ---- errors ------------------------------------------------------------- */

typedef struct env_case {
	const char *name;
	char *const env[4]; /* up to 3 variables, then NULL */
	const char *want;   /* the whole message, exactly */
} env_case;

static const env_case env_cases[] = {
    /* bad values */
    {"value: not an integer", {"CACHEWIRE_SERVER_MAX_IN_FLIGHT=x"},
        "CACHEWIRE_SERVER_MAX_IN_FLIGHT: expected an integer, got \"x\""},
    {"value: empty", {"CACHEWIRE_SERVER_MAX_IN_FLIGHT="},
        "CACHEWIRE_SERVER_MAX_IN_FLIGHT: expected an integer, got \"\""},
    {"value: leading space", {"CACHEWIRE_SERVER_MAX_IN_FLIGHT= 4"},
        "CACHEWIRE_SERVER_MAX_IN_FLIGHT: expected an integer, got \" 4\""},
    {"value: out of range", {"CACHEWIRE_REDIS_POOL_SIZE=0"},
        "CACHEWIRE_REDIS_POOL_SIZE: must be 1..256, got 0"},
    {"value: size out of range", {"CACHEWIRE_CACHE_MAX_VALUE_BYTES=2GiB"},
        "CACHEWIRE_CACHE_MAX_VALUE_BYTES: must be 1..512MiB, got 2GiB"},
    {"value: log level", {"CACHEWIRE_LOG_LEVEL=trace"},
        "CACHEWIRE_LOG_LEVEL: must be one of debug, info, warn, error, "
        "got \"trace\""},
    {"value: namespace", {"CACHEWIRE_CACHE_NAMESPACE=a/b"},
        "CACHEWIRE_CACHE_NAMESPACE: must be 1 to 64 characters from "
        "A-Z a-z 0-9 _ . -, got \"a/b\""},
    {"value: redis URL", {"CACHEWIRE_REDIS_URL=redis://"},
        "CACHEWIRE_REDIS_URL: invalid Redis URL: missing host"},
    {"listen: empty", {"CACHEWIRE_LISTEN="},
        "CACHEWIRE_LISTEN: empty URL in the list"},
    {"listen: trailing comma", {"CACHEWIRE_LISTEN=tcp://h:1,"},
        "CACHEWIRE_LISTEN: empty URL in the list"},
    {"listen: scheme", {"CACHEWIRE_LISTEN=tcp://h:1, udp://h:2"},
        "CACHEWIRE_LISTEN: bad listen URL \"udp://h:2\": the scheme must "
        "be tcp://, tcp4://, tcp6://, ipc:// or tls+tcp:// (tls+tcp4://, "
        "tls+tcp6://)"},
    {"listen: given twice", {"CACHEWIRE_LISTEN=ipc:///a,ipc:///a"},
        "CACHEWIRE_LISTEN: listen URL \"ipc:///a\" is given twice"},
    {"listen: too many",
        {"CACHEWIRE_LISTEN=ipc:///a,ipc:///b,"
         "ipc:///c,ipc:///d,ipc:///e,ipc:///f,"
         "ipc:///g,ipc:///h,ipc:///i,ipc:///j,"
         "ipc:///k,ipc:///l,ipc:///m,ipc:///n,"
         "ipc:///o,ipc:///p,ipc:///q"},
        "CACHEWIRE_LISTEN: more than 16 listen URLs"},
    {"the first bad variable is reported",
        {"CACHEWIRE_SERVER_MAX_IN_FLIGHT=2", "CACHEWIRE_REDIS_POOL_SIZE=999",
            "CACHEWIRE_LOG_LEVEL=x"},
        "CACHEWIRE_REDIS_POOL_SIZE: must be 1..256, got 999"},

    /* unknown variables, with the nearest known one */
    {"unknown: misspelt", {"CACHEWIRE_SERVER_MAX_IN_FLIHGT=4"},
        "CACHEWIRE_SERVER_MAX_IN_FLIHGT: unknown variable (did you mean "
        "CACHEWIRE_SERVER_MAX_IN_FLIGHT?)"},
    {"unknown: no section", {"CACHEWIRE_MAX_IN_FLIGHT=4"},
        "CACHEWIRE_MAX_IN_FLIGHT: unknown variable (did you mean "
        "CACHEWIRE_SERVER_MAX_IN_FLIGHT?)"},
    {"unknown: wrong section", {"CACHEWIRE_SERVER_POOL_SIZE=4"},
        "CACHEWIRE_SERVER_POOL_SIZE: unknown variable (did you mean "
        "CACHEWIRE_REDIS_POOL_SIZE?)"},
    {"unknown: LISTENS", {"CACHEWIRE_LISTENS=tcp://h:1"},
        "CACHEWIRE_LISTENS: unknown variable (did you mean "
        "CACHEWIRE_LISTEN?)"},
    {"unknown: near main.c's CONFIG", {"CACHEWIRE_CONFG=/etc/x"},
        "CACHEWIRE_CONFG: unknown variable (did you mean "
        "CACHEWIRE_CONFIG?)"},
    {"unknown: a section alone", {"CACHEWIRE_REDIS=redis://h"},
        "CACHEWIRE_REDIS: unknown variable (did you mean "
        "CACHEWIRE_REDIS_URL?)"},
    {"unknown: nothing near", {"CACHEWIRE_COLOUR=red"},
        "CACHEWIRE_COLOUR: unknown variable"},
    {"unknown: the bare prefix", {"CACHEWIRE_=1"},
        "CACHEWIRE_: unknown variable"},
    {"unknown: lower case", {"CACHEWIRE_log_level=info"},
        "CACHEWIRE_log_level: unknown variable (did you mean "
        "CACHEWIRE_LOG_LEVEL?)"},

    /* redis.mode and redis.nodes */
    {"mode: unknown", {"CACHEWIRE_REDIS_MODE=sharded"},
        "CACHEWIRE_REDIS_MODE: must be standalone, cluster or sentinel, got "
        "\"sharded\""},
    {"nodes: no port", {"CACHEWIRE_REDIS_NODES=a:1,b"},
        "CACHEWIRE_REDIS_NODES: node \"b\" has no port (want host:port, or "
        "[ipv6]:port)"},
    {"nodes: empty item", {"CACHEWIRE_REDIS_NODES=a:1,,b:2"},
        "CACHEWIRE_REDIS_NODES: empty node (want host:port)"},
    {"nodes: bad port", {"CACHEWIRE_REDIS_NODES=a:0"},
        "CACHEWIRE_REDIS_NODES: bad port \"0\" (want 1..65535)"},
    {"nodes: twice", {"CACHEWIRE_REDIS_NODES=a:1, a:1"},
        "CACHEWIRE_REDIS_NODES: node \"a:1\" is given twice"},

    /* sizes out of range */
    {"size: zero", {"CACHEWIRE_CACHE_MAX_VALUE_BYTES=0"},
        "CACHEWIRE_CACHE_MAX_VALUE_BYTES: must be 1..512MiB, got 0"},
    {"size: one byte too many", {"CACHEWIRE_CACHE_MAX_VALUE_BYTES=536870913"},
        "CACHEWIRE_CACHE_MAX_VALUE_BYTES: must be 1..512MiB, got "
        "536870913"},
    {"size: overflow", {"CACHEWIRE_CACHE_MAX_VALUE_BYTES=9999999999GiB"},
        "CACHEWIRE_CACHE_MAX_VALUE_BYTES: must be 1..512MiB, got "
        "\"9999999999GiB\""},
};

/* k's variables must fail with exactly k->want; prints the case when they
 * do not. */
static bool env_case_ok(const env_case *k)
{
	cw_config c;
	char err[512] = "";
	assert_int_equal(cw_config_defaults(&c), 0);
	int rc = cw_config_apply_env(&c, k->env, err, sizeof err);
	bool ok = rc == -1 && strcmp(err, k->want) == 0;
	if (!ok)
		print_error("case \"%s\"\nwant: %s\ngot:  %s (rc %d)\n",
		    k->name, k->want, err, rc);
	cw_config_free(&c);
	return ok;
}

static void test_env_errors(void **state)
{
	(void)state;
	case_tally t = {0};
	for (size_t i = 0; i < sizeof env_cases / sizeof *env_cases; i++)
		case_tally_add(
		    &t, env_cases[i].name, env_case_ok(&env_cases[i]));
	case_tally_check(&t);
}

/* ---- sizes -------------------------------------------------------------- */

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
	case_tally t = {0};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		snprintf(var, sizeof var, "CACHEWIRE_CACHE_MAX_VALUE_BYTES=%s",
		    bad[i]);
		snprintf(want, sizeof want,
		    "CACHEWIRE_CACHE_MAX_VALUE_BYTES: expected a size (bytes, "
		    "or a number with a KiB, MiB or GiB suffix), got \"%s\"",
		    bad[i]);
		case_tally_add(
		    &t, bad[i], env_case_ok(&(env_case){bad[i], {var}, want}));
	}
	case_tally_check(&t);
}

/* cw_config_set: what flags use; same parser, errors named by origin. */
static void test_set_by_path(void **state)
{
	cw_config *c = *state;
	char err[256];
	assert_int_equal(
	    cw_config_set(c, "redis.pool_size", "12", "--x", err, sizeof err),
	    0);
	assert_int_equal(c->pool_size, 12);
	assert_int_equal(
	    cw_config_set(c, "listen", "tcp://127.0.0.1:1,ipc:///tmp/a.sock",
	        "--listen", err, sizeof err),
	    0);
	assert_int_equal(c->listen_count, 2);
	assert_string_equal(c->listen[1], "ipc:///tmp/a.sock");
	assert_int_equal(cw_config_set(c, "log.level", "loud", "--log-level",
	                     err, sizeof err),
	    -1);
	assert_string_equal(err, "--log-level: must be one of debug, info, "
	                         "warn, error, got \"loud\"");
	assert_int_equal(
	    cw_config_set(c, "redis.pool", "1", "--p", err, sizeof err), -1);
	assert_string_equal(err, "--p: no configuration key redis.pool");
	assert_int_equal(c->pool_size, 12); /* failures change nothing */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_env_overrides),
	    T(test_env_overrides_the_file),
	    T(test_env_errors),
	    T(test_sizes),
	    T(test_set_by_path),
	};
	return cmocka_run_group_tests_name(
	    "config environment", tests, NULL, NULL);
}
