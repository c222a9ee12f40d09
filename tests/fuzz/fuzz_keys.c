/*
 * fuzz_keys.c - the key parsers of src/identity/: SPKI DER (spki_key_type,
 * spki_verify), the SPKI inside a certificate (spki_from_cert) and the
 * identity key file (idkey_load).
 *
 * The first byte picks the parser; the rest is its input.  A key file ends
 * with a SHA-256 of what precedes it, which random bytes never match, so one
 * mode frames the input as a key file with a correct checksum: the fuzzer
 * then reaches the private key DER that wolfCrypt decodes.
 */
#include "fuzz.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "identity/idkey.h"
#include "util/hex.h"

static char dir[64], path[96];

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

static void load_file(const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/lc-fuzz-keys.XXXXXX");
		if (!mkdtemp(dir))
			abort();
		snprintf(path, sizeof(path), "%s/identity.key", dir);
		atexit(cleanup);
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	struct idkey *k = NULL;
	char why[256];
	if (idkey_load(&k, path, why, sizeof(why)) == LC_OK) {
		size_t n;
		enum key_type t;
		const uint8_t *spki = idkey_spki(k, &n);
		/* A loaded key's public half is one we accept. */
		if (spki_key_type(spki, n, &t) != LC_OK || t != idkey_type(k))
			abort();
	} else if (k || strlen(why) == 0) {
		abort();
	}
	idkey_free(k);
}

/* S (little-endian) < L, the Ed25519 group order. */
static bool s_below_l(const uint8_t s[32])
{
	static const uint8_t l[32] = { 0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
				       0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
				       [31] = 0x10 };
	for (int i = 31; i >= 0; i--)
		if (s[i] != l[i])
			return s[i] < l[i];
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0] & 3;
	data++;
	size--;
	enum key_type t;
	switch (mode) {
	case 0: {
		/* SPKI, then a signature over a fixed message; the next two
		 * bytes say where the SPKI ends. */
		if (size < 2)
			return 0;
		size_t split = ((size_t)data[0] << 8 | data[1]) % (size - 1);
		const uint8_t *spki = data + 2, *sig = spki + split;
		size_t siglen = size - 2 - split;
		static const uint8_t msg[] = "ledgerchat fuzz";
		lc_err kt = spki_key_type(spki, split, &t);
		lc_err v = spki_verify(spki, split, msg, sizeof(msg), sig, siglen);
		/* spki_key_type refuses exactly what spki_verify refuses. */
		if ((kt == LC_ERR_INVAL) != (v == LC_ERR_INVAL))
			abort();
		/* An accepted Ed25519 signature has S < L (RFC 8032): no second
		 * encoding of it verifies. */
		if (v == LC_OK && t == KEY_ED25519 && !s_below_l(sig + 32))
			abort();
		break;
	}
	case 1: {
		const uint8_t *spki;
		size_t n;
		if (spki_from_cert(data, size, &spki, &n) == LC_OK) {
			if (spki < data || spki + n > data + size)
				abort();
			spki_key_type(spki, n, &t);
		}
		break;
	}
	case 2:
		load_file(data, size);
		break;
	case 3: {
		/* magic, then the input, then the checksum that makes it intact. */
		static const uint8_t magic[8] = { 'L', 'C', 'I', 'D', 'K', 'E', 'Y', '\n' };
		if (size > 4096)
			return 0;
		uint8_t *f = malloc(sizeof(magic) + size + 32);
		if (!f)
			return 0;
		memcpy(f, magic, sizeof(magic));
		memcpy(f + sizeof(magic), data, size);
		sha256(f + sizeof(magic) + size, f, sizeof(magic) + size);
		load_file(f, sizeof(magic) + size + 32);
		free(f);
		break;
	}
	}
	return 0;
}
