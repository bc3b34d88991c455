/*
 * stream.c - large values in chunks (cachewire.h, "large values"): the
 * chunked RPCs one by one, and the streaming calls made of them.
 *
 * cw_set_from holds one chunk: read it, put it, read the next. cw_get_to
 * holds one range reply at a time. Either way memory stays at about one
 * chunk (the server's chunk_bytes, 1 MiB by default) whatever the value's
 * size.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cachewire/v1/cache.pb-c.h"

#include "client_internal.h"

static int check_id(const char *id, cw_error *err)
{
	if (id == NULL || *id == '\0')
		return cw_error_set(err, CW_INVALID_ARGUMENT, "no upload_id");
	return CW_OK;
}

int cw_upload_begin(cw_client *c, const void *key, size_t key_len,
    cw_expiry expiry, int64_t total_size, cw_upload *out, int timeout_ms,
    cw_error *err)
{
	Cachewire__V1__BeginUploadRequest req =
	    CACHEWIRE__V1__BEGIN_UPLOAD_REQUEST__INIT;
	Cachewire__V1__BeginUploadResponse *resp;
	struct cw_call call;

	if (c == NULL || out == NULL || (key == NULL && key_len > 0))
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "cw_upload_begin needs a client, a key and out");
	req.key = (ProtobufCBinaryData){key_len, (uint8_t *)key};
	switch (expiry.kind) {
	case CW_EXPIRY_NONE:
		break;
	case CW_EXPIRY_TTL:
		req.expiry_case =
		    CACHEWIRE__V1__BEGIN_UPLOAD_REQUEST__EXPIRY_TTL_MS;
		req.ttl_ms = expiry.ms;
		break;
	case CW_EXPIRY_AT:
		req.expiry_case =
		    CACHEWIRE__V1__BEGIN_UPLOAD_REQUEST__EXPIRY_EXPIRE_AT_MS;
		req.expire_at_ms = expiry.ms;
		break;
	default:
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "unknown expiry kind %d", (int)expiry.kind);
	}
	if (total_size >= 0) {
		req.size_case =
		    CACHEWIRE__V1__BEGIN_UPLOAD_REQUEST__SIZE_TOTAL_SIZE;
		req.total_size = (uint64_t)total_size;
	}
	RUN(c, begin_upload, BeginUploadResponse, &req, &call, timeout_ms, err);
	if (call.status != CW_OK)
		return call.status;
	resp = (Cachewire__V1__BeginUploadResponse *)call.response;
	if (resp->upload_id == NULL || *resp->upload_id == '\0' ||
	    strlen(resp->upload_id) >= sizeof out->id ||
	    resp->chunk_bytes == 0) {
		cw__call_release(&call);
		return cw_error_set(err, CW_INTERNAL,
		    "the server's BeginUpload reply lacks an upload_id or "
		    "chunk_bytes");
	}
	memset(out, 0, sizeof *out);
	strcpy(out->id, resp->upload_id);
	out->chunk_bytes = resp->chunk_bytes;
	out->ttl_ms = resp->upload_ttl_ms;
	out->max_bytes = resp->max_bytes;
	cw__call_release(&call);
	return CW_OK;
}

int cw_upload_put(cw_client *c, const char *upload_id, uint64_t offset,
    const void *data, size_t len, int timeout_ms, cw_error *err)
{
	Cachewire__V1__PutChunkRequest req =
	    CACHEWIRE__V1__PUT_CHUNK_REQUEST__INIT;
	struct cw_call call;
	int rc;

	if (c == NULL)
		return cw_error_set(err, CW_INVALID_ARGUMENT, "no client");
	if ((rc = check_id(upload_id, err)) != CW_OK)
		return rc;
	req.upload_id = (char *)upload_id;
	req.offset = offset;
	req.data = (ProtobufCBinaryData){len, (uint8_t *)data};
	RUN(c, put_chunk, PutChunkResponse, &req, &call, timeout_ms, err);
	cw__call_release(&call);
	return call.status;
}

int cw_upload_commit(cw_client *c, const char *upload_id, uint64_t total_size,
    uint64_t *version, int timeout_ms, cw_error *err)
{
	Cachewire__V1__CommitUploadRequest req =
	    CACHEWIRE__V1__COMMIT_UPLOAD_REQUEST__INIT;
	struct cw_call call;
	int rc;

	if (c == NULL)
		return cw_error_set(err, CW_INVALID_ARGUMENT, "no client");
	if ((rc = check_id(upload_id, err)) != CW_OK)
		return rc;
	req.upload_id = (char *)upload_id;
	req.total_size = total_size;
	RUN(c, commit_upload, CommitUploadResponse, &req, &call, timeout_ms,
	    err);
	if (call.status == CW_OK && version != NULL)
		*version =
		    ((Cachewire__V1__CommitUploadResponse *)call.response)
		        ->version;
	cw__call_release(&call);
	return call.status;
}

int cw_upload_abort(cw_client *c, const char *upload_id, bool *existed,
    int timeout_ms, cw_error *err)
{
	Cachewire__V1__AbortUploadRequest req =
	    CACHEWIRE__V1__ABORT_UPLOAD_REQUEST__INIT;
	struct cw_call call;
	int rc;

	if (c == NULL)
		return cw_error_set(err, CW_INVALID_ARGUMENT, "no client");
	if ((rc = check_id(upload_id, err)) != CW_OK)
		return rc;
	req.upload_id = (char *)upload_id;
	RUN(c, abort_upload, AbortUploadResponse, &req, &call, timeout_ms, err);
	if (call.status == CW_OK && existed != NULL)
		*existed = ((Cachewire__V1__AbortUploadResponse *)call.response)
		               ->existed;
	cw__call_release(&call);
	return call.status;
}

int cw_get_range(cw_client *c, const void *key, size_t key_len, uint64_t offset,
    uint64_t length, uint64_t version, cw_range *out, int timeout_ms,
    cw_error *err)
{
	Cachewire__V1__GetRangeRequest req =
	    CACHEWIRE__V1__GET_RANGE_REQUEST__INIT;
	Cachewire__V1__GetRangeResponse *resp;
	struct cw_call call;
	uint8_t *data;

	if (c == NULL || out == NULL || (key == NULL && key_len > 0))
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "cw_get_range needs a client, a key and out");
	req.key = (ProtobufCBinaryData){key_len, (uint8_t *)key};
	req.offset = offset;
	req.length = length;
	req.version = version;
	RUN(c, get_range, GetRangeResponse, &req, &call, timeout_ms, err);
	if (call.status != CW_OK)
		return call.status;
	resp = (Cachewire__V1__GetRangeResponse *)call.response;
	/* take the bytes over: the response allocator left room for a NUL */
	data = resp->data.data;
	resp->data.data = NULL;
	if (data == NULL && (data = malloc(1)) == NULL) {
		cw__call_release(&call);
		return cw_error_set(err, CW_INTERNAL, "out of memory");
	}
	data[resp->data.len] = '\0';
	*out = (cw_range){
	    resp->found, resp->total_size, resp->version, data, resp->data.len};
	cw__call_release(&call);
	return CW_OK;
}

/* ---- streaming ---------------------------------------------------------- */

static const cw_stream_options no_options = {.total_size = -1};

/* Fill buf[0..len) from read as far as it goes; *got < len: the end. */
static int fill(cw_read_fn read, void *arg, uint8_t *buf, size_t len,
    size_t *got, cw_error *err)
{
	size_t n;

	*got = 0;
	while (*got < len) {
		if (read(arg, buf + *got, len - *got, &n) != 0)
			return cw_error_set(
			    err, CW_ABORTED, "the read callback failed");
		if (n == 0)
			break;
		*got += n;
	}
	return CW_OK;
}

int cw_set_from(cw_client *c, const void *key, size_t key_len, cw_read_fn read,
    void *arg, cw_expiry expiry, const cw_stream_options *o, uint64_t *version,
    cw_error *err)
{
	cw_upload up;
	uint8_t *buf;
	uint64_t done = 0;
	size_t got;
	int rc;

	if (o == NULL)
		o = &no_options;
	if (read == NULL)
		return cw_error_set(
		    err, CW_INVALID_ARGUMENT, "no read callback");
	if ((rc = cw_upload_begin(c, key, key_len, expiry, o->total_size, &up,
	         o->timeout_ms, err)) != CW_OK)
		return rc;
	if ((buf = malloc(up.chunk_bytes)) == NULL) {
		rc = cw_error_set(err, CW_INTERNAL, "out of memory");
		goto abort;
	}
	for (;;) {
		if ((rc = fill(read, arg, buf, up.chunk_bytes, &got, err)) !=
		    CW_OK)
			goto abort;
		if (got == 0)
			break;
		if (done + got > up.max_bytes) {
			rc = cw_error_set(err, CW_RESOURCE_EXHAUSTED,
			    "value is over the server's limit of %llu bytes",
			    (unsigned long long)up.max_bytes);
			goto abort;
		}
		if ((rc = cw_upload_put(c, up.id, done, buf, got, o->timeout_ms,
		         err)) != CW_OK)
			goto abort;
		done += got;
		if (o->progress != NULL)
			o->progress(o->progress_arg, done,
			    o->total_size > 0 ? (uint64_t)o->total_size : 0);
		if (got < up.chunk_bytes)
			break;
	}
	free(buf);
	buf = NULL;
	if ((rc = cw_upload_commit(
	         c, up.id, done, version, o->timeout_ms, err)) == CW_OK)
		return CW_OK;
abort:
	free(buf);
	/* best effort: an upload left behind expires by itself anyway */
	cw_upload_abort(c, up.id, NULL, o->timeout_ms, NULL);
	return rc;
}

static int fd_read(void *arg, void *buf, size_t len, size_t *got)
{
	ssize_t n;

	do
		n = read(*(int *)arg, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	*got = (size_t)n;
	return 0;
}

int cw_set_from_fd(cw_client *c, const void *key, size_t key_len, int fd,
    cw_expiry expiry, const cw_stream_options *o, uint64_t *version,
    cw_error *err)
{
	cw_stream_options mine = o != NULL ? *o : no_options;
	struct stat st;
	int rc;

	if (mine.total_size < 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		mine.total_size = (int64_t)st.st_size;
	rc = cw_set_from(
	    c, key, key_len, fd_read, &fd, expiry, &mine, version, err);
	if (rc == CW_ABORTED && err != NULL)
		cw_error_set(
		    err, CW_ABORTED, "reading fd %d: %s", fd, strerror(errno));
	return rc;
}

int cw_get_to(cw_client *c, const void *key, size_t key_len, bool *found,
    cw_write_fn write, void *arg, const cw_stream_options *o, cw_error *err)
{
	uint64_t at = 0, version = 0, total = 0;
	cw_range r;
	int rc;

	if (o == NULL)
		o = &no_options;
	if (write == NULL)
		return cw_error_set(
		    err, CW_INVALID_ARGUMENT, "no write callback");
	do {
		/* ask for "the rest": the server cuts it to one chunk */
		rc = cw_get_range(c, key, key_len, at, UINT64_MAX / 2, version,
		    &r, o->timeout_ms, err);
		if (rc != CW_OK)
			return rc;
		if (!r.found) {
			cw_free(r.data);
			if (found != NULL)
				*found = false;
			return CW_OK;
		}
		if (at == 0 && r.version == 0 && r.len < r.total_size) {
			/* written by Set: no version to read it safely in
			 * parts, but one Get returns it whole */
			void *v;
			size_t n;
			bool f;
			cw_free(r.data);
			if ((rc = cw_get(c, key, key_len, &f, &v, &n,
			         o->timeout_ms, err)) != CW_OK)
				return rc;
			if (f && n > 0 && write(arg, v, n) != 0)
				rc = cw_error_set(err, CW_ABORTED,
				    "the write callback failed");
			cw_free(v);
			if (rc == CW_OK && found != NULL)
				*found = f;
			if (rc == CW_OK && f && o->progress != NULL)
				o->progress(o->progress_arg, n, n);
			return rc;
		}
		version = r.version;
		total = r.total_size;
		if (r.len == 0 && at < total) {
			cw_free(r.data);
			return cw_error_set(err, CW_INTERNAL,
			    "the server sent no bytes at offset %llu of %llu",
			    (unsigned long long)at, (unsigned long long)total);
		}
		if (r.len > 0 && write(arg, r.data, r.len) != 0) {
			cw_free(r.data);
			return cw_error_set(
			    err, CW_ABORTED, "the write callback failed");
		}
		at += r.len;
		cw_free(r.data);
		if (o->progress != NULL)
			o->progress(o->progress_arg, at, total);
	} while (at < total);
	if (found != NULL)
		*found = true;
	return CW_OK;
}

static int fd_write(void *arg, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = write(*(int *)arg, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int cw_get_to_fd(cw_client *c, const void *key, size_t key_len, bool *found,
    int fd, const cw_stream_options *o, cw_error *err)
{
	int rc = cw_get_to(c, key, key_len, found, fd_write, &fd, o, err);

	if (rc == CW_ABORTED && err != NULL)
		cw_error_set(
		    err, CW_ABORTED, "writing fd %d: %s", fd, strerror(errno));
	return rc;
}
