/*
 * test_config_yaml_errors.c - the configuration loader (server/config.h) on
 * bad YAML documents: every kind of error, each with its exact
 * "t.yaml:line:col: message", as one table of cases; then the errors that
 * need more than a document and a message.
 */
#include <stdio.h>

#include "config_cases.h"

typedef struct yaml_case {
	const char *name;
	const char *doc;
	const char *want; /* the whole message, exactly */
} yaml_case;

static const yaml_case yaml_cases[] = {
    /* syntax, where libyaml found it */
    {"syntax: key outdented", "server:\n  max_in_flight: 4\n bad: 1\n",
        "t.yaml:3:2: YAML syntax error: did not find expected key "
        "(while parsing a block mapping at 1:1)"},
    {"syntax: unclosed flow sequence", "listen: [tcp://a:1\n",
        "t.yaml:2:1: YAML syntax error: did not find expected ',' or ']' "
        "(while parsing a flow sequence at 1:9)"},
    {"syntax: unclosed quote", "server:\n  max_in_flight: \"4\n",
        "t.yaml:3:1: YAML syntax error: found unexpected end of stream "
        "(while scanning a quoted scalar at 2:18)"},
    {"syntax: tab indent", "server:\n\tmax_in_flight: 4\n",
        "t.yaml:2:1: YAML syntax error: found character that cannot "
        "start any token (while scanning for the next token at 2:1)"},
    {"syntax: undefined alias", "log: {level: *nope}\n",
        "t.yaml:1:14: YAML syntax error: found undefined alias"},
    {"syntax: bad UTF-8", "log:\n  level: \"in\xff\"\n",
        "t.yaml:2:13: YAML syntax error: invalid leading UTF-8 octet "
        "(byte 0xff)"},

    /* redis.nodes: each list item where it is */
    {"nodes: item without a port",
        "redis:\n  nodes:\n    - h:26379\n    - h2\n",
        "t.yaml:4:7: redis.nodes: node \"h2\" has no port (want host:port, "
        "or [ipv6]:port)"},
    {"nodes: two in one item", "redis:\n  nodes: [\"h:1,h:2\"]\n",
        "t.yaml:2:11: redis.nodes: one host:port per list item"},
    {"mode: unknown", "redis: {mode: shards}\n",
        "t.yaml:1:15: redis.mode must be standalone, cluster or sentinel, "
        "got \"shards\""},

    /* unknown keys, with the nearest known one */
    {"key: misspelt", "server:\n  max_in_flight: 4\n  max_in_fligth: 4\n",
        "t.yaml:3:3: unknown key server.max_in_fligth (did you mean "
        "server.max_in_flight?)"},
    {"key: in the wrong section", "server:\n  pool_size: 4\n",
        "t.yaml:2:3: unknown key server.pool_size (did you mean "
        "redis.pool_size?)"},
    {"key: wrong case", "redis:\n  URL: redis://h\n",
        "t.yaml:2:3: unknown key redis.URL (did you mean redis.url?)"},
    {"key: nothing near", "cache:\n  colour: red\n",
        "t.yaml:2:3: unknown key cache.colour"},
    {"key: quoted in the message", "cache:\n  \"a b\": 1\n",
        "t.yaml:2:3: unknown key \"cache.a b\""},

    /* unknown sections */
    {"section: misspelt", "log: {level: info}\nserevr:\n  max_in_flight: 4\n",
        "t.yaml:2:1: unknown section serevr (did you mean server?)"},
    {"section: misspelt listen", "listn: tcp://h:1\n",
        "t.yaml:1:1: unknown section listn (did you mean listen?)"},
    {"section: a key at the top level", "max_in_flight: 4\n",
        "t.yaml:1:1: unknown section max_in_flight (did you mean "
        "server.max_in_flight?)"},
    {"section: nothing near", "metrics: {}\n",
        "t.yaml:1:1: unknown section metrics"},

    /* wrong types */
    {"type: sequence for an integer", "redis:\n  pool_size: [1, 2]\n",
        "t.yaml:2:14: expected an integer for redis.pool_size, got a "
        "sequence"},
    {"type: mapping for a URL", "redis:\n  url:\n    host: h\n",
        "t.yaml:3:5: expected a URL for redis.url, got a mapping"},
    {"type: scalar for a section", "server: 4\n",
        "t.yaml:1:9: expected a mapping of keys for section server, got "
        "\"4\""},
    {"type: sequence for a section", "cache: [a]\n",
        "t.yaml:1:8: expected a mapping of keys for section cache, got a "
        "sequence"},
    {"type: mapping for listen", "listen: {tcp: 1}\n",
        "t.yaml:1:9: expected a URL or a list of URLs for listen, got a "
        "mapping"},
    {"type: sequence in listen", "listen:\n  - tcp://h:1\n  - [ipc:///a]\n",
        "t.yaml:3:5: expected a URL in listen, got a sequence"},
    {"type: sequence as a key", "[server]: 1\n",
        "t.yaml:1:1: expected a key (a plain string), got a sequence"},
    {"type: NUL in a string", "cache:\n  namespace: \"a\\0b\"\n",
        "t.yaml:2:14: expected a string for cache.namespace, got a value "
        "containing a NUL byte"},

    /* not a number */
    {"number: letters", "redis:\n  pool_size: abc\n",
        "t.yaml:2:14: expected an integer for redis.pool_size, got "
        "\"abc\""},
    {"number: fraction", "server:\n  max_in_flight: 1.5\n",
        "t.yaml:2:18: expected an integer for server.max_in_flight, got "
        "\"1.5\""},
    {"number: empty", "server:\n  max_in_flight:\n",
        "t.yaml:2:17: expected an integer for server.max_in_flight, got \"\""},
    {"number: hexadecimal", "server:\n  max_in_flight: 0x10\n",
        "t.yaml:2:18: expected an integer for server.max_in_flight, got "
        "\"0x10\""},
    {"number: size in KB", "cache:\n  max_value_bytes: 12KB\n",
        "t.yaml:2:20: expected a size (bytes, or a number with a KiB, "
        "MiB or GiB suffix) for cache.max_value_bytes, got \"12KB\""},

    /* out of range */
    {"range: zero", "redis:\n  pool_size: 0\n",
        "t.yaml:2:14: redis.pool_size must be 1..256, got 0"},
    {"range: negative", "redis:\n  pool_size: -3\n",
        "t.yaml:2:14: redis.pool_size must be 1..256, got -3"},
    {"range: overflow", "server:\n  max_in_flight: 99999999999999999999999\n",
        "t.yaml:2:18: server.max_in_flight must be 1..65536, got "
        "\"99999999999999999999999\""},
    {"range: timeout", "server:\n  default_timeout_ms: 3600001\n",
        "t.yaml:2:23: server.default_timeout_ms must be 1..3600000, got "
        "3600001"},
    {"range: max_value_bytes", "cache:\n  max_value_bytes: 1GiB\n",
        "t.yaml:2:20: cache.max_value_bytes must be 1..512MiB, got 1GiB"},
    {"range: max_key_bytes", "cache:\n  max_key_bytes: 1048577\n",
        "t.yaml:2:18: cache.max_key_bytes must be 1..1MiB, got 1048577"},
    {"range: max_message_bytes", "server:\n  max_message_bytes: 100\n",
        "t.yaml:2:22: server.max_message_bytes must be 1KiB..1GiB, got "
        "100"},
    {"range: clear_batch", "cache:\n  clear_batch: 100001\n",
        "t.yaml:2:16: cache.clear_batch must be 1..100000, got 100001"},

    /* log.level and cache.namespace */
    {"log.level: unknown", "log:\n  level: verbose\n",
        "t.yaml:2:10: log.level must be one of debug, info, warn, error, "
        "got \"verbose\""},
    {"namespace: space", "cache:\n  namespace: \"my cache\"\n",
        "t.yaml:2:14: cache.namespace must be 1 to 64 characters from "
        "A-Z a-z 0-9 _ . -, got \"my cache\""},
    {"namespace: colon", "cache:\n  namespace: a:b\n",
        "t.yaml:2:14: cache.namespace must be 1 to 64 characters from "
        "A-Z a-z 0-9 _ . -, got \"a:b\""},
    {"namespace: empty", "cache:\n  namespace: ''\n",
        "t.yaml:2:14: cache.namespace must be 1 to 64 characters from "
        "A-Z a-z 0-9 _ . -, got \"\""},
    {"namespace: too long, cut in the message",
        "cache:\n  namespace: "
        "x1234567890123456789012345678901234567890123456789"
        "0123456789abcde\n",
        "t.yaml:2:14: cache.namespace must be 1 to 64 characters from "
        "A-Z a-z 0-9 _ . -, got "
        "\"x12345678901234567890123456789012345678901234567...\""},

    /* listen URLs */
    {"listen: scheme", "listen: http://h:80\n",
        "t.yaml:1:9: bad listen URL \"http://h:80\": the scheme must be "
        "tcp://, tcp4://, tcp6://, ipc:// or tls+tcp:// (tls+tcp4://, "
        "tls+tcp6://)"},
    {"listen: no port", "listen:\n  - tcp://h:1\n  - tcp://h\n",
        "t.yaml:3:5: bad listen URL \"tcp://h\": expected tcp://host:port "
        "with a port 0..65535"},
    {"listen: port too large", "listen: [tcp://h:70000]\n",
        "t.yaml:1:10: bad listen URL \"tcp://h:70000\": expected "
        "tcp://host:port with a port 0..65535"},
    {"listen: path in the host", "listen: [tcp://h/x:1]\n",
        "t.yaml:1:10: bad listen URL \"tcp://h/x:1\": the host may not "
        "hold '/', '?', '#' or spaces"},
    {"listen: IPv6 without brackets", "listen: tcp6://::1:7420\n",
        "t.yaml:1:9: bad listen URL \"tcp6://::1:7420\": put an IPv6 "
        "address in brackets: tcp://[::1]:7420"},
    {"listen: no colon after brackets", "listen: tcp://[::1]7420\n",
        "t.yaml:1:9: bad listen URL \"tcp://[::1]7420\": expected "
        "tcp://host:port with a port 0..65535"},
    {"listen: ipc without a path", "listen: ipc://\n",
        "t.yaml:1:9: bad listen URL \"ipc://\": expected "
        "ipc:///path/to/socket"},
    {"listen: given twice", "listen: [ipc:///a, tcp://h:1, ipc:///a]\n",
        "t.yaml:1:31: listen URL \"ipc:///a\" is given twice"},

    /* redis.url */
    {"redis.url: scheme", "redis:\n  url: http://h:6379\n",
        "t.yaml:2:8: invalid redis.url: unsupported scheme \"http\" (use "
        "redis:// or unix://)"},

    /* duplicate keys */
    {"duplicate: key", "server:\n  max_in_flight: 1\n  max_in_flight: 2\n",
        "t.yaml:3:3: duplicate key server.max_in_flight (first at line 2, "
        "column 3)"},
    {"duplicate: section", "log: {level: info}\nserver: {}\nlog: {}\n",
        "t.yaml:3:1: duplicate key log (first at line 1, column 1)"},
    {"duplicate: listen", "listen: tcp://h:1\nlisten: tcp://h:2\n",
        "t.yaml:2:1: duplicate key listen (first at line 1, column 1)"},

    /* the shape of the document */
    {"shape: top-level sequence", "- server\n- redis\n",
        "t.yaml:1:1: expected a mapping of sections (listen, server, "
        "redis, cache, tls, auth, grpc, admin, log) at the top level, got a "
        "sequence"},
    {"shape: top-level scalar", "\n  hello\n",
        "t.yaml:2:3: expected a mapping of sections (listen, server, "
        "redis, cache, tls, auth, grpc, admin, log) at the top level, got "
        "\"hello\""},
    {"shape: second document",
        "server: {max_in_flight: 2}\n---\nserver: {max_in_flight: 3}\n",
        "t.yaml:2:1: a second YAML document; a configuration file holds "
        "one"},
    {"shape: syntax error in a second document",
        "server: {max_in_flight: 2}\n---\n[\n",
        "t.yaml:4:1: YAML syntax error: did not find expected node "
        "content (while parsing a flow node at 4:1)"},
};

/* k's document must fail with exactly k->want, on one line, leaking nothing
 * (ASan); prints the case when it does not. */
static bool yaml_case_ok(const yaml_case *k)
{
	cw_config c;
	char err[512];
	assert_int_equal(cw_config_defaults(&c), 0);
	int rc = parse(&c, k->doc, err, sizeof err);
	bool ok =
	    rc == -1 && strcmp(err, k->want) == 0 && strchr(err, '\n') == NULL;
	if (!ok)
		print_error("case \"%s\"\ndocument:\n%s\nwant: %s\ngot:  %s "
		            "(rc %d)\n",
		    k->name, k->doc, k->want, err, rc);
	cw_config_free(&c);
	return ok;
}

static void test_yaml_errors(void **state)
{
	(void)state;
	case_tally t = {0};
	for (size_t i = 0; i < sizeof yaml_cases / sizeof *yaml_cases; i++)
		case_tally_add(
		    &t, yaml_cases[i].name, yaml_case_ok(&yaml_cases[i]));
	case_tally_check(&t);
}

/* CW_MAX_LISTEN + 1 items: the error is at the one too many. */
static void test_too_many_listen_urls(void **state)
{
	(void)state;
	char doc[1024] = "listen:\n";
	for (int i = 0; i <= CW_MAX_LISTEN; i++)
		snprintf(doc + strlen(doc), sizeof doc - strlen(doc),
		    "  - tcp://h:%d\n", 1000 + i);
	char want[128];
	snprintf(want, sizeof want, "t.yaml:%d:5: more than %d listen URLs",
	    CW_MAX_LISTEN + 2, CW_MAX_LISTEN);
	assert_true(yaml_case_ok(&(yaml_case){"listen: too many", doc, want}));
}

/* The password never appears in a message. */
static void test_redis_password_never_shown(void **state)
{
	(void)state;
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_yaml_errors),
	    T(test_too_many_listen_urls),
	    T(test_redis_password_never_shown),
	    T(test_error_buffer_is_optional_and_truncated),
	};
	return cmocka_run_group_tests_name(
	    "config YAML errors", tests, NULL, NULL);
}
