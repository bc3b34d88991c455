/*
 * options.c - cw_open's options that need checking or files: TLS (the
 * CA, client certificate and key, read here so that errors name them),
 * the token and the namespace (client_internal.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#include "client_internal.h"

/* Largest PEM file read; CA bundles are a few hundred KiB. */
#define PEM_MAX_BYTES ((size_t)1024 * 1024)
#define TOKEN_MAX     4096
#define NAMESPACE_MAX 64

/* memset through a volatile pointer: not optimised away before free(). */
static void *(*const volatile wipe_memset)(void *, int, size_t) = memset;

void cw__wipe(void *p, size_t n)
{
	wipe_memset(p, 0, n);
}

void cw__wipe_free(char *s)
{
	if (s != NULL) {
		wipe_memset(s, 0, strlen(s));
		free(s);
	}
}

bool cw__is_set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

bool cw__is_tls_url(const char *url)
{
	return strncasecmp(url, "tls+tcp://", 10) == 0 ||
	       strncasecmp(url, "tls+tcp4://", 11) == 0 ||
	       strncasecmp(url, "tls+tcp6://", 11) == 0;
}

/* The checks that need no file and no nng. */
int cw__check_options(
    const char *url, const cw_client_options *o, cw_error *err)
{
	static const char ns_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                               "abcdefghijklmnopqrstuvwxyz"
	                               "0123456789_.-";
	const char *tls_opt = cw__is_set(o->tls_ca_file)     ? "tls_ca_file"
	                      : cw__is_set(o->tls_cert_file) ? "tls_cert_file"
	                      : cw__is_set(o->tls_key_file)  ? "tls_key_file"
	                      : cw__is_set(o->tls_server_name)
	                          ? "tls_server_name"
	                          : NULL;
	size_t n;

	if (!cw__is_tls_url(url) && tls_opt != NULL)
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "TLS options need a tls+tcp:// URL (%s is set; the URL is "
		    "'%s')",
		    tls_opt, url);
	if (cw__is_tls_url(url) && !cw__is_set(o->tls_ca_file))
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "tls+tcp:// needs tls_ca_file (the CA that signed the "
		    "server's certificate)");
	if (cw__is_set(o->tls_cert_file) != cw__is_set(o->tls_key_file))
		return cw_error_set(err, CW_INVALID_ARGUMENT,
		    "tls_cert_file and tls_key_file go together: the client "
		    "certificate and its private key (%s is not set)",
		    cw__is_set(o->tls_cert_file) ? "tls_key_file"
		                                 : "tls_cert_file");
	if (cw__is_set(o->token)) {
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
	if (cw__is_set(o->namespace_)) {
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
 * every dialer gets, and the diagnosis' two (diag.c).
 */
int cw__tls_setup(
    struct cw_client *c, const cw_client_options *o, cw_error *err)
{
	char *ca = NULL, *cert = NULL, *key = NULL;
	nng_url *u = NULL;
	const char *name;
	int rc = CW_OK, rv = 0, i;

	c->tls_has_cert = cw__is_set(o->tls_cert_file);
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
	if (cw__is_set(o->tls_server_name)) {
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
