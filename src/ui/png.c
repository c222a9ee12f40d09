/*
 * png.c - PNG encoding, written from the format's specification (RFC 2083):
 * signature, IHDR, one IDAT holding the zlib stream of the filtered rows,
 * IEND; each chunk is length, type, data, CRC-32 of type and data.
 */
#include "ui/png.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int chunk(FILE *f, const char *type, const uint8_t *data, uint32_t len)
{
	uint8_t hdr[8];
	be32(hdr, len);
	memcpy(hdr + 4, type, 4);
	uLong crc = crc32(0L, (const Bytef *)type, 4);
	if (len)
		crc = crc32(crc, data, len);
	uint8_t tail[4];
	be32(tail, (uint32_t)crc);
	if (fwrite(hdr, 1, 8, f) != 8 || (len && fwrite(data, 1, len, f) != len) ||
	    fwrite(tail, 1, 4, f) != 4)
		return -1;
	return 0;
}

lc_err png_write(const char *path, const uint8_t *rgba, int w, int h, size_t pitch)
{
	if (w <= 0 || h <= 0)
		return LC_ERR_INVAL;
	size_t row = (size_t)w * 4 + 1;
	size_t raw_len = row * (size_t)h;
	uint8_t *raw = malloc(raw_len);
	uLongf z_len = compressBound((uLong)raw_len);
	uint8_t *z = malloc(z_len);
	if (!raw || !z) {
		free(raw);
		free(z);
		return LC_ERR_NOMEM;
	}
	for (int y = 0; y < h; y++) {
		raw[(size_t)y * row] = 0; /* filter: None */
		memcpy(raw + (size_t)y * row + 1, rgba + (size_t)y * pitch, (size_t)w * 4);
	}
	int zr = compress2(z, &z_len, raw, (uLong)raw_len, 6);
	free(raw);
	if (zr != Z_OK) {
		free(z);
		return LC_ERR_NOMEM;
	}
	FILE *f = fopen(path, "wb");
	if (!f) {
		free(z);
		return LC_ERR_IO;
	}
	static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };
	uint8_t ihdr[13];
	be32(ihdr, (uint32_t)w);
	be32(ihdr + 4, (uint32_t)h);
	ihdr[8] = 8;  /* bit depth */
	ihdr[9] = 6;  /* colour type: RGBA */
	ihdr[10] = 0; /* deflate */
	ihdr[11] = 0; /* filter method 0 */
	ihdr[12] = 0; /* no interlace */
	int bad = fwrite(sig, 1, 8, f) != 8 || chunk(f, "IHDR", ihdr, 13) ||
		  chunk(f, "IDAT", z, (uint32_t)z_len) || chunk(f, "IEND", NULL, 0);
	free(z);
	if (fclose(f) != 0)
		bad = 1;
	return bad ? LC_ERR_IO : LC_OK;
}
