/*
 * client_internal.h - what libcachewire's convenience calls (calls.c) share
 * with its transport (client.c). Private to the library; not installed.
 *
 * A convenience call runs through the generated protoc-c stub like any other
 * caller, but passes cw__call_done as the closure and a struct cw_call as the
 * closure data. The transport's invoke recognises that closure (pointer
 * comparison) and then uses the call's timeout, reports the status and error
 * details into the struct, and hands over ownership of the response.
 */
#ifndef CACHEWIRE_CLIENT_INTERNAL_H
#define CACHEWIRE_CLIENT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>
#include <nng/supplemental/util/platform.h>
#include <protobuf-c/protobuf-c.h>

#include <cachewire/cachewire.h>

#if defined(__GNUC__)
#define CW_HIDDEN __attribute__((visibility("hidden")))
#else
#define CW_HIDDEN
#endif

struct cw_client {
	/* First member: invoke gets &c->service and casts back. */
	ProtobufCService service;
	nng_socket sock;
	char *url;
	int timeout_ms;
	size_t max_message_bytes;
	/* Sent in every request's envelope; NULL when not set. The token is
	 * wiped before it is freed (cw_close). */
	char *token;
	char *namespace_;
	/* tls+tcp:// only: the configuration every dialer gets (one hold). */
	nng_tls_config *tls;
	/* Pipes (connections) that are up, kept by nng's pipe callbacks. */
	atomic_int npipes;
	/* Connections ever completed (see cw_close). */
	atomic_int connects;
	/*
	 * The dialer, and the timer that replaces it when the connection
	 * seems lost and neither a connection nor a reply came within
	 * REDIAL_AFTER_MS (client.c: a workaround for nng 1.5.2). redial_mu
	 * guards dialer, the timer's state and redial_connects and
	 * redial_replies, the values of connects and replies when armed.
	 */
	pthread_mutex_t redial_mu;
	nng_dialer dialer;
	nng_aio *redial;
	bool redial_armed;
	bool redial_off; /* cw_close has begun */
	/* A probe request on a context of its own (client.c). */
	nng_ctx probe_ctx;
	nng_aio *probe;
	bool probing;
	bool probe_receiving; /* probe's aio only */
	int redial_connects;
	unsigned redial_replies;
	atomic_int redials;  /* dialers replaced, for tests */
	atomic_uint replies; /* replies received, of any status */
	/*
	 * Why connecting fails (diag.c): while no connection is up, a
	 * test connection of its own (nng's stream API) learns the connect
	 * or TLS handshake error that nng's dialer keeps to itself. Under
	 * redial_mu. diag_dialer is NULL when the URL's transport has no
	 * stream dialer (then nothing is diagnosed). For TLS, diag_cfg[0] is
	 * tls; [1] the same without the server name, [2] without verifying
	 * the server: what succeeds with which tells what is wrong.
	 */
	nng_stream_dialer *diag_dialer;
	nng_tls_config *diag_cfg[3];
	nng_aio *diag_timer;
	nng_aio *diag;
	nng_stream *diag_stream;
	uint8_t diag_buf[8];
	int diag_phase;   /* what diag is doing (diag.c) */
	int diag_step;    /* the diag_cfg in use */
	int diag_first;   /* step 0's handshake error */
	bool diag_busy;   /* diag is in use */
	bool diag_sp;     /* plain tcp or ipc: check the peer's SP header */
	nng_time diag_at; /* when the last test connection began */
	char *tls_server_name; /* TLS: for messages */
	bool tls_has_cert;     /* TLS: with a client certificate */
	char diag_why[200];    /* the last reason; "" when none is known */
	/* Exchanges (exchange.c): all of them, the free ones, how many are
	 * running; mu guards these and closing. */
	pthread_mutex_t mu;
	pthread_cond_t idle; /* inflight dropped to 0 */
	struct xfer *all;
	struct xfer *free;
	int inflight;
	bool closing; /* cw_close has begun: no new calls */
	/*
	 * Coalescing (coalesce.c), under mu: messages in flight on the
	 * socket; calls queued for the next batch message; whether the
	 * server takes batches (asked with a Ping the first time a call
	 * finds messages in flight).
	 */
	bool coalesce; /* cw_client_options.no_coalescing not set */
	int sending;
	struct xfer *queue, **queue_tail;
	size_t queued;
	enum {
		CW_BATCHES_UNKNOWN,
		CW_BATCHES_ASKING,
		CW_BATCHES_YES,
		CW_BATCHES_NO
	} batches;
	nng_time ask_after; /* when UNKNOWN: not before then */
	size_t max_batch;   /* calls per batch message */
	size_t batch_bytes; /* a batch message's size at most: the smaller of
	                       max_message_bytes and the server's, once its
	                       Ping said (PingResponse.max_message_bytes) */
	/* Batch messages in flight (linked by next), and the one timer that
	 * keeps the deadlines of the calls queued or in them: armed for the
	 * earliest (tick_at) while there is any; tick_stop once cw_close
	 * has no calls left. */
	struct xfer *batches_out;
	nng_aio *tick;
	nng_time tick_at;
	bool tick_armed, tick_stop;
	/*
	 * Several replicas (replicas.c): a client opened with "url,url,..."
	 * is only a front over members, clients of one URL each; of its own
	 * fields only service, url and timeout_ms are set.
	 */
	struct cw_client **members;
	int nmembers;
	atomic_uint next; /* the member to try first, in turn */
};

/* Calls per batch message at most (coalesce.c); halved for a server that
 * refuses a batch as too many calls. */
#define CW__MAX_BATCH 64

/* Told once when an exchange ends; resp (on CW_OK) becomes the callee's. */
typedef void (*cw__xfer_done)(
    void *arg, int status, const cw_error *err, ProtobufCMessage *resp);

/*
 * Send input as method method_index of the service; done runs once, later,
 * on an nng thread. On a failure to even send (bad method, request too
 * large, out of memory) returns that status and done never runs
 * (exchange.c).
 */
CW_HIDDEN int cw__xfer_start(struct cw_client *c, unsigned method_index,
    const ProtobufCMessage *input, int timeout_ms, cw__xfer_done done,
    void *arg, cw_error *err);
/* Run one exchange and wait for it; *resp (on CW_OK) is the caller's. */
CW_HIDDEN int cw__round_trip(struct cw_client *c, unsigned method_index,
    const ProtobufCMessage *input, int timeout_ms, ProtobufCMessage **resp,
    cw_error *err);

/* replicas.c: a client over several URLs (comma-separated). */
CW_HIDDEN int cw__replicas_open(struct cw_client **out, const char *urls,
    const cw_client_options *opts, cw_error *err);
CW_HIDDEN void cw__replicas_invoke(struct cw_client *front,
    unsigned method_index, const ProtobufCMessage *input,
    ProtobufCClosure closure, void *closure_data);
CW_HIDDEN void cw__replicas_close(struct cw_client *front);

/* ProtobufCService.invoke of a client (exchange.c). */
CW_HIDDEN void cw__client_invoke(ProtobufCService *service,
    unsigned method_index, const ProtobufCMessage *input,
    ProtobufCClosure closure, void *closure_data);

/* Something says c may have lost its connection: replace its dialer if
 * neither a connection nor a reply comes soon (client.c). */
CW_HIDDEN void cw__redial_arm(struct cw_client *c);

/*
 * No connection is up and a call is starting or failed: learn why, with a
 * test connection, unless one ran within the last second (diag.c).
 */
CW_HIDDEN void cw__diag_kick(struct cw_client *c);

/*
 * Copy the last known reason why connecting to c's URL fails into buf, and
 * return true; false (buf untouched) when none is known. *testing tells
 * whether a test connection is running meanwhile.
 */
CW_HIDDEN bool cw__diag_reason(
    struct cw_client *c, char *buf, size_t len, bool *testing);

/* The callback of c->tick (coalesce.c). */
CW_HIDDEN void cw__coalesce_tick(void *arg);
/* The callbacks of c->diag_timer and c->diag (diag.c). */
CW_HIDDEN void cw__diag_timer_cb(void *arg);
CW_HIDDEN void cw__diag_cb(void *arg);

/* ---- options.c ---- */

/* Check what needs no file and no nng: TLS options only with a TLS URL
 * (and a CA with one), both or neither of cert and key, the token's and
 * the namespace's form. CW_OK or CW_INVALID_ARGUMENT. */
CW_HIDDEN int cw__check_options(
    const char *url, const cw_client_options *o, cw_error *err);
/* Read the TLS files and build c->tls and c->diag_cfg[] (tls+tcp://). */
CW_HIDDEN int cw__tls_setup(
    struct cw_client *c, const cw_client_options *o, cw_error *err);
CW_HIDDEN bool cw__is_tls_url(const char *url);
/* Non-NULL and not empty. */
CW_HIDDEN bool cw__is_set(const char *s);
/* Overwrite n bytes at p (not optimised away). */
CW_HIDDEN void cw__wipe(void *p, size_t n);
/* Overwrite the string s, then free it; NULL is a no-op. */
CW_HIDDEN void cw__wipe_free(char *s);

/* Free every exchange of c; its socket is closed and none is running. */
CW_HIDDEN void cw__xfers_free(struct cw_client *c);

struct cw_call {
	/* In: the call's timeout in ms; <= 0 means the client's default. */
	int timeout_ms;
	/* In: where to put error details; may be NULL. */
	cw_error *err;
	/* Out: CW_OK or the failure's status. */
	int status;
	/*
	 * Out, on CW_OK: the unpacked response, owned by the caller; free it
	 * with cw__call_release(). Its bytes fields were allocated with one
	 * spare byte past their length (see cw__response_allocator), so
	 * their data may be taken over with a trailing NUL and freed with
	 * free().
	 */
	ProtobufCMessage *response;
	/* Asynchronous calls only (closure cw__call_async_done): */
	/*
	 * In, async only: where invoke writes CW_OK once the request is on
	 * its way (the closure will run, and may free the call at any time
	 * after that: read this, never the call) or why it could not start.
	 */
	int *start_rc;
	cw_error async_err; /* err points here */
	cw_callback cb;     /* the caller's callback and its argument */
	void *cb_arg;
	/* What the response means as a cw_result (calls.c); NULL: nothing
	 * beyond success. */
	void *(*result_of)(const ProtobufCMessage *msg, cw_result *r);
};

/* Prepare call for one stub invocation. */
CW_HIDDEN void cw__call_init(
    struct cw_call *call, int timeout_ms, cw_error *err);

/* The private closure: stores the response in the struct cw_call. */
CW_HIDDEN void cw__call_done(const ProtobufCMessage *msg, void *closure_data);

/*
 * The private closure of asynchronous calls (calls.c): runs on an nng
 * thread when the reply is in (msg NULL on failure, call->status says
 * why), turns the response into a cw_result for call->cb, then frees msg
 * and call (which the async call malloc'd).
 */
CW_HIDDEN void cw__call_async_done(
    const ProtobufCMessage *msg, void *closure_data);

/* Free call->response (NULL is fine) and clear it. */
CW_HIDDEN void cw__call_release(struct cw_call *call);

/*
 * RUN(c, method, Response, req, call, timeout_ms, err): run the generated
 * stub cachewire__v1__cache__<method>() on c with the library's closure
 * (client_internal.h); on return call->status is the outcome and, on
 * CW_OK, call->response the response (free with cw__call_release). The
 * stubs take per-method closure types and pass the closure on to invoke
 * as a ProtobufCClosure, which is cw__call_done's real type; the detour
 * through void (*)(void) tells the compiler the cast is deliberate.
 */
#define RUN(c, method, Response, req, call, timeout_ms, err)                   \
	do {                                                                   \
		cw__call_init(call, timeout_ms, err);                          \
		cachewire__v1__cache__##method(cw_client_service(c), req,      \
		    (Cachewire__V1__##Response##_Closure)(                     \
		        void (*)(void))cw__call_done,                          \
		    call);                                                     \
	} while (0)

/*
 * The allocator responses are unpacked with: malloc() with one spare byte
 * per block, free() to free. Bytes fields of a response may therefore be
 * detached (set data to NULL before release) and handed to the caller, who
 * frees them with cw_free().
 */
CW_HIDDEN extern ProtobufCAllocator cw__response_allocator;

#endif
