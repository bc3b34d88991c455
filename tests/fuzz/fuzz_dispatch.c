/*
 * fuzz_dispatch.c - libFuzzer target: arbitrary bytes as a request to the
 * real rpc and service layers over a real cache core, i.e. envelope decode,
 * the token and namespace checks (each input runs without tokens and with),
 * method lookup, payload decode and every request check (keys, values,
 * expiry, batches) - everything cachewired does with a message before
 * Redis sees it.
 *
 * The core's Redis is a unix socket that does not exist, so a request that
 * passes every check fails to connect at once (or fails fast while the
 * core backs off): every request is answered before cw_envelope_dispatch
 * returns, which this target checks. A request left unanswered, a reply that is
 * not a valid cachewire.v1.Reply, a crash, a leak or a sanitizer report is a
 * finding.
 *
 * An input that is a batch envelope (Request.calls) is also served as the
 * nng server serves one, call by call (batch.h): answered exactly once,
 * with one Reply per call.
 *
 * The same bytes also go through the gRPC transport's own framing
 * (transport/grpc/wire.h): as a request body fed in chunks whose sizes the
 * input's first byte picks (a body whose prefix claims more than came, or
 * a second message, must be refused, never read past), and as the
 * grpc-timeout, authorization and content-type headers.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cachewire/v1/rpc.pb-c.h"

#include "batch.h"
#include "cache.h"
#include "dispatch.h"
#include "envelope.h"
#include "service.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct sink {
	cw_reply_sink base;
	uint8_t *buf;
	size_t len;
	int done;
	int code;
} sink;

static void sink_reply(cw_reply_sink *s, int code, const char *message,
    const ProtobufCMessage *response)
{
	sink *k = (sink *)s;
	size_t plen;
	k->len = cw_envelope_reply_size(code, message, response, &plen);
	k->buf = malloc(k->len > 0 ? k->len : 1);
	cw_envelope_reply_pack(code, message, response, plen, k->buf);
}

static void sink_done(cw_reply_sink *s, int code, const cw_error *outcome)
{
	sink *k = (sink *)s;
	(void)outcome;
	k->done++;
	k->code = code;
}

static ProtobufCService *service(void)
{
	static ProtobufCService *svc;
	static cw_cache *cache;
	cw_error err;

	if (svc != NULL)
		return svc;
	cw_cache_options o = {
	    .redis = {.unix_path = "/nonexistent/cachewire-fuzz.sock"},
	    .namespace_ = "fuzz",
	    .pool_size = 1,
	    .max_key_bytes = 64,
	    .max_value_bytes = 4096,
	    .max_batch_keys = 16,
	};
	if (cw_cache_open(&cache, &o, &err) != CW_OK ||
	    (svc = cw_service_new(cache, "fuzz")) == NULL) {
		fprintf(
		    stderr, "fuzz_dispatch: cannot set up: %s\n", err.message);
		abort();
	}
	return svc; /* lives for the whole run */
}

/* A server with tokens: one token, for two namespaces (the seeds may carry
 * it: "fuzz-token-0123456789"). */
static cw_auth *with_tokens(void)
{
	static const char file[] = "- token: fuzz-token-0123456789\n"
	                           "  namespaces: [fuzz, other]\n";
	static cw_auth *auth;
	cw_tokens *t;
	cw_error err;
	char msg[256];

	if (auth != NULL)
		return auth;
	if (cw_tokens_parse(
	        &t, "fuzz.yaml", file, sizeof file - 1, msg, sizeof msg) != 0 ||
	    cw_auth_new(&auth, t, "fuzz", &err) != CW_OK) {
		fprintf(stderr, "fuzz_dispatch: cannot set up tokens\n");
		abort();
	}
	return auth; /* lives for the whole run */
}

/* Every request is dispatched twice: without authentication and with. */
static void dispatch_once(cw_auth *auth, const uint8_t *data, size_t size)
{
	sink k = {.base = {.reply = sink_reply, .done = sink_done}};
	cw_call call;

	cw_services svcs = {.cache = service()};
	cw_envelope_dispatch(&svcs, auth, data, size, 1000, &call, &k.base);
	if (k.done != 1) {
		fprintf(stderr, "request answered %d times, want 1\n", k.done);
		abort();
	}
	if (k.buf != NULL) {
		Cachewire__V1__Reply *r =
		    cachewire__v1__reply__unpack(NULL, k.len, k.buf);
		if (r == NULL || (int)r->code != k.code) {
			fprintf(stderr, "reply undecodable or code mismatch\n");
			abort();
		}
		cachewire__v1__reply__free_unpacked(r, NULL);
	}
	free(k.buf);
}

/* A batch's answer: counted, kept for checking. */
typedef struct batch_sink {
	int done;
	uint8_t *reply;
	size_t len;
} batch_sink;

static void batch_done(void *arg, uint8_t *reply, size_t len)
{
	batch_sink *b = arg;
	b->done++;
	b->reply = reply;
	b->len = len;
}

/* A batch envelope (Request.calls) is served call by call, as the nng
 * server does: answered once, with one Reply per call. */
static void batch_once(cw_auth *auth, const uint8_t *data, size_t size)
{
	cw_request req;
	size_t ncalls = 0;

	if (!cw_envelope_decode(data, size, &req, &ncalls) || ncalls == 0 ||
	    ncalls > 256)
		return;
	cw_services svcs = {.cache = service()};
	cw_batch_ctx ctx = {
	    .svcs = &svcs, .auth = auth, .default_timeout_ms = 1000};
	batch_sink b = {0};
	cw_batch_serve(&ctx, data, size, ncalls, batch_done, &b);
	if (b.done != 1) {
		fprintf(stderr, "batch answered %d times, want 1\n", b.done);
		abort();
	}
	Cachewire__V1__Reply *r =
	    b.reply != NULL ? cachewire__v1__reply__unpack(NULL, b.len, b.reply)
	                    : NULL;
	if (r == NULL || r->n_replies != ncalls) {
		fprintf(stderr, "batch reply undecodable or not %zu replies\n",
		    ncalls);
		abort();
	}
	cachewire__v1__reply__free_unpacked(r, NULL);
	free(b.reply);
}

/* The bytes as a gRPC request body and as headers (wire.h). */
static void grpc_wire(const uint8_t *data, size_t size)
{
	cw_grpc_body b;
	size_t step = size > 0 ? (size_t)data[0] % 17 + 1 : 1;
	int rc = CW_OK;

	cw_grpc_body_init(&b, 4096);
	for (size_t off = 0; off < size && rc == CW_OK; off += step)
		rc = cw_grpc_body_feed(
		    &b, data + off, size - off < step ? size - off : step);
	if (rc == CW_OK)
		rc = cw_grpc_body_end(&b);
	if (rc == CW_OK && (b.got != b.len || b.got > 4096 ||
	                       b.got + CW_GRPC_PREFIX != size)) {
		fprintf(stderr, "grpc body: %zu of %zu bytes taken as whole\n",
		    b.got, b.len);
		abort();
	}
	cw_grpc_body_free(&b);
	uint64_t ms;
	const uint8_t *tok;
	size_t tlen;
	if (cw_grpc_timeout_parse(data, size, &ms) == 0 && ms == 0)
		abort(); /* a timeout read is never "none" */
	if (cw_grpc_bearer(data, size, &tok, &tlen) == 0 &&
	    (tok < data || tok + tlen != data + size))
		abort();
	(void)cw_grpc_content_type_ok(data, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	grpc_wire(data, size);
	batch_once(with_tokens(), data, size);
	dispatch_once(NULL, data, size);
	dispatch_once(with_tokens(), data, size);
	return 0;
}
