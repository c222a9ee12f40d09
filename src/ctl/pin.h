/*
 * pin.h - reading a PIN for `ctl lock --set-pin`, `ctl unlock`: from the
 * terminal without echo when stdin is one, else one line of stdin (for
 * scripts and tests).  Never from the command line.
 */
#ifndef LC_CTL_PIN_H
#define LC_CTL_PIN_H

#include <stdbool.h>
#include <stddef.h>

/* The PIN into out[len] (its newline dropped); false with err[] when there
 * is none, or it is longer than len - 1.  prompt goes to the terminal. */
bool ctl_read_pin(const char *prompt, char *out, size_t len, char *err, size_t errlen);

#endif
