/* servers.c - start and stop real servers for tests (servers.h). */
#define _XOPEN_SOURCE 700 /* nftw */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>

#include "servers.h"

extern char **environ;

void cw_test_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int rm_entry(
    const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

static void remove_dir(const char *dir)
{
	if (dir[0] != '\0')
		nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static int make_dir(char *dir, size_t len, const char *what)
{
	snprintf(dir, len, "/tmp/cw-test-%s-XXXXXX", what);
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

int cw_test_free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t alen = sizeof a;
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return ntohs(a.sin_port);
}

/* Fork and exec argv with stdout/stderr to logpath; NULL env adds nothing. */
static pid_t spawn(
    const char *const *argv, const char *const *env, const char *logpath)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	for (const char *const *e = env; e != NULL && *e != NULL; e++)
		putenv((char *)*e);
	/* CW_TEST_WRAPPER: a command line to run it under, e.g. valgrind. */
	const char *wrapper = getenv("CW_TEST_WRAPPER");
	if (wrapper != NULL && *wrapper != '\0') {
		static char copy[1024];
		char *words[64];
		int n = 0;
		snprintf(copy, sizeof copy, "%s", wrapper);
		for (char *w = strtok(copy, " "); w != NULL && n < 48;
		     w = strtok(NULL, " "))
			words[n++] = w;
		for (int i = 0; argv[i] != NULL && n < 63; i++)
			words[n++] = (char *)argv[i];
		words[n] = NULL;
		execvp(words[0], words);
		fprintf(stderr, "exec %s: %s\n", words[0], strerror(errno));
		_exit(127);
	}
	execv(argv[0], (char *const *)argv);
	fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static bool unix_accepts(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof a.sun_path)
		return false;
	memcpy(a.sun_path, path, strlen(path));
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static bool exited(pid_t pid)
{
	int st;
	return waitpid(pid, &st, WNOHANG) == pid;
}

static void dump(const char *what, const char *path)
{
	char *s = cw_test_read_file(path, NULL);
	fprintf(stderr, "---- %s (%s) ----\n%s\n----\n", what, path,
	    s ? s : "(unreadable)");
	free(s);
}

int cw_test_redis_start(cw_test_redis *r, const char *sock_path, bool tcp,
    const char *const *extra_args)
{
	memset(r, 0, sizeof *r);
	if (make_dir(r->dir, sizeof r->dir, "redis") != 0)
		return -1;
	if (sock_path != NULL)
		snprintf(r->sock, sizeof r->sock, "%s", sock_path);
	else
		snprintf(r->sock, sizeof r->sock, "%s/redis.sock", r->dir);
	snprintf(r->url, sizeof r->url, "unix://%s", r->sock);
	char port[16], log[192];
	r->port = tcp ? cw_test_free_port() : 0;
	snprintf(port, sizeof port, "%d", r->port);
	snprintf(log, sizeof log, "%s/redis.log", r->dir);

	const char *argv[40] = {CW_TEST_REDIS_SERVER, "--port", port, "--bind",
	    "127.0.0.1", "--unixsocket", r->sock, "--save", "", "--appendonly",
	    "no", "--dir", r->dir, "--daemonize", "no"};
	int n = 15;
	for (const char *const *a = extra_args; a && *a && n < 39; a++)
		argv[n++] = *a;
	argv[n] = NULL;
	r->pid = spawn(argv, NULL, log);
	for (int i = 0; i < 500; i++) {
		if (unix_accepts(r->sock))
			return 0;
		if (exited(r->pid))
			break;
		cw_test_sleep_ms(10);
	}
	fprintf(stderr, "redis-server did not start\n");
	dump("redis log", log);
	cw_test_redis_stop(r, true);
	return -1;
}

void cw_test_redis_stop(cw_test_redis *r, bool kill9)
{
	if (r->pid > 0) {
		kill(r->pid, kill9 ? SIGKILL : SIGTERM);
		waitpid(r->pid, NULL, 0);
		r->pid = 0;
	}
	unlink(r->sock);
	remove_dir(r->dir);
	r->dir[0] = '\0';
}

static bool log_says_ready(const char *path)
{
	char *s = cw_test_read_file(path, NULL);
	bool ready = s != NULL && (strstr(s, " INFO ready\n") != NULL ||
	                              strstr(s, "\"msg\":\"ready\"}") != NULL);
	free(s);
	return ready;
}

/* Start cachewired on d's addresses (its log truncated); wait for "ready". */
static int daemon_spawn(
    cw_test_daemon *d, const char *redis_url, const char *const *env)
{
	static char listen[320], redis[320], admin[96];
	snprintf(listen, sizeof listen, "CACHEWIRE_LISTEN=%s,%s", d->tcp_url,
	    d->ipc_url);
	snprintf(redis, sizeof redis, "CACHEWIRE_REDIS_URL=%s", redis_url);
	snprintf(
	    admin, sizeof admin, "CACHEWIRE_ADMIN_LISTEN=%s", d->admin_url);
	/* env comes last: the daemon applies variables in order */
	const char *vars[32] = {listen, redis, admin,
	    "CACHEWIRE_CACHE_NAMESPACE=conf", "CACHEWIRE_LOG_LEVEL=debug"};
	int n = 5;
	for (const char *const *e = env; e && *e && n < 31; e++)
		vars[n++] = *e;
	vars[n] = NULL;
	const char *argv[] = {CW_TEST_CACHEWIRED, NULL};
	d->pid = spawn(argv, vars, d->log);
	for (int i = 0; i < 1000; i++) {
		if (log_says_ready(d->log))
			return 0;
		if (exited(d->pid)) {
			d->pid = 0;
			break;
		}
		cw_test_sleep_ms(10);
	}
	fprintf(stderr, "cachewired did not become ready\n");
	dump("cachewired log", d->log);
	cw_test_daemon_stop(d);
	return -1;
}

int cw_test_daemon_start(
    cw_test_daemon *d, const char *redis_url, const char *const *env)
{
	memset(d, 0, sizeof *d);
	if (make_dir(d->dir, sizeof d->dir, "daemon") != 0)
		return -1;
	snprintf(d->ipc_url, sizeof d->ipc_url, "ipc://%s/cw.sock", d->dir);
	int port = cw_test_free_port(), admin;
	snprintf(d->tcp_url, sizeof d->tcp_url, "tcp://127.0.0.1:%d", port);
	while ((admin = cw_test_free_port()) == port)
		; /* the kernel may hand the same free port out twice */
	snprintf(
	    d->admin_url, sizeof d->admin_url, "http://127.0.0.1:%d", admin);
	snprintf(d->log, sizeof d->log, "%s/cachewired.log", d->dir);
	return daemon_spawn(d, redis_url, env);
}

char *cw_test_log_until(const cw_test_daemon *d, const char *fragment, int ms)
{
	for (int waited = 0;; waited += 10) {
		char *log = cw_test_read_file(d->log, NULL);
		if (log != NULL && strstr(log, fragment) != NULL)
			return log;
		free(log);
		if (waited >= ms)
			return NULL;
		cw_test_sleep_ms(10);
	}
}

void cw_test_daemon_kill(cw_test_daemon *d)
{
	if (d->pid > 0) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
		d->pid = 0;
	}
}

int cw_test_daemon_restart(
    cw_test_daemon *d, const char *redis_url, const char *const *env)
{
	if (d->pid > 0 || d->dir[0] == '\0') {
		fprintf(
		    stderr, "cw_test_daemon_restart: not a killed daemon\n");
		return -1;
	}
	return daemon_spawn(d, redis_url, env);
}

int cw_test_daemon_stop(cw_test_daemon *d)
{
	int status = -1;
	if (d->pid > 0) {
		int st;
		kill(d->pid, SIGTERM);
		for (int i = 0; i < 1000; i++) {
			if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
				if (WIFEXITED(st))
					status = WEXITSTATUS(st);
				d->pid = 0;
				break;
			}
			cw_test_sleep_ms(10);
		}
		if (d->pid > 0) {
			fprintf(stderr, "cachewired ignored SIGTERM\n");
			kill(d->pid, SIGKILL);
			waitpid(d->pid, NULL, 0);
			d->pid = 0;
		}
		if (status != 0)
			dump("cachewired log", d->log);
	}
	remove_dir(d->dir);
	d->dir[0] = '\0';
	return status;
}

char *cw_test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	size_t got;
	while (buf != NULL && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			char *b = realloc(buf, 2 * cap + 1);
			if (b == NULL) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = b;
			cap *= 2;
		}
	}
	fclose(f);
	if (buf != NULL) {
		buf[n] = '\0';
		if (len != NULL)
			*len = n;
	}
	return buf;
}

int cw_test_run(const char *const *argv, const char *const *env, const void *in,
    size_t inlen, char **out, size_t *outlen, char **err, int timeout_s)
{
	char dir[128], inpath[192], outpath[192], errpath[192];
	if (make_dir(dir, sizeof dir, "run") != 0)
		return -1;
	snprintf(inpath, sizeof inpath, "%s/in", dir);
	snprintf(outpath, sizeof outpath, "%s/out", dir);
	snprintf(errpath, sizeof errpath, "%s/err", dir);
	FILE *f = fopen(inpath, "wb");
	if (f == NULL)
		return -1;
	if (inlen > 0)
		fwrite(in, 1, inlen, f);
	fclose(f);

	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int i = open(inpath, O_RDONLY);
		int o = open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(i, 0), dup2(o, 1), dup2(e, 2);
		for (const char *const *v = env; v != NULL && *v != NULL; v++)
			putenv((char *)*v);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	int st = 0, status = -1;
	for (int t = 0; t < timeout_s * 100; t++) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
			pid = 0;
			break;
		}
		cw_test_sleep_ms(10);
	}
	if (pid != 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (out != NULL)
		*out = cw_test_read_file(outpath, outlen);
	if (err != NULL)
		*err = cw_test_read_file(errpath, NULL);
	remove_dir(dir);
	return status;
}

/* Run fn(arg) on a thread; true when it returned within ms. */
typedef struct bounded {
	void (*fn)(void *);
	void *arg;
	atomic_bool done;
} bounded;

static void *bounded_main(void *arg)
{
	bounded *b = arg;
	b->fn(b->arg);
	atomic_store(&b->done, true);
	return NULL;
}

static bool run_bounded(bounded *b, int ms)
{
	pthread_t t;

	atomic_init(&b->done, false);
	if (pthread_create(&t, NULL, bounded_main, b) != 0) {
		b->fn(b->arg);
		return true;
	}
	for (int i = 0; i < ms / 10 && !atomic_load(&b->done); i++)
		cw_test_sleep_ms(10);
	if (!atomic_load(&b->done)) {
		pthread_detach(t); /* b must stay valid: callers use statics */
		return false;
	}
	pthread_join(t, NULL);
	return true;
}

static void close_socket(void *arg)
{
	nng_close(*(nng_socket *)arg);
}

void cw_test_nng_close(nng_socket s)
{
	static nng_socket sock;
	static bounded b = {.fn = close_socket, .arg = &sock};

	sock = s;
	if (!run_bounded(&b, 2000))
		fprintf(stderr,
		    "note: nng_close() hung (nng 1.5.2 stalled in "
		    "closing a connection, see client/src/client.c); "
		    "left it\n");
}

static void fini(void *arg)
{
	(void)arg;
	nng_fini();
}

int cw_test_exit(int failed)
{
	static bounded b = {.fn = fini};

	if (run_bounded(&b, 5000))
		return failed;
	fprintf(stderr, "note: nng_fini() hung (nng 1.5.2 stalled in closing "
	                "a connection, see client/src/client.c); exiting "
	                "without it, so no leak check ran\n");
	fflush(NULL);
	_exit(failed);
}
