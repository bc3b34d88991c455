/* options.c - cachewired's flags and configuration layering (options.h). */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_url.h"
#include "options.h"

static const char usage[] =
    "usage: cachewired [--config FILE] [--check-config] [--listen URL]...\n"
    "                  [--redis-url URL] [--log-level LEVEL]\n"
    "\n"
    "Serves the cachewire.v1.Cache protocol over nng, backed by Redis.\n"
    "\n"
    "  -c, --config FILE     YAML configuration (default: $CACHEWIRE_CONFIG,\n"
    "                        else built-in defaults = config/cachewire.yaml)\n"
    "      --check-config    validate the configuration, print OK or the\n"
    "                        error, and exit (0 or 2)\n"
    "      --check-redis     also PING the configured Redis (with its\n"
    "                        credentials) and exit 0 when it answers, 1 if "
    "not\n"
    "  -l, --listen URL      listen on URL (repeatable; replaces listen:)\n"
    "      --redis-url URL   redis://host:port[/db] or\n"
    "                        unix:///path/to/socket[?db=N]; no password\n"
    "                        here (ps shows it): use redis.password_file\n"
    "      --log-level LVL   debug, info, warn or error\n"
    "  -V, --version         print the version and exit\n"
    "  -h, --help            print this help and exit\n"
    "\n"
    "Every configuration key can also be set with a CACHEWIRE_* variable,\n"
    "e.g. CACHEWIRE_LISTEN=tcp://0.0.0.0:7420,ipc:///run/cw.sock and\n"
    "CACHEWIRE_REDIS_URL=redis://redis:6379/0; flags win over variables,\n"
    "variables over the file. Exit status: 0 ok, 1 runtime failure, 2 bad\n"
    "configuration or usage.\n";

enum { OPT_CHECK = 256, OPT_CHECK_REDIS, OPT_REDIS_URL, OPT_LOG_LEVEL };

/* Flags that set configuration keys, applied after the environment. */
typedef struct overrides {
	const char *redis_url; /* --redis-url */
	const char *log_level; /* --log-level */
	char *listen;          /* every --listen, comma-joined */
} overrides;

static int add_listen(overrides *o, const char *url)
{
	size_t old = o->listen ? strlen(o->listen) : 0;
	char *l = realloc(o->listen, old + strlen(url) + 2);
	if (l == NULL)
		return -1;
	if (old == 0)
		l[0] = '\0';
	else
		strcat(l, ",");
	strcat(l, url);
	o->listen = l;
	return 0;
}

/* Does the (valid) Redis URL carry a password? */
static bool has_password(const char *url)
{
	cw_redis_target t;
	cw_error err;

	if (cw_redis_url_parse(url, &t, &err) != CW_OK)
		return false;
	bool yes = t.password != NULL;
	cw_redis_target_free(&t);
	return yes;
}

static int apply_flags(
    const overrides *o, cw_config *cfg, char *errbuf, size_t errlen)
{
	if (o->listen != NULL && cw_config_set(cfg, "listen", o->listen,
	                             "--listen", errbuf, errlen) != 0)
		return -1;
	if (o->redis_url != NULL &&
	    cw_config_set(cfg, "redis.url", o->redis_url, "--redis-url", errbuf,
	        errlen) != 0)
		return -1;
	if (o->redis_url != NULL && has_password(o->redis_url)) {
		snprintf(errbuf, errlen,
		    "--redis-url: a password on the command line is visible "
		    "to every local user (ps); use redis.password_file, or "
		    "CACHEWIRE_REDIS_PASSWORD");
		return -1;
	}
	if (o->log_level != NULL &&
	    cw_config_set(cfg, "log.level", o->log_level, "--log-level", errbuf,
	        errlen) != 0)
		return -1;
	return 0;
}

static enum cw_options_result layer(const char *path, char **envp,
    const overrides *o, cw_config *cfg, char *errbuf, size_t errlen)
{
	if (path != NULL && cw_config_load_file(cfg, path, errbuf, errlen) != 0)
		return CW_OPTIONS_ERROR;
	if (cw_config_apply_env(cfg, envp, errbuf, errlen) != 0)
		return CW_OPTIONS_ERROR;
	if (apply_flags(o, cfg, errbuf, errlen) != 0)
		return CW_OPTIONS_ERROR;
	if (cw_config_validate(cfg, errbuf, errlen) != 0)
		return CW_OPTIONS_ERROR;
	return CW_OPTIONS_RUN;
}

enum cw_options_result cw_options_load(int argc, char **argv, char **envp,
    cw_config *cfg, char *errout, size_t errlen)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check-config", no_argument, NULL, OPT_CHECK},
	    {"check-redis", no_argument, NULL, OPT_CHECK_REDIS},
	    {"listen", required_argument, NULL, 'l'},
	    {"redis-url", required_argument, NULL, OPT_REDIS_URL},
	    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = getenv("CACHEWIRE_CONFIG");
	bool check = false, check_redis = false;
	overrides o = {0};
	int opt, bad = 0;

	cw_config_defaults(cfg);
	optind = 1;
	while (
	    (opt = getopt_long(argc, argv, "c:l:Vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case OPT_CHECK:
			check = true;
			break;
		case OPT_CHECK_REDIS:
			check_redis = true;
			break;
		case 'l':
			bad |= add_listen(&o, optarg);
			break;
		case OPT_REDIS_URL:
			o.redis_url = optarg;
			break;
		case OPT_LOG_LEVEL:
			o.log_level = optarg;
			break;
		case 'V':
			printf("cachewired %s\n", CW_VERSION_STRING);
			free(o.listen);
			return CW_OPTIONS_EXIT;
		case 'h':
			fputs(usage, stdout);
			free(o.listen);
			return CW_OPTIONS_EXIT;
		default:
			bad = 1;
		}
	}
	if (bad || optind < argc) {
		if (optind < argc)
			fprintf(stderr,
			    "cachewired: unexpected argument \"%s\"\n",
			    argv[optind]);
		fputs("usage: cachewired [--config FILE] [--check-config] ... "
		      "(see --help)\n",
		    stderr);
		free(o.listen);
		return CW_OPTIONS_ERROR;
	}
	if (path != NULL && path[0] == '\0')
		path = NULL;

	char errbuf[512];
	enum cw_options_result r =
	    layer(path, envp, &o, cfg, errbuf, sizeof errbuf);
	free(o.listen);
	if (r == CW_OPTIONS_ERROR) {
		if (errout != NULL)
			snprintf(errout, errlen, "%s", errbuf);
		else
			fprintf(stderr, "%s\n", errbuf);
		return r;
	}
	if (path != NULL && (cfg->source = strdup(path)) == NULL) {
		fprintf(stderr, "cachewired: out of memory\n");
		return CW_OPTIONS_ERROR;
	}
	if (check_redis)
		return CW_OPTIONS_CHECK_REDIS;
	if (check) {
		printf("configuration OK (%s)\n",
		    path ? path : "built-in defaults");
		return CW_OPTIONS_EXIT;
	}
	return CW_OPTIONS_RUN;
}
