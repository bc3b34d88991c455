/*
 * transfer.c - `set` and `get` in chunks (transfer.h), and the progress
 * bar they draw on stderr when it is a terminal and the transfer is
 * long (past half a second or 16 MiB).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "transfer.h"

struct progress {
	bool tty;
	bool drawn;
	double start, last;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress_init(struct progress *p)
{
	p->tty = isatty(STDERR_FILENO) == 1;
	p->drawn = false;
	p->start = p->last = now_s();
}

#define MIB (1024.0 * 1024.0)

/* "[#########.........]  45%  135.0 / 300.0 MiB  98.2 MiB/s" */
static void progress_draw(void *arg, uint64_t done, uint64_t total)
{
	struct progress *p = arg;
	double t = now_s(), rate;
	char bar[31];
	int fill = 0;

	/* long: half a second, or 16 MiB (the bar then shows at once) */
	if (!p->tty || (t - p->start < 0.5 && (double)done < 16 * MIB) ||
	    (p->drawn && t - p->last < 0.1 && done < total))
		return;
	p->last = t;
	p->drawn = true;
	rate = (double)done / MIB / (t - p->start);
	if (total > 0) {
		fill = (int)(30.0 * (double)done / (double)total);
		for (int i = 0; i < 30; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[30] = '\0';
		fprintf(stderr, "\r[%s] %3d%%  %.1f / %.1f MiB  %.1f MiB/s ",
		    bar, (int)(100.0 * (double)done / (double)total),
		    (double)done / MIB, (double)total / MIB, rate);
	} else {
		fprintf(stderr, "\r%.1f MiB  %.1f MiB/s ", (double)done / MIB,
		    rate);
	}
}

static void progress_end(struct progress *p)
{
	if (p->drawn)
		fputc('\n', stderr);
}

/* The input's buffer first, then its fd. */
static int input_read(void *arg, void *buf, size_t len, size_t *got)
{
	struct cli_input *in = arg;
	ssize_t n;

	if (in->at < in->len) {
		*got = in->len - in->at < len ? in->len - in->at : len;
		memcpy(buf, in->buf + in->at, *got);
		in->at += *got;
		return 0;
	}
	if (!in->more) {
		*got = 0;
		return 0;
	}
	do
		n = read(in->fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	*got = (size_t)n;
	return 0;
}

int cli_set_streamed(
    cw_client *c, const struct cli_args *a, struct cli_input *in, cw_error *e)
{
	struct progress p;
	cw_stream_options o = {.total_size = in->size,
	    .progress = progress_draw,
	    .progress_arg = &p};
	int rc;

	progress_init(&p);
	rc = cw_set_from(
	    c, a->key, strlen(a->key), input_read, in, a->expiry, &o, NULL, e);
	progress_end(&p);
	if (rc == CW_ABORTED)
		cw_error_set(e, CW_ABORTED, "cannot read %s: %s", in->name,
		    strerror(errno));
	return rc;
}

int cli_get_streamed(
    cw_client *c, const struct cli_args *a, bool *found, cw_error *e)
{
	struct progress p;
	cw_stream_options o = {
	    .total_size = -1, .progress = progress_draw, .progress_arg = &p};
	bool seekable = lseek(STDOUT_FILENO, 0, SEEK_CUR) == 0;
	int rc;

	if (fflush(stdout) != 0)
		return cw_error_set(e, CW_ABORTED, "cannot write to stdout: %s",
		    strerror(errno));
	for (int tries = 0;; tries++) {
		progress_init(&p);
		rc = cw_get_to_fd(
		    c, a->key, strlen(a->key), found, STDOUT_FILENO, &o, e);
		progress_end(&p);
		if (rc != CW_FAILED_PRECONDITION || !seekable || tries == 2)
			return rc;
		/* replaced while we read it: start the file over */
		if (ftruncate(STDOUT_FILENO, 0) != 0 ||
		    lseek(STDOUT_FILENO, 0, SEEK_SET) != 0)
			return rc;
	}
}
