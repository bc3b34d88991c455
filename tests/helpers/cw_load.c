/*
 * cw_load.c - load for the failover tests: IN_FLIGHT calls kept in flight
 * through the async C client (Get 50%, Set 35%, GetMany of 10 keys 15%)
 * until STOP_FILE exists, every value checked against its key.
 *
 * Usage: cw_load URL STOP_FILE OUT_DIR [IN_FLIGHT [KEYS]]
 *
 * Writes OUT_DIR/errors (a line per failed call: wall-clock ms, status,
 * message) and OUT_DIR/summary ("calls N failed F wrong W"). A value is
 * "v:<key>:<n>", so a reply carrying another key's value is caught and
 * counted as wrong (never acceptable, in any window).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cachewire/cachewire.h>

#define BATCH 10

static cw_client *client;
static int nkeys = 200, in_flight = 64;
static atomic_int active;
static atomic_bool stopping;
static atomic_ullong calls, failed, wrong, seq;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static FILE *errors;

typedef struct op {
	int kind; /* 0 get, 1 set, 2 get_many */
	int keys[BATCH];
} op;

static unsigned long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (unsigned long long)ts.tv_sec * 1000 +
	       (unsigned long long)ts.tv_nsec / 1000000;
}

static int key_name(char *buf, size_t len, int k)
{
	return snprintf(buf, len, "load%d", k);
}

/* Does value v belong to key k? */
static void check(int k, const void *v, size_t len)
{
	char want[32];
	int n = snprintf(want, sizeof want, "v:load%d:", k);
	if (len < (size_t)n || memcmp(v, want, (size_t)n) != 0) {
		atomic_fetch_add(&wrong, 1);
		pthread_mutex_lock(&mu);
		fprintf(errors, "%llu WRONG key load%d got %.*s\n", now_ms(), k,
		    (int)(len > 40 ? 40 : len), (const char *)v);
		pthread_mutex_unlock(&mu);
	}
}

static void launch(void);

static void done(void *arg, const cw_result *r)
{
	op *o = arg;

	atomic_fetch_add(&calls, 1);
	if (r->status != CW_OK) {
		atomic_fetch_add(&failed, 1);
		pthread_mutex_lock(&mu);
		fprintf(errors, "%llu %s %s\n", now_ms(),
		    cw_strerror(r->status), r->message);
		pthread_mutex_unlock(&mu);
	} else if (o->kind == 0 && r->found) {
		check(o->keys[0], r->value, r->value_len);
	} else if (o->kind == 2) {
		for (size_t i = 0; i < r->count && i < BATCH; i++)
			if (r->values[i].found)
				check(o->keys[i], r->values[i].data,
				    r->values[i].len);
	}
	free(o);
	atomic_fetch_sub(&active, 1);
	if (!atomic_load(&stopping))
		launch();
}

/* Start one call; false when it could not be sent. */
static void launch(void)
{
	op *o = malloc(sizeof *o);
	unsigned long long s = atomic_fetch_add(&seq, 1);
	char names[BATCH][16], value[48];
	cw_key keys[BATCH];
	int rc;

	if (o == NULL)
		return;
	atomic_fetch_add(&active, 1);
	unsigned r = (unsigned)(s * 2654435761u);
	o->kind = r % 100 < 50 ? 0 : r % 100 < 85 ? 1 : 2;
	for (int i = 0; i < BATCH; i++) {
		o->keys[i] =
		    (int)((r / 100 + (unsigned)i * 7919u) % (unsigned)nkeys);
		keys[i].data = names[i];
		keys[i].len =
		    (size_t)key_name(names[i], sizeof names[i], o->keys[i]);
	}
	if (o->kind == 0) {
		rc = cw_get_async(
		    client, keys[0].data, keys[0].len, 2000, done, o);
	} else if (o->kind == 1) {
		int n = snprintf(
		    value, sizeof value, "v:load%d:%llu", o->keys[0], s);
		rc = cw_set_async(client, keys[0].data, keys[0].len, value,
		    (size_t)n, CW_NO_EXPIRY, 2000, done, o);
	} else {
		rc = cw_get_many_async(client, BATCH, keys, 2000, done, o);
	}
	if (rc != CW_OK) { /* not sent: the main loop tries again */
		atomic_fetch_add(&calls, 1);
		atomic_fetch_add(&failed, 1);
		pthread_mutex_lock(&mu);
		fprintf(
		    errors, "%llu %s (not sent)\n", now_ms(), cw_strerror(rc));
		pthread_mutex_unlock(&mu);
		free(o);
		atomic_fetch_sub(&active, 1);
	}
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: cw_load URL STOP_FILE OUT_DIR "
		                "[IN_FLIGHT [KEYS]]\n");
		return 2;
	}
	if (argc > 4)
		in_flight = atoi(argv[4]);
	if (argc > 5)
		nkeys = atoi(argv[5]);
	char path[512];
	snprintf(path, sizeof path, "%s/errors", argv[3]);
	if ((errors = fopen(path, "w")) == NULL) {
		perror(path);
		return 2;
	}
	cw_error err;
	if (cw_open(&client, argv[1], NULL, &err) != CW_OK) {
		fprintf(stderr, "cw_open: %s\n", err.message);
		return 2;
	}
	while (access(argv[2], F_OK) != 0) {
		while (atomic_load(&active) < in_flight)
			launch();
		usleep(10000);
	}
	atomic_store(&stopping, true);
	while (atomic_load(&active) > 0)
		usleep(10000);
	cw_close(client);
	fclose(errors);
	snprintf(path, sizeof path, "%s/summary", argv[3]);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return 2;
	fprintf(f, "calls %llu failed %llu wrong %llu\n",
	    (unsigned long long)calls, (unsigned long long)failed,
	    (unsigned long long)wrong);
	fclose(f);
	return 0;
}
