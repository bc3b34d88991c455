/* token.c - reading the bearer token from --token-file (see args.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "args_internal.h"

/* memset through a volatile pointer: not optimised away before free(). */
static void *(*const volatile wipe_memset)(void *, int, size_t) = memset;

void cli_token_free(char *token)
{
	if (token != NULL) {
		wipe_memset(token, 0, strlen(token));
		free(token);
	}
}

int cli_read_token_file(
    const char *path, const char *from, char **token, char *err, size_t errlen)
{
	/* The token, its line break, and one byte to tell a longer file. */
	char buf[CLI_TOKEN_MAX + 3];
	size_t len = 0;
	ssize_t n;
	int fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return fail(err, errlen, "%s '%s': cannot read: %s", from, path,
		    strerror(errno));
	while (len < sizeof buf) {
		n = read(fd, buf + len, sizeof buf - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail(err, errlen, "%s '%s': cannot read: %s", from,
			    path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	/* One line: drop its "\n" or "\r\n". */
	if (len > 0 && buf[len - 1] == '\n') {
		len--;
		if (len > 0 && buf[len - 1] == '\r')
			len--;
	}
	if (len > CLI_TOKEN_MAX)
		fail(err, errlen, "%s '%s': the token is longer than %d bytes",
		    from, path, CLI_TOKEN_MAX);
	else if (len == 0)
		fail(err, errlen, "%s '%s': the file holds no token", from,
		    path);
	else if (memchr(buf, '\0', len) != NULL)
		fail(err, errlen, "%s '%s': the file contains a NUL byte", from,
		    path);
	else if (memchr(buf, '\n', len) != NULL ||
	         memchr(buf, '\r', len) != NULL)
		fail(err, errlen,
		    "%s '%s': the file has more than one line (the token is "
		    "one line)",
		    from, path);
	else if ((*token = malloc(len + 1)) == NULL)
		fail(err, errlen, "out of memory");
	else {
		memcpy(*token, buf, len);
		(*token)[len] = '\0';
		rc = 0;
	}
out:
	close(fd);
	wipe_memset(buf, 0, sizeof buf);
	return rc;
}
