/*
 * args_conn.c - the command line's connection options: TLS for the
 * service's tls+tcp:// URLs, and --admin for stats and health, which talk
 * to the daemon's admin HTTP endpoint instead (see args.h).
 */
#include <string.h>
#include <strings.h>

#include "args.h"
#include "args_internal.h"

static bool is_tls_url(const char *url)
{
	return strncasecmp(url, "tls+tcp://", 10) == 0 ||
	       strncasecmp(url, "tls+tcp4://", 11) == 0 ||
	       strncasecmp(url, "tls+tcp6://", 11) == 0;
}

/* The TLS options against the URL, once both are known. */
int cli_apply_tls_options(struct cli_args *out, char *err, size_t errlen)
{
	const char *given = out->tls_ca != NULL            ? "--cacert"
	                    : out->tls_cert != NULL        ? "--cert"
	                    : out->tls_key != NULL         ? "--key"
	                    : out->tls_server_name != NULL ? "--server-name"
	                                                   : NULL;

	if (!is_tls_url(out->url)) {
		if (given != NULL)
			return fail(err, errlen,
			    "option '%s' needs a tls+tcp:// URL (the URL is "
			    "'%s')",
			    given, out->url);
		return 0;
	}
	if (out->tls_ca == NULL)
		return fail(err, errlen,
		    "a tls+tcp:// URL needs --cacert FILE (the CA that signed "
		    "the server's certificate)");
	if ((out->tls_cert == NULL) != (out->tls_key == NULL))
		return fail(err, errlen,
		    "--cert and --key go together: the client certificate and "
		    "its private key (%s is missing)",
		    out->tls_cert == NULL ? "--cert" : "--key");
	return 0;
}

/*
 * stats and health talk to the admin endpoint, not the service: the
 * service's connection options make no sense with them.
 */
int cli_apply_admin_options(struct cli_args *out, const struct cli_seen *seen,
    const char *name, char *err, size_t errlen)
{
	const char *given = seen->url != NULL              ? "--url"
	                    : out->tls_ca != NULL          ? "--cacert"
	                    : out->tls_cert != NULL        ? "--cert"
	                    : out->tls_key != NULL         ? "--key"
	                    : out->tls_server_name != NULL ? "--server-name"
	                    : seen->token_file != NULL     ? "--token-file"
	                    : out->namespace_ != NULL      ? "--namespace"
	                                                   : NULL;

	if (given != NULL)
		return fail(err, errlen,
		    "option '%s' is not used by '%s', which asks the admin "
		    "endpoint (--admin URL)",
		    given, name);
	out->admin_url =
	    seen->admin != NULL ? seen->admin : CLI_DEFAULT_ADMIN_URL;
	out->ready = seen->ready;
	out->token_file = NULL; /* $CACHEWIRE_TOKEN_FILE is not for these */
	out->token_file_from = NULL;
	return cli_check_admin_url(out->admin_url, err, errlen);
}

int cli_check_admin_url(const char *s, char *err, size_t errlen)
{
	const char *host = s + 7;
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return fail(err, errlen,
			    "--admin: the URL must not contain blanks or "
			    "control characters");
	if (strncasecmp(s, "https://", 8) == 0)
		return fail(err, errlen,
		    "--admin: only http:// URLs: the admin endpoint speaks "
		    "plain HTTP, no TLS (got '%s')",
		    s);
	if (strncasecmp(s, "http://", 7) != 0)
		return fail(err, errlen,
		    "--admin takes an http://HOST:PORT URL, not '%s'", s);
	if (*host == '\0' || *host == '/' || *host == ':')
		return fail(
		    err, errlen, "--admin: the URL '%s' has no host", s);
	if (strpbrk(host, "?#@") != NULL)
		return fail(err, errlen,
		    "--admin: the URL '%s' may have a path, but no query, "
		    "fragment or user",
		    s);
	return 0;
}
