/*
 * tls.c - the gRPC listeners' TLS (OpenSSL): the server's certificate
 * and key, the CAs client certificates must be signed by (mutual TLS),
 * the lowest version, and ALPN: only "h2" is chosen, as gRPC requires.
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "grpc_internal.h"

/* Choose "h2" from the client's list, or refuse the handshake. */
static int alpn_select(SSL *ssl, const unsigned char **out,
    unsigned char *outlen, const unsigned char *in, unsigned int inlen,
    void *arg)
{
	(void)ssl;
	(void)arg;
	for (unsigned int i = 0; i < inlen; i += 1u + in[i]) {
		if (in[i] == 2 && i + 3 <= inlen &&
		    memcmp(in + i + 1, "h2", 2) == 0) {
			*out = in + i + 1;
			*outlen = 2;
			return SSL_TLSEXT_ERR_OK;
		}
	}
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* The last OpenSSL error as text. */
static const char *ssl_why(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();
	if (e == 0)
		return "unknown error";
	ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

SSL_CTX *cw__grpc_tls_context(const cw_grpc_tls *t, cw_error *err)
{
	char why[256];
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL) {
		cw_error_set(
		    err, CW_INTERNAL, "TLS: %s", ssl_why(why, sizeof why));
		return NULL;
	}
	SSL_CTX_set_min_proto_version(
	    ctx, t->min_version == 13 ? TLS1_3_VERSION : TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	                          SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* HTTP/2 forbids renegotiation and compression (RFC 9113 9.2). */
	SSL_CTX_set_options(
	    ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_use_certificate_chain_file(ctx, t->cert_file) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, t->key_file, SSL_FILETYPE_PEM) !=
	        1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		cw_error_set(err, CW_INVALID_ARGUMENT,
		    "tls.cert_file \"%s\" and tls.key_file \"%s\" are not a "
		    "PEM certificate and its unencrypted private key: %s",
		    t->cert_file, t->key_file, ssl_why(why, sizeof why));
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (t->client_ca_file != NULL && t->client_ca_file[0] != '\0') {
		STACK_OF(X509_NAME) *names =
		    SSL_load_client_CA_file(t->client_ca_file);
		if (names == NULL || SSL_CTX_load_verify_locations(
		                         ctx, t->client_ca_file, NULL) != 1) {
			if (names != NULL)
				sk_X509_NAME_pop_free(names, X509_NAME_free);
			cw_error_set(err, CW_INVALID_ARGUMENT,
			    "tls.client_ca_file \"%s\": not usable as PEM CA "
			    "certificates: %s",
			    t->client_ca_file, ssl_why(why, sizeof why));
			SSL_CTX_free(ctx);
			return NULL;
		}
		SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_verify(ctx,
		    SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
	return ctx;
}
