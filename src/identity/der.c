/* der.c - see der.h. */
#include "identity/der.h"

#include <string.h>

const uint8_t der_oid_ed25519[3] = { 0x2b, 0x65, 0x70 };
const uint8_t der_oid_ec_public_key[7] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };
const uint8_t der_oid_p256[8] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
const uint8_t der_oid_rsa[9] = {
	0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01 };

lc_err der_get(struct reader *r, uint8_t tag, struct reader *inner)
{
	uint8_t t = 0, b = 0;
	size_t len;
	rd_u8(r, &t);
	rd_u8(r, &b);
	if (rd_error(r) || t != tag)
		return LC_ERR_INVAL;
	if (b < 0x80) {
		len = b;
	} else if (b == 0x81) {
		uint8_t l = 0;
		if (rd_u8(r, &l) || l < 0x80)
			return LC_ERR_INVAL;
		len = l;
	} else if (b == 0x82) {
		uint16_t l = 0;
		if (rd_u16(r, &l) || l < 0x100)
			return LC_ERR_INVAL;
		len = l;
	} else {
		return LC_ERR_INVAL;  /* indefinite, or absurdly long */
	}
	const uint8_t *p;
	if (rd_view(r, &p, len))
		return LC_ERR_INVAL;
	rd_init(inner, p, len);
	return LC_OK;
}

bool der_equals(struct reader *r, const uint8_t *want, size_t n)
{
	const uint8_t *p;
	return rd_remaining(r) == n && !rd_view(r, &p, n) && memcmp(p, want, n) == 0;
}

lc_err der_uint(struct reader *r, const uint8_t **mag, size_t *n)
{
	size_t len = rd_remaining(r);
	const uint8_t *p;
	if (len == 0 || rd_view(r, &p, len))
		return LC_ERR_INVAL;
	if (p[0] & 0x80)
		return LC_ERR_INVAL;  /* negative */
	if (p[0] == 0 && len > 1) {
		if (!(p[1] & 0x80))
			return LC_ERR_INVAL;  /* a zero byte that was not needed */
		p++;
		len--;
	}
	*mag = p;
	*n = len;
	return LC_OK;
}
