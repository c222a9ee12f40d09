/*
 * scr_recovery.c - Settings, Recovery key: the name's recovery key as a
 * QR code and a code to write down, then "Remove from this device".
 *
 * The code (identity/recovery_text.h) is the key itself: whoever has it can
 * take the name.  So the screen says so first and shows the code only when
 * asked ("Show code" asks the node: recovery {action: show}); the code and
 * its QR stay in memory only while this screen is open (recovery_close
 * wipes them on the way out).  Removing asks for a confirmation that says
 * what is lost, then sends recovery {action: remove, confirm: true}.
 */
#include "ui/app.h"

#include <stdio.h>
#include <string.h>

#include "ui/json.h"
#include "util/ct.h"

static const char warning_text[] =
	"Anyone who has this code can take your name. Write it down or photograph it, "
	"keep it offline, then remove it from this device.";

void recovery_close(struct ui *u)
{
	struct recovery_state *rs = &u->recovery;
	qr_release(&rs->qr);
	wipe(rs->code, sizeof(rs->code));
	rs->shown = false;
	rs->confirm_remove = false;
	rs->err[0] = '\0';
}

static void show(struct ui *u)
{
	struct recovery_state *rs = &u->recovery;
	json_t *a = json_pack("{s:s}", "action", "show");
	json_t *r = model_call(&u->m, CTL_CMD_RECOVERY, a, rs->err, sizeof(rs->err));
	json_decref(a);
	if (!r)
		return;
	const char *code = jstr(r, "text");
	if (!code[0] || strlen(code) >= sizeof(rs->code)) {
		snprintf(rs->err, sizeof(rs->err), "The node gave no recovery code.");
	} else {
		snprintf(rs->code, sizeof(rs->code), "%s", code);
		rs->shown = true;
		rs->err[0] = '\0';
	}
	json_decref(r);
	u->m.need |= NEED_STATUS;   /* shown counts as exported */
}

static void remove_key(struct ui *u)
{
	struct recovery_state *rs = &u->recovery;
	json_t *a = json_pack("{s:s,s:b}", "action", "remove", "confirm", 1);
	json_t *r = model_call(&u->m, CTL_CMD_RECOVERY, a, rs->err, sizeof(rs->err));
	json_decref(a);
	u->m.need |= NEED_STATUS;
	if (!r)
		return;   /* the dialog stays, with the node's reason */
	json_decref(r);
	model_say(&u->m, false, u->w.now_ms, "The recovery key is removed from this device.");
	app_go(u, SCR_SETTINGS);   /* wipes the code (recovery_close) */
}

/* The code in rows: the prefix, then groups of four characters, four
 * groups a row, in large monospaced type.  Returns the height. */
static int draw_code(struct ui *u, int x, int y, int w, const char *code)
{
	struct wctx *c = &u->w;
	char rows[8][32];
	int nrows = 0;
	const char *colon = strchr(code, ':');
	const char *p = colon ? colon + 1 : code;
	snprintf(rows[nrows++], sizeof(rows[0]), "%.*s", colon ? (int)(p - code) : 0, code);
	while (*p && nrows < 8) {
		size_t o = 0;
		for (int g = 0; g < 4 && *p; g++) {
			if (g)
				rows[nrows][o++] = ' ';
			for (int i = 0; i < 4 && *p; i++)
				rows[nrows][o++] = *p++;
		}
		rows[nrows++][o] = '\0';
	}
	enum font_size fs = FS_LARGE;
	if (fonts_width(u->fonts, FACE_MONO, fs, rows[1]) > w)
		fs = FS_BODY;
	int lh = fonts_line_h(u->fonts, FACE_MONO, fs);
	for (int i = 0; i < nrows && c->drawing; i++)
		draw_text(&u->draw, FACE_MONO, fs, TH(u)->text, x, y + i * lh, ALIGN_LEFT, w,
			  rows[i]);
	wipe(rows, sizeof(rows));
	return nrows * lh;
}

static void remove_dialog(struct ui *u, SDL_Rect screen)
{
	struct wctx *c = &u->w;
	struct recovery_state *rs = &u->recovery;
	char text[600];
	snprintf(text, sizeof(text), "Afterwards only your copy (the code written down, a photo "
		 "of it, or an exported file) can take your name back from someone who steals "
		 "this device's key.%s", model_bool(&u->m, "recovery_exported") ? "" :
		 " You have not shown or exported it yet: without a copy, nobody can.");
	int w = U(c, 560);
	if (w > screen.w - 2 * U(c, 12))
		w = screen.w - 2 * U(c, 12);
	int tw = w - 2 * U(c, 16);
	int th = w_wrap_height(c, tw, FACE_SANS, FS_BODY, text);
	int eh = rs->err[0] ? w_wrap_height(c, tw, FACE_SANS, FS_BODY, rs->err) + U(c, 8) : 0;
	int h = U(c, 40) + 2 * U(c, 16) + th + eh + U(c, 16) + U(c, 48);
	SDL_Rect body = w_dialog(c, screen, w, h, "Remove the recovery key?");
	w_wrap(c, body.x, body.y, body.w, FACE_SANS, FS_BODY, TH(u)->text, text, true);
	if (eh)
		w_wrap(c, body.x, body.y + th + U(c, 8), body.w, FACE_SANS, FS_BODY, TH(u)->danger,
		       rs->err, true);
	int bw = U(c, 170);
	SDL_Rect b = { body.x + body.w - bw, body.y + body.h - U(c, 48), bw, U(c, 48) };
	if (w_button(c, w_id("recovery-remove-yes", 0), b, "Remove", BTN_DANGER)) {
		remove_key(u);
		return;
	}
	b.x -= bw + U(c, 8);
	if (w_button(c, w_id("recovery-remove-no", 0), b, "Cancel", BTN_NORMAL) ||
	    (c->keys & WK_ESCAPE)) {
		c->keys &= ~(unsigned)WK_ESCAPE;
		rs->confirm_remove = false;
		rs->err[0] = '\0';
	}
}

/* The two buttons in a row from (x, y); returns their height. */
static int buttons(struct ui *u, int x, int y, int w)
{
	struct wctx *c = &u->w;
	struct recovery_state *rs = &u->recovery;
	int gap = U(c, 8);
	const char *show_label = rs->shown ? "Hide code" : "Show code";
	int bw1 = button_w(u, show_label, FACE_BOLD);
	int bw2 = button_w(u, "Remove from this device", FACE_BOLD);
	bool stacked = bw1 + gap + bw2 > w;
	if (stacked)
		bw1 = bw2 = w;
	if (w_button(c, w_id("recovery-show", 0), (SDL_Rect){ x, y, bw1, U(c, 50) }, show_label,
		     rs->shown ? BTN_NORMAL : BTN_PRIMARY)) {
		if (rs->shown)
			recovery_close(u);
		else
			show(u);
	}
	SDL_Rect r2 = stacked ? (SDL_Rect){ x, y + U(c, 50) + gap, bw2, U(c, 50) }
			      : (SDL_Rect){ x + bw1 + gap, y, bw2, U(c, 50) };
	if (w_button(c, w_id("recovery-remove", 0), r2, "Remove from this device", BTN_DANGER)) {
		rs->confirm_remove = true;
		rs->err[0] = '\0';
	}
	return stacked ? 2 * U(c, 50) + gap : U(c, 50);
}

void scr_recovery(struct ui *u, SDL_Rect area)
{
	struct wctx *c = &u->w;
	struct recovery_state *rs = &u->recovery;
	const struct theme *th = TH(u);
	SDL_Rect screen = area;
	c->blocked = rs->confirm_remove;
	/* Escape closes the dialog first, not the screen under it. */
	unsigned esc = c->keys & WK_ESCAPE;
	if (rs->confirm_remove)
		c->keys &= ~(unsigned)WK_ESCAPE;
	bool here = strcmp(model_str(&u->m, "recovery_key"), "on this device") == 0;
	chrome_header(u, &area, "Recovery key", here ? "takes your name back if your key "
		      "is stolen" : "not on this device", 0);
	SDL_Rect body = rc_inset(area, U(c, 16));
	if (!here && !rs->shown) {
		chrome_notice(u, (SDL_Rect){ body.x, body.y, body.w, 0 },
			      "This device holds no recovery key: it was removed (keep your copy "
			      "safe), or this device has not registered its name yet.", false, true);
		return;
	}
	bool land = app_landscape(u);
	if (rs->shown) {
		/* The QR beside the code (landscape) or under it (portrait). */
		int qside = land ? (body.h < body.w / 2 ? body.h : body.w / 2)
				 : (body.w < U(c, 320) ? body.w : U(c, 320));
		SDL_Rect qr = land ? rc_left(&body, qside + U(c, 16)) : rc_bottom(&body, qside);
		qr.w = qr.h = qside;
		if (!land)
			qr.x = body.x + (body.w - qside) / 2;
		qr_draw(c, &rs->qr, qr, rs->code);
	}
	int x = body.x, y = body.y, w = body.w;
	y += chrome_notice(u, (SDL_Rect){ x, y, w, 0 }, warning_text, true, true) + U(c, 12);
	if (rs->shown) {
		y += draw_code(u, x, y, w, rs->code) + U(c, 12);
	} else {
		const char *state = model_bool(&u->m, "recovery_exported")
			? "You have shown or exported it before. If your copy is safe, remove it "
			  "from this device."
			: "You have not copied it yet. Show the code when nobody else can see the "
			  "screen.";
		y += w_wrap(c, x, y, w, FACE_SANS, FS_BODY, th->dim, state, true) + U(c, 12);
	}
	if (rs->err[0] && !rs->confirm_remove)
		y += w_wrap(c, x, y, w, FACE_SANS, FS_BODY, th->danger, rs->err, true) + U(c, 8);
	buttons(u, x, y, w);
	if (rs->confirm_remove) {
		c->keys |= esc;
		remove_dialog(u, screen);
	}
}
