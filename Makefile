# kairan - one non-recursive Makefile (Redis/OpenBSD style).
#
#   make deps     install missing Debian packages (as root), else print the command
#   make          build build/kairan
#   make run      build, initialise ./var/node on first run, publish the samples, serve
#   make check    unit tests (cmocka), integration tests (real nodes, git, sockets), browser tests
#   make bench    benchmarks beside their baselines
#   make install PREFIX=/usr/local
#   make check SANITIZE=address,undefined

PREFIX ?= /usr/local
SANITIZE ?=
BUILD ?= $(if $(SANITIZE),build-san,build)
CC ?= cc
CFLAGS ?= -O2 -g

PKGS = libzmq libprotobuf-c sqlite3 libgit2 openssl yaml-0.1 zlib libutf8proc jansson libmicrohttpd libcmark
DEB_PKGS = build-essential pkg-config libzmq3-dev libprotobuf-c-dev protobuf-c-compiler \
	libsqlite3-dev libgit2-dev libssl-dev libyaml-dev zlib1g-dev libutf8proc-dev libjansson-dev libcmocka-dev \
	git openssh-client sqlite3 perl procps libmicrohttpd-dev libcmark-dev chromium fonts-ipafont-gothic wrk curl python3 xxd

WARN = -std=c17 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wwrite-strings -Wvla -Wformat=2
ifneq ($(SANITIZE),)
SAN = -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
endif
# Recursive (=) so pkg-config runs after `deps` installed what was missing.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS = $(shell pkg-config --libs $(PKGS)) -lpthread
ALL_CFLAGS = -D_GNU_SOURCE $(WARN) $(WERROR) $(CFLAGS) $(SAN) -I$(BUILD)/proto $(PKG_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(SAN)

LIB_SRC = sharing/common.c sharing/sign.c sharing/federation.c sharing/fedstore.c sharing/store.c sharing/state.c sharing/text.c \
	sharing/manifest.c sharing/replica.c sharing/search.c proto/codec.c \
	policies/frontmatter.c policies/item.c policies/pii.c policies/dataset.c policies/policy.c policies/idcard.c \
	node/home.c node/log.c node/peer.c node/serve.c \
	node/html.c node/markdown.c node/textdiff.c node/web.c node/webdata.c node/webjson.c \
	node/web_pages.c node/web_api.c node/web_retrieval.c
CLI_SRC = node/main.c node/cli.c node/cmd_content.c node/cmd_sync.c node/cmd_search.c node/cmd_import.c node/cmd_diff.c node/cmd_federation.c
PB = $(BUILD)/proto/kairan.pb-c
LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o) $(PB).o $(BUILD)/policies/default_policy.o
CLI_OBJ = $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT = codec sign lgcode manifest federation item text pii html
UNIT_BIN = $(UNIT:%=$(BUILD)/tests/unit/test_%)
TOOLS = $(BUILD)/tests/hostile $(BUILD)/tests/probe $(BUILD)/tests/benchsub $(BUILD)/tests/searchoracle $(BUILD)/tests/searchbench

.PHONY: all deps run check unit integration bench install clean
.DEFAULT_GOAL := all

all: deps $(BUILD)/kairan

deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    (apt-get install -y -q $$missing || (apt-get update -q && apt-get install -y -q $$missing)) >/dev/null || exit 1; \
	  else \
	    echo "kairan needs these Debian packages:$$missing"; \
	    echo "run: sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi
	@# the browser tests: playwright-core and axe-core from the committed lock file
	@if [ ! -d tests/browser/node_modules/playwright-core ] || [ ! -d tests/browser/node_modules/axe-core ]; then \
	  if ! command -v npm >/dev/null; then \
	    if [ "$$(id -u)" = 0 ]; then apt-get install -y -q nodejs npm >/dev/null || exit 1; \
	    else echo "the browser tests need npm; run: sudo apt-get install -y nodejs npm"; exit 1; fi; \
	  fi; \
	  echo "installing the browser test packages (npm ci in tests/browser)"; \
	  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error) || exit 1; \
	fi

$(PB).c $(PB).h: proto/kairan.proto
	@mkdir -p $(BUILD)/proto
	protoc-c --c_out=$(BUILD)/proto --proto_path=proto proto/kairan.proto

# Generated code: relaxed warnings.
$(PB).o: $(PB).c
	$(CC) -std=c17 $(CFLAGS) $(SAN) $(PKG_CFLAGS) -c -o $@ $<

$(BUILD)/%.o: %.c $(PB).h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# The default policy is text (policies/default.policy), compiled in as a string.
$(BUILD)/policies/default_policy.c: policies/default.policy
	@mkdir -p $(dir $@)
	{ echo '/* generated from policies/default.policy */'; echo 'const char kr_default_policy[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; echo ';'; } >$@

$(BUILD)/policies/default_policy.o: $(BUILD)/policies/default_policy.c
	$(CC) -std=c17 $(CFLAGS) $(SAN) -c -o $@ $<

$(BUILD)/libkairan.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/kairan: $(CLI_OBJ) $(BUILD)/libkairan.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libkairan.a $(PKG_LIBS)

$(BUILD)/tests/unit/test_%: tests/unit/test_%.c $(BUILD)/libkairan.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libkairan.a $(PKG_LIBS) -lcmocka

$(BUILD)/tests/%: tests/tools/%.c $(BUILD)/libkairan.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libkairan.a $(PKG_LIBS)

run: all
	@sh deploy/run.sh $(BUILD)/kairan

check: WERROR = -Werror
check: deps
	$(MAKE) --no-print-directory WERROR=-Werror $(BUILD)/kairan $(UNIT_BIN) $(TOOLS)
	@$(MAKE) --no-print-directory unit integration

unit:
	@fail=0; for t in $(UNIT_BIN); do echo "== $$t"; $$t || fail=1; done; exit $$fail

integration:
	KAIRAN=$(CURDIR)/$(BUILD)/kairan TOOLS=$(CURDIR)/$(BUILD)/tests prove -v tests/t[0-9]*.sh

bench: deps $(BUILD)/kairan $(TOOLS)
	KAIRAN=$(CURDIR)/$(BUILD)/kairan TOOLS=$(CURDIR)/$(BUILD)/tests sh tests/bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/kairan/policies
	install -m 755 $(BUILD)/kairan $(DESTDIR)$(PREFIX)/bin/kairan
	install -m 644 policies/default.policy $(DESTDIR)$(PREFIX)/share/kairan/policies/
	cp -r deploy/samples $(DESTDIR)$(PREFIX)/share/kairan/

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
