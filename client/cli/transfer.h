/*
 * transfer.h - `set` and `get` of values too large for one message: in
 * chunks (cachewire.h, "large values"), with a progress bar on a terminal.
 */
#ifndef CACHEWIRE_CLI_TRANSFER_H
#define CACHEWIRE_CLI_TRANSFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cachewire/cachewire.h>

#include "args.h"

/* `set` sends what it read at once when it is at most this much, and
 * streams it in chunks otherwise. */
#define CLI_STREAM_ABOVE ((size_t)4 * 1024 * 1024)

/* Where `set` reads the value from: its first bytes already read. */
struct cli_input {
	int fd;           /* stdin or the --file */
	const char *name; /* "stdin" or the file's name, for messages */
	char *buf;        /* what was read so far (malloc'd) */
	size_t len, at;   /* bytes in buf; served to the stream so far */
	bool more;        /* the fd was not at its end after buf */
	int64_t size;     /* a regular file's size, else -1 */
};

/* Stream in (its buffer first, then its fd) to a->key: a cw status. */
int cli_set_streamed(
    cw_client *c, const struct cli_args *a, struct cli_input *in, cw_error *e);
/* Write a->key's value to stdout chunk by chunk: a cw status. When the
 * value changes under it and stdout is a regular file, starts again (at
 * most 3 times); else the partial output stays and the call fails. */
int cli_get_streamed(
    cw_client *c, const struct cli_args *a, bool *found, cw_error *e);

#endif
