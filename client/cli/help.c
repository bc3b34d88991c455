/*
 * help.c - what the CLI tells its user in its own words: the --help text, and
 * the library's messages with the CLI's option names (see args.h).
 */
#include <string.h>

#include <cachewire/cachewire.h>

#include "args.h"

const char cli_help_text[] =
    "Usage: cachewire [OPTIONS] COMMAND [ARGS]\n"
    "\n"
    "Talk to a cachewired server.\n"
    "\n"
    "Commands:\n"
    "  get KEY    write the value to stdout (raw bytes, nothing added)\n"
    "  set KEY    store the value read from stdin (or --file)\n"
    "             Values over 4 MiB (set) or over the server's\n"
    "             max_value_bytes (get) go in chunks, never whole in\n"
    "             memory, with a progress bar when stderr is a terminal\n"
    "  del KEY    remove KEY\n"
    "  get-many KEY...\n"
    "             look up every KEY in one round trip; for each KEY, in\n"
    "             the order given: a line \"KEY<TAB>LEN\", then the value\n"
    "             (LEN raw bytes) and a newline; for a missing KEY only the\n"
    "             line \"KEY<TAB>-\"\n"
    "  set-many KEY VALUE [KEY VALUE...]\n"
    "             store each VALUE (an argument) under its KEY in one round\n"
    "             trip; --ttl / --expire-at apply to every KEY\n"
    "  delete-many KEY...\n"
    "             remove every KEY in one round trip\n"
    "  clear      remove every key of the server's namespace; prints how\n"
    "             many were removed\n"
    "  ping       check the server and its Redis; prints the server version\n"
    "  stats      the server's figures at a glance (requests by status and\n"
    "             method with latency quantiles, bytes, Redis), from the\n"
    "             admin endpoint's /metrics and /readyz\n"
    "  health     GET the admin endpoint's /healthz (with --ready: /readyz)\n"
    "             and print the answer; for container health checks\n"
    "\n"
    "Options (before or after the command; \"--\" ends them):\n"
    "  --url URL         server address: tcp://HOST:PORT, ipc:///PATH, ...\n"
    "                    (default: $CACHEWIRE_URL, else " CW_DEFAULT_URL ");\n"
    "                    several replicas: URL,URL,... (calls spread over\n"
    "                    them; all but clear retried once on another when\n"
    "                    one is unavailable)\n"
    "  --timeout DUR     how long to wait for the server (default 5s)\n"
    "  --ttl DUR         set, set-many: expire DUR from now (0 = never)\n"
    "  --expire-at TIME  set, set-many: expire at TIME (a past TIME removes\n"
    "                    the key)\n"
    "  --file F          set: read the value from F (\"-\" = stdin)\n"
    "  --token-file F    send the bearer token in F (one line) with every\n"
    "                    request (default: $CACHEWIRE_TOKEN_FILE)\n"
    "  --namespace NS    work in namespace NS: 1 to 64 of A-Z a-z 0-9 _ . -\n"
    "                    (default: the server's, or the token's first)\n"
    "  --admin URL       stats, health: the server's admin endpoint, an\n"
    "                    http://HOST:PORT URL (its admin.listen; default\n"
    "                    " CLI_DEFAULT_ADMIN_URL ")\n"
    "  --ready           health: ask /readyz (listeners up, Redis answers)\n"
    "                    rather than /healthz (process alive)\n"
    "  -h, --help        show this help and exit\n"
    "  --version         show the version and exit\n"
    "\n"
    "TLS (tls+tcp://HOST:PORT URLs only):\n"
    "  --cacert F        the CA certificate(s) that signed the server's\n"
    "                    certificate (PEM); required\n"
    "  --cert F          client certificate (PEM), for servers that require "
    "one\n"
    "  --key F           its private key (PEM, unencrypted); --cert and --key\n"
    "                    go together\n"
    "  --server-name N   the name the server's certificate must carry\n"
    "                    (default: the URL's HOST; nng's TLS matches DNS\n"
    "                    names only, so with an IP address as HOST give one)\n"
    "\n"
    "DUR:  1500ms, 60s, 2m, 1h, 1d, or a bare number of seconds.\n"
    "TIME: Unix seconds (1767225600 or 1767225600.250), Unix milliseconds\n"
    "      (1767225600250ms), or RFC 3339 (2026-11-25T12:00:00Z,\n"
    "      2026-11-25T12:00:00.250+01:00).\n"
    "\n"
    "Exit status:\n"
    "  0  success\n"
    "  1  key not found (get of a missing key, del of a missing key;\n"
    "     get-many or delete-many when any KEY is missing: stderr names\n"
    "     each); stats: the server is not ready (the first line says\n"
    "     why); health: the answer was not HTTP 200 (e.g. 503)\n"
    "  2  usage error: bad arguments, or the value's input, the token file\n"
    "     or a TLS file cannot be read\n"
    "  3  the server or the transport failed, or stdout cannot be written;\n"
    "     stderr says why, e.g. \"cachewire: UNAVAILABLE: <message>\";\n"
    "     stats, health: the admin endpoint cannot be reached (or its\n"
    "     /metrics cannot be read)\n";

/* ---- messages
 * --------------------------------------------------------------- */

void cli_option_names(const char *msg, char *out, size_t outlen)
{
	static const struct {
		const char *field, *option;
	} names[] = {
	    {"tls_ca_file", "--cacert"},
	    {"tls_cert_file", "--cert"},
	    {"tls_key_file", "--key"},
	    {"tls_server_name", "--server-name"},
	};
	size_t o = 0, k;

	if (outlen == 0)
		return;
	while (*msg != '\0' && o + 1 < outlen) {
		for (k = 0; k < sizeof names / sizeof names[0]; k++) {
			size_t n = strlen(names[k].field);
			if (strncmp(msg, names[k].field, n) == 0) {
				size_t m = strlen(names[k].option);
				if (m > outlen - 1 - o)
					m = outlen - 1 - o;
				memcpy(out + o, names[k].option, m);
				o += m;
				msg += n;
				break;
			}
		}
		if (k == sizeof names / sizeof names[0])
			out[o++] = *msg++;
	}
	out[o] = '\0';
}
