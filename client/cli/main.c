/*
 * main.c - `cachewire`, the command-line client of cachewired.
 *
 * Parsing lives in args.c, stats and health in http.c; this file does the
 * I/O of the others: it reads the value for `set`, runs one call through
 * libcachewire (one batch call for get-many, set-many and delete-many) and
 * reports the outcome with the exit codes of args.h (0 ok, 1 not found, 2
 * usage, 3 failure).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nng/nng.h>

#include <cachewire/cachewire.h>

#include "args.h"
#include "stats.h"
#include "transfer.h"

#define READ_CHUNK ((size_t)64 * 1024)

static int usage_error(const char *msg)
{
	fprintf(stderr,
	    "cachewire: %s\nTry 'cachewire --help' for more information.\n",
	    msg);
	return CLI_EXIT_USAGE;
}

/* The library's message, with the CLI's option names (see args.h). */
static const char *message(const cw_error *e, char *buf, size_t len)
{
	cli_option_names(e->message, buf, len);
	return buf;
}

static int call_failed(int rc, const cw_error *e)
{
	char msg[512];

	fprintf(stderr, "cachewire: %s: %s\n", cw_strerror(rc),
	    message(e, msg, sizeof msg));
	return CLI_EXIT_FAILURE;
}

/* Flush stdout and report a failed write (disk full, closed pipe, ...). */
int cli_finish_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "cachewire: cannot write to stdout: %s\n",
		    strerror(errno));
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
}

/*
 * Read the start of in->fd: all of it when it ends within
 * CLI_STREAM_ABOVE bytes (in->more false), else CLI_STREAM_ABOVE + 1
 * bytes, the rest to be streamed (in->more true). An exit code.
 */
static int read_start(struct cli_input *in, size_t size_hint)
{
	size_t limit = CLI_STREAM_ABOVE + 1,
	       cap = size_hint > 0 && size_hint < limit ? size_hint + 1
	                                                : READ_CHUNK;
	char *bigger;
	ssize_t n;

	if ((in->buf = malloc(cap)) == NULL)
		goto oom;
	for (;;) {
		if (in->len == cap) {
			if (cap == limit) {
				in->more = true;
				return CLI_EXIT_OK;
			}
			size_t want = cap * 2 > limit ? limit : cap * 2;
			if ((bigger = realloc(in->buf, want)) == NULL)
				goto oom;
			in->buf = bigger;
			cap = want;
		}
		n = read(in->fd, in->buf + in->len, cap - in->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "cachewire: cannot read %s: %s\n",
			    in->name, strerror(errno));
			return CLI_EXIT_USAGE;
		}
		if (n == 0)
			return CLI_EXIT_OK;
		in->len += (size_t)n;
	}
oom:
	fprintf(stderr, "cachewire: out of memory reading %s\n", in->name);
	return CLI_EXIT_FAILURE;
}

/* Open the value's input (stdin, or file) and read its start. */
static int read_value(const char *file, struct cli_input *in)
{
	struct stat st;
	size_t hint = 0;

	*in =
	    (struct cli_input){.fd = STDIN_FILENO, .name = "stdin", .size = -1};
	if (file == NULL) {
		if (isatty(STDIN_FILENO))
			fputs("cachewire: reading the value from stdin; end it "
			      "with Ctrl-D\n",
			    stderr);
	} else if ((in->fd = open(file, O_RDONLY)) < 0) {
		fprintf(stderr, "cachewire: cannot open '%s': %s\n", file,
		    strerror(errno));
		return CLI_EXIT_USAGE;
	} else {
		in->name = file;
	}
	if (fstat(in->fd, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			fprintf(stderr, "cachewire: cannot read '%s': %s\n",
			    in->name, strerror(EISDIR));
			return CLI_EXIT_USAGE;
		}
		/* A regular file's size: read it in one allocation, and
		 * tell the server before streaming it. */
		if (S_ISREG(st.st_mode)) {
			in->size = (int64_t)st.st_size;
			hint = (size_t)st.st_size;
		}
	}
	return read_start(in, hint);
}

static void input_close(struct cli_input *in)
{
	if (in->fd != STDIN_FILENO && in->fd >= 0)
		close(in->fd);
	free(in->buf);
	in->buf = NULL;
}

/* Report each key whose flag is false; CLI_EXIT_NOT_FOUND if any. */
static int report_missing(
    const struct cli_args *a, const cw_value *values, const bool *existed)
{
	int rc = CLI_EXIT_OK;
	size_t i;

	for (i = 0; i < a->count; i++) {
		if (values != NULL ? values[i].found : existed[i])
			continue;
		fprintf(stderr, "cachewire: not found: %s\n", a->keys[i]);
		rc = CLI_EXIT_NOT_FOUND;
	}
	return rc;
}

/*
 * get-many: for each key in order, "KEY<TAB>LEN\n" + the value + "\n", or
 * "KEY<TAB>-\n" for a miss (see the --help text).
 */
static int get_many(cw_client *c, const struct cli_args *a, const cw_key *keys)
{
	cw_error e = {0};
	cw_value *values = calloc(a->count, sizeof *values);
	int rc, missing;
	size_t i;

	if (values == NULL) {
		fprintf(stderr, "cachewire: out of memory\n");
		return CLI_EXIT_FAILURE;
	}
	rc = cw_get_many(c, a->count, keys, values, 0, &e);
	if (rc != CW_OK) {
		free(values);
		return call_failed(rc, &e);
	}
	for (i = 0; i < a->count; i++) {
		if (!values[i].found) {
			printf("%s\t-\n", a->keys[i]);
			continue;
		}
		printf("%s\t%zu\n", a->keys[i], values[i].len);
		fwrite(values[i].data, 1, values[i].len, stdout);
		putchar('\n');
	}
	missing = report_missing(a, values, NULL);
	cw_values_free(values, a->count);
	free(values);
	rc = cli_finish_stdout();
	return rc != CLI_EXIT_OK ? rc : missing;
}

/* The batch commands: get-many, set-many, delete-many. */
static int run_many(cw_client *c, const struct cli_args *a)
{
	cw_error e = {0};
	cw_key *keys = NULL;
	cw_entry *entries = NULL;
	bool *existed = NULL;
	size_t i;
	int rc;

	if (a->cmd == CLI_CMD_SET_MANY)
		entries = calloc(a->count, sizeof *entries);
	else
		keys = calloc(a->count, sizeof *keys);
	if (a->cmd == CLI_CMD_DELETE_MANY)
		existed = calloc(a->count, sizeof *existed);
	if ((entries == NULL && keys == NULL) ||
	    (a->cmd == CLI_CMD_DELETE_MANY && existed == NULL)) {
		free(keys);
		free(existed);
		fprintf(stderr, "cachewire: out of memory\n");
		return CLI_EXIT_FAILURE;
	}
	for (i = 0; i < a->count; i++) {
		if (entries != NULL)
			entries[i] = (cw_entry){a->keys[i], strlen(a->keys[i]),
			    a->values[i], strlen(a->values[i]), a->expiry};
		else
			keys[i] = (cw_key){a->keys[i], strlen(a->keys[i])};
	}
	switch (a->cmd) {
	case CLI_CMD_GET_MANY:
		rc = get_many(c, a, keys);
		break;
	case CLI_CMD_SET_MANY:
		rc = cw_set_many(c, a->count, entries, 0, &e);
		rc = rc != CW_OK ? call_failed(rc, &e) : CLI_EXIT_OK;
		break;
	default: /* CLI_CMD_DELETE_MANY */
		rc = cw_delete_many(c, a->count, keys, existed, 0, &e);
		rc = rc != CW_OK ? call_failed(rc, &e)
		                 : report_missing(a, NULL, existed);
		break;
	}
	free(keys);
	free(entries);
	free(existed);
	return rc;
}

static int run(cw_client *c, const struct cli_args *a, struct cli_input *in)
{
	cw_error e = {0};
	size_t key_len = a->key != NULL ? strlen(a->key) : 0;
	bool found;
	void *v;
	size_t n;
	uint64_t removed;
	char *version;
	int rc;

	switch (a->cmd) {
	case CLI_CMD_GET:
		rc = cw_get(c, a->key, key_len, &found, &v, &n, 0, &e);
		if (rc == CW_RESOURCE_EXHAUSTED &&
		    strstr(e.message, "GetRange") != NULL) {
			/* too large for one message: in chunks */
			rc = cli_get_streamed(c, a, &found, &e);
			if (rc == CW_OK && found)
				return CLI_EXIT_OK;
			v = NULL;
		}
		if (rc != CW_OK)
			return call_failed(rc, &e);
		if (!found) {
			fprintf(stderr, "cachewire: not found: %s\n", a->key);
			return CLI_EXIT_NOT_FOUND;
		}
		rc = fwrite(v, 1, n, stdout) == n ? CLI_EXIT_OK : -1;
		cw_free(v);
		if (rc != CLI_EXIT_OK) {
			fprintf(stderr,
			    "cachewire: cannot write to stdout: %s\n",
			    strerror(errno));
			return CLI_EXIT_FAILURE;
		}
		return cli_finish_stdout();
	case CLI_CMD_SET:
		if (in->more)
			rc = cli_set_streamed(c, a, in, &e);
		else
			rc = cw_set(c, a->key, key_len, in->buf, in->len,
			    a->expiry, 0, &e);
		return rc != CW_OK ? call_failed(rc, &e) : CLI_EXIT_OK;
	case CLI_CMD_DEL:
		rc = cw_delete(c, a->key, key_len, &found, 0, &e);
		if (rc != CW_OK)
			return call_failed(rc, &e);
		if (!found) {
			fprintf(stderr, "cachewire: not found: %s\n", a->key);
			return CLI_EXIT_NOT_FOUND;
		}
		return CLI_EXIT_OK;
	case CLI_CMD_CLEAR:
		if ((rc = cw_clear(c, &removed, 0, &e)) != CW_OK)
			return call_failed(rc, &e);
		printf("%llu\n", (unsigned long long)removed);
		return cli_finish_stdout();
	case CLI_CMD_PING:
		if ((rc = cw_ping(c, &version, 0, &e)) != CW_OK)
			return call_failed(rc, &e);
		printf("%s\n", version);
		cw_free(version);
		return cli_finish_stdout();
	case CLI_CMD_GET_MANY:
	case CLI_CMD_SET_MANY:
	case CLI_CMD_DELETE_MANY:
		return run_many(c, a);
	default:
		return usage_error("no command given");
	}
}

int main(int argc, char **argv)
{
	struct cli_args a;
	cw_client_options opts = {0};
	cw_client *c;
	cw_error e = {0};
	char err[512];
	char *token = NULL;
	struct cli_input in = {.fd = -1};
	int rc;

	if (cli_parse_args(&a, argc, argv, getenv("CACHEWIRE_URL"),
	        getenv("CACHEWIRE_TOKEN_FILE"), err, sizeof err) != 0)
		return usage_error(err);
	/* Only the batch commands allocate; help and version do not. */
	if (a.cmd == CLI_CMD_HELP) {
		fputs(cli_help_text, stdout);
		return cli_finish_stdout();
	}
	if (a.cmd == CLI_CMD_VERSION) {
		printf("cachewire %s\n", CW_VERSION);
		return cli_finish_stdout();
	}
	if (a.cmd == CLI_CMD_STATS || a.cmd == CLI_CMD_HEALTH) {
		rc = a.cmd == CLI_CMD_STATS ? cli_run_stats(&a)
		                            : cli_run_health(&a);
		nng_fini();
		return rc;
	}

	/* Read the token and the value first: a bad file should not wait on
	 * the network. */
	if (a.token_file != NULL &&
	    cli_read_token_file(a.token_file, a.token_file_from, &token, err,
	        sizeof err) != 0) {
		cli_args_free(&a);
		return usage_error(err);
	}
	if (a.cmd == CLI_CMD_SET &&
	    (rc = read_value(a.file, &in)) != CLI_EXIT_OK) {
		input_close(&in);
		cli_token_free(token);
		cli_args_free(&a);
		return rc;
	}

	opts.timeout_ms = a.timeout_ms;
	opts.tls_ca_file = a.tls_ca;
	opts.tls_cert_file = a.tls_cert;
	opts.tls_key_file = a.tls_key;
	opts.tls_server_name = a.tls_server_name;
	opts.token = token;
	opts.namespace_ = a.namespace_;
	rc = cw_open(&c, a.url, &opts, &e);
	cli_token_free(token); /* cw_open made its own copy */
	if (rc != CW_OK) {
		input_close(&in);
		cli_args_free(&a);
		return rc == CW_INVALID_ARGUMENT
		           ? usage_error(message(&e, err, sizeof err))
		           : call_failed(rc, &e);
	}
	rc = run(c, &a, &in);
	cw_close(c);
	input_close(&in);
	cli_args_free(&a);
	nng_fini(); /* nng finishes closing asynchronously; wait for it */
	return rc;
}
