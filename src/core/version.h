/* version.h - the one place the version lives (the Makefile may override). */
#ifndef LC_CORE_VERSION_H
#define LC_CORE_VERSION_H

#ifndef LC_VERSION
#define LC_VERSION "0.1.0"
#endif

#endif
