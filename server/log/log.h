/*
 * log.h - one line per event on stderr, as text (log.format: text)
 *   2026-11-25T15:04:05.123Z INFO listening on tcp://127.0.0.1:7420
 * or as a JSON object (log.format: json)
 *   {"ts":"2026-11-25T15:04:05.123Z","level":"info","msg":"listening on ..."}
 * Thread-safe (each line is a single write). Never pass values, tokens or
 * passwords to it. Messages are cut at 1023 bytes.
 */
#ifndef CW_SERVER_LOG_H
#define CW_SERVER_LOG_H

enum cw_log_level { CW_LOG_DEBUG, CW_LOG_INFO, CW_LOG_WARN, CW_LOG_ERROR };
enum cw_log_format { CW_LOG_TEXT, CW_LOG_JSON };

/* "DEBUG", "INFO", "WARN", "ERROR" (as in log lines), or "UNKNOWN". */
const char *cw_log_level_name(enum cw_log_level level);

/* Lines below level are dropped; default CW_LOG_INFO. */
void cw_log_set_level(enum cw_log_level level);

/* CW_LOG_TEXT (default) or CW_LOG_JSON, from the next line on. */
void cw_log_set_format(enum cw_log_format format);

void cw_log(enum cw_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
