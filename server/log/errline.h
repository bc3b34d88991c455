/*
 * errline.h - the one-line error messages the configuration loader and the
 * token-file parser write: "what is wrong", or "file:line:col: what is
 * wrong" at a place libyaml marked. Shared by cw_config and cw_rpc.
 */
#ifndef CW_SERVER_ERRLINE_H
#define CW_SERVER_ERRLINE_H

#include <stdarg.h>
#include <stddef.h>

#if defined(__GNUC__)
#define CW_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CW_PRINTF(f, a)
#endif

/*
 * Write the message into errbuf[0..errlen) as one line (newlines become
 * spaces, the end is cut to fit); errbuf may be NULL. Returns -1, for
 * `return cw_fail_line(...)` on error paths.
 */
int cw_fail_line(char *errbuf, size_t errlen, const char *fmt, ...)
    CW_PRINTF(3, 4);

/*
 * The same, prefixed "name:line:col: ", with line and col counted from 0
 * as libyaml's marks do (written from 1).
 */
int cw_vfail_at(char *errbuf, size_t errlen, const char *name, size_t line,
    size_t col, const char *fmt, va_list ap) CW_PRINTF(6, 0);

#endif
