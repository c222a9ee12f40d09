# ledgerchat - see README.md.  `make help` lists the targets.
#
# Objects go to build/<variant>/ so plain and sanitizer builds coexist:
#   make                      build/release, ./ledgerchat
#   make SAN=address,undefined build/address-undefined (make asan does this)
#   make cross ARCH=arm64      build/arm64, with a cross compiler

PROG      := ledgerchat
VERSION   := 0.1.0
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
DATADIR   ?= $(PREFIX)/share/ledgerchat
MANDIR    ?= $(PREFIX)/share/man
# The kiosk's shared object (src/ui/plugin.h): the program looks for it in
# ../lib/ledgerchat from its own directory, i.e. here when BINDIR is
# $(PREFIX)/bin.
PKGLIBDIR := $(PREFIX)/lib/ledgerchat
DESTDIR   ?=

CC        ?= cc
PKG_CONFIG ?= pkg-config
PKGS      := sdl2 SDL2_ttf wolfssl sqlite3 jansson libqrencode zlib inih fribidi harfbuzz libargon2
# Only the kiosk links these: it is a shared object of its own,
# ledgerchat-ui.so, which the program loads when the kiosk starts, so that a
# headless node never maps them (src/ui/plugin.h).
UI_PKGS   := sdl2 SDL2_ttf libqrencode zlib fribidi harfbuzz
# Nearby nodes by DNS-SD over mDNS (util/dnssd.c) through Avahi's client
# library.  DISCOVERY=no builds without it: the node then says discovery is
# not built in, and joins by address only.
DISCOVERY ?= yes
ifneq ($(DISCOVERY),no)
PKGS      += avahi-client
endif
SAN       ?=
# -Werror in CI (CI=true) or on request (WERROR=1).
WERROR    ?= $(if $(CI),1,)

# Quiet by default; V=1 shows every command.
Q := $(if $(V),,@)
say = $(if $(V),,@echo "  $(1)	$(2)")

comma := ,
VARIANT := $(if $(SAN),$(subst $(comma),-,$(SAN)),release)
BUILD   ?= build/$(VARIANT)

CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wvla -Wno-unused-parameter $(if $(WERROR),-Werror)
# A build needs the libraries of PKGS.  Where one is missing (a fresh
# machine: "jansson.h: No such file or directory"), a goal that builds runs
# `make deps` first when it can install without asking (as root, or with
# sudo that needs no password), and otherwise stops with one line saying to
# run it.  The goals below build nothing themselves (run installs through
# its deps prerequisite; cross and cross-test install into a sysroot).
# When everything is there this costs one pkg-config call.
DEPS_FREE_GOALS := deps run clean help uninstall cross-deps cross cross-test
pkgs_found = $(shell $(PKG_CONFIG) --exists $(1) 2>/dev/null && echo yes)
ifneq ($(filter-out $(DEPS_FREE_GOALS),$(or $(MAKECMDGOALS),all)),)
ifneq ($(call pkgs_found,$(PKGS)),yes)
DEPS_MISSING := $(if $(shell command -v pkg-config),$(strip \
	$(foreach p,$(PKGS),$(if $(call pkgs_found,$(p)),,$(p)))),pkg-config)
DEPS_CAN_INSTALL := $(if $(filter pkg-config,$(PKG_CONFIG)),$(shell \
	{ [ "$$(id -u)" -eq 0 ] || sudo -n true; } 2>/dev/null && echo yes))
ifeq ($(DEPS_CAN_INSTALL),yes)
$(info ledgerchat: missing build dependencies ($(DEPS_MISSING)): running 'make deps')
$(shell sh packaging/install-deps.sh >&2)
endif
ifneq ($(call pkgs_found,$(PKGS)),yes)
$(error ledgerchat: missing build dependencies ($(DEPS_MISSING)): run 'make deps')
endif
endif
endif

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CORE_PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(filter-out $(UI_PKGS),$(PKGS)) 2>/dev/null)
UI_PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(UI_PKGS) jansson wolfssl 2>/dev/null)
SANFLAGS   := $(if $(SAN),-fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all)
ALL_CFLAGS := -std=gnu11 $(WARN) $(CFLAGS) $(SANFLAGS) -Isrc -DLC_VERSION='"$(VERSION)"' \
              -D_GNU_SOURCE -pthread $(PKG_CFLAGS) -MMD -MP \
              $(if $(filter no,$(DISCOVERY)),-DLC_NO_DISCOVERY)
ALL_LDFLAGS := $(LDFLAGS) $(SANFLAGS) -pthread
LIBS    := $(PKG_LIBS) -lm
# The program: everything but the kiosk's libraries.
CORE_LIBS := $(CORE_PKG_LIBS) -lm
# The library's objects are position-independent, so that the kiosk's
# shared object can be linked from the same archive as the program;
# -fno-semantic-interposition keeps calls within a file as direct (and
# inlinable) as in the program, where nothing can interpose them anyway.
PIC_CFLAGS := -fPIC -fno-semantic-interposition

# Every module's sources except main.c form one static library that the
# program, the tests and the benchmarks link.
# MODULES limits the library to some modules (e.g. MODULES="util ledger")
# to build one module's tests while others are being written.
MODULES  ?= $(notdir $(wildcard src/*))
LIB_SRC  := $(sort $(wildcard $(MODULES:%=src/%/*.c)))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/liblc.a
MAIN_OBJ := $(BUILD)/src/main.o
# The kiosk (src/ui/plugin.h): src/ui/plugin.o, the table it exports, and
# what that needs from the archive; the version script hides the rest.
UI_PLUGIN := $(BUILD)/$(PROG)-ui.so

# tests/unit: in-process tests, one program per module; tests/system:
# programs that start the real binary (tests/tnode.h, tests/proc.h).  Both
# build into $(BUILD)/tests/, and tests/run.sh runs both.
UNIT_BIN   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
SYSTEM_BIN := $(patsubst tests/system/%.c,$(BUILD)/tests/%,$(wildcard tests/system/test_*.c))
TEST_BIN   := $(sort $(UNIT_BIN) $(SYSTEM_BIN))
# tests/*.c: the harness and fixtures, as an archive so each test program
# links only the pieces it uses.
SUPPORT_OBJ := $(patsubst tests/%.c,$(BUILD)/tests/%.o,$(wildcard tests/*.c))
SUPPORT_LIB := $(BUILD)/tests/libsupport.a


# Fuzz targets: tests/fuzz/fuzz_<what>.c.  `make test` replays their saved
# inputs through a plain runner; `make fuzz` builds them with libFuzzer.
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
REPLAY_BIN := $(FUZZ_NAMES:%=$(BUILD)/tests/replay_%)
FUZZ_SECONDS ?= 60
FUZZ_BUILD := build/fuzz

BENCH_BIN := $(BUILD)/bench/bench

.PHONY: all deps run programs test sim asan ubsan tsan valgrind fuzz bench bench-1m install uninstall \
	deb deb-check deb-boot-check cross cross-deps cross-test clean help
.SECONDARY: $(SUPPORT_OBJ)

all: $(PROG)

# The top-level binary is the variant just built (release unless SAN=...),
# with its kiosk beside it, where it looks first.
$(PROG): $(BUILD)/$(PROG) $(UI_PLUGIN)
	$(Q)cp $(BUILD)/$(PROG) $@
	$(Q)cp $(UI_PLUGIN) $(PROG)-ui.so

# The program links none of the kiosk's libraries (CORE_LIBS): a reference
# to the kiosk's code from it fails here.
$(BUILD)/$(PROG): $(MAIN_OBJ) $(LIB) | $(UI_PLUGIN)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(MAIN_OBJ) $(LIB) $(CORE_LIBS)

# -z defs: every symbol the kiosk uses is found at link time, in the
# archive or the libraries named here, never left to the program.
$(UI_PLUGIN): $(BUILD)/src/ui/plugin.o $(LIB) src/ui/plugin.map
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -shared -Wl,-z,defs -Wl,--exclude-libs,ALL \
		-Wl,--version-script=src/ui/plugin.map -o $@ $(BUILD)/src/ui/plugin.o $(LIB) \
		$(UI_PKG_LIBS) -lm

$(LIB): $(LIB_OBJ)
	$(call say,AR,$@)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

$(LIB_OBJ): EXTRA_CFLAGS := $(PIC_CFLAGS)

# Objects are compiled again when the flags change (CFLAGS=..., the
# library's -fPIC): $(BUILD)/cflags holds the last ones.  -Werror changes
# no object, so WERROR=1 and a plain make share them.
FLAGS_NOW := $(filter-out -Werror,$(ALL_CFLAGS) $(PIC_CFLAGS))
ifneq ($(filter-out $(DEPS_FREE_GOALS),$(or $(MAKECMDGOALS),all)),)
ifneq ($(file <$(BUILD)/cflags),$(FLAGS_NOW))
$(shell mkdir -p $(BUILD))
$(file >$(BUILD)/cflags,$(FLAGS_NOW))
endif
endif

$(BUILD)/%.o: %.c $(BUILD)/cflags
	$(call say,CC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(EXTRA_CFLAGS) -c -o $@ $<

$(UNIT_BIN): $(BUILD)/tests/%: tests/unit/%.c $(SUPPORT_LIB) $(LIB)
	$(call say,CCLD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests $(ALL_LDFLAGS) -o $@ $< $(SUPPORT_LIB) $(LIB) $(LIBS)

$(SYSTEM_BIN): $(BUILD)/tests/%: tests/system/%.c $(SUPPORT_LIB) $(LIB)
	$(call say,CCLD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests $(ALL_LDFLAGS) -o $@ $< $(SUPPORT_LIB) $(LIB) $(LIBS)

# The dependency files of a build made before the system tests left
# tests/unit still name them there: relink those once instead of stopping.
tests/unit/%.c: ;

$(SUPPORT_LIB): $(SUPPORT_OBJ)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

$(BUILD)/tests/%.o: tests/%.c $(BUILD)/cflags
	$(call say,CC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests -c -o $@ $<

deps:
	@sh packaging/install-deps.sh

# The kiosk where there is a display (X11, Wayland, or a KMS/DRM console);
# elsewhere the same node without a window.  --demo=auto: with no network
# configured (no --join, no remembered peers) a local peer answers.
run: deps
	$(MAKE) $(PROG)
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ] || [ -e /dev/dri/card0 ]; then \
		./$(PROG) --demo=auto; \
	else \
		echo "run: no display here: starting the headless node (Ctrl-C stops it)"; \
		./$(PROG) --headless --demo=auto; \
	fi

$(BUILD)/tests/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(LIB)
	$(call say,CCLD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/fuzz -DFUZZ_NAME='"$*"' $(ALL_LDFLAGS) -o $@ \
		$< tests/fuzz/replay.c $(LIB) $(LIBS)

# Everything the tests run, without running it.
programs: $(BUILD)/$(PROG) $(UI_PLUGIN) $(TEST_BIN) $(REPLAY_BIN)

test: programs
	@sh tests/run.sh $(BUILD)

asan:
	$(MAKE) test SAN=address,undefined

ubsan:
	$(MAKE) test SAN=undefined

tsan:
	$(MAKE) test SAN=thread

# A headless node under valgrind's memcheck (tests/valgrind/node.c): not in
# `make test`, it takes minutes.  Fails on any memory error and on definite
# or indirect leaks; tests/valgrind.supp says what is not counted, and why.
VALGRIND ?= valgrind
VALGRIND_BIN := $(BUILD)/tests/valgrind_node

$(VALGRIND_BIN): tests/valgrind/node.c $(SUPPORT_LIB) $(LIB)
	$(call say,CCLD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests $(ALL_LDFLAGS) -o $@ $< $(SUPPORT_LIB) $(LIB) $(LIBS)

valgrind: $(VALGRIND_BIN) $(BUILD)/$(PROG)
	@command -v $(VALGRIND) >/dev/null || { echo "make valgrind needs valgrind (apt-get install valgrind)"; exit 1; }
	@LEDGERCHAT_BIN="$(CURDIR)/$(BUILD)/$(PROG)" \
	 LEDGERCHAT_VALGRIND="$$(command -v $(VALGRIND))" \
	 LEDGERCHAT_VALGRIND_SUPP="$(CURDIR)/tests/valgrind.supp" $(VALGRIND_BIN)

# The bench builds its big chains with the tests' generator (tests/chaingen.c).
$(BENCH_BIN): $(wildcard bench/*.c) $(wildcard bench/*.h) tests/chaingen.c tests/chaingen.h $(LIB)
	$(call say,CCLD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests $(ALL_LDFLAGS) -o $@ $(wildcard bench/*.c) tests/chaingen.c \
		$(LIB) $(LIBS)

# Benchmarks: medians, each against a baseline measured in the same run.
# The Tox comparison: a program of its own (bench/tox/), built only when
# libtoxcore-dev is installed; nothing else links libtoxcore.
TOX_BENCH := $(BUILD)/bench/bench_tox
HAVE_TOX = $(shell $(PKG_CONFIG) --exists toxcore 2>/dev/null && echo yes)

$(TOX_BENCH): bench/tox/bench_tox.c
	$(call say,CCLD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(shell $(PKG_CONFIG) --cflags toxcore) $(ALL_LDFLAGS) -o $@ $< \
		$(shell $(PKG_CONFIG) --libs toxcore)

bench: $(BENCH_BIN) $(BUILD)/$(PROG) $(UI_PLUGIN) $(if $(HAVE_TOX),$(TOX_BENCH))
	$(BENCH_BIN) --bin $(BUILD)/$(PROG) $(if $(HAVE_TOX),--tox $(TOX_BENCH))

# The scale rows at a million names (make bench has them at 100,000): the
# chain is built first, through the real validation, which alone takes a
# while; then start, RSS, ledger.db, ctl names, sync, a reorganisation.
bench-1m: $(BENCH_BIN) $(BUILD)/$(PROG)
	$(BENCH_BIN) --quick --bin $(BUILD)/$(PROG) --scale 1000000

# The network simulator's standard run at 1,000 nodes (tests/netsim.h):
# propagation, bytes and reorganisations per registration, stranded nodes,
# time to heal a partition.  SIM_ARGS="--nodes 200" etc.
SIM_BIN := $(BUILD)/tests/sim

$(SIM_BIN): tests/sim/sim.c $(SUPPORT_LIB) $(LIB)
	$(call say,CCLD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests $(ALL_LDFLAGS) -o $@ $< $(SUPPORT_LIB) $(LIB) $(LIBS)

sim: $(SIM_BIN)
	$(SIM_BIN) $(SIM_ARGS)

# libFuzzer with ASan+UBSan, clang from Debian (clang, libclang-rt-14-dev).
# New inputs go to build/fuzz/corpus/<what>; the committed seeds are read.
fuzz:
	@command -v clang >/dev/null || { echo "make fuzz needs clang (apt-get install clang libclang-rt-14-dev)"; exit 1; }
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=clang SAN=address,undefined WERROR= \
		CFLAGS="-O1 -g -fsanitize=fuzzer-no-link" $(FUZZ_BUILD)/liblc.a
	@set -e; for n in $(FUZZ_NAMES); do \
		echo "  FUZZ	$$n ($(FUZZ_SECONDS) s)"; \
		clang -std=gnu11 -O1 -g -Isrc -Itests/fuzz -D_GNU_SOURCE $(PKG_CFLAGS) \
			-fsanitize=fuzzer,address,undefined -o $(FUZZ_BUILD)/fuzz_$$n \
			tests/fuzz/fuzz_$$n.c $(FUZZ_BUILD)/liblc.a $(LIBS) -pthread; \
		mkdir -p $(FUZZ_BUILD)/corpus/$$n tests/fuzz/corpus/$$n tests/fuzz/crashes/$$n; \
		$(FUZZ_BUILD)/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-artifact_prefix=tests/fuzz/crashes/$$n/ \
			$(FUZZ_BUILD)/corpus/$$n tests/fuzz/corpus/$$n 2>&1 | \
			grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::average_exec_per_sec|.*ERROR)' || true; \
	done

# Cross builds for a Raspberry Pi with 64-bit Raspberry Pi OS (Debian arm64):
# the rules above with Debian's cross compiler, against a sysroot of the
# target's libraries (packaging/cross-deps.sh makes it and says why a sysroot
# rather than multiarch).  cross-test runs the tests under qemu-user, called
# explicitly rather than through binfmt_misc; LC_TEST_TIME_SCALE stretches
# the tests' deadlines, since emulation is several times slower.
ARCH ?= arm64
TRIPLET_arm64 := aarch64-linux-gnu
QEMU_arm64 := qemu-aarch64-static
TRIPLET := $(TRIPLET_$(ARCH))
CROSS_BUILD := build/$(ARCH)
SYSROOT := $(CURDIR)/build/sysroot-$(ARCH)
CROSS_PKG_CONFIG := PKG_CONFIG_SYSROOT_DIR=$(SYSROOT) \
	PKG_CONFIG_LIBDIR=$(SYSROOT)/usr/lib/$(TRIPLET)/pkgconfig:$(SYSROOT)/usr/share/pkgconfig pkg-config
CROSS_TIME_SCALE ?= 4

cross-deps:
	@[ -n "$(TRIPLET)" ] || { echo "cross: ARCH=$(ARCH) is not supported (ARCH=arm64 is)"; exit 2; }
	@sh packaging/cross-deps.sh $(ARCH) $(TRIPLET) $(SYSROOT)

cross: cross-deps
	$(Q)$(MAKE) --no-print-directory BUILD=$(CROSS_BUILD) CC="$(TRIPLET)-gcc --sysroot=$(SYSROOT)" \
		AR=$(TRIPLET)-ar PKG_CONFIG="$(CROSS_PKG_CONFIG)" programs
	@file $(CROSS_BUILD)/$(PROG) | sed 's/, BuildID.*//'

cross-test: cross
	@QEMU_LD_PREFIX=$(SYSROOT) LC_TEST_EXEC=$(QEMU_$(ARCH)) \
		LC_TEST_TIME_SCALE=$(CROSS_TIME_SCALE) sh tests/run.sh $(CROSS_BUILD)

# The variant just built (build/release unless BUILD= or SAN= say otherwise).
# The kiosk's shared object is a private one (not a library others link):
# no SONAME, mode 0644, in the package's own directory under lib/.
install: $(BUILD)/$(PROG) $(UI_PLUGIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(PKGLIBDIR)
	install -m 0755 $(BUILD)/$(PROG) $(DESTDIR)$(BINDIR)/$(PROG)
	install -m 0644 $(UI_PLUGIN) $(DESTDIR)$(PKGLIBDIR)/$(PROG)-ui.so
	install -m 0644 packaging/$(PROG).1 $(DESTDIR)$(MANDIR)/man1/$(PROG).1

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/$(PROG) $(DESTDIR)$(MANDIR)/man1/$(PROG).1 \
		$(DESTDIR)$(PKGLIBDIR)/$(PROG)-ui.so
	-rmdir $(DESTDIR)$(PKGLIBDIR) 2>/dev/null

# The Debian package: a build of its own with Debian's hardening flags,
# `make install` into a staging tree, then packaging/deb/mkdeb.sh (plain
# dpkg-deb).  The Debian revision (-1) counts packagings of one VERSION.
DEB_VERSION := $(VERSION)-1
DEB_ARCH    ?= $(shell dpkg --print-architecture 2>/dev/null)
DEB_DIR     := build/deb
DEB         := $(DEB_DIR)/$(PROG)_$(DEB_VERSION)_$(DEB_ARCH).deb
DEB_FLAGS    = DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get
deb:
	@rm -rf $(DEB_DIR)/root
	$(Q)$(MAKE) --no-print-directory BUILD=$(DEB_DIR)/obj CFLAGS="$$($(DEB_FLAGS) CFLAGS) $$($(DEB_FLAGS) CPPFLAGS)" \
		LDFLAGS="$$($(DEB_FLAGS) LDFLAGS)" PREFIX=/usr DESTDIR=$(CURDIR)/$(DEB_DIR)/root install
	@sh packaging/deb/mkdeb.sh $(DEB_DIR)/root $(DEB_VERSION) $(DEB_ARCH) $(DEB)

# Lintian, the contents, the units (systemd-analyze verify), the man page
# against --help, the packaged program run from a throwaway root, and
# install/upgrade/remove/purge in an overlay (as root).  Installs nothing.
deb-check: deb
	@sh packaging/deb/check.sh $(DEB) $(VERSION)

# The units under a real systemd, in a container (root, systemd-nspawn).
deb-boot-check: deb
	@sh packaging/deb/boot-check.sh $(DEB)

clean:
	rm -rf build $(PROG) $(PROG)-ui.so

help:
	@echo "make          build ./$(PROG) and its kiosk, ./$(PROG)-ui.so"
	@echo "make deps     install missing Debian packages (apt-get); a build without them"
	@echo "              runs it first when it may (root, passwordless sudo), else asks for it"
	@echo "make run      deps + build + start the kiosk (the headless node without a display),"
	@echo "              in demo mode while no network is configured (--demo=auto)"
	@echo "make test     run every test; the last line is 'N passed, N failed'"
	@echo "make asan     the tests under AddressSanitizer + UBSan (ubsan, tsan too)"
	@echo "make valgrind a headless node's life under valgrind (minutes; not in make test)"
	@echo "make sim      the network simulator at 1,000 nodes (SIM_ARGS=\"--nodes 200\")"
	@echo "make bench    benchmarks (medians, ratios to same-run baselines)"
	@echo "make fuzz     each fuzz target for FUZZ_SECONDS (default 60) with libFuzzer"
	@echo "make cross ARCH=arm64       cross-build for a Raspberry Pi (64-bit OS) into build/arm64"
	@echo "make cross-deps ARCH=arm64  the cross compiler, qemu and a sysroot of arm64 libraries"
	@echo "make cross-test ARCH=arm64  the tests of build/arm64 under qemu-user"
	@echo "make install  install to \$$DESTDIR\$$PREFIX (PREFIX=$(PREFIX))"
	@echo "make deb      the Debian package, build/deb/$(PROG)_$(DEB_VERSION)_$(DEB_ARCH).deb"
	@echo "make deb-check  make deb, then lintian, contents, units and man page checks"
	@echo "make deb-boot-check  the units started under systemd in a container (root)"
	@echo "make clean    remove build products"

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(SUPPORT_OBJ:.o=.d) $(TEST_BIN:=.d) $(REPLAY_BIN:=.d) \
	 $(VALGRIND_BIN:=.d)
