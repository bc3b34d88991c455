/*
 * client.c - libcachewire's transport: the nng REQ socket (open, close)
 * and the ProtobufCService whose invoke (exchange.c) does one round trip
 * per call; the response allocator and the private closure.
 *
 * A call is an exchange: an nng context and an aio (kept in a free list
 * and reused, so any number of threads may call at once) driven by the
 * aio's callback:
 *
 *   input message ──pack──► cachewire.v1.Request {method, payload,
 *   timeout_ms} ──nng_ctx_send──► ... ──nng_ctx_recv──► cachewire.v1.Reply
 *   {code, message, payload} ──unpack payload──► the exchange's done
 *
 * Blocking calls wait for done on a condition variable; asynchronous ones
 * get their closure run from done, on an nng thread.
 *
 * Error mapping (exchange.c; details go to the call's cw_error when the caller
 * is one of the cw_* calls; a foreign closure just gets NULL):
 *   - Reply.code != OK: that code, the server's message
 *   - timeout, no connection up: CW_UNAVAILABLE, "cannot connect to URL:
 *     <why>" when a test connection found out why (see "Diagnosis" below),
 *     else "no connection to URL ..."
 *   - timeout, connected: CW_DEADLINE_EXCEEDED ("no reply from URL ...")
 *   - connection broke mid-call: CW_UNAVAILABLE (the request is not resent)
 *   - client closed mid-call: CW_CANCELLED
 *   - NNG_ENOMEM: CW_INTERNAL
 *   - any other nng error: CW_UNAVAILABLE with nng_strerror()
 *   - undecodable reply: CW_INTERNAL
 *   - request too large: CW_RESOURCE_EXHAUSTED, nothing is sent
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>

#include "cachewire/v1/cache.pb-c.h"

#include "client_internal.h"

#define DEFAULT_TIMEOUT_MS 5000
/* Room for the reply envelope around a value of max_message_bytes. */
#define RECV_SLACK_BYTES ((size_t)64 * 1024)
#define RECONNECT_MIN_MS 100
#define RECONNECT_MAX_MS 2000
#define CLOSE_GRACE_MS   100
#define CLOSE_WAIT_MS    2000
#define REDIAL_AFTER_MS  1000
#define PROBE_MS         1000
/* Diagnosis: test only when no connection came within DIAG_DELAY_MS, at
 * most once per DIAG_EVERY_MS; give each step DIAG_IO_MS. */
#define DIAG_DELAY_MS 100
#define DIAG_EVERY_MS 1000
#define DIAG_IO_MS    5000
/* An SP peer sends its header at once, a TLS listener never. */
#define DIAG_HEADER_MS 2000
/* Largest PEM file read; CA bundles are a few hundred KiB. */
#define PEM_MAX_BYTES ((size_t)1024 * 1024)
#define TOKEN_MAX     4096
#define NAMESPACE_MAX 64

/* ---- response allocator ---------------------------------------------------
 */

static void *response_alloc(void *data, size_t size)
{
	(void)data;
	if (size == SIZE_MAX)
		return NULL;
	return malloc(size + 1);
}

static void response_free(void *data, void *p)
{
	(void)data;
	free(p);
}

ProtobufCAllocator cw__response_allocator = {
    .alloc = response_alloc,
    .free = response_free,
    .allocator_data = NULL,
};

/* ---- the private closure ------------------------------------------------- */

void cw__call_init(struct cw_call *call, int timeout_ms, cw_error *err)
{
	memset(call, 0, sizeof *call);
	call->timeout_ms = timeout_ms;
	call->err = err;
	call->status = CW_INTERNAL;
	call->response = NULL;
}

void cw__call_done(const ProtobufCMessage *msg, void *closure_data)
{
	struct cw_call *call = closure_data;

	/* invoke hands ownership of msg to us: it does not free it. */
	call->response = (ProtobufCMessage *)msg;
}

void cw__call_release(struct cw_call *call)
{
	if (call->response != NULL) {
		protobuf_c_message_free_unpacked(
		    call->response, &cw__response_allocator);
		call->response = NULL;
	}
}

/* The service belongs to its client: destroying it is not the way to close. */
static void client_service_destroy(ProtobufCService *service)
{
	(void)service;
}

/* ---- open / close ----------------------------------------------------------
 */

/*
 * A new dialer for c's URL, with c's TLS configuration if any, connecting
 * (and reconnecting) in the background: nng_dial(NNG_FLAG_NONBLOCK) plus
 * the TLS configuration.
 */
static int start_dialer(struct cw_client *c, nng_dialer *out)
{
	nng_dialer d;
	int rv;

	if ((rv = nng_dialer_create(&d, c->sock, c->url)) != 0)
		return rv;
	if ((c->tls != NULL && (rv = nng_dialer_set_ptr(
	                            d, NNG_OPT_TLS_CONFIG, c->tls)) != 0) ||
	    (rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK)) != 0) {
		nng_dialer_close(d);
		return rv;
	}
	*out = d;
	return 0;
}

/*
 * Dialer replacement. When a connection breaks, nng's dialer reconnects
 * only once the broken pipe has been torn down, and nng 1.5.2 can hang for
 * good in that teardown (an aio stopped while in its "prepared" state,
 * upstream #1813): seen here about once in 40 breaks in the middle of
 * sending a large request, and often when the server dies under load. The
 * client would then never reconnect. Worse, the teardown runs on nng's
 * one reaper thread, so from then on no broken connection of the process
 * is torn down or reported (no NNG_PIPE_EV_REM_POST).
 *
 * So the timer below is armed by a break that leaves no connection
 * (REM_POST), by a call whose request failed because its connection broke
 * (NNG_ECONNRESET, NNG_ECONNSHUT), which still comes once REM_POST no
 * longer does, and by a call that timed out, which is all a client with
 * no call in flight at the break gets. When it fires REDIAL_AFTER_MS
 * later, and since it was armed no connection was made and no reply
 * came:
 *   - with no connection up, a new dialer (TLS configuration included)
 *     takes over and the old one is closed. A working dialer easily
 *     beats REDIAL_AFTER_MS when the server is up (its first retry is
 *     within RECONNECT_MIN_MS); when the server is simply down, a
 *     working dialer is replaced: harmless.
 *   - with a connection up (as nng counts it), it may be dead or the
 *     server slow (Redis stalled, say). A probe tells: a request with no
 *     method, which a server answers (UNIMPLEMENTED) at once without
 *     touching Redis. No answer within PROBE_MS: redial as above.
 */
static void redial(struct cw_client *c)
{
	nng_dialer old = NNG_DIALER_INITIALIZER, fresh;

	pthread_mutex_lock(&c->redial_mu);
	if (!c->redial_off && start_dialer(c, &fresh) == 0) {
		old = c->dialer;
		c->dialer = fresh;
		atomic_fetch_add(&c->redials, 1);
	}
	pthread_mutex_unlock(&c->redial_mu);
	if (nng_dialer_id(old) > 0)
		nng_dialer_close(old);
}

void cw__redial_arm(struct cw_client *c)
{
	pthread_mutex_lock(&c->redial_mu);
	if (!c->redial_armed && !c->redial_off) {
		c->redial_armed = true;
		c->redial_connects = atomic_load(&c->connects);
		c->redial_replies = atomic_load(&c->replies);
		nng_sleep_aio(REDIAL_AFTER_MS, c->redial);
	}
	pthread_mutex_unlock(&c->redial_mu);
}

static void redial_cb(void *arg)
{
	struct cw_client *c = arg;
	nng_msg *m = NULL;

	pthread_mutex_lock(&c->redial_mu);
	bool act = !c->redial_off && nng_aio_result(c->redial) == 0 &&
	           atomic_load(&c->connects) == c->redial_connects &&
	           atomic_load(&c->replies) == c->redial_replies;
	bool up = atomic_load(&c->npipes) > 0;
	bool probe = act && up && !c->probing && nng_msg_alloc(&m, 0) == 0;
	if (probe) {
		c->probing = true;
		c->probe_receiving = false;
	} else if (m != NULL) {
		nng_msg_free(m);
	}
	c->redial_armed = false;
	pthread_mutex_unlock(&c->redial_mu);
	if (probe) {
		nng_aio_set_msg(c->probe, m);
		nng_aio_set_timeout(c->probe, PROBE_MS);
		nng_ctx_send(c->probe_ctx, c->probe);
	} else if (act && !up) {
		redial(c);
	}
}

static void probe_cb(void *arg)
{
	struct cw_client *c = arg;
	int rv = nng_aio_result(c->probe);
	bool dead = false;

	if (rv != 0 && !c->probe_receiving)
		nng_msg_free(nng_aio_get_msg(c->probe));
	if (rv == 0 && !c->probe_receiving) {
		c->probe_receiving = true; /* sent: now the answer */
		nng_ctx_recv(c->probe_ctx, c->probe);
		return;
	}
	if (rv == 0) {
		nng_msg_free(nng_aio_get_msg(c->probe)); /* answered: alive */
		atomic_fetch_add(&c->replies, 1);
	} else {
		dead = rv != NNG_ECLOSED && rv != NNG_ECANCELED;
	}
	pthread_mutex_lock(&c->redial_mu);
	c->probing = false;
	pthread_mutex_unlock(&c->redial_mu);
	if (dead)
		redial(c);
}

static void pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct cw_client *c = arg;

	(void)p;
	/* nng reports REM_POST exactly for the pipes it reported ADD_PRE for.
	 */
	if (ev == NNG_PIPE_EV_ADD_PRE) {
		atomic_fetch_add(&c->npipes, 1);
	} else if (ev == NNG_PIPE_EV_ADD_POST) {
		atomic_fetch_add(&c->connects, 1);
		pthread_mutex_lock(&c->redial_mu);
		c->diag_why[0] = '\0'; /* connecting works */
		pthread_mutex_unlock(&c->redial_mu);
	} else if (ev == NNG_PIPE_EV_REM_POST &&
	           atomic_fetch_sub(&c->npipes, 1) == 1) {
		cw__redial_arm(c);
	}
}

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

bool cw__diag_reason(struct cw_client *c, char *buf, size_t len)
{
	bool known;

	pthread_mutex_lock(&c->redial_mu);
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
static void diag_timer_cb(void *arg)
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

static void diag_cb(void *arg)
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

static int configure_socket(struct cw_client *c)
{
	size_t recv_max = c->max_message_bytes;
	int rv;

	recv_max = recv_max > SIZE_MAX - RECV_SLACK_BYTES
	               ? SIZE_MAX
	               : recv_max + RECV_SLACK_BYTES;
	if ((rv = nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, recv_max)) ||
	    (rv = nng_socket_set_ms(
	         c->sock, NNG_OPT_RECONNMINT, RECONNECT_MIN_MS)) ||
	    (rv = nng_socket_set_ms(
	         c->sock, NNG_OPT_RECONNMAXT, RECONNECT_MAX_MS)))
		return rv;
	/*
	 * No resends: a request goes out once and waits for its reply until
	 * its deadline; if its connection breaks first, the call fails at
	 * once (NNG_ECONNRESET: CW_UNAVAILABLE) instead of running twice.
	 */
	if ((rv = nng_socket_set_ms(
	         c->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE)))
		return rv;
	if ((rv = nng_ctx_open(&c->probe_ctx, c->sock)) ||
	    (rv = nng_pipe_notify(
	         c->sock, NNG_PIPE_EV_ADD_PRE, pipe_event, c)) ||
	    (rv = nng_pipe_notify(
	         c->sock, NNG_PIPE_EV_ADD_POST, pipe_event, c)) ||
	    (rv = nng_pipe_notify(
	         c->sock, NNG_PIPE_EV_REM_POST, pipe_event, c)))
		return rv;
	return 0;
}

/* ---- options: TLS, token, namespace --------------------------------------
 */

/* memset through a volatile pointer: not optimised away before free(). */
static void *(*const volatile wipe_memset)(void *, int, size_t) = memset;

/* Overwrite the string s, then free it; NULL is fine. */
static void wipe_free(char *s)
{
	if (s != NULL) {
		wipe_memset(s, 0, strlen(s));
		free(s);
	}
}

static bool is_set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static bool is_tls_url(const char *url)
{
	return strncasecmp(url, "tls+tcp://", 10) == 0 ||
	       strncasecmp(url, "tls+tcp4://", 11) == 0 ||
	       strncasecmp(url, "tls+tcp6://", 11) == 0;
}

/* The checks that need no file and no nng. */
static int check_options(
    const char *url, const cw_client_options *o, cw_error *err)
{
	static const char ns_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                               "abcdefghijklmnopqrstuvwxyz"
	                               "0123456789_.-";
	const char *tls_opt = is_set(o->tls_ca_file)       ? "tls_ca_file"
	                      : is_set(o->tls_cert_file)   ? "tls_cert_file"
	                      : is_set(o->tls_key_file)    ? "tls_key_file"
	                      : is_set(o->tls_server_name) ? "tls_server_name"
	                                                   : NULL;
	size_t n;

	if (!is_tls_url(url) && tls_opt != NULL)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "TLS options need a tls+tcp:// URL (%s is set; the URL is "
		    "'%s')",
		    tls_opt, url);
	if (is_tls_url(url) && !is_set(o->tls_ca_file))
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "tls+tcp:// needs tls_ca_file (the CA that signed the "
		    "server's certificate)");
	if (is_set(o->tls_cert_file) != is_set(o->tls_key_file))
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "tls_cert_file and tls_key_file go together: the client "
		    "certificate and its private key (%s is not set)",
		    is_set(o->tls_cert_file) ? "tls_key_file"
		                             : "tls_cert_file");
	if (is_set(o->token)) {
		n = strlen(o->token);
		if (n > TOKEN_MAX)
			return cw_error_set(err, CW_INVALID_ARGUMENT,
			    "the token is %zu bytes; at most %d are allowed", n,
			    TOKEN_MAX);
		for (size_t i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)o->token[i];
			if (ch < 0x20 || ch == 0x7f)
				return cw_error_set(err, CW_INVALID_ARGUMENT,
				    "the token contains a control character "
				    "at byte %zu%s",
				    i + 1,
				    ch == '\n' || ch == '\r'
				        ? " (a line break: strip it)"
				        : "");
		}
	}
	if (is_set(o->namespace_)) {
		n = strlen(o->namespace_);
		if (n > NAMESPACE_MAX || strspn(o->namespace_, ns_chars) != n)
			return cw_error_set(err, CW_INVALID_ARGUMENT,
			    "namespace \"%.80s%s\" is not valid: 1 to %d "
			    "characters from A-Z a-z 0-9 _ . -",
			    o->namespace_, n > 80 ? "..." : "", NAMESPACE_MAX);
	}
	return CW_OK;
}

/* Read the PEM file path, named by option opt in messages, into *out. */
static int read_pem(
    const char *opt, const char *path, char **out, cw_error *err)
{
	size_t len = 0, cap = 16 * 1024;
	char *buf = NULL, *bigger;
	struct stat st;
	ssize_t n;
	int fd, e = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "%s \"%s\": cannot read: %s", opt, path, strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
		e = EISDIR;
	else if ((buf = malloc(cap + 1)) == NULL)
		e = ENOMEM;
	while (e == 0 && len <= PEM_MAX_BYTES) {
		if (len == cap) {
			cap *= 2;
			if ((bigger = realloc(buf, cap + 1)) == NULL) {
				e = ENOMEM;
				break;
			}
			buf = bigger;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			e = errno;
		else if (n == 0)
			break;
		else
			len += (size_t)n;
	}
	close(fd);
	if (e != 0) {
		if (buf != NULL)
			wipe_memset(buf, 0, len);
		free(buf);
		return cw_error_set(err,
		    e == ENOMEM ? CW_INTERNAL : CW_INVALID_ARGUMENT,
		    "%s \"%s\": cannot read: %s", opt, path, strerror(e));
	}
	buf[len] = '\0';
	if (len > PEM_MAX_BYTES || len == 0 || memchr(buf, '\0', len) != NULL) {
		wipe_memset(buf, 0, len);
		free(buf);
		return cw_error_set(err, CW_INVALID_ARGUMENT, "%s \"%s\": %s",
		    opt, path,
		    len == 0 ? "the file is empty"
		    : len > PEM_MAX_BYTES
		        ? "larger than 1 MiB: not a PEM file"
		        : "not a PEM file (binary data; convert DER with "
		          "openssl)");
	}
	*out = buf;
	return CW_OK;
}

/*
 * Build c's TLS configurations from the options (tls+tcp:// URLs): the one
 * every dialer gets, and the diagnosis' two (see "Diagnosis").
 */
static int tls_setup(
    struct cw_client *c, const cw_client_options *o, cw_error *err)
{
	char *ca = NULL, *cert = NULL, *key = NULL;
	nng_url *u = NULL;
	const char *name;
	int rc = CW_OK, rv = 0, i;

	c->tls_has_cert = is_set(o->tls_cert_file);
	if ((rc = read_pem("tls_ca_file", o->tls_ca_file, &ca, err)) ||
	    (c->tls_has_cert && ((rc = read_pem("tls_cert_file",
	                              o->tls_cert_file, &cert, err)) ||
	                            (rc = read_pem("tls_key_file",
	                                 o->tls_key_file, &key, err)))))
		goto out;
	if (key != NULL && strstr(key, "ENCRYPTED") != NULL) {
		rc = cw_error_set(err, CW_INVALID_ARGUMENT,
		    "tls_key_file \"%s\": the key is encrypted; it must not "
		    "be (e.g. openssl pkey -in KEY -out PLAIN)",
		    o->tls_key_file);
		goto out;
	}
	if (is_set(o->tls_server_name)) {
		name = o->tls_server_name;
	} else if ((rv = nng_url_parse(&u, c->url)) == 0) {
		name = u->u_hostname;
	} else {
		rc = cw_error_set(err,
		    rv == NNG_ENOMEM ? CW_INTERNAL : CW_INVALID_ARGUMENT,
		    "cannot use URL '%s': %s", c->url, nng_strerror(rv));
		goto out;
	}
	if ((c->tls_server_name = strdup(name)) == NULL) {
		rc = cw_error_set(err, CW_INTERNAL, "out of memory");
		goto out;
	}
	for (i = 0; i < 3; i++) {
		nng_tls_config *t;

		if ((rv = nng_tls_config_alloc(&t, NNG_TLS_MODE_CLIENT)) != 0) {
			rc = cw_error_set(err,
			    rv == NNG_ENOMEM ? CW_INTERNAL
			                     : CW_INVALID_ARGUMENT,
			    "cannot set up TLS: %s", nng_strerror(rv));
			goto out;
		}
		c->diag_cfg[i] = t;
		/* 0: as configured; 1: any name; 2: any server. */
		if ((rv = nng_tls_config_auth_mode(
		         t, i < 2 ? NNG_TLS_AUTH_MODE_REQUIRED
		                  : NNG_TLS_AUTH_MODE_NONE)) != 0 ||
		    (i == 0 && (rv = nng_tls_config_server_name(t, name)))) {
			rc = cw_error_set(err, CW_INTERNAL,
			    "cannot set up TLS: %s", nng_strerror(rv));
			goto out;
		}
		if (i < 2 && (rv = nng_tls_config_ca_chain(t, ca, NULL)) != 0) {
			rc = cw_error_set(err, CW_INVALID_ARGUMENT,
			    "tls_ca_file \"%s\": no valid PEM certificate: %s",
			    o->tls_ca_file, nng_strerror(rv));
			goto out;
		}
		if (cert != NULL &&
		    (rv = nng_tls_config_own_cert(t, cert, key, NULL)) != 0) {
			rc = cw_error_set(err, CW_INVALID_ARGUMENT,
			    "tls_cert_file \"%s\" / tls_key_file \"%s\": not a "
			    "valid certificate and key: %s",
			    o->tls_cert_file, o->tls_key_file,
			    nng_strerror(rv));
			goto out;
		}
	}
	c->tls = c->diag_cfg[0];
	nng_tls_config_hold(c->tls); /* c->tls and diag_cfg[0] each hold */
out:
	if (u != NULL)
		nng_url_free(u);
	free(ca);
	free(cert);
	if (key != NULL) {
		wipe_memset(key, 0, strlen(key));
		free(key);
	}
	return rc;
}

static void client_free(struct cw_client *c)
{
	if (c->redial != NULL)
		nng_aio_free(c->redial);
	if (c->probe != NULL)
		nng_aio_free(c->probe);
	if (c->diag_timer != NULL)
		nng_aio_free(c->diag_timer); /* stops it first */
	if (c->diag != NULL)
		nng_aio_free(c->diag);
	if (c->diag_stream != NULL) {
		nng_stream_close(c->diag_stream);
		nng_stream_free(c->diag_stream);
	}
	if (c->diag_dialer != NULL)
		nng_stream_dialer_free(c->diag_dialer);
	for (int i = 0; i < 3; i++)
		if (c->diag_cfg[i] != NULL)
			nng_tls_config_free(c->diag_cfg[i]);
	if (c->tls != NULL)
		nng_tls_config_free(c->tls);
	pthread_mutex_destroy(&c->redial_mu);
	pthread_cond_destroy(&c->idle);
	pthread_mutex_destroy(&c->mu);
	wipe_free(c->token);
	free(c->namespace_);
	free(c->tls_server_name);
	free(c->url);
	free(c);
}

int cw_open(cw_client **out, const char *url, const cw_client_options *opts,
    cw_error *err)
{
	static const ProtobufCService base = CACHEWIRE__V1__CACHE__BASE_INIT;
	static const cw_client_options defaults = {0};
	struct cw_client *c;
	int rc, rv;

	if (out == NULL || url == NULL || url[0] == '\0')
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "cw_open needs an output pointer and a URL");
	if (opts == NULL)
		opts = &defaults;
	if ((rc = check_options(url, opts, err)) != CW_OK)
		return rc;
	if ((c = calloc(1, sizeof *c)) == NULL ||
	    (c->url = strdup(url)) == NULL) {
		free(c);
		return cw_error_set(err, CW_INTERNAL, "out of memory");
	}
	if ((is_set(opts->token) && (c->token = strdup(opts->token)) == NULL) ||
	    (is_set(opts->namespace_) &&
	        (c->namespace_ = strdup(opts->namespace_)) == NULL)) {
		wipe_free(c->token);
		free(c->url);
		free(c);
		return cw_error_set(err, CW_INTERNAL, "out of memory");
	}
	c->service = base;
	c->service.invoke = cw__client_invoke;
	c->service.destroy = client_service_destroy;
	c->timeout_ms =
	    opts->timeout_ms > 0 ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
	c->max_message_bytes = opts->max_message_bytes > 0
	                           ? opts->max_message_bytes
	                           : CW_DEFAULT_MAX_MESSAGE_BYTES;
	atomic_init(&c->npipes, 0);
	atomic_init(&c->connects, 0);
	atomic_init(&c->redials, 0);
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->idle, NULL);
	pthread_mutex_init(&c->redial_mu, NULL);
	if ((rv = nng_aio_alloc(&c->redial, redial_cb, c)) != 0 ||
	    (rv = nng_aio_alloc(&c->probe, probe_cb, c)) != 0 ||
	    (rv = nng_aio_alloc(&c->diag_timer, diag_timer_cb, c)) != 0 ||
	    (rv = nng_aio_alloc(&c->diag, diag_cb, c)) != 0) {
		client_free(c);
		return cw_error_set(err, CW_INTERNAL, "out of memory");
	}
	if (is_tls_url(url) && (rc = tls_setup(c, opts, err)) != CW_OK) {
		client_free(c);
		return rc;
	}

	if ((rv = nng_req0_open(&c->sock)) != 0) {
		client_free(c);
		return cw_error_set(err,
		    rv == NNG_ENOMEM ? CW_INTERNAL : CW_UNAVAILABLE,
		    "cannot open an nng req0 socket: %s", nng_strerror(rv));
	}
	if ((rv = configure_socket(c)) != 0) {
		nng_close(c->sock);
		client_free(c);
		return cw_error_set(err, CW_INTERNAL,
		    "cannot configure the nng socket: %s", nng_strerror(rv));
	}
	/* Non-blocking: connect (and reconnect) in the background. */
	if ((rv = start_dialer(c, &c->dialer)) != 0) {
		nng_close(c->sock);
		client_free(c);
		return cw_error_set(err,
		    rv == NNG_ENOMEM ? CW_INTERNAL : CW_INVALID_ARGUMENT,
		    "cannot use URL '%s': %s", url, nng_strerror(rv));
	}
	/* Diagnosis (see above): none for transports without streams. */
	if (nng_stream_dialer_alloc(&c->diag_dialer, url) != 0)
		c->diag_dialer = NULL;
	c->diag_sp = strncasecmp(url, "tcp", 3) == 0 ||
	             strncasecmp(url, "ipc://", 6) == 0;
	cw__diag_kick(c);
	*out = c;
	return CW_OK;
}

/* Free c and its exchanges, once its socket is closed. */
static void client_destroy(struct cw_client *c)
{
	cw__xfers_free(c);
	client_free(c);
}

/*
 * nng_close() on a thread of its own, waited for at most CLOSE_WAIT_MS.
 * nng 1.5.2 can hang in nng_close() for good after the server died while
 * requests were in flight on the connection (reproduced here about once
 * in twenty such closes; it waits for the dead connection's send to stop,
 * the pattern of upstream issue #1813). Rather than hang its caller,
 * cw_close() then returns and leaves the client to that thread, which
 * frees it should nng_close() ever return. Nothing of the client is used
 * by the caller after cw_close(), so the cost is the leak.
 */
typedef struct closer {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	bool abandoned;
	struct cw_client *c;
} closer;

static void *close_main(void *arg)
{
	closer *k = arg;

	/* Returns after the pipe callbacks that use c have finished. */
	nng_close(k->c->sock);
	pthread_mutex_lock(&k->mu);
	k->done = true;
	bool abandoned = k->abandoned;
	pthread_cond_signal(&k->cv);
	pthread_mutex_unlock(&k->mu);
	if (abandoned) {
		client_destroy(k->c);
		pthread_cond_destroy(&k->cv);
		pthread_mutex_destroy(&k->mu);
		free(k);
	}
	return NULL;
}

static void close_socket(struct cw_client *c)
{
	closer *k = calloc(1, sizeof *k);
	pthread_condattr_t ca;
	pthread_t t;
	struct timespec until;

	if (k == NULL) {
		nng_close(c->sock);
		client_destroy(c);
		return;
	}
	k->c = c;
	pthread_mutex_init(&k->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&k->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&t, NULL, close_main, k) != 0) {
		nng_close(c->sock);
		k->done = true;
	} else {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += CLOSE_WAIT_MS / 1000;
		until.tv_nsec += (long)(CLOSE_WAIT_MS % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&k->mu);
		while (!k->done &&
		       pthread_cond_timedwait(&k->cv, &k->mu, &until) == 0)
			;
		k->abandoned = !k->done;
		pthread_mutex_unlock(&k->mu);
		if (k->abandoned) {
			pthread_detach(t);
			return; /* close_main frees everything, if ever */
		}
		pthread_join(t, NULL);
	}
	pthread_cond_destroy(&k->cv);
	pthread_mutex_destroy(&k->mu);
	free(k);
	client_destroy(c);
}

void cw_close(cw_client *c)
{
	if (c == NULL)
		return;
	/*
	 * nng 1.5.2 (Debian 12) leaks a dialer's objects when its socket is
	 * closed while a connection to a live server is still being set up
	 * (endpoint close became synchronous upstream only later). A client
	 * closed right after cw_open is in that window: let its first
	 * connection attempt finish, for at most CLOSE_GRACE_MS. A refused
	 * connection is not affected, so a down server costs only the wait.
	 */
	for (int i = 0; i < CLOSE_GRACE_MS && atomic_load(&c->connects) == 0;
	     i++)
		nng_msleep(1);
	/*
	 * Let the calls in flight finish first (each ends by its deadline):
	 * nng 1.5.2 can deadlock in nng_close() when it has to abort
	 * requests that are still pending (upstream issue #1813, fixed in
	 * 1.8), so the socket is closed only once none is. New calls are
	 * refused from here on.
	 */
	pthread_mutex_lock(&c->mu);
	c->closing = true;
	while (c->inflight > 0)
		pthread_cond_wait(&c->idle, &c->mu);
	pthread_mutex_unlock(&c->mu);
	/* No call can use the token any more. */
	if (c->token != NULL)
		wipe_memset(c->token, 0, strlen(c->token));
	pthread_mutex_lock(&c->redial_mu);
	c->redial_off = true;
	pthread_mutex_unlock(&c->redial_mu);
	nng_aio_stop(c->redial);
	nng_aio_stop(c->probe);
	nng_aio_stop(c->diag_timer); /* may start diag: first */
	nng_aio_stop(c->diag);
	close_socket(c);
}

ProtobufCService *cw_client_service(cw_client *c)
{
	return c != NULL ? &c->service : NULL;
}

void cw_free(void *p)
{
	free(p);
}
