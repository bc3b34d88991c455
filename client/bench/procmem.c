/*
 * procmem.c - a process's memory as Linux reports it in /proc/PID/status:
 * VmRSS (resident now) and VmHWM (the resident peak since it started).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

int read_proc_mem(
    pid_t pid, uint64_t *rss_kib, uint64_t *hwm_kib, char *err, size_t errlen)
{
	char path[64], line[256];
	unsigned long long v;
	bool rss = false, hwm = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "cannot read %s: %s", path,
		    errno == ENOENT ? "no such process" : strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "VmRSS: %llu kB", &v) == 1) {
			*rss_kib = v;
			rss = true;
		} else if (sscanf(line, "VmHWM: %llu kB", &v) == 1) {
			*hwm_kib = v;
			hwm = true;
		}
	}
	fclose(f);
	if (!rss || !hwm) {
		snprintf(
		    err, errlen, "%s has no VmRSS/VmHWM (a zombie?)", path);
		return -1;
	}
	return 0;
}
