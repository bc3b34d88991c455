/*
 * options.h - cachewired's command line, and the order in which the
 * configuration is built: built-in defaults, then the YAML file (--config,
 * else $CACHEWIRE_CONFIG, else none), then CACHEWIRE_* variables, then
 * flags, then cross-field validation.
 */
#ifndef CW_SERVER_OPTIONS_H
#define CW_SERVER_OPTIONS_H

#include <stdbool.h>

#include "config.h"

enum cw_options_result {
	CW_OPTIONS_RUN,   /* cfg is complete: run the daemon */
	CW_OPTIONS_EXIT,  /* help, version or a passed --check-config: exit 0 */
	CW_OPTIONS_ERROR, /* a message was printed to stderr: exit 2 */
	CW_OPTIONS_CHECK_REDIS, /* cfg is complete: see if its Redis answers */
};

/*
 * Build cfg from argv and envp. cfg must be freed in every case. A bad
 * configuration's message (file:line:col, or the variable or flag) goes
 * to errbuf when it is given (a reload logs it), else to stderr; usage
 * errors always go to stderr.
 */
enum cw_options_result cw_options_load(int argc, char **argv, char **envp,
    cw_config *cfg, char *errbuf, size_t errlen);

#endif
