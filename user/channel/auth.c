// SPDX-License-Identifier: GPL-2.0-or-later
/* Password proofs. Both sides stretch server_password into a key once
 * (PBKDF2), then prove knowledge of it with an HMAC over the TLS session's
 * exported keying material and a hash of the HELLO and AUTH_CHALLENGE
 * payloads (which hold both nonces): a proof is worthless on any other
 * TLS session, and the password never crosses the wire (docs/channel.md). */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <string.h>

#include "channel/chan_int.h"

/* Each offline guess costs this many HMACs: an eavesdropper cannot guess at
 * all (TLS), an active impostor without pinning pays this per guess. */
#define AUTH_PBKDF2_ITER 60000
#define AUTH_SALT "voxsense-channel-v1"

int chan_auth_derive(const char *password, uint8_t key[CHAN_KEY_LEN])
{
	if (!PKCS5_PBKDF2_HMAC(password, strlen(password),
			       (const unsigned char *)AUTH_SALT,
			       strlen(AUTH_SALT), AUTH_PBKDF2_ITER,
			       EVP_sha256(), CHAN_KEY_LEN, key))
		return -EIO;
	return 0;
}

void chan_auth_mac(const uint8_t key[CHAN_KEY_LEN], const char *label,
		   const struct vs_chan_hs *hs, uint8_t out[CHAN_MAC_LEN])
{
	uint8_t msg[64 + 32 + 32 + 32];
	size_t ll = strlen(label), n = 0;
	unsigned int olen = CHAN_MAC_LEN;

	if (ll > 64)
		ll = 64;
	memcpy(msg, label, ll);
	n = ll;
	memcpy(msg + n, hs->exporter, 32);
	n += 32;
	memcpy(msg + n, hs->h_hello, 32);
	n += 32;
	memcpy(msg + n, hs->h_chal, 32);
	n += 32;
	HMAC(EVP_sha256(), key, CHAN_KEY_LEN, msg, n, out, &olen);
}

void chan_hex(const uint8_t *p, size_t n, char *out)
{
	static const char dig[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = dig[p[i] >> 4];
		out[2 * i + 1] = dig[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int unhex1(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly 2n hex digits, ':' allowed between bytes. */
int chan_unhex(const char *s, uint8_t *out, size_t n)
{
	size_t i = 0;
	int hi, lo;

	while (i < n) {
		if (*s == ':' && i)
			s++;
		hi = unhex1(s[0]);
		lo = hi < 0 ? -1 : unhex1(s[1]);
		if (lo < 0)
			return -EINVAL;
		out[i++] = (uint8_t)(hi << 4 | lo);
		s += 2;
	}
	return *s ? -EINVAL : 0;
}

void vs_chan__fp_format(const uint8_t md[32], char *out)
{
	static const char dig[] = "0123456789ABCDEF";
	int i;

	for (i = 0; i < 32; i++) {
		out[3 * i] = dig[md[i] >> 4];
		out[3 * i + 1] = dig[md[i] & 15];
		out[3 * i + 2] = i < 31 ? ':' : '\0';
	}
}

int vs_chan__fp_parse(const char *s, uint8_t md[32])
{
	return chan_unhex(s, md, 32);
}
