/*
 * wait.c - poll()-based sleeping for the kiosk; see wait.h for why.
 */
#include "ui/wait.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#define MAX_INPUTS 32

struct uiwait {
	bool native;
	bool evdev;                 /* also watch /dev/input/event* */
	int efd;                    /* eventfd: wakes */
	int ifd;                    /* inotify on /dev/input, or -1 */
	int in[MAX_INPUTS];
	int n_in;
};

/* The signal handler's way in: async-signal-safe writes to the eventfd. */
static volatile int sig_efd = -1;
static volatile int *sig_flag;

static void close_inputs(struct uiwait *w)
{
	for (int i = 0; i < w->n_in; i++)
		close(w->in[i]);
	w->n_in = 0;
}

static void scan_inputs(struct uiwait *w)
{
	close_inputs(w);
	DIR *d = opendir("/dev/input");
	struct dirent *e;
	while (d && (e = readdir(d)) && w->n_in < MAX_INPUTS) {
		if (strncmp(e->d_name, "event", 5) != 0)
			continue;
		char path[300];
		snprintf(path, sizeof(path), "/dev/input/%s", e->d_name);
		int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0)
			w->in[w->n_in++] = fd;
	}
	if (d)
		closedir(d);
}

lc_err uiwait_open(struct uiwait **out, const char *driver)
{
	struct uiwait *w = calloc(1, sizeof(*w));
	if (!w)
		return LC_ERR_NOMEM;
	w->ifd = -1;
	static const char *const native[] = { "x11", "wayland", "windows", "cocoa" };
	for (size_t i = 0; driver && i < sizeof(native) / sizeof(native[0]); i++)
		if (strcmp(driver, native[i]) == 0)
			w->native = true;
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0) {
		free(w);
		return LC_ERR_IO;
	}
	w->evdev = driver && strcmp(driver, "kmsdrm") == 0;
	if (w->evdev) {
		w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (w->ifd >= 0 && inotify_add_watch(w->ifd, "/dev/input", IN_CREATE | IN_DELETE) < 0) {
			close(w->ifd);
			w->ifd = -1;
		}
		scan_inputs(w);
	}
	*out = w;
	return LC_OK;
}

void uiwait_close(struct uiwait *w)
{
	if (!w)
		return;
	if (sig_efd == w->efd) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		sig_efd = -1;
		sig_flag = NULL;
	}
	close_inputs(w);
	if (w->ifd >= 0)
		close(w->ifd);
	close(w->efd);
	free(w);
}

bool uiwait_native(const struct uiwait *w) { return w->native; }

void uiwait_wake(struct uiwait *w)
{
	uint64_t one = 1;
	if (write(w->efd, &one, sizeof(one)) < 0) {
		/* Full counter: a wake is already pending. */
	}
}

static void drain(int fd)
{
	char buf[1024];
	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

void uiwait_sleep(struct uiwait *w, int timeout_ms)
{
	struct pollfd p[2 + MAX_INPUTS];
	int n = 0;
	p[n++] = (struct pollfd){ w->efd, POLLIN, 0 };
	if (w->ifd >= 0)
		p[n++] = (struct pollfd){ w->ifd, POLLIN, 0 };
	int first_in = n;
	for (int i = 0; i < w->n_in; i++)
		p[n++] = (struct pollfd){ w->in[i], POLLIN, 0 };
	if (poll(p, (nfds_t)n, timeout_ms) <= 0)
		return;
	if (p[0].revents)
		drain(w->efd);
	bool rescan = false;
	if (w->ifd >= 0 && p[1].revents) {
		drain(w->ifd);
		rescan = true;
	}
	for (int i = first_in; i < n; i++) {
		if (p[i].revents & (POLLERR | POLLHUP | POLLNVAL))
			rescan = true;
		else if (p[i].revents)
			drain(p[i].fd);
	}
	if (rescan)
		scan_inputs(w);
}

static void on_signal(int sig)
{
	(void)sig;
	int saved = errno;
	if (sig_flag)
		*sig_flag = 1;
	uint64_t one = 1;
	if (sig_efd >= 0 && write(sig_efd, &one, sizeof(one)) < 0) {
		/* nothing more can be done in a handler */
	}
	errno = saved;
}

void uiwait_catch_signals(struct uiwait *w, volatile int *flag)
{
	sig_flag = flag;
	sig_efd = w->efd;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}
