# SPDX-License-Identifier: GPL-2.0-or-later
# SPDX-FileCopyrightText: 2026 passt-go contributors
#
# make            build bin/passt-monitor, bin/passt-worker, bin/qrap and the
#                 links bin/passt, bin/pasta, bin/passt4netns
# make deps       install the Debian packages needed to build (as root)
# make test       run the whole test suite (as root: namespaces, tap)
# make check      gofmt, go vet, staticcheck, reuse lint, man page lint
# make fuzz       a short run of every fuzz target
# make bench      micro-benchmarks and the side-by-side harness (as root)
# make demo       pasta-style demo: a namespace given its network
# make install    PREFIX, DESTDIR, BINDIR, LIBEXECDIR, MANDIR

SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin:$(HOME)/go/bin
export GOTOOLCHAIN ?= local
export CGO_ENABLED := 1

GO ?= go
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec/passt-go
MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)
LDFLAGS := -X main.version=$(VERSION) -X main.libexecDir=$(LIBEXECDIR)
GOBUILD := $(GO) build -trimpath -buildvcs=false -ldflags '$(LDFLAGS)'

FUZZTIME ?= 5s
TESTFLAGS ?= -count=1 -timeout 15m
STATICCHECK_VERSION := v0.8.2

BUILD_DEBS := gcc pkg-config libseccomp-dev
TEST_DEBS := iproute2 procps busybox-static udhcpc isc-dhcp-client dnsmasq-base \
	tcpdump socat iperf3 util-linux systemd qemu-system-x86 linux-image-cloud-amd64
CHECK_DEBS := reuse mandoc apparmor

.PHONY: all deps test-deps check-deps test check fuzz bench bench-micro demo install \
	uninstall clean

all: bin/passt-monitor bin/passt-worker bin/qrap bin/passt bin/pasta bin/passt4netns

# The binaries are rebuilt every time: go's own cache makes that cheap and
# keeps make from second-guessing package dependencies.
bin/passt-monitor bin/passt-worker bin/qrap: FORCE deps
	@mkdir -p bin
	$(GOBUILD) -o $@ ./cmd/$(notdir $@)

# tapbridge attaches a namespace's tap device to passt's socket: the demo
# and the benchmarks use it.
bin/tapbridge: FORCE deps
	@mkdir -p bin
	$(GOBUILD) -o $@ ./test/cmd/tapbridge

bin/passt bin/pasta bin/passt4netns: bin/passt-monitor
	ln -sf passt-monitor $@

FORCE:

# deps installs what is missing, and only that: a machine that has it all
# is left alone, so an ordinary user can build without root.
define need_debs
	@missing=""; for p in $(1); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "missing Debian packages:$$missing (run make $(2) as root)"; exit 1; fi; \
		echo "installing:$$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi
endef

deps:
	$(call need_debs,$(BUILD_DEBS),deps)

test-deps: deps
	$(call need_debs,$(TEST_DEBS),test-deps)
	@if [ -c /dev/net/tun ] && [ "$$(id -u)" = 0 ]; then chmod 0666 /dev/net/tun; fi

check-deps: deps
	$(call need_debs,$(CHECK_DEBS),check-deps)
	@command -v staticcheck >/dev/null || GOFLAGS= $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

test: test-deps all
	$(GO) test $(TESTFLAGS) ./...

check: check-deps
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags testhooks ./...
	staticcheck ./...
	reuse lint
	@if ls doc/*.[18] >/dev/null 2>&1; then mandoc -Tlint -Wwarning doc/*.[18]; fi
	@# The AppArmor profiles parse; the userns rule needs AppArmor 4.
	@if command -v apparmor_parser >/dev/null; then \
		d=$$(mktemp -d) && mkdir -p $$d/abstractions && \
		cp contrib/apparmor/abstractions/passt contrib/apparmor/abstractions/pasta $$d/abstractions/ && \
		if apparmor_parser --version | grep -q 'version [4-9]'; then \
			cp contrib/apparmor/abstractions/passt-userns $$d/abstractions/; fi && \
		apparmor_parser -Q -T -I $$d contrib/apparmor/usr.bin.passt 2>&1 | grep -v '^Cache read/write disabled' ; \
		r1=$${PIPESTATUS[0]}; \
		apparmor_parser -Q -T -I $$d contrib/apparmor/usr.bin.pasta 2>&1 | grep -v '^Cache read/write disabled' ; \
		r2=$${PIPESTATUS[0]}; rm -rf $$d; \
		[ $$r1 = 0 ] && [ $$r2 = 0 ] && echo "apparmor profiles: parsed"; \
	fi

# fuzz runs every fuzz target for FUZZTIME. go test accepts one -fuzz
# pattern per package, so the targets are listed and run one by one.
fuzz: deps
	@set -e; pkgs=$$($(GO) list ./...); \
	for pkg in $$pkgs; do \
		targets=$$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); \
		for f in $$targets; do \
			echo "== $$pkg $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

# bench runs the Go micro-benchmarks, then the side-by-side harness
# (veth, Debian's pasta and passt, slirp4netns, ours: bench/README.md).
# BENCHFLAGS=--quick gives a two-minute run.
bench: deps all bin/tapbridge
	$(GO) test -run '^$$' -bench . -benchmem ./proto/... ./worker/...
	bench/run.sh $(BENCHFLAGS)

bench-micro: deps
	$(GO) test -run '^$$' -bench . -benchmem ./...

demo: test-deps all bin/tapbridge
	./doc/demo.sh

# pasta and passt4netns are hard links, not symbolic ones: AppArmor
# resolves symbolic links, so a profile for pasta would never apply.
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR)
	install -m 0755 bin/passt-monitor $(DESTDIR)$(BINDIR)/passt
	ln -f $(DESTDIR)$(BINDIR)/passt $(DESTDIR)$(BINDIR)/pasta
	ln -f $(DESTDIR)$(BINDIR)/passt $(DESTDIR)$(BINDIR)/passt4netns
	install -m 0755 bin/qrap $(DESTDIR)$(BINDIR)/qrap
	install -m 0755 bin/passt-worker $(DESTDIR)$(LIBEXECDIR)/passt-worker
	install -m 0644 doc/passt.1 doc/qrap.1 $(DESTDIR)$(MANDIR)/man1/
	ln -sf passt.1 $(DESTDIR)$(MANDIR)/man1/pasta.1
	install -m 0644 doc/passt-worker.8 $(DESTDIR)$(MANDIR)/man8/
	sed 's|/usr/bin/passt|$(BINDIR)/passt|' contrib/systemd/passt@.service > $(DESTDIR)$(UNITDIR)/passt@.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/passt@.service

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/passt $(DESTDIR)$(BINDIR)/pasta \
		$(DESTDIR)$(BINDIR)/passt4netns $(DESTDIR)$(BINDIR)/qrap \
		$(DESTDIR)$(LIBEXECDIR)/passt-worker \
		$(DESTDIR)$(MANDIR)/man1/passt.1 $(DESTDIR)$(MANDIR)/man1/pasta.1 \
		$(DESTDIR)$(MANDIR)/man1/qrap.1 $(DESTDIR)$(MANDIR)/man8/passt-worker.8 \
		$(DESTDIR)$(UNITDIR)/passt@.service
	-rmdir $(DESTDIR)$(LIBEXECDIR) 2>/dev/null

clean:
	rm -rf bin
