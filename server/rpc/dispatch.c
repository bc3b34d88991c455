/* dispatch.c - one call: auth, method lookup, payload decode, invoke, answer.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "dispatch.h"

/* Drop one hold; the last one frees the request and hands over the reply. */
static void release(cw_call *call)
{
	if (atomic_fetch_sub(&call->holds, 1) != 1)
		return;
	if (call->input != NULL)
		protobuf_c_message_free_unpacked(call->input, NULL);
	call->input = NULL;
	cw_error outcome = call->err;
	outcome.code = call->code;
	call->sink->done(call->sink, call->code, &outcome);
}

/* The closure every method gets: pack its response (or its error). */
static void on_response(const ProtobufCMessage *msg, void *data)
{
	cw_call *call = data;

	if (atomic_exchange(&call->replied, true))
		return; /* a second answer from a buggy method: keep the first
		         */
	int code = call->err.code;
	if (code == CW_OK && msg == NULL)
		code = cw_error_set(&call->err, CW_INTERNAL,
		    "%s failed without saying why", call->method);
	if (code < CW_OK || code > CW_UNAUTHENTICATED)
		code = CW_UNKNOWN;
	call->code = code;
	call->sink->reply(call->sink, code,
	    code == CW_OK ? "" : call->err.message, code == CW_OK ? msg : NULL);
	release(call);
}

/* Does path name a method of svc ("/<svc's full name>/...")? */
static bool of_service(const ProtobufCService *svc, const char *path)
{
	if (svc == NULL)
		return false;
	size_t n = strlen(svc->descriptor->name);
	return path[0] == '/' &&
	       strncmp(path + 1, svc->descriptor->name, n) == 0 &&
	       path[n + 1] == '/';
}

/*
 * Find the method named by path "/<service full name>/<Method>"; NULL (with
 * the reason in call->err) when there is none.
 */
static const ProtobufCMethodDescriptor *find_method(
    const ProtobufCService *svc, const char *path, cw_call *call)
{
	const ProtobufCServiceDescriptor *sd = svc->descriptor;
	size_t n = strlen(sd->name);
	if (!of_service(svc, path)) {
		cw_error_set(&call->err, CW_UNIMPLEMENTED,
		    "unknown method \"%.128s\": this server has only /%s/*",
		    path, sd->name);
		return NULL;
	}
	const ProtobufCMethodDescriptor *m =
	    protobuf_c_service_descriptor_get_method_by_name(sd, path + n + 2);
	if (m == NULL)
		cw_error_set(&call->err, CW_UNIMPLEMENTED,
		    "unknown method \"%.128s\"", path);
	return m;
}

void cw_services_hold(const cw_services *svcs)
{
	if (svcs->hold != NULL)
		svcs->hold();
}

void cw_services_release(const cw_services *svcs)
{
	if (svcs->release != NULL)
		svcs->release();
}

int cw_services_methods(const cw_services *svcs)
{
	return (int)svcs->cache->descriptor->n_methods +
	       (svcs->health != NULL ? (int)svcs->health->descriptor->n_methods
	                             : 0);
}

const char *cw_services_method_name(const cw_services *svcs, int i)
{
	int n = (int)svcs->cache->descriptor->n_methods;
	if (i >= 0 && i < n)
		return svcs->cache->descriptor->methods[i].name;
	if (svcs->health != NULL && i >= n &&
	    i - n < (int)svcs->health->descriptor->n_methods)
		return svcs->health->descriptor->methods[i - n].name;
	return "unknown";
}

void cw_dispatch(const cw_services *svcs, cw_auth *auth, const cw_request *req,
    int default_timeout_ms, cw_call *call, cw_reply_sink *sink)
{
	ProtobufCService *svc = svcs->cache;
	const ProtobufCMethodDescriptor *m = NULL;

	*call = (cw_call){
	    .err = {.code = CW_OK},
	    .timeout_ms = default_timeout_ms,
	    .method = call->method_buf,
	    .method_index = -1,
	    .sink = sink,
	};
	atomic_init(&call->holds, 2); /* this function + the reply */
	atomic_init(&call->replied, false);

	/* A name with a NUL byte, or too long to be ours, matches nothing:
	 * keep what fits, for the message. */
	size_t n = req->method_len < sizeof call->method_buf - 1
	               ? req->method_len
	               : sizeof call->method_buf - 1;
	if (n > 0)
		memcpy(call->method_buf, req->method, n);
	call->method_buf[n] = '\0';
	if (req->timeout_ms > 0)
		call->timeout_ms =
		    req->timeout_ms > INT_MAX ? INT_MAX : (int)req->timeout_ms;
	/* The health check is for anyone: probes carry no token. */
	if (strlen(call->method_buf) == req->method_len &&
	    of_service(svcs->health, call->method_buf)) {
		svc = svcs->health;
		auth = NULL;
	}
	const ProtobufCServiceDescriptor *sd = svc->descriptor;
	/* Who asks, before anything else is done for them: an unknown
	 * caller learns nothing of the methods and gets nothing decoded. */
	if (auth != NULL &&
	    cw_auth_check(auth, req->token, req->token_len, req->ns,
	        req->ns_len, call->ns, &call->err) != CW_OK)
		goto answer;
	if (strlen(call->method_buf) != req->method_len) {
		cw_error_set(&call->err, CW_UNIMPLEMENTED,
		    "unknown method \"%.128s\"", call->method_buf);
		goto answer;
	}
	if ((m = find_method(svc, call->method_buf, call)) == NULL)
		goto answer;
	call->method_index = (int)(m - sd->methods);
	if (svc != svcs->cache)
		call->method_index += (int)svcs->cache->descriptor->n_methods;
	call->input = protobuf_c_message_unpack(
	    m->input, NULL, req->payload_len, req->payload);
	if (call->input == NULL) {
		cw_error_set(&call->err, CW_INVALID_ARGUMENT,
		    "payload of %s is not a valid %s (%zu bytes)",
		    call->method_buf, m->input->name, req->payload_len);
		goto answer;
	}
	svc->invoke(
	    svc, (unsigned)(m - sd->methods), call->input, on_response, call);
	release(call);
	return;
answer:
	on_response(NULL, call);
	release(call);
}

void cw_dispatch_refuse(
    cw_call *call, cw_reply_sink *sink, int code, const char *message)
{
	*call = (cw_call){
	    .err = {.code = CW_OK},
	    .method = call->method_buf,
	    .method_index = -1,
	    .sink = sink,
	};
	call->method_buf[0] = '\0';
	atomic_init(&call->holds, 1); /* the reply only */
	atomic_init(&call->replied, false);
	cw_error_set(&call->err, code, "%s", message);
	on_response(NULL, call);
}
