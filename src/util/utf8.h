/*
 * utf8.h - strict UTF-8 validation.
 *
 * Text that crosses the network (chat messages, names, reasons) must be
 * well-formed UTF-8 before anything else looks at it: the shortest encoding
 * of each code point (no overlongs such as C0 AF), no UTF-16 surrogates
 * (U+D800..U+DFFF), nothing above U+10FFFF, no sequence cut short, no stray
 * continuation byte, and no NUL, so the text is also a valid C string body.
 * Pure; any thread.
 */
#ifndef LC_UTIL_UTF8_H
#define LC_UTIL_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when p[n] is strict UTF-8 as above (n == 0 is valid). */
bool utf8_valid(const void *p, size_t n);

#endif
