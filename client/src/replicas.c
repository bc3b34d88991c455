/*
 * replicas.c - one client over several cachewired replicas (cw_open with
 * "url1,url2,..."): a front whose members are clients of one URL each.
 *
 * Each call goes to the next member in turn that has a connection up (a
 * replica that is down is skipped; when none is up, simply the next; see
 * wait_any_up for a client just opened). A
 * call other than Clear that fails with CW_UNAVAILABLE (its replica went
 * away, is stopping, or could not be reached) is sent once more, to
 * another member, with what is left of its timeout. Clear is not: it is
 * not idempotent in what it reports (a second run counts nothing).
 */
#include <stdlib.h>
#include <string.h>

#include "cachewire/v1/cache.pb-c.h"
#include "client_internal.h"

#define MAX_REPLICAS 64

static bool retriable(const struct cw_client *front, unsigned method_index)
{
	const char *name =
	    front->service.descriptor->methods[method_index].name;
	return front->nmembers > 1 && strcmp(name, "Clear") != 0;
}

/* The member to use next, other than avoid (-1: none to avoid). */
static int pick(struct cw_client *front, int avoid)
{
	int n = front->nmembers;
	unsigned start = atomic_fetch_add(&front->next, 1);
	int fallback = -1;

	for (int k = 0; k < n; k++) {
		int i = (int)((start + (unsigned)k) % (unsigned)n);
		if (i == avoid)
			continue;
		if (atomic_load(&front->members[i]->npipes) > 0)
			return i;
		if (fallback < 0)
			fallback = i;
	}
	return fallback >= 0 ? fallback : avoid;
}

/*
 * A blocking call on a client whose replicas are all still connecting
 * (just opened: the CLI) waits for the first to be up, for at most half
 * its timeout and WAIT_UP_MS, so that a replica that is down is skipped
 * then too. Async calls never wait: they take the next in turn.
 */
#define WAIT_UP_MS 1000

static void wait_any_up(struct cw_client *front, int timeout_ms)
{
	int budget = timeout_ms / 2 < WAIT_UP_MS ? timeout_ms / 2 : WAIT_UP_MS;

	for (int waited = 0; waited < budget; waited++) {
		for (int i = 0; i < front->nmembers; i++)
			if (atomic_load(&front->members[i]->npipes) > 0)
				return;
		nng_msleep(1);
	}
}

/* Milliseconds left until deadline (0: none). */
static int left_ms(nng_time deadline)
{
	nng_time now = nng_clock();
	return now >= deadline ? 0 : (int)(deadline - now);
}

/* ---- asynchronous calls ---- */

typedef struct attempt {
	struct cw_client *front;
	unsigned method_index;
	int member;
	bool retried;
	nng_time deadline;
	struct cw_call *call;
	size_t len; /* the request, packed, for the retry */
	uint8_t packed[];
} attempt;

static void attempt_done(
    void *arg, int status, const cw_error *err, ProtobufCMessage *resp)
{
	attempt *a = arg;
	struct cw_call *call = a->call;
	int left = left_ms(a->deadline);

	if (status == CW_UNAVAILABLE && !a->retried && left > 0 &&
	    retriable(a->front, a->method_index)) {
		const ProtobufCMethodDescriptor *md =
		    &a->front->service.descriptor->methods[a->method_index];
		ProtobufCMessage *in = protobuf_c_message_unpack(
		    md->input, NULL, a->len, a->packed);
		cw_error e;
		a->retried = true;
		a->member = pick(a->front, a->member);
		if (in != NULL && cw__xfer_start(a->front->members[a->member],
		                      a->method_index, in, left, attempt_done,
		                      a, &e) == CW_OK) {
			protobuf_c_message_free_unpacked(in, NULL);
			return;
		}
		protobuf_c_message_free_unpacked(in, NULL);
	}
	free(a);
	call->status = status;
	if (status != CW_OK && err != NULL)
		call->async_err = *err;
	cw__call_async_done(resp, call);
}

static int start_async(struct cw_client *front, unsigned method_index,
    const ProtobufCMessage *input, int timeout_ms, struct cw_call *call)
{
	size_t len = protobuf_c_message_get_packed_size(input);
	attempt *a = malloc(sizeof *a + len);

	if (a == NULL)
		return cw_error_set(call->err, CW_INTERNAL, "out of memory");
	*a = (attempt){.front = front,
	    .method_index = method_index,
	    .member = pick(front, -1),
	    .deadline = nng_clock() + (nng_time)timeout_ms,
	    .call = call,
	    .len = len};
	protobuf_c_message_pack(input, a->packed);
	int rc = cw__xfer_start(front->members[a->member], method_index, input,
	    timeout_ms, attempt_done, a, call->err);
	if (rc != CW_OK)
		free(a);
	return rc;
}

/* ---- invoke ---- */

void cw__replicas_invoke(struct cw_client *front, unsigned method_index,
    const ProtobufCMessage *input, ProtobufCClosure closure, void *closure_data)
{
	bool own = closure == cw__call_done || closure == cw__call_async_done;
	struct cw_call *call = own ? closure_data : NULL;
	int timeout_ms = front->timeout_ms;
	ProtobufCMessage *resp = NULL;

	if (call != NULL && call->timeout_ms > 0)
		timeout_ms = call->timeout_ms;
	if (closure == cw__call_async_done) {
		int *start_rc = call->start_rc; /* call may be gone after */
		*start_rc =
		    start_async(front, method_index, input, timeout_ms, call);
		return;
	}
	nng_time deadline = nng_clock() + (nng_time)timeout_ms;
	wait_any_up(front, timeout_ms);
	int m = pick(front, -1);
	timeout_ms = left_ms(deadline);
	int rc = cw__round_trip(front->members[m], method_index, input,
	    timeout_ms, &resp, call != NULL ? call->err : NULL);
	int left = left_ms(deadline);
	if (rc == CW_UNAVAILABLE && left > 0 &&
	    method_index < front->service.descriptor->n_methods &&
	    retriable(front, method_index))
		rc =
		    cw__round_trip(front->members[pick(front, m)], method_index,
		        input, left, &resp, call != NULL ? call->err : NULL);
	if (call != NULL)
		call->status = rc;
	if (closure != NULL)
		closure(resp, closure_data);
	if (call == NULL && resp != NULL)
		protobuf_c_message_free_unpacked(resp, &cw__response_allocator);
}

/* ---- open and close ---- */

int cw__replicas_open(struct cw_client **out, const char *urls,
    const cw_client_options *opts, cw_error *err)
{
	static const ProtobufCService base = CACHEWIRE__V1__CACHE__BASE_INIT;
	struct cw_client *front = calloc(1, sizeof *front);
	char *list = strdup(urls), *save = NULL;
	int rc = CW_OK;

	if (front == NULL || list == NULL ||
	    (front->members = calloc(MAX_REPLICAS, sizeof *front->members)) ==
	        NULL ||
	    (front->url = strdup(urls)) == NULL) {
		rc = cw_error_set(err, CW_INTERNAL, "out of memory");
		goto fail;
	}
	for (char *u = strtok_r(list, ",", &save); u != NULL;
	     u = strtok_r(NULL, ",", &save)) {
		u += strspn(u, " \t");
		size_t n = strlen(u);
		while (n > 0 && (u[n - 1] == ' ' || u[n - 1] == '\t'))
			u[--n] = '\0';
		if (n == 0)
			continue;
		if (front->nmembers == MAX_REPLICAS) {
			rc = cw_error_set(err, CW_INVALID_ARGUMENT,
			    "more than %d server URLs", MAX_REPLICAS);
			goto fail;
		}
		cw_error why;
		if ((rc = cw_open(&front->members[front->nmembers], u, opts,
		         &why)) != CW_OK) {
			cw_error_set(err, rc, "%s", why.message);
			goto fail;
		}
		front->nmembers++;
	}
	if (front->nmembers == 0) {
		rc = cw_error_set(
		    err, CW_INVALID_ARGUMENT, "no server URL in '%s'", urls);
		goto fail;
	}
	front->service = base;
	front->service.invoke = cw__client_invoke;
	front->service.destroy = NULL;
	front->timeout_ms = front->members[0]->timeout_ms;
	/* Processes making one call each (the CLI) spread too. */
	atomic_init(&front->next, nng_random());
	free(list);
	*out = front;
	return CW_OK;
fail:
	free(list);
	if (front != NULL)
		cw__replicas_close(front);
	return rc;
}

void cw__replicas_close(struct cw_client *front)
{
	for (int i = 0; front->members != NULL && i < front->nmembers; i++)
		cw_close(front->members[i]);
	free(front->members);
	free(front->url);
	free(front);
}
