/* admin.c - /healthz, /readyz and /metrics over nng's HTTP server. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "admin.h"

struct cw_admin {
	nng_http_server *http;
	nng_url *url;
};

/* Answer the request with status and body (copied). */
static void reply(nng_aio *aio, uint16_t status, const char *type,
    const void *body, size_t len)
{
	nng_http_res *res;
	int rv;

	if ((rv = nng_http_res_alloc(&res)) != 0) {
		nng_aio_finish(aio, rv); /* nng answers 500 */
		return;
	}
	if ((rv = nng_http_res_set_status(res, status)) != 0 ||
	    (rv = nng_http_res_set_header(res, "Content-Type", type)) != 0 ||
	    (rv = nng_http_res_set_header(res, "Cache-Control", "no-store")) !=
	        0 ||
	    (rv = nng_http_res_copy_data(res, body, len)) != 0) {
		nng_http_res_free(res);
		nng_aio_finish(aio, rv);
		return;
	}
	nng_aio_set_output(aio, 0, res);
	nng_aio_finish(aio, 0);
}

static cw_daemon *daemon_of(nng_aio *aio)
{
	return nng_http_handler_get_data(nng_aio_get_input(aio, 1));
}

#define TEXT "text/plain; charset=utf-8"

static void healthz(nng_aio *aio)
{
	reply(aio, 200, TEXT, "ok\n", 3);
}

static void readyz(nng_aio *aio)
{
	char why[400], body[440];

	if (cw_daemon_ready(daemon_of(aio), why, sizeof why)) {
		reply(aio, 200, TEXT, "ready\n", 6);
		return;
	}
	int n = snprintf(body, sizeof body, "not ready: %s\n", why);
	reply(aio, 503, TEXT, body,
	    n < 0                     ? 0
	    : (size_t)n < sizeof body ? (size_t)n
	                              : sizeof body - 1);
}

static void metrics(nng_aio *aio)
{
	size_t len;
	char *text = cw_metrics_render(daemon_of(aio), &len);

	if (text == NULL) {
		reply(aio, 500, TEXT, "out of memory\n", 14);
		return;
	}
	reply(aio, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
	free(text);
}

int cw_admin_start(cw_admin **out, const char *url, cw_daemon *d, cw_error *err)
{
	static const struct {
		const char *path;
		void (*cb)(nng_aio *);
	} routes[] = {
	    {"/healthz", healthz},
	    {"/readyz", readyz},
	    {"/metrics", metrics},
	};
	cw_admin *a = calloc(1, sizeof *a);
	int rv;

	if (a == NULL)
		return cw_error_set(err, CW_INTERNAL, "out of memory");
	if ((rv = nng_url_parse(&a->url, url)) != 0 ||
	    (rv = nng_http_server_hold(&a->http, a->url)) != 0) {
		cw_error_set(err, CW_INVALID_ARGUMENT, "admin.listen %s: %s",
		    url, nng_strerror(rv));
		goto fail;
	}
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		nng_http_handler *h;
		if ((rv = nng_http_handler_alloc(
		         &h, routes[i].path, routes[i].cb)) != 0)
			goto nomem;
		if ((rv = nng_http_handler_set_data(h, d, NULL)) != 0 ||
		    (rv = nng_http_server_add_handler(a->http, h)) != 0) {
			nng_http_handler_free(h);
			goto nomem;
		}
	}
	if ((rv = nng_http_server_start(a->http)) != 0) {
		cw_error_set(err, CW_UNAVAILABLE,
		    "cannot listen on admin.listen %s: %s", url,
		    nng_strerror(rv));
		goto fail;
	}
	*out = a;
	return CW_OK;
nomem:
	cw_error_set(err, CW_INTERNAL, "admin endpoint: %s", nng_strerror(rv));
fail:
	cw_admin_stop(a);
	return err->code;
}

void cw_admin_stop(cw_admin *a)
{
	if (a == NULL)
		return;
	if (a->http != NULL) {
		nng_http_server_stop(a->http);
		nng_http_server_release(a->http);
	}
	if (a->url != NULL)
		nng_url_free(a->url);
	free(a);
}
