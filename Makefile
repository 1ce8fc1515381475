# wb: small Unix filters for LLM prompt work. GNU make.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
PCDIR ?= $(LIBDIR)/pkgconfig
DESTDIR ?=

CC ?= cc
CFLAGS ?= -O2 -g
WERROR ?= -Werror
PKG_CONFIG ?= pkg-config
DEPS = jansson yaml-0.1
WARN = -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes $(WERROR)
DEPCFLAGS := $(shell $(PKG_CONFIG) --cflags $(DEPS) 2>/dev/null)
DEPLIBS := $(shell $(PKG_CONFIG) --libs $(DEPS) 2>/dev/null || echo -ljansson)
ALL_CFLAGS = $(WARN) -D_POSIX_C_SOURCE=200809L -Ilib $(DEPCFLAGS) $(CFLAGS)
LDLIBS = $(DEPLIBS) -lm

LIBOBJ = \
	lib/budget.o \
	lib/config.o \
	lib/count.o \
	lib/err.o \
	lib/num.o \
	lib/opts.o \
	lib/prompt.o \
	lib/record.o \
	lib/summarize.o \
	lib/truncate.o \
	lib/utf8.o

BIN = \
	cmd/wb-budget \
	cmd/wb-count \
	cmd/wb-prompt \
	cmd/wb-truncate

MAN1 = \
	man/wb-budget.1 \
	man/wb-count.1 \
	man/wb-prompt.1 \
	man/wb-truncate.1

MAN5 = \
	man/wb-config.5

MAN7 = \
	man/wb.7

UNIT = \
	tests/unit/test-count \
	tests/unit/test-record \
	tests/unit/test-truncate

HDR = lib/wb.h lib/wb_priv.h

all: lib/libwb.a $(BIN) wb.pc

lib/%.o: lib/%.c $(HDR)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

lib/libwb.a: $(LIBOBJ)
	rm -f $@
	$(AR) rcs $@ $(LIBOBJ)

cmd/%: cmd/%.c lib/libwb.a lib/wb.h
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< lib/libwb.a $(LDLIBS)

tests/unit/%: tests/unit/%.c tests/unit/unit.h lib/libwb.a $(HDR)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< lib/libwb.a $(LDLIBS)

FORCE:

wb.pc: FORCE
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' 'includedir=$(INCDIR)' '' \
	    'Name: wb' 'Description: token counting and budgets for LLM prompts' \
	    'Version: 0.1.0' 'Requires.private: $(DEPS)' \
	    'Cflags: -I$${includedir}' 'Libs: -L$${libdir} -lwb -lm' >$@

bootstrap:
	@scripts/bootstrap

check: bootstrap
	$(MAKE) all $(UNIT)
	@for t in $(UNIT); do echo "$$t"; ./$$t || exit 1; done
	mandoc -Tlint -Wwarning $(MAN1) $(MAN5) $(MAN7)
	PATH="$(CURDIR)/cmd:$$PATH" bats $(BATS_FLAGS) tests

demo: bootstrap
	$(MAKE) all
	@scripts/demo

bench: all
	scripts/bench

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR) \
	    $(DESTDIR)$(PCDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man7
	cp -f $(BIN) $(DESTDIR)$(BINDIR)/
	cp -f lib/libwb.a $(DESTDIR)$(LIBDIR)/
	cp -f lib/wb.h $(DESTDIR)$(INCDIR)/
	cp -f wb.pc $(DESTDIR)$(PCDIR)/
	cp -f $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	cp -f $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	cp -f $(MAN7) $(DESTDIR)$(MANDIR)/man7/

uninstall:
	rm -f $(BIN:cmd/%=$(DESTDIR)$(BINDIR)/%)
	rm -f $(DESTDIR)$(LIBDIR)/libwb.a $(DESTDIR)$(INCDIR)/wb.h \
	    $(DESTDIR)$(PCDIR)/wb.pc
	rm -f $(MAN1:man/%=$(DESTDIR)$(MANDIR)/man1/%) \
	    $(MAN5:man/%=$(DESTDIR)$(MANDIR)/man5/%) \
	    $(MAN7:man/%=$(DESTDIR)$(MANDIR)/man7/%)

clean:
	rm -f $(LIBOBJ) lib/libwb.a $(BIN) $(UNIT) wb.pc

.PHONY: all bootstrap check demo bench install uninstall clean FORCE
.SECONDARY: $(LIBOBJ)
