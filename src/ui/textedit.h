/*
 * textedit.h - the editable text behind a text field: a bounded UTF-8
 * string and a cursor that only ever sits on a character boundary.
 *
 * Pure (no SDL), so the tests drive it directly.  Every edit keeps the
 * buffer strict UTF-8 (util/utf8.h): inserted text that is not is refused
 * whole, control characters (newlines from a paste included, unless the
 * field is multiline) become spaces, and text that would overflow is cut
 * at the last whole character that fits.  The caller owns the struct; nothing is allocated.
 */
#ifndef LC_UI_TEXTEDIT_H
#define LC_UI_TEXTEDIT_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes, NUL excluded: twice a chat message's limit (4096), so a message
 * typed or pasted too long is there to see and shorten, refused by the
 * chat with the reason, instead of cut without a word. */
#define TEXTEDIT_MAX 8192

struct textedit {
	char s[TEXTEDIT_MAX + 1];
	size_t len;   /* bytes */
	size_t cur;   /* byte offset of the cursor, on a boundary */
	size_t max;   /* bytes this field accepts (<= TEXTEDIT_MAX); 0 = all */
	bool multiline;   /* newlines are kept (a paste's CR LF as one); else spaces */
};

void te_init(struct textedit *t, size_t max);
void te_set(struct textedit *t, const char *s);
void te_clear(struct textedit *t);
/* Insert at the cursor; false when refused (invalid UTF-8) or cut short. */
bool te_insert(struct textedit *t, const char *s);
/* A line break at the cursor (multiline fields); false when full. */
bool te_newline(struct textedit *t);
/* Remove the character before / after the cursor; false at the edge. */
bool te_backspace(struct textedit *t);
bool te_delete(struct textedit *t);
void te_left(struct textedit *t);
void te_right(struct textedit *t);
void te_home(struct textedit *t);
void te_end(struct textedit *t);
/* Put the cursor at byte offset off, moved back to a boundary. */
void te_set_cursor(struct textedit *t, size_t off);

/* Boundaries in any UTF-8 string: the previous / next one from off. */
size_t utf8_prev(const char *s, size_t off);
size_t utf8_next(const char *s, size_t len, size_t off);
/* Number of characters (code points) in s[len]. */
size_t utf8_count(const char *s, size_t len);

#endif
