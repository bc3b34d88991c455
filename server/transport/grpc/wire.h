/*
 * wire.h - gRPC's own framing on top of HTTP/2, without any I/O: the
 * length-prefixed message of a request body, the grpc-timeout header,
 * the bearer token, and the percent-encoding of grpc-message. HTTP/2
 * itself (frames, HPACK, flow control) is nghttp2's; this is only what
 * gRPC adds (the "gRPC over HTTP2" protocol document). Pure functions, so
 * they are unit-tested and fuzzed alone (tests/fuzz/fuzz_dispatch.c).
 */
#ifndef CW_TRANSPORT_GRPC_WIRE_H
#define CW_TRANSPORT_GRPC_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cachewire/status.h>

/* The 5 bytes before each message: a compressed flag, a big-endian
 * length. */
#define CW_GRPC_PREFIX 5

/*
 * A unary request's body as it arrives in DATA frames: one prefixed
 * message, nothing after it. The message buffer grows with what arrives
 * (never to a length announced but not sent), up to max bytes.
 */
typedef struct cw_grpc_body {
	size_t max; /* larger messages are refused */
	uint8_t prefix[CW_GRPC_PREFIX];
	size_t prefix_got;
	bool compressed;
	size_t len;   /* the message's length, once the prefix is in */
	size_t got;   /* of it, so far */
	size_t cap;   /* of buf */
	uint8_t *buf; /* the message; NULL while empty */
	cw_error err; /* why feeding failed */
} cw_grpc_body;

/* An empty body that takes messages up to max bytes. */
void cw_grpc_body_init(cw_grpc_body *b, size_t max);

/*
 * Take n more bytes of the body. CW_OK, or an error set in b->err (and
 * returned), after which the body takes nothing more:
 * RESOURCE_EXHAUSTED for a message over max (known from its prefix,
 * before its bytes arrive), INVALID_ARGUMENT for bytes after the message
 * (a unary call has one), INTERNAL when out of memory.
 */
int cw_grpc_body_feed(cw_grpc_body *b, const uint8_t *p, size_t n);

/*
 * The stream ended: CW_OK when exactly one whole message came (then
 * b->buf / b->got hold it, and b->compressed its flag), else
 * INVALID_ARGUMENT in b->err (no message, or a message cut short: its
 * prefix said more than came).
 */
int cw_grpc_body_end(cw_grpc_body *b);

/* Free what the body holds; it may be initialised again. */
void cw_grpc_body_free(cw_grpc_body *b);

/*
 * grpc-timeout: 1 to 8 digits and a unit (H, M, S, m, u, n) into
 * milliseconds, rounded up (a timeout under 1 ms is 1 ms: it has not
 * passed yet when read). 0 on success, -1 when it is not one.
 */
int cw_grpc_timeout_parse(const uint8_t *v, size_t n, uint64_t *ms);

/*
 * authorization: "Bearer <token>" (scheme in any case, blanks between)
 * gives the token's bytes inside v; -1 when the value is not a bearer
 * token (then *tok is untouched).
 */
int cw_grpc_bearer(
    const uint8_t *v, size_t n, const uint8_t **tok, size_t *tok_len);

/*
 * content-type: application/grpc, optionally followed by "+<codec>" or
 * ";<params>". Only the proto codec is served: "+json" is not.
 */
bool cw_grpc_content_type_ok(const uint8_t *v, size_t n);

/*
 * grpc-message: msg percent-encoded as gRPC wants it (bytes outside
 * 0x20..0x7E, and '%', as %XX), into out (len > 0), NUL-terminated,
 * never cutting an escape in two. Returns the length written.
 */
size_t cw_grpc_message_encode(const char *msg, char *out, size_t len);

#endif
