/*
 * servers.h - real redis-server and cachewired processes for tests, each in
 * its own temporary directory, always stopped (and killed with the test
 * process if it dies: PR_SET_PDEATHSIG).
 */
#ifndef CW_TEST_SERVERS_H
#define CW_TEST_SERVERS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <nng/nng.h>

typedef struct cw_test_redis {
	pid_t pid;
	char dir[128];  /* temporary directory, removed by stop */
	char sock[192]; /* unix socket path */
	char url[256];  /* unix://<sock> */
	int port;       /* TCP port, or 0 when unix only */
} cw_test_redis;

/*
 * Start redis-server listening on a unix socket (at sock_path, or in a new
 * temporary directory when NULL) and, when tcp is true, on a free TCP port
 * on 127.0.0.1. extra_args (NULL-terminated, may be NULL) are appended to
 * its command line, e.g. {"--requirepass", "pw", NULL}. Waits until it
 * accepts connections. Returns 0, or -1 after printing why.
 */
int cw_test_redis_start(cw_test_redis *r, const char *sock_path, bool tcp,
    const char *const *extra_args);
/* Stop (SIGKILL when kill9, else SIGTERM) and wait; remove its directory
 * when it made one. */
void cw_test_redis_stop(cw_test_redis *r, bool kill9);

typedef struct cw_test_daemon {
	pid_t pid;
	char dir[128];
	char tcp_url[64];   /* tcp://127.0.0.1:<free port> */
	char ipc_url[224];  /* ipc://<dir>/cw.sock */
	char admin_url[64]; /* http://127.0.0.1:<free port> (admin.listen) */
	char log[192];      /* its stderr */
} cw_test_daemon;

/*
 * cachewired runs under the command line in $CW_TEST_WRAPPER when it is
 * set (words split at spaces), e.g. "valgrind -q --error-exitcode=99".
 *
 * Start cachewired with CACHEWIRE_REDIS_URL=redis_url, listening on
 * tcp_url and ipc_url, its admin endpoint on admin_url, namespace "conf",
 * log level debug, plus env (which may override these) (NULL-terminated "K=V"
 * strings, may be NULL). Waits until it logs "ready". 0 or -1.
 */
int cw_test_daemon_start(
    cw_test_daemon *d, const char *redis_url, const char *const *env);
/* SIGTERM, wait up to 10 s (then SIGKILL); returns its exit status, or -1
 * when it had to be killed or died of a signal. Removes its directory. */
int cw_test_daemon_stop(cw_test_daemon *d);

/*
 * Wait up to ms for d's log to hold fragment: the whole log (malloc'd,
 * NUL-terminated; free()) once it does, NULL when it did not in time.
 */
char *cw_test_log_until(const cw_test_daemon *d, const char *fragment, int ms);

/* SIGKILL it and wait; its directory and addresses stay for a restart. */
void cw_test_daemon_kill(cw_test_daemon *d);
/* Start a killed daemon again on the same addresses. 0 or -1. */
int cw_test_daemon_restart(
    cw_test_daemon *d, const char *redis_url, const char *const *env);

/*
 * nng_close(s), given up (with a note) after 2 s: nng 1.5.2 can hang in it
 * for good once it has stalled closing a connection. For one socket at a
 * time.
 */
void cw_test_nng_close(nng_socket s);

/*
 * End of a test program that used nng: run nng_fini() so that leak checks
 * see only our own allocations, and return failed. nng 1.5.2 can hang in
 * it for good once it has stalled closing a connection; after 5 s this
 * says so and _exit()s with failed instead of hanging the test.
 */
int cw_test_exit(int failed);

/* A TCP port on 127.0.0.1 that was free a moment ago. */
int cw_test_free_port(void);

/*
 * Run argv (argv[0] a path) with env added to the test's environment and
 * in[0..inlen) on stdin; capture stdout and stderr (malloc'd, NUL-terminated;
 * free()). Returns the exit status, or -1 when it died of a signal or took
 * longer than timeout_s (then it is killed).
 */
int cw_test_run(const char *const *argv, const char *const *env, const void *in,
    size_t inlen, char **out, size_t *outlen, char **err, int timeout_s);

/* Read a whole file (malloc'd, NUL-terminated) or NULL. */
char *cw_test_read_file(const char *path, size_t *len);

/* Sleep for ms milliseconds. */
void cw_test_sleep_ms(int ms);

#endif
