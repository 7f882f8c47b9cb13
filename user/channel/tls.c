// SPDX-License-Identifier: GPL-2.0-or-later
/* TLS 1.3 contexts. The server's certificate is configured, or generated
 * once (EC P-256, self-signed, 30 years) into the spool directory and reused,
 * so that sensors can pin its fingerprint across restarts. The sensor
 * trusts a pinned fingerprint, a CA, or (neither configured) the first
 * certificate it sees, and always logs which one it accepted. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "channel/chan_int.h"
#include "core/log.h"

#define TLS_CERT_FILE "channel-cert.pem"
#define TLS_KEY_FILE "channel-key.pem"
#define TLS_CERT_DAYS (30 * 365)

static const char *ssl_why(void)
{
	unsigned long e = ERR_get_error();

	ERR_clear_error();
	return e ? ERR_reason_error_string(e) ?: "unknown" : "unknown";
}

static SSL_CTX *tls13_ctx(const SSL_METHOD *m)
{
	SSL_CTX *s = SSL_CTX_new(m);

	if (!s)
		return NULL;
	SSL_CTX_set_min_proto_version(s, TLS1_3_VERSION);
	SSL_CTX_set_max_proto_version(s, TLS1_3_VERSION);
	SSL_CTX_set_session_cache_mode(s, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(s, SSL_MODE_ENABLE_PARTIAL_WRITE |
				    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return s;
}

static void cert_fp(const X509 *x, char out[96])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (X509_digest(x, EVP_sha256(), md, &n) == 1 && n == 32)
		vs_chan__fp_format(md, out);
	else
		snprintf(out, 96, "?");
}

static X509 *make_cert(EVP_PKEY *pk)
{
	X509 *x = X509_new();
	BIGNUM *bn = BN_new();
	X509_NAME *nm;
	int ok;

	ok = x && bn && X509_set_version(x, 2) &&
	     BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) &&
	     BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) &&
	     X509_gmtime_adj(X509_getm_notBefore(x), -86400) &&
	     X509_time_adj_ex(X509_getm_notAfter(x), TLS_CERT_DAYS, 0, NULL) &&
	     X509_set_pubkey(x, pk);
	nm = ok ? X509_get_subject_name(x) : NULL;
	ok = ok && nm &&
	     X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
					(const unsigned char *)"voxsense channel server",
					-1, -1, 0) &&
	     X509_set_issuer_name(x, nm) && X509_sign(x, pk, EVP_sha256());
	BN_free(bn);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* Writes through a temporary file and rename, so a crash leaves either the
 * old file or the new one; the key is 0600 from its first byte. */
static int write_pem(const char *path, mode_t mode, X509 *x, EVP_PKEY *pk)
{
	char tmp[PATH_MAX];
	FILE *f;
	int fd, ok, err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid()) >=
	    (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	fchmod(fd, mode);
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		goto out;
	}
	ok = x ? PEM_write_X509(f, x) :
		 PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL);
	if (!ok || fflush(f) || fsync(fileno(f)))
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
out:
	if (err)
		unlink(tmp);
	return err;
}

static int generate(const char *cert, const char *key, X509 **x,
		    EVP_PKEY **pk)
{
	int err;

	*pk = EVP_EC_gen("P-256");
	*x = *pk ? make_cert(*pk) : NULL;
	if (!*x)
		return -EIO;
	err = write_pem(key, 0600, NULL, *pk);
	if (!err)
		err = write_pem(cert, 0644, *x, NULL);
	return err;
}

static int load(const char *cert, const char *key, X509 **x, EVP_PKEY **pk)
{
	FILE *f = fopen(key, "re");
	struct stat sb;

	if (!f)
		return -errno;
	if (!fstat(fileno(f), &sb) && (sb.st_mode & 077))
		vs_warn("channel: %s is readable by others (mode %03o): chmod 600 it",
			key, (unsigned)(sb.st_mode & 0777));
	*pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	f = fopen(cert, "re");
	if (!f)
		return -errno;
	*x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return *pk && *x ? 0 : -EINVAL;
}

static int server_cert(const struct vs_chan_opts *o, X509 **x, EVP_PKEY **pk)
{
	char cert[PATH_MAX], key[PATH_MAX];
	int err;

	if (o->tls_cert || o->tls_key) {
		if (!o->tls_cert || !o->tls_key) {
			vs_err("channel: server_tls_cert and server_tls_key go together");
			return -EINVAL;
		}
		err = load(o->tls_cert, o->tls_key, x, pk);
		if (err)
			vs_err("channel: cannot load %s / %s: %s", o->tls_cert,
			       o->tls_key, err == -EINVAL ? "not PEM" : strerror(-err));
		return err;
	}
	if (!o->tls_dir) {
		vs_err("channel: no server certificate and no directory to keep one in");
		return -EINVAL;
	}
	snprintf(cert, sizeof(cert), "%s/%s", o->tls_dir, TLS_CERT_FILE);
	snprintf(key, sizeof(key), "%s/%s", o->tls_dir, TLS_KEY_FILE);
	if (!access(cert, F_OK) && !access(key, F_OK)) {
		err = load(cert, key, x, pk);
		if (err)
			vs_err("channel: cannot load %s / %s: %s", cert, key,
			       err == -EINVAL ? "not PEM" : strerror(-err));
		return err;
	}
	mkdir(o->tls_dir, 0755);
	err = generate(cert, key, x, pk);
	if (err)
		vs_err("channel: cannot create %s: %s", cert, strerror(-err));
	else
		vs_info("channel: created server certificate %s", cert);
	return err;
}

int chan_tls_server_ctx(struct vs_chan_ctx *ctx, const struct vs_chan_opts *o)
{
	EVP_PKEY *pk = NULL;
	X509 *x = NULL;
	int err;

	ctx->ssl = tls13_ctx(TLS_server_method());
	if (!ctx->ssl)
		return -ENOMEM;
	/* Sensors never resume: no tickets to send or to keep. */
	SSL_CTX_set_num_tickets(ctx->ssl, 0);
	err = server_cert(o, &x, &pk);
	if (err)
		goto out;
	if (SSL_CTX_use_certificate(ctx->ssl, x) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx->ssl, pk) != 1 ||
	    SSL_CTX_check_private_key(ctx->ssl) != 1) {
		vs_err("channel: server certificate and key unusable: %s",
		       ssl_why());
		err = -EINVAL;
		goto out;
	}
	cert_fp(x, ctx->fingerprint);
	vs_info("channel: server certificate SHA-256 fingerprint %s",
		ctx->fingerprint);
out:
	X509_free(x);
	EVP_PKEY_free(pk);
	return err;
}

int chan_tls_client_ctx(struct vs_chan_ctx *ctx, const struct vs_chan_opts *o)
{
	ctx->ssl = tls13_ctx(TLS_client_method());
	if (!ctx->ssl)
		return -ENOMEM;
	if (o->tls_fingerprint && o->tls_fingerprint[0]) {
		if (vs_chan__fp_parse(o->tls_fingerprint, ctx->pin)) {
			vs_err("channel: server_tls_fingerprint is not 32 hex bytes: %s",
			       o->tls_fingerprint);
			return -EINVAL;
		}
		ctx->pin_set = true;
	}
	if (o->tls_ca && o->tls_ca[0]) {
		if (SSL_CTX_load_verify_locations(ctx->ssl, o->tls_ca, NULL) !=
		    1) {
			vs_err("channel: cannot load server_tls_ca %s: %s",
			       o->tls_ca, ssl_why());
			return -EINVAL;
		}
		SSL_CTX_set_verify(ctx->ssl, SSL_VERIFY_PEER, NULL);
		ctx->ca_set = true;
	}
	return 0;
}

int chan_tls_check_server(struct vs_chan_ctx *ctx, SSL *ssl,
			  struct vs_chan_peer *peer, char *err, size_t esz)
{
	X509 *x = SSL_get1_peer_certificate(ssl);
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	int rc = 0;

	if (!x || X509_digest(x, EVP_sha256(), md, &n) != 1 || n != 32) {
		snprintf(err, esz, "server sent no usable certificate");
		X509_free(x);
		return -EPERM;
	}
	vs_chan__fp_format(md, peer->fingerprint);
	X509_free(x);
	if (ctx->pin_set && memcmp(md, ctx->pin, 32)) {
		snprintf(err, esz,
			 "server certificate %s does not match server_tls_fingerprint",
			 peer->fingerprint);
		rc = -EPERM;
	} else if (ctx->pin_set || ctx->ca_set) {
		vs_info("channel: %s: accepted server certificate %s (%s)",
			peer->addr, peer->fingerprint,
			ctx->pin_set ? "pinned" : "verified by server_tls_ca");
	} else if (!ctx->tofu_set) {
		vs_warn("channel: %s: accepted server certificate %s without verification; "
			"pin it with server_tls_fingerprint = %s",
			peer->addr, peer->fingerprint, peer->fingerprint);
	} else if (memcmp(md, ctx->tofu, 32)) {
		char before[96];

		vs_chan__fp_format(ctx->tofu, before);
		vs_warn("channel: %s: server certificate CHANGED from %s to %s; accepted "
			"without verification (another server, or someone in between: "
			"pin it with server_tls_fingerprint)",
			peer->addr, before, peer->fingerprint);
	}
	if (!rc && !ctx->pin_set && !ctx->ca_set) {
		memcpy(ctx->tofu, md, 32);
		ctx->tofu_set = true;
	}
	return rc;
}

/* A socket BIO that writes with MSG_NOSIGNAL: a peer that resets the
 * connection must cost us an error code, not the process (SIGPIPE), whatever
 * the embedding program did with its signals. */
static int nosig_write(BIO *b, const char *buf, int len)
{
	int fd = -1, r;

	BIO_get_fd(b, &fd);
	errno = 0;
	r = (int)send(fd, buf, (size_t)len, MSG_NOSIGNAL);
	BIO_clear_retry_flags(b);
	if (r <= 0 && BIO_sock_should_retry(r))
		BIO_set_retry_write(b);
	return r;
}

BIO_METHOD *chan_tls_bio_method(void)
{
	const BIO_METHOD *s = BIO_s_socket();
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK |
					     BIO_TYPE_DESCRIPTOR,
				     "voxsense channel socket");

	if (!m)
		return NULL;
	if (!BIO_meth_set_write(m, nosig_write) ||
	    !BIO_meth_set_read(m, BIO_meth_get_read(s)) ||
	    !BIO_meth_set_puts(m, BIO_meth_get_puts(s)) ||
	    !BIO_meth_set_ctrl(m, BIO_meth_get_ctrl(s)) ||
	    !BIO_meth_set_create(m, BIO_meth_get_create(s)) ||
	    !BIO_meth_set_destroy(m, BIO_meth_get_destroy(s))) {
		BIO_meth_free(m);
		return NULL;
	}
	return m;
}
