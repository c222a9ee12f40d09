/*
 * textedit.c - bounded UTF-8 editing.  See textedit.h.
 *
 * The one idea: a continuation byte is 10xxxxxx, so stepping back over a
 * character is stepping back until a byte that is not one.  Since the
 * buffer is always valid UTF-8, that never walks further than 3 bytes.
 */
#include "ui/textedit.h"

#include <string.h>

#include "util/utf8.h"

static bool is_cont(unsigned char c) { return (c & 0xC0) == 0x80; }

size_t utf8_prev(const char *s, size_t off)
{
	if (off == 0)
		return 0;
	off--;
	while (off > 0 && is_cont((unsigned char)s[off]))
		off--;
	return off;
}

size_t utf8_next(const char *s, size_t len, size_t off)
{
	if (off >= len)
		return len;
	off++;
	while (off < len && is_cont((unsigned char)s[off]))
		off++;
	return off;
}

size_t utf8_count(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += !is_cont((unsigned char)s[i]);
	return n;
}

static size_t cap(const struct textedit *t)
{
	return t->max && t->max < TEXTEDIT_MAX ? t->max : TEXTEDIT_MAX;
}

void te_init(struct textedit *t, size_t max)
{
	memset(t, 0, sizeof(*t));
	t->max = max;
}

void te_clear(struct textedit *t)
{
	t->s[0] = '\0';
	t->len = t->cur = 0;
}

void te_set(struct textedit *t, const char *s)
{
	te_clear(t);
	te_insert(t, s);
}

bool te_insert(struct textedit *t, const char *s)
{
	size_t n = strlen(s);
	if (n == 0)
		return true;
	if (!utf8_valid(s, n))
		return false;
	size_t room = cap(t) - t->len;
	bool whole = n <= room;
	if (!whole) {
		/* Cut at the last boundary that fits. */
		n = room;
		while (n > 0 && is_cont((unsigned char)s[n]))
			n--;
	}
	memmove(t->s + t->cur + n, t->s + t->cur, t->len - t->cur + 1);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (t->multiline && c == '\r' && i + 1 < n && s[i + 1] == '\n')
			continue;   /* CR LF: one line break */
		t->s[t->cur + k++] = t->multiline && c == '\n' ? '\n'
				     : (c < 0x20 || c == 0x7F) ? ' ' : (char)c;
	}
	if (k < n)   /* close the gap the dropped CRs left */
		memmove(t->s + t->cur + k, t->s + t->cur + n, t->len - t->cur + 1);
	t->len += k;
	t->cur += k;
	return whole;
}

bool te_newline(struct textedit *t)
{
	if (!t->multiline || t->len >= cap(t))
		return false;
	memmove(t->s + t->cur + 1, t->s + t->cur, t->len - t->cur + 1);
	t->s[t->cur] = '\n';
	t->len++;
	t->cur++;
	return true;
}

bool te_backspace(struct textedit *t)
{
	if (t->cur == 0)
		return false;
	size_t p = utf8_prev(t->s, t->cur);
	memmove(t->s + p, t->s + t->cur, t->len - t->cur + 1);
	t->len -= t->cur - p;
	t->cur = p;
	return true;
}

bool te_delete(struct textedit *t)
{
	if (t->cur >= t->len)
		return false;
	size_t nx = utf8_next(t->s, t->len, t->cur);
	memmove(t->s + t->cur, t->s + nx, t->len - nx + 1);
	t->len -= nx - t->cur;
	return true;
}

void te_left(struct textedit *t) { t->cur = utf8_prev(t->s, t->cur); }
void te_right(struct textedit *t) { t->cur = utf8_next(t->s, t->len, t->cur); }
void te_home(struct textedit *t) { t->cur = 0; }
void te_end(struct textedit *t) { t->cur = t->len; }

void te_set_cursor(struct textedit *t, size_t off)
{
	if (off > t->len)
		off = t->len;
	while (off > 0 && off < t->len && is_cont((unsigned char)t->s[off]))
		off--;
	t->cur = off;
}
