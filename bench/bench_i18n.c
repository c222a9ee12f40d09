/*
 * bench_i18n.c - the rows of text in any language: the kiosk's frame time
 * with a chat in every script (and emoji) against the same chat in plain
 * Latin, and the kiosk's memory with the font fallback chain loaded.
 *
 * Both run an in-process kiosk (offscreen window, software renderer) on a
 * scripted node that answers status, names, sessions and a history.  The
 * memory rows run it in a fresh process (this program again, with
 * --i18n-rss-child), so that nothing else the bench did counts.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ui/app.h"
#include "ui/font.h"

#include "bench.h"

#define CHAT_MSGS 1000

/* Words that need every font of the chain, and their Latin stand-ins of
 * about the same number of characters. */
static const char *const mixed_words[] = {
	"hello", "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D", "\xD9\x85\xD8\xB1\xD8\xAD\xD8\xA8\xD8\xA7",
	"\xE4\xBD\xA0\xE5\xA5\xBD", "\xE3\x81\x93\xE3\x82\x93\xE3\x81\xAB\xE3\x81\xA1\xE3\x81\xAF",
	"\xEC\x95\x88\xEB\x85\x95", "\xF0\x9F\x98\x80", "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD",
	"\xCE\xBA\xCE\xB1\xCE\xBB\xCE\xB7", "\xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82",
	"2024", "caf\xC3\xA9",
};
static const char *const latin_words[] = {
	"hello", "shalom", "marhaba", "nihao", "konnichiwa", "annyeong", "smile", "thumbs",
	"kalimera", "privet", "2024", "cafe",
};

struct i18n_fake {
	json_t *status, *names, *sessions, *history;
};

static lc_err fake_call(void *ctx, const char *cmd, json_t *args, json_t **out, char *err,
			size_t errlen)
{
	struct i18n_fake *f = ctx;
	(void)args;
	json_t *src = !strcmp(cmd, "status") ? f->status
		      : !strcmp(cmd, "names") ? f->names
		      : !strcmp(cmd, "sessions") ? f->sessions
		      : !strcmp(cmd, "history") ? f->history : NULL;
	*out = NULL;
	if (!strcmp(cmd, "blocks") || !strcmp(cmd, "alarms") || !strcmp(cmd, "peers") ||
	    !strcmp(cmd, "connect"))
		*out = json_array();
	else if (src)
		*out = json_incref(src);
	else
		return lc_why(err, errlen, LC_ERR_REJECTED, "unknown command '%s'", cmd);
	return *out ? LC_OK : LC_ERR_NOMEM;
}

static void fake_init(struct i18n_fake *f, const char *const *words)
{
	f->status = json_pack("{s:s,s:s,s:s,s:s,s:b,s:i,s:i,s:s,s:i}", "name", "alice",
			      "fingerprint", "0990 1cea 572e f1a7", "key_type", "ed25519",
			      "address", "10.0.0.1:47701", "registered", 1, "registered_height", 1,
			      "height", 100, "tip", "00ab", "peers", 2);
	f->names = json_pack("[{s:s,s:s,s:s,s:s,s:i},{s:s,s:s,s:s,s:s,s:i}]", "name", "alice",
			     "fingerprint", "0990", "address", "10.0.0.1:47701", "status", "active",
			     "registered_height", 1, "name", "bob", "fingerprint", "5b1e", "address",
			     "10.0.0.2:47701", "status", "active", "registered_height", 2);
	f->sessions = json_pack("[{s:s,s:s,s:s,s:s,s:i,s:i,s:i}]", "name", "bob", "state",
				"established", "step", "keys_agreed", "cipher",
				"TLS13-CHACHA20-POLY1305-SHA256", "key_epoch", 9, "sent", 500,
				"received", 500);
	f->history = json_array();
	uint64_t seed = 777;
	for (int i = 0; i < CHAT_MSGS; i++) {
		char text[600], id[32];
		size_t len = 0;
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		int n = 1 + (int)((seed >> 33) % 24);
		for (int k = 0; k < n && len < sizeof(text) - 40; k++)
			len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%s", k ? " " : "",
						words[(seed >> (k % 24)) % 12]);
		snprintf(id, sizeof(id), "m%d", i);
		json_array_append_new(f->history, json_pack(
			"{s:s,s:s,s:I,s:s,s:s}", "id", id, "from", i % 3 ? "bob" : "me", "time",
			(json_int_t)(1700000000 + i * 60), "text", text, "status",
			i % 3 ? "received" : "delivered"));
	}
}

static void fake_free(struct i18n_fake *f)
{
	json_decref(f->status);
	json_decref(f->names);
	json_decref(f->sessions);
	json_decref(f->history);
}

static void headless(void)
{
	setenv("SDL_VIDEODRIVER", "offscreen", 1);
	setenv("SDL_RENDER_DRIVER", "software", 1);
	setenv("SDL_FRAMEBUFFER_ACCELERATION", "0", 1);
}

/* The kiosk at w x h with bob's chat open; NULL (and a row saying why)
 * when it cannot start. */
static struct ui *open_chat(struct i18n_fake *f, int w, int h)
{
	headless();
	struct ui_cfg cfg = { .w = w, .h = h, .be = { fake_call, f } };
	struct ui *u;
	char why[256];
	if (ui_open(&u, &cfg, why, sizeof(why)) != LC_OK) {
		printf("| kiosk: %s |\n", why);
		return NULL;
	}
	while (u->frames == 0)
		app_pump(u, 10);
	chat_open(u, "bob");
	app_draw(u);
	return u;
}

enum { FRAMES = 60 };

static double thread_cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1000 + (double)ts.tv_nsec / 1e6;
}

/* Median frame time of the open chat, still (scroll = 0) or scrolled by
 * `scroll` px a frame (new messages come into view, their text is shaped
 * and rendered for the first time); *cpu gets the median CPU time of this
 * thread per frame (what the frame costs when the machine is shared). */
static double frames_ms(struct ui *u, int scroll, double *cpu)
{
	double v[FRAMES], c[FRAMES];
	for (int i = 0; i < FRAMES; i++) {
		if (scroll) {
			u->chat.pinned = false;
			u->chat.off += scroll;
		}
		double a = now_s(), ca = thread_cpu_ms();
		app_draw(u);
		v[i] = (now_s() - a) * 1000;
		c[i] = thread_cpu_ms() - ca;
	}
	*cpu = median(c, FRAMES);
	return median(v, FRAMES);
}

static void frame_rows(int w, int h)
{
	struct i18n_fake fm, fl;
	fake_init(&fm, mixed_words);
	fake_init(&fl, latin_words);
	double still[2] = { 0, 0 }, moving[2] = { 0, 0 }, cpu[2] = { 0, 0 }, cpu_mv[2] = { 0, 0 };
	struct i18n_fake *fs[2] = { &fl, &fm };
	for (int k = 0; k < 2; k++) {
		struct ui *u = open_chat(fs[k], w, h);
		if (!u)
			goto out;
		still[k] = frames_ms(u, 0, &cpu[k]);
		moving[k] = frames_ms(u, 37, &cpu_mv[k]);
		ui_close(u);
	}
	char m1[64], m2[64];
	snprintf(m1, sizeof(m1), "kiosk frame %dx%d, mixed-script chat", w, h);
	snprintf(m2, sizeof(m2), "kiosk frame %dx%d, same, scrolling", w, h);
	struct row r1 = { m1, "ms", still[1], still[0], "same chat, Latin", false };
	print_row(&r1);
	struct row r2 = { m2, "ms", moving[1], moving[0], "same chat, Latin", false };
	print_row(&r2);
	char m3[64];
	snprintf(m3, sizeof(m3), "kiosk frame %dx%d, mixed, CPU time", w, h);
	struct row r3 = { m3, "ms", cpu[1], cpu[0], "same chat, Latin", false };
	print_row(&r3);
	snprintf(m3, sizeof(m3), "kiosk frame %dx%d, scrolling, CPU time", w, h);
	struct row r4 = { m3, "ms", cpu_mv[1], cpu_mv[0], "same chat, Latin", false };
	print_row(&r4);
out:
	fake_free(&fm);
	fake_free(&fl);
}

static long self_rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/*
 * In a fresh process: the kiosk at 1280x800 with the chat open (mixed or
 * Latin), scrolled through once; "all" then also draws a line in every
 * script at every size and face, so that every fallback font is open at
 * every size, and 256 different emoji (the worst case).  Prints the RSS
 * in kB.
 */
int bench_i18n_rss_child(const char *what)
{
	bool mixed = strcmp(what, "latin") != 0;
	struct i18n_fake f;
	fake_init(&f, mixed ? mixed_words : latin_words);
	struct ui *u = open_chat(&f, 1280, 800);
	if (!u)
		return 1;
	for (int i = 0; i < 40; i++) {
		u->chat.pinned = false;
		u->chat.off += 200;
		app_draw(u);
	}
	if (!strcmp(what, "all")) {
		const char *line = "abc \xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D \xD9\x85\xD8\xB1\xD8\xAD"
				   "\xD8\xA8\xD8\xA7 \xE4\xBD\xA0\xE5\xA5\xBD \xEC\x95\x88 "
				   "\xF0\x9F\x98\x80 \xE0\xA4\xA8\xE0\xA4\xAE \xE0\xB8\x81 "
				   "\xD5\x80 \xE1\x83\x90 \xE1\x88\x80 \xE2\x88\xAB";
		for (int face = 0; face < FACE__COUNT; face++)
			for (int size = 0; size < FS__COUNT; size++) {
				int w, h;
				fonts_text(u->fonts, (enum font_face)face, (enum font_size)size,
					   line, &w, &h);
			}
		/* 256 different emoji (U+1F600 on), 8 a string. */
		for (uint32_t cp = 0x1F600; cp < 0x1F700; cp += 8) {
			char s[40];
			size_t o = 0;
			for (uint32_t k = cp; k < cp + 8; k++) {
				s[o++] = (char)(0xF0 | (k >> 18));
				s[o++] = (char)(0x80 | ((k >> 12) & 0x3F));
				s[o++] = (char)(0x80 | ((k >> 6) & 0x3F));
				s[o++] = (char)(0x80 | (k & 0x3F));
			}
			s[o] = '\0';
			int w, h;
			fonts_text(u->fonts, FACE_SANS, FS_BODY, s, &w, &h);
		}
		app_draw(u);
	}
	char names[1024];
	size_t open = fonts_fallbacks_open(u->fonts, names, sizeof(names));
	printf("%ld %zu %s\n", self_rss_kb(), open, names);
	ui_close(u);
	fake_free(&f);
	return 0;
}

/* Run this program as an RSS child; its kB (-1 on failure). */
static long child_rss(const char *self, const char *what, char *names, size_t nameslen)
{
	int fd[2];
	if (pipe(fd) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fd[1], 1);
		close(fd[0]);
		close(fd[1]);
		freopen("/dev/null", "w", stderr);
		execl(self, self, "--i18n-rss-child", what, (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	char buf[1200] = "";
	size_t n = 0;
	ssize_t k;
	while (n < sizeof(buf) - 1 && (k = read(fd[0], buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)k;
	buf[n] = '\0';
	close(fd[0]);
	waitpid(pid, NULL, 0);
	long kb = -1;
	size_t nopen = 0;
	int off = 0;
	if (sscanf(buf, "%ld %zu %n", &kb, &nopen, &off) < 2)
		return -1;
	snprintf(names, nameslen, "%s", buf + off);
	names[strcspn(names, "\n")] = '\0';
	return kb;
}

void bench_i18n(void)
{
	frame_rows(1280, 800);
	frame_rows(800, 480);
	char self[1024];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return;
	self[n] = '\0';
	char nl[1024], nm[1024], na[1024];
	long latin = child_rss(self, "latin", nl, sizeof(nl));
	long mixed = child_rss(self, "mixed", nm, sizeof(nm));
	long all = child_rss(self, "all", na, sizeof(na));
	struct row r1 = { "kiosk RSS 1280x800, mixed-script chat", "MB", mixed / 1024.0,
			  latin / 1024.0, "same chat, Latin", false };
	print_row(&r1);
	printf("|   fallbacks open: %s |\n", nm);
	struct row r2 = { "kiosk RSS, every fallback at every size", "MB", all / 1024.0,
			  latin / 1024.0, "same chat, Latin", false };
	print_row(&r2);
	printf("|   fallbacks open: %s |\n", na);
}
