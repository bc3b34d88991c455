/*
 * hello.c - the smallest cachewire client: set, get, delete one key.
 *   cc hello.c $(pkg-config --cflags --libs cachewire) -o hello
 *   ./hello tcp://127.0.0.1:7420
 */
#include <stdio.h>
#include <string.h>

#include <cachewire/cachewire.h>

int main(int argc, char **argv)
{
	const char *url = argc > 1 ? argv[1] : CW_DEFAULT_URL;
	cw_client *c;
	cw_error err;
	if (cw_open(&c, url, NULL, &err) != CW_OK) {
		fprintf(stderr, "open: %s\n", err.message);
		return 1;
	}
	int rc = cw_set(c, "hello", 5, "world", 5, CW_TTL_MS(60000), 0, &err);
	bool found = false;
	void *value = NULL;
	size_t len = 0;
	if (rc == CW_OK)
		rc = cw_get(c, "hello", 5, &found, &value, &len, 0, &err);
	if (rc == CW_OK)
		rc = cw_delete(c, "hello", 5, NULL, 0, &err);
	if (rc != CW_OK) {
		fprintf(stderr, "%s: %s\n", cw_strerror(rc), err.message);
		cw_close(c);
		return 1;
	}
	printf("hello -> %.*s\n", found ? (int)len : 0,
	    found ? (char *)value : "");
	cw_free(value);
	cw_close(c);
	return 0;
}
