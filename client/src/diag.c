/*
 * diag.c - why a client cannot connect (client_internal.h: cw__diag_*).
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#include "client_internal.h"

/* Test only when no connection came within DIAG_DELAY_MS, at most once per
 * DIAG_EVERY_MS; give each step DIAG_IO_MS. */
#define DIAG_DELAY_MS 100
#define DIAG_EVERY_MS 1000
#define DIAG_IO_MS    5000
/* An SP peer sends its header at once, a TLS listener never. */
#define DIAG_HEADER_MS 2000

/*
 * Diagnosis. nng's dialer keeps to itself why a connection attempt failed:
 * with the server down, or a TLS handshake failing, calls simply time out.
 * So while no connection is up, a test connection of our own (nng's stream
 * API, the same transport code) finds the reason, which calls that fail
 * meanwhile report (cw__diag_reason). It starts DIAG_DELAY_MS after a call
 * (or cw_open) finds no connection up, unless one came meanwhile, and at
 * most once per DIAG_EVERY_MS; a successful one is closed at once.
 *
 * Dialing a TLS stream only connects; the handshake runs when the stream
 * is first used, so a test reads the 8-byte header an SP peer sends once
 * the handshake is done. nng reports most handshake failures as
 * NNG_ECRYPTO whatever went wrong (untrusted certificate, wrong name, our
 * client certificate refused, not a TLS server), so after such a failure
 * the test is repeated without checking the server's name (diag_cfg[1]),
 * then without verifying the server at all (diag_cfg[2]): the first that
 * succeeds says what is wrong. A server that requires a client certificate
 * and gets none closes the connection (NNG_ECONNSHUT). On plain tcp:// and
 * ipc:// the test reads the header too, which tells a peer that is no SP
 * server (a TLS listener, say) from one that is.
 *
 * A timer (diag_timer: nng 1.5.2 reports a timeout as success on an aio
 * once used with nng_sleep_aio, so it has its own) and an aio (diag) run
 * the steps, under redial_mu; nothing starts once cw_close has set
 * redial_off.
 */
enum { DIAG_IDLE, DIAG_WAIT, DIAG_DIAL, DIAG_SHAKE };

void cw__diag_kick(struct cw_client *c)
{
	pthread_mutex_lock(&c->redial_mu);
	if (c->diag_dialer != NULL && !c->diag_busy && !c->redial_off &&
	    (c->diag_at == 0 || nng_clock() - c->diag_at >= DIAG_EVERY_MS)) {
		c->diag_busy = true;
		c->diag_phase = DIAG_WAIT;
		nng_sleep_aio(DIAG_DELAY_MS, c->diag_timer);
	}
	pthread_mutex_unlock(&c->redial_mu);
}

bool cw__diag_reason(struct cw_client *c, char *buf, size_t len, bool *testing)
{
	bool known;

	pthread_mutex_lock(&c->redial_mu);
	*testing = c->diag_busy;
	known = c->diag_why[0] != '\0';
	if (known)
		snprintf(buf, len, "%s", c->diag_why);
	pthread_mutex_unlock(&c->redial_mu);
	return known;
}

/* Start test connection step (a diag_cfg index); redial_mu held. */
static void diag_dial(struct cw_client *c, int step)
{
	c->diag_step = step;
	c->diag_phase = DIAG_DIAL;
	if (c->tls != NULL)
		nng_stream_dialer_set_ptr(
		    c->diag_dialer, NNG_OPT_TLS_CONFIG, c->diag_cfg[step]);
	nng_aio_set_timeout(c->diag, DIAG_IO_MS);
	nng_stream_dialer_dial(c->diag_dialer, c->diag);
}

/* An IP address rather than a DNS name (mbedTLS 2 matches only those). */
static bool is_ip_literal(const char *name)
{
	return name[strspn(name, "0123456789.")] == '\0' ||
	       strchr(name, ':') != NULL;
}

/* Record why; redial_mu held. */
static void diag_set(struct cw_client *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void diag_set(struct cw_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->diag_why, sizeof c->diag_why, fmt, ap);
	va_end(ap);
}

/*
 * A test handshake with diag_cfg[c->diag_step] ended with rv: record what it
 * tells, or start the next step. Returns true when the diagnosis is over.
 */
static bool diag_handshake_done(struct cw_client *c, int rv)
{
	bool has_cert = c->tls_has_cert;
	bool crypto = rv == NNG_ECRYPTO || rv == NNG_EPEERAUTH;

	switch (c->diag_step) {
	case 0:
		if (rv == 0) { /* nng's dialer will get in too */
			c->diag_why[0] = '\0';
			return true;
		}
		if (crypto) {
			c->diag_first = rv;
			diag_dial(c, 1);
			return false;
		}
		if (rv == NNG_ECONNSHUT || rv == NNG_ECONNRESET ||
		    rv == NNG_ECLOSED)
			diag_set(c,
			    "TLS handshake failed: the server closed the "
			    "connection (%s)",
			    has_cert ? "did it refuse the client certificate? "
			               "is tls_key_file its key?"
			             : "does it require a client certificate? "
			               "set tls_cert_file and tls_key_file");
		else
			diag_set(
			    c, "TLS handshake failed: %s", nng_strerror(rv));
		return true;
	case 1:
		if (rv == 0) {
			diag_set(c,
			    "TLS handshake failed: the server's certificate "
			    "does not carry the name \"%s\" (set "
			    "tls_server_name%s)",
			    c->tls_server_name,
			    is_ip_literal(c->tls_server_name)
			        ? " to a DNS name it carries: nng's TLS "
			          "matches no IP addresses"
			        : "");
			return true;
		}
		diag_dial(c, 2);
		return false;
	default:
		if (rv == 0)
			diag_set(c,
			    "TLS handshake failed: the server's certificate is "
			    "not signed by a CA in tls_ca_file");
		else if (has_cert && crypto)
			diag_set(c,
			    "TLS handshake failed: the server refused the "
			    "client certificate (is tls_cert_file signed by a "
			    "CA it trusts, and tls_key_file its key?)");
		else
			diag_set(c,
			    "TLS handshake failed: %s (is the server speaking "
			    "TLS there?)",
			    nng_strerror(c->diag_first));
		return true;
	}
}

/*
 * A plain connection's test read ended with rv after n bytes: an SP peer
 * (nng's tcp and ipc transports) sends its 8-byte header ("\0SP\0"...) at
 * once, a TLS listener (or anything else) nothing. redial_mu held.
 */
static void diag_header_done(struct cw_client *c, int rv, size_t n)
{
	if (rv == NNG_ETIMEDOUT)
		diag_set(c,
		    "the server sent no SP protocol header within %d ms (is it "
		    "a TLS listener? then use tls+tcp://)",
		    DIAG_HEADER_MS);
	else if (rv == 0 && n >= 4 && memcmp(c->diag_buf, "\0SP\0", 4) != 0)
		diag_set(c, "the server does not speak nng's SP protocol (is "
		            "it cachewired?)");
	else
		c->diag_why[0] = '\0'; /* an SP peer, or nothing learnt */
}

/* DIAG_DELAY_MS after a kick: test, unless a connection came meanwhile. */
void cw__diag_timer_cb(void *arg)
{
	struct cw_client *c = arg;
	int rv = nng_aio_result(c->diag_timer);

	pthread_mutex_lock(&c->redial_mu);
	if (rv == 0 && !c->redial_off && atomic_load(&c->npipes) == 0) {
		c->diag_at = nng_clock();
		if (c->diag_at == 0)
			c->diag_at = 1;
		diag_dial(c, 0);
	} else {
		c->diag_phase = DIAG_IDLE;
		c->diag_busy = false;
	}
	pthread_mutex_unlock(&c->redial_mu);
}

void cw__diag_cb(void *arg)
{
	struct cw_client *c = arg;
	int rv = nng_aio_result(c->diag);
	nng_stream *used = NULL;
	bool over = true;

	pthread_mutex_lock(&c->redial_mu);
	if (c->diag_phase == DIAG_DIAL && rv == 0)
		c->diag_stream = nng_aio_get_output(c->diag, 0);
	if (c->redial_off)
		goto over;
	switch (c->diag_phase) {
	case DIAG_DIAL:
		if (rv != 0) {
			if (c->diag_step == 0)
				diag_set(c, "%s%s", nng_strerror(rv),
				    rv == NNG_ECONNREFUSED || rv == NNG_ENOENT
				        ? " (is the server running?)"
				        : "");
			else /* gone meanwhile: what step 0 saw */
				diag_set(c, "TLS handshake failed: %s",
				    nng_strerror(c->diag_first));
			break;
		}
		if (c->tls == NULL && !c->diag_sp) { /* connecting works */
			c->diag_why[0] = '\0';
			break;
		}
		/* The TLS handshake if any, then the peer's SP header. */
		c->diag_phase = DIAG_SHAKE;
		nng_iov iov = {
		    .iov_buf = c->diag_buf, .iov_len = sizeof c->diag_buf};
		nng_aio_set_iov(c->diag, 1, &iov);
		nng_aio_set_timeout(
		    c->diag, c->tls != NULL ? DIAG_IO_MS : DIAG_HEADER_MS);
		nng_stream_recv(c->diag_stream, c->diag);
		over = false;
		break;
	case DIAG_SHAKE:
		used = c->diag_stream;
		c->diag_stream = NULL;
		if (c->tls != NULL)
			over = diag_handshake_done(c, rv);
		else
			diag_header_done(c, rv, nng_aio_count(c->diag));
		break;
	}
over:
	if (over) {
		if (used == NULL) {
			used = c->diag_stream;
			c->diag_stream = NULL;
		}
		c->diag_phase = DIAG_IDLE;
		c->diag_busy = false;
	}
	pthread_mutex_unlock(&c->redial_mu);
	if (used != NULL) {
		nng_stream_close(used);
		nng_stream_free(used);
	}
}
