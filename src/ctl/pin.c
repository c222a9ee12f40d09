/* pin.c - a PIN from the terminal or stdin (pin.h). */
#include "ctl/pin.h"

#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "util/ct.h"

bool ctl_read_pin(const char *prompt, char *out, size_t len, char *err, size_t errlen)
{
	bool tty = isatty(STDIN_FILENO);
	struct termios old, quiet;
	bool echo_off = false;
	if (tty && tcgetattr(STDIN_FILENO, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		echo_off = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
		fprintf(stderr, "%s", prompt);
		fflush(stderr);
	}
	bool got = fgets(out, (int)len, stdin) != NULL;
	bool whole = got && (strchr(out, '\n') || feof(stdin));
	if (echo_off) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (!got || !whole) {
		wipe(out, len);
		snprintf(err, errlen, "%s", !got ? "no PIN given (type it, or give it as a "
			 "line on stdin)" : "the PIN is too long (4 to 12 digits)");
		return false;
	}
	out[strcspn(out, "\r\n")] = '\0';
	return true;
}
