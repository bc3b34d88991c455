/*
 * bench.c - `cachewire-bench`: measures the cachewire service, Redis
 * directly and a bare nng echo with one workload, one after another in the
 * same invocation, so their ratios hold on a noisy machine.
 *
 * This file only sequences the run: options (options.c), the echo server's
 * child process (started first: nng is not fork-safe), each target
 * (target_*.c), the server's memory, and the report (report.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>

#include "bench.h"

/* Run target t into res; -1 only when out of memory. */
static int run_target(const struct bench_opts *o, enum bench_target t,
    const char *echo_url, const char *echo_error, struct target_result *res)
{
	memset(res, 0, sizeof(*res));
	res->target = t;
	if (stats_init(&res->s) != 0)
		return -1;
	switch (t) {
	case TARGET_SERVICE:
		return target_service_run(o, res);
	case TARGET_REDIS:
		return target_redis_run(o, res);
	case TARGET_GRPC:
		return target_grpc_run(o, res);
	case TARGET_TWEMPROXY:
		return target_twemproxy_run(o, res);
	case TARGET_ECHO:
		if (echo_url == NULL) {
			snprintf(res->message, sizeof(res->message), "%s",
			    echo_error);
			return 0;
		}
		return target_echo_run(o, echo_url, res);
	default:
		return 0;
	}
}

/* Sum the error counts; say why a target failed outright. */
static bool settle(struct target_result *r)
{
	unsigned k;

	r->errors = 0;
	for (k = 0; k < ERR_KINDS; k++)
		r->errors += r->s.errors[k];
	if (!r->ran)
		return false;
	if (r->s.ok == 0 && r->errors > 0) {
		char first[sizeof r->s.first_error];
		memcpy(first, r->s.first_error, sizeof first);
		first[sizeof first - 1] = '\0';
		snprintf(r->message, sizeof(r->message),
		    "every operation failed; first error: %.400s", first);
		return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	struct target_result res[TARGET_COUNT];
	struct server_mem mem = {.have = false};
	char echo_url[320], echo_error[400] = "";
	const char *echo_ready = NULL;
	bool help, want_echo = false, oom = false;
	int exit_code = BENCH_EXIT_OK, ctl_fd = -1;
	pid_t echo_pid = 0;
	unsigned i, ran = 0;

	if ((exit_code = options_parse(&o, argc, argv, &help)) !=
	        BENCH_EXIT_OK ||
	    help) {
		options_free(&o);
		return exit_code;
	}
	for (i = 0; i < o.ntargets; i++)
		want_echo |= o.order[i] == TARGET_ECHO;
	/* Before any nng call in this process. */
	if (want_echo) {
		if (echo_start(&o, &echo_pid, &ctl_fd, echo_url,
		        sizeof(echo_url)) == 0) {
			echo_ready = echo_url;
			o.echo_url = echo_url;
		} else {
			snprintf(
			    echo_error, sizeof(echo_error), "%s", echo_url);
		}
	}

	if (o.server_pid > 0)
		mem.have =
		    read_proc_mem(o.server_pid, &mem.rss_before_kib,
		        &mem.hwm_before_kib, mem.error, sizeof(mem.error)) == 0;
	for (i = 0; i < o.ntargets && !oom; i++, ran++)
		oom = run_target(
		          &o, o.order[i], echo_ready, echo_error, &res[i]) != 0;
	if (o.server_pid > 0 && mem.have)
		mem.have =
		    read_proc_mem(o.server_pid, &mem.rss_after_kib,
		        &mem.hwm_after_kib, mem.error, sizeof(mem.error)) == 0;
	echo_stop(echo_pid, ctl_fd);

	if (oom) {
		fprintf(stderr, "cachewire-bench: out of memory\n");
		exit_code = BENCH_EXIT_FAILURE;
	} else {
		for (i = 0; i < ran; i++) {
			if (!settle(&res[i])) {
				fprintf(stderr, "cachewire-bench: %s: %s\n",
				    target_name(res[i].target), res[i].message);
				exit_code = BENCH_EXIT_FAILURE;
			}
		}
		if (o.json)
			report_json(&o, res, ran, &mem);
		else
			report_table(&o, res, ran, &mem);
	}
	if (fflush(stdout) != 0) {
		perror("cachewire-bench: stdout");
		exit_code = BENCH_EXIT_FAILURE;
	}
	for (i = 0; i < ran; i++)
		stats_free(&res[i].s);
	options_free(&o);
	nng_fini();
	return exit_code;
}
