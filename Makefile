# kairan - one non-recursive Makefile (Redis/OpenBSD style).
#
#   make deps     install missing Debian packages (as root), else print the command
#   make          build build/kairan
#   make run      build, initialise ./var/node on first run, publish the samples, serve
#   make demo     a whole federation (board, hub, four towns) in network namespaces, with a tour (root)
#   make check    unit tests (cmocka), integration tests (real nodes, git, sockets), browser tests
#   make bench    benchmarks beside their baselines
#   make fuzz     libFuzzer targets (clang), FUZZ_SECONDS (120) each; not in check
#   make soak     one hub, 500 towns, an item a second for 10 min, a flood on the side
#                 (SOAK_TOWNS=20 SOAK_SECONDS=60 make soak for a short run)
#   make install PREFIX=/usr/local   binary, systemd unit, man pages, completion, example config
#   make deb      a Debian package (build/kairan_*.deb), checked by lintian
#   make check-deb  installs it into a fresh Debian 12 root (debootstrap) and runs a node
#   make check SANITIZE=address,undefined

PREFIX ?= /usr/local
SANITIZE ?=
BUILD ?= $(if $(SANITIZE),build-san,build)
CC ?= cc
CFLAGS ?= -O2 -g

PKGS = libzmq libprotobuf-c sqlite3 libgit2 openssl yaml-0.1 zlib libutf8proc jansson libmicrohttpd libcmark
# (sd_notify: node/service.c speaks the protocol itself; libsystemd loaded seven libraries into every command)
DEB_PKGS = build-essential pkg-config libzmq3-dev libprotobuf-c-dev protobuf-c-compiler \
	libsqlite3-dev libgit2-dev libssl-dev libyaml-dev zlib1g-dev libutf8proc-dev libjansson-dev libcmocka-dev \
	git openssh-client sqlite3 perl procps libmicrohttpd-dev libcmark-dev chromium fonts-ipafont-gothic wrk curl python3 xxd
# The conformance client (tests/tools/conformance.py: code from proto/kairan.proto by protoc) and the card checks.
DEB_PKGS += python3-zmq python3-protobuf protobuf-compiler python3-cryptography python3-yaml
# the service (sd_notify), its sandbox test, the package and its checks
DEB_PKGS += libsystemd-dev bubblewrap debootstrap lintian dpkg-dev man-db openssl
# Only for `make fuzz`: clang and its libFuzzer/sanitizer runtimes.
# The search benchmark's anchor (tests/tools/groongabench.c): in-process Groonga.
DEB_PKGS += libgroonga-dev
FUZZ_DEB_PKGS = clang libclang-rt-14-dev

WARN = -std=c17 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wwrite-strings -Wvla -Wformat=2
ifneq ($(SANITIZE),)
SAN = -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
endif
# Recursive (=) so pkg-config runs after `deps` installed what was missing.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS = $(shell pkg-config --libs $(PKGS)) -lpthread
PKG_LIBS += -lm
ALL_CFLAGS = -D_GNU_SOURCE $(WARN) $(WERROR) $(CFLAGS) $(SAN) -I$(BUILD)/proto $(PKG_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(SAN)

LIB_SRC = sharing/common.c sharing/sign.c sharing/federation.c sharing/fedstore.c sharing/store.c sharing/state.c sharing/text.c \
	sharing/manifest.c sharing/replica.c sharing/search.c proto/codec.c \
	policies/frontmatter.c policies/item.c policies/pii.c policies/dataset.c policies/policy.c policies/idcard.c \
	node/home.c node/log.c node/peer.c node/serve.c node/import.c \
	node/html.c node/markdown.c node/textdiff.c node/web.c node/webdata.c node/webjson.c \
	node/web_pages.c node/web_api.c node/web_retrieval.c
LIB_SRC += sharing/searchcols.c
LIB_SRC += policies/values.c
LIB_SRC += node/transport.c
LIB_SRC += node/federate.c
LIB_SRC += policies/board.c sharing/board.c node/board.c
LIB_SRC += node/searchq.c
LIB_SRC += node/ports.c node/service.c
LIB_SRC += node/keyrot.c
CLI_SRC = node/main.c node/cli.c node/cmd_content.c node/cmd_sync.c node/cmd_search.c node/cmd_import.c node/cmd_diff.c node/cmd_federation.c
CLI_SRC += node/cmd_transport.c
CLI_SRC += node/cmd_join.c
CLI_SRC += node/cmd_audit.c
CLI_SRC += node/cmd_board.c
CLI_SRC += node/cmd_config.c node/cmd_key.c node/cmd_backup.c
PB = $(BUILD)/proto/kairan.pb-c
LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o) $(PB).o $(BUILD)/policies/default_policy.o
CLI_OBJ = $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT = codec sign lgcode manifest federation item text pii common html
UNIT += values
UNIT += board
UNIT_BIN = $(UNIT:%=$(BUILD)/tests/unit/test_%)
TOOLS = $(BUILD)/tests/hostile $(BUILD)/tests/probe $(BUILD)/tests/benchsub $(BUILD)/tests/searchoracle $(BUILD)/tests/searchbench $(BUILD)/tests/fakepeer $(BUILD)/tests/flood
TOOLS += $(BUILD)/tests/groongabench
TOOLS += $(BUILD)/tests/fedgen
# libFuzzer targets (tests/fuzz/fuzz_<name>.c); `make check` replays their
# corpora and every input that once crashed with the ordinary compiler.
FUZZ = codec item dataset import search sshsig
REPLAY_BIN = $(FUZZ:%=$(BUILD)/tests/replay_%)
FUZZ_SECONDS ?= 120
FUZZ_BUILD = build-fuzz
FUZZ_SAN = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined

.PHONY: all deps fuzz-deps run demo check check-web unit replay integration bench fuzz soak install clean
.PHONY: install-files deb check-deb
.DEFAULT_GOAL := all

all: deps $(BUILD)/kairan

# $(call s_install,PACKAGES): as root apt-get installs what is missing, else prints the command.
s_install = missing=""; for p in $(1); do \
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

deps:
	@$(call s_install,$(DEB_PKGS))
	@# the browser tests: playwright-core and axe-core from the committed lock file
	@if [ ! -d tests/browser/node_modules/playwright-core ] || [ ! -d tests/browser/node_modules/axe-core ]; then \
	  if ! command -v npm >/dev/null; then \
	    if [ "$$(id -u)" = 0 ]; then apt-get install -y -q nodejs npm >/dev/null || exit 1; \
	    else echo "the browser tests need npm; run: sudo apt-get install -y nodejs npm"; exit 1; fi; \
	  fi; \
	  echo "installing the browser test packages (npm ci in tests/browser)"; \
	  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error) || exit 1; \
	fi
	@# LangChain's own JSONLinesLoader for t0046, from its committed lock file
	@if [ ! -d tests/node/node_modules/@langchain/classic ]; then \
	  echo "installing LangChain's loaders for the export tests (npm ci in tests/node)"; \
	  (cd tests/node && npm ci --no-audit --no-fund --loglevel=error) || exit 1; \
	fi

fuzz-deps: deps
	@$(call s_install,$(FUZZ_DEB_PKGS))

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

# Links libgroonga too (only this tool; -isystem: its headers are not ours to warn about).
$(BUILD)/tests/groongabench: tests/tools/groongabench.c tests/tools/searchcorpus.h $(BUILD)/libkairan.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(patsubst -I%,-isystem %,$(shell pkg-config --cflags groonga)) $(ALL_LDFLAGS) -o $@ $< \
	  $(BUILD)/libkairan.a $(PKG_LIBS) $(shell pkg-config --libs groonga)

# A fuzz target with a plain main() that replays files (tests/fuzz/replay.c).
$(BUILD)/tests/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(BUILD)/libkairan.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< tests/fuzz/replay.c $(BUILD)/libkairan.a $(PKG_LIBS)

# The same target linked with libFuzzer (only in the fuzz build, by clang).
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(BUILD)/libkairan.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(FUZZ_SAN) -o $@ $< $(BUILD)/libkairan.a $(PKG_LIBS)

run: all
	@sh deploy/run.sh $(BUILD)/kairan

# A whole federation on one machine, each node in its own network namespace (root).
demo: all
	@sh deploy/demo.sh $(BUILD)/kairan

check: WERROR = -Werror
check: deps
	$(MAKE) --no-print-directory WERROR=-Werror $(BUILD)/kairan $(UNIT_BIN) $(TOOLS) $(REPLAY_BIN)
	@$(MAKE) --no-print-directory unit replay integration

unit:
	@fail=0; for t in $(UNIT_BIN); do echo "== $$t"; $$t || fail=1; done; exit $$fail

# Every seed and every input that once crashed a fuzz target, through the ordinary build.
replay:
	@fail=0; for t in $(FUZZ); do \
	  $(BUILD)/tests/replay_$$t tests/fuzz/corpus/$$t $$(test -d tests/fuzz/regress/$$t && echo tests/fuzz/regress/$$t) \
	    || { echo "replay_$$t: an input crashed or could not be read"; fail=1; }; \
	done; exit $$fail

# libFuzzer: each target FUZZ_SECONDS from a copy of its seed corpus (new
# inputs stay in $(FUZZ_BUILD)/corpus); a crash stops with its input in
# $(FUZZ_BUILD)/crashes/<target>/ and fails. Make it a regression input:
# copy it to tests/fuzz/regress/<target>/ (replayed by make check).
fuzz: fuzz-deps
	$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang SANITIZE=fuzzer-no-link,address,undefined \
	  CFLAGS="-O1 -g -fno-sanitize-recover=undefined" $(FUZZ:%=$(FUZZ_BUILD)/fuzz/fuzz_%)
	@for t in $(FUZZ); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/crashes/$$t; \
	  cp -n tests/fuzz/corpus/$$t/* $(FUZZ_BUILD)/corpus/$$t/ 2>/dev/null; \
	  echo "== fuzz_$$t for $(FUZZ_SECONDS) s"; \
	  $(FUZZ_BUILD)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	    -max_len=65536 -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/crashes/$$t/ \
	    $$(test -f tests/fuzz/$$t.dict && echo -dict=tests/fuzz/$$t.dict) \
	    $(FUZZ_BUILD)/corpus/$$t 2>$(FUZZ_BUILD)/fuzz_$$t.log; rc=$$?; \
	  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+.*DONE)' $(FUZZ_BUILD)/fuzz_$$t.log; \
	  if [ $$rc != 0 ]; then tail -40 $(FUZZ_BUILD)/fuzz_$$t.log; \
	    echo "fuzz_$$t: crashed; input in $(FUZZ_BUILD)/crashes/$$t/"; exit 1; fi; \
	done

TESTS ?= tests/t[0-9]*.sh
integration:
	KAIRAN=$(CURDIR)/$(BUILD)/kairan TOOLS=$(CURDIR)/$(BUILD)/tests prove -v $(TESTS)

# The web tests alone (pages, APIs, Dify, the browser, limits), e.g. under
# `make check-web SANITIZE=address,undefined`: every sanitizer report of
# every kairan process goes to $(BUILD)/san-logs/, and any report fails the run.
WEB_TESTS = tests/t0030-web.sh tests/t0031-web-api.sh tests/t0032-retrieval.sh tests/t0033-browser.sh \
	tests/t0034-web-limits.sh tests/t0067-web-rows-facets.sh
check-web: deps
	$(MAKE) --no-print-directory WERROR=-Werror $(BUILD)/kairan $(TOOLS)
	@rm -rf $(BUILD)/san-logs; mkdir -p $(BUILD)/san-logs
	@ASAN_OPTIONS=log_path=$(CURDIR)/$(BUILD)/san-logs/asan UBSAN_OPTIONS=print_stacktrace=1:log_path=$(CURDIR)/$(BUILD)/san-logs/ubsan \
	  $(MAKE) --no-print-directory integration TESTS="$(WEB_TESTS)"; rc=$$?; \
	  if [ -n "$$(ls $(BUILD)/san-logs)" ]; then echo "sanitizer reports:"; ls $(BUILD)/san-logs; rc=1; fi; exit $$rc

bench: deps $(BUILD)/kairan $(TOOLS)
	KAIRAN=$(CURDIR)/$(BUILD)/kairan TOOLS=$(CURDIR)/$(BUILD)/tests sh tests/bench/run.sh

soak: deps $(BUILD)/kairan $(TOOLS)
	KAIRAN=$(CURDIR)/$(BUILD)/kairan TOOLS=$(CURDIR)/$(BUILD)/tests prove -v tests/soak/run.sh

# make install PREFIX=/usr DESTDIR=...: the binary, the systemd unit (its
# paths follow PREFIX), the sysusers entry, man pages, bash completion, the
# example config and the operator guide, the policy and the samples.
UNITDIR ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
SYSUSERSDIR ?= $(if $(filter /usr,$(PREFIX)),/usr/lib/sysusers.d,$(PREFIX)/lib/sysusers.d)
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/kairan
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
KAIRAN_VERSION = $(shell sed -n 's/^\#define KAIRAN_VERSION "\(.*\)"/\1/p' node/main.c)

install: all
	@$(MAKE) --no-print-directory install-files

install-files: $(BUILD)/kairan
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/kairan/policies $(DESTDIR)$(UNITDIR) \
	  $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(DOCDIR) \
	  $(DESTDIR)$(COMPLETIONDIR)
	install -m 755 $(BUILD)/kairan $(DESTDIR)$(PREFIX)/bin/kairan
	install -m 644 policies/default.policy $(DESTDIR)$(PREFIX)/share/kairan/policies/
	cp -r deploy/samples $(DESTDIR)$(PREFIX)/share/kairan/
	sed 's|/usr/bin/kairan|$(PREFIX)/bin/kairan|g' deploy/systemd/kairan.service >$(DESTDIR)$(UNITDIR)/kairan.service
	chmod 644 $(DESTDIR)$(UNITDIR)/kairan.service
	install -m 644 deploy/debian/sysusers.conf $(DESTDIR)$(SYSUSERSDIR)/kairan.conf
	install -m 644 docs/man/kairan.1 $(DESTDIR)$(MANDIR)/man1/kairan.1
	install -m 644 docs/man/kairan-config.5 $(DESTDIR)$(MANDIR)/man5/kairan-config.5
	install -m 644 deploy/bash-completion/kairan $(DESTDIR)$(COMPLETIONDIR)/kairan
	install -m 644 deploy/config.example docs/運用.md $(DESTDIR)$(DOCDIR)/

# make deb: build/kairan_VERSION_ARCH.deb by dpkg-deb from install-files
# (PREFIX=/usr) and deploy/debian/ (maintainer scripts, debconf template);
# lintian runs on it and any error fails the target.
DEB_ARCH = $(shell dpkg --print-architecture)
DEB_VERSION = $(KAIRAN_VERSION)-1
DEB = $(BUILD)/kairan_$(DEB_VERSION)_$(DEB_ARCH).deb
DEB_ROOT = $(BUILD)/deb/root

deb: $(DEB)

$(DEB): $(BUILD)/kairan deploy/debian/* deploy/systemd/kairan.service docs/man/* deploy/config.example docs/運用.md deploy/bash-completion/kairan
	rm -rf $(BUILD)/deb && mkdir -p $(DEB_ROOT)/DEBIAN $(BUILD)/deb/src/debian
	$(MAKE) --no-print-directory install-files DESTDIR=$(abspath $(DEB_ROOT)) PREFIX=/usr
	strip --remove-section=.comment --remove-section=.note --strip-unneeded $(DEB_ROOT)/usr/bin/kairan
	gzip -9n $(DEB_ROOT)/usr/share/man/man1/kairan.1 $(DEB_ROOT)/usr/share/man/man5/kairan-config.5
	sed 's/@VERSION@/$(DEB_VERSION)/' deploy/debian/changelog | gzip -9n >$(DEB_ROOT)/usr/share/doc/kairan/changelog.Debian.gz
	install -m 644 deploy/debian/copyright $(DEB_ROOT)/usr/share/doc/kairan/copyright
	for f in postinst prerm postrm config; do install -m 755 deploy/debian/$$f $(DEB_ROOT)/DEBIAN/; done
	install -m 644 deploy/debian/templates $(DEB_ROOT)/DEBIAN/
	printf 'Source: kairan\nMaintainer: x <x@x.invalid>\n\nPackage: kairan\nArchitecture: any\n' >$(BUILD)/deb/src/debian/control
	shlibs=$$(cd $(BUILD)/deb/src && dpkg-shlibdeps -O -e$(abspath $(DEB_ROOT))/usr/bin/kairan 2>/dev/null | sed -n 's/^shlibs:Depends=//p'); \
	size=$$(du -sk --exclude=DEBIAN $(DEB_ROOT) | cut -f1); \
	sed -e 's/@VERSION@/$(DEB_VERSION)/' -e 's/@ARCH@/$(DEB_ARCH)/' -e "s/@SIZE@/$$size/" -e "s/@SHLIBS@/$$shlibs/" \
	  deploy/debian/control.in >$(DEB_ROOT)/DEBIAN/control
	cd $(DEB_ROOT) && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum >DEBIAN/md5sums
	find $(DEB_ROOT) -type d -exec chmod 755 {} +
	dpkg-deb --root-owner-group -Zxz --build $(DEB_ROOT) $@
	lintian --fail-on error --suppress-tags-from-file deploy/debian/lintian-suppress $@

# make check-deb: the package installed by apt into a fresh Debian 12 root
# (debootstrap; the root is cached as build/debian12-root.tar), a node
# initialised in it as _kairan, `kairan status`, and purge keeping the home
# (debconf's default answer). Needs root and the Debian mirror.
check-deb: $(DEB)
	sh deploy/check-deb.sh $(DEB) $(BUILD)

clean:
	rm -rf $(BUILD) $(FUZZ_BUILD)

# (not the package staging and check-deb's Debian root: files named *.d there are not ours)
-include $(shell find $(BUILD) \( -path '$(BUILD)/deb' -o -path '$(BUILD)/check-deb-*' \) -prune -o -name '*.d' -type f -print 2>/dev/null)
