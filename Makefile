# wb: small Unix filters for LLM prompt work. GNU make.
#
# B names the build directory: the default builds in place; make sanitize
# and make fuzz build their own copies under build/ and leave it alone.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
PCDIR ?= $(LIBDIR)/pkgconfig
DESTDIR ?=
B ?= .

CC ?= cc
CFLAGS ?= -O2 -g
WERROR ?= -Werror
PKG_CONFIG ?= pkg-config
DEPS = jansson yaml-0.1 libssl libcrypto
WARN = -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes $(WERROR)
DEPCFLAGS := $(shell $(PKG_CONFIG) --cflags $(DEPS) 2>/dev/null)
DEPLIBS := $(shell $(PKG_CONFIG) --libs $(DEPS) 2>/dev/null || echo -ljansson -lyaml -lssl -lcrypto)
DATADIR ?= $(PREFIX)/share/wb
ALL_CFLAGS = $(WARN) -D_POSIX_C_SOURCE=200809L -DWB_DATADIR='"$(DATADIR)"' -Ilib $(DEPCFLAGS) $(CFLAGS)
# libwslay ships no pkg-config file.
LDLIBS = $(DEPLIBS) -lwslay -lm

LIBSRC = \
	lib/bpe.c \
	lib/broadcast.c \
	lib/budget.c \
	lib/buf.c \
	lib/config.c \
	lib/count.c \
	lib/err.c \
	lib/exact.c \
	lib/json.c \
	lib/messages.c \
	lib/num.c \
	lib/opts.c \
	lib/pretok.c \
	lib/prompt.c \
	lib/prompt_render.c \
	lib/prompt_request.c \
	lib/record.c \
	lib/section.c \
	lib/summarize.c \
	lib/truncate.c \
	lib/unicode_tables.c \
	lib/utf8.c \
	lib/ws.c

CMDS = \
	wb-broadcast \
	wb-budget \
	wb-count \
	wb-prompt \
	wb-truncate

UNITS = \
	test-bpe \
	test-buf \
	test-count \
	test-json \
	test-messages \
	test-prompt \
	test-record \
	test-request \
	test-section \
	test-truncate

FUZZERS = \
	fuzz-bpe \
	fuzz-config \
	fuzz-json \
	fuzz-records \
	fuzz-truncate \
	fuzz-ws

# Helpers that only the tests use.
TOOLS = \
	wssub

MAN1 = $(CMDS:%=man/%.1)

MAN5 = \
	man/wb-config.5

MAN7 = \
	man/wb.7

HDR = lib/wb.h lib/wb_priv.h lib/pretok.h lib/unicode_tables.h \
	lib/llama3_special.h
LIBOBJ = $(LIBSRC:%.c=$(B)/%.o)
LIBA = $(B)/lib/libwb.a
BIN = $(CMDS:%=$(B)/cmd/%)
UNIT = $(UNITS:%=$(B)/tests/unit/%)
TOOL = $(TOOLS:%=$(B)/tests/tools/%)

BATS_FILES ?= tests
TEST_ENV ?=
SAN_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all
FUZZ_SECONDS ?= 60

all: $(LIBA) $(BIN) wb.pc

$(B)/lib/%.o: lib/%.c $(HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBA): $(LIBOBJ)
	rm -f $@
	$(AR) rcs $@ $(LIBOBJ)

$(B)/cmd/%: cmd/%.c $(LIBA) lib/wb.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LDLIBS)

$(B)/tests/unit/%: tests/unit/%.c tests/unit/unit.h $(LIBA) $(HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LDLIBS)

$(B)/tests/tools/%: tests/tools/%.c $(LIBA) lib/wb.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LDLIBS)

$(B)/tests/fuzz/%: tests/fuzz/%.c $(LIBA) $(HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -fsanitize=fuzzer -o $@ $< $(LIBA) $(LDLIBS)

FORCE:

wb.pc: FORCE
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' 'includedir=$(INCDIR)' '' \
	    'Name: wb' 'Description: token counting and budgets for LLM prompts' \
	    'Version: 0.1.0' 'Requires.private: $(DEPS)' \
	    'Cflags: -I$${includedir}' 'Libs: -L$${libdir} -lwb -lwslay -lm' >$@

bootstrap:
	@scripts/bootstrap

# The official rank files, for the tests; fetched once per build tree.
ENCDIR = $(CURDIR)/build/encodings

encodings: $(ENCDIR)/llama3.tiktoken

$(ENCDIR)/llama3.tiktoken:
	scripts/fetch-encodings --llama3 $(ENCDIR)

# The unit tests, then the bats tests against this build's commands.
test: $(LIBA) $(BIN) $(UNIT) $(TOOL) encodings
	@for t in $(UNIT); do echo "# $$t"; WB_ENCODINGS_DIR=$(ENCDIR) \
	    $(TEST_ENV) $(WRAP) ./$$t || exit 1; done
	WB_ENCODINGS_DIR=$(ENCDIR) $(TEST_ENV) PATH="$(abspath $(B))/cmd:$$PATH" \
	    WB_TOOLS="$(abspath $(B))/tests/tools" \
	    bats $(BATS_FLAGS) $(BATS_FILES)

check: bootstrap
	$(MAKE) all
	mandoc -Tlint -Wwarning $(MAN1) $(MAN5) $(MAN7)
	$(MAKE) test

# The whole test suite built with AddressSanitizer and UBSan: any report
# fails a test.
sanitize: bootstrap
	@mkdir -p build/san && rm -f build/san/report.*
	$(MAKE) B=build/san CC=clang CFLAGS="$(SAN_FLAGS)" test \
	    TEST_ENV="WB_SANITIZE=1 ASAN_OPTIONS=detect_leaks=1:log_path=$(CURDIR)/build/san/report UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$(CURDIR)/build/san/report"
	@if ls build/san/report.* >/dev/null 2>&1; then \
	    cat build/san/report.*; echo "sanitizer reports: see above"; exit 1; fi

# Memcheck over the unit tests and the command tests: 0 errors, no leaks.
valgrind: bootstrap
	$(MAKE) B=build/vg CFLAGS="-O0 -g" TEST_ENV="WB_VALGRIND=1" \
	    WRAP="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" \
	    test BATS_FILES="tests/wb-count.bats tests/wb-truncate.bats tests/wb-budget.bats tests/wb-prompt.bats"

# libFuzzer harnesses, each for FUZZ_SECONDS on its seed corpus.
fuzz: bootstrap encodings
	$(MAKE) B=build/fuzz CC=clang CFLAGS="$(SAN_FLAGS) -fsanitize=fuzzer-no-link" \
	    $(FUZZERS:%=build/fuzz/tests/fuzz/%)
	@for f in $(FUZZERS); do \
	    mkdir -p build/fuzz/corpus/$$f; \
	    echo "# $$f for $(FUZZ_SECONDS) s"; \
	    WB_ENCODINGS_DIR=$(ENCDIR) build/fuzz/tests/fuzz/$$f \
	        -max_total_time=$(FUZZ_SECONDS) \
	        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	        build/fuzz/corpus/$$f tests/fuzz/corpus/$$f || exit 1; \
	done

lint: bootstrap
	cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,portability \
	    --inline-suppr -Ilib --include=/usr/include/jansson.h -D__GNUC__ lib cmd
	clang-tidy --quiet $(LIBSRC) $(CMDS:%=cmd/%.c) -- $(ALL_CFLAGS)
	shellcheck $$(grep -l '^#!.*sh' scripts/*) .ci/run

demo: bootstrap
	$(MAKE) all
	@scripts/demo

bench: all
	scripts/bench

# The exact tokenizers against the npm peers (installs them; minutes).
bench-tokenizers: all encodings
	PATH="$(CURDIR)/cmd:$$PATH" WB_ENCODINGS_DIR=$(ENCDIR) scripts/bench-tokenizers

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR) \
	    $(DESTDIR)$(PCDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man7
	cp -f $(BIN) $(DESTDIR)$(BINDIR)/
	cp -f $(LIBA) $(DESTDIR)$(LIBDIR)/
	cp -f lib/wb.h $(DESTDIR)$(INCDIR)/
	cp -f wb.pc $(DESTDIR)$(PCDIR)/
	cp -f $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	cp -f $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	cp -f $(MAN7) $(DESTDIR)$(MANDIR)/man7/
	mkdir -p $(DESTDIR)$(DATADIR)/encodings
	if [ -f $(ENCDIR)/cl100k_base.tiktoken ]; then \
	    cp -f $(ENCDIR)/*.tiktoken $(DESTDIR)$(DATADIR)/encodings/; \
	else echo "install: no rank files; run scripts/fetch-encodings" >&2; fi

uninstall:
	rm -f $(CMDS:%=$(DESTDIR)$(BINDIR)/%)
	rm -f $(DESTDIR)$(LIBDIR)/libwb.a $(DESTDIR)$(INCDIR)/wb.h \
	    $(DESTDIR)$(PCDIR)/wb.pc
	rm -rf $(DESTDIR)$(DATADIR)
	rm -f $(MAN1:man/%=$(DESTDIR)$(MANDIR)/man1/%) \
	    $(MAN5:man/%=$(DESTDIR)$(MANDIR)/man5/%) \
	    $(MAN7:man/%=$(DESTDIR)$(MANDIR)/man7/%)

clean:
	rm -f $(LIBOBJ) $(LIBA) $(BIN) $(UNIT) $(TOOL) wb.pc
	rm -rf build

.PHONY: all bootstrap encodings test check sanitize valgrind fuzz lint demo bench \
	bench-tokenizers \
	install uninstall clean FORCE
.SECONDARY: $(LIBOBJ)
