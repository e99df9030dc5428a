# tcwire — see README.md. `make test` is what CI runs (as root, via .ci/run).
GO      ?= go
PKGS    ?= ./...
FUZZTIME ?= 10m
# CI fuzzes each target for a number of inputs, not a time: a time budget that
# ends while a worker is busy makes go test report "context deadline
# exceeded" as a failure on a loaded machine.
FUZZSHORT ?= 100000x

.PHONY: all build build-bin bench-bin bench bench-quick demo deps-check portable test test-nested vet fmt-check fuzz fuzz-short hardening fixtures clean cni-plugins

all: build

build:
	$(GO) build $(PKGS)

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# The main module depends on these and nothing else; comparisons with other
# libraries live in nested modules under bench/.
DIRECT_DEPS := github.com/josharian/native github.com/mdlayher/netlink golang.org/x/sys

deps-check:
	@got="$$($(GO) list -m -f '{{if not .Indirect}}{{if not .Main}}{{.Path}}{{end}}{{end}}' all | sort | xargs)"; \
	if [ "$$got" != "$(DIRECT_DEPS)" ]; then echo "direct dependencies: $$got; want $(DIRECT_DEPS)"; exit 1; fi

# The protocol packages are pure but for the socket: their encoders,
# decoders and annotated dumps build on any GOOS, for tools on any machine.
PORTABLE_PKGS := ./nl/... ./tc/... ./link/... ./internal/uapi
portable:
	GOOS=darwin $(GO) build $(PORTABLE_PKGS)
	GOOS=windows $(GO) build $(PORTABLE_PKGS)

# The CNI integration tests (cmd/tcwire/cni_e2e_test.go) drive the real
# cnitool and the real ptp, bridge and host-local plugins, built from source
# at these versions with `go install pkg@version`: outside the main module,
# so go.mod does not change. bin/cni/.stamp-* records what is installed.
CNI_PLUGINS_VERSION ?= v1.9.1
CNITOOL_VERSION     ?= v1.3.0
CNI_BIN             := $(CURDIR)/bin/cni
CNI_STAMP           := $(CNI_BIN)/.stamp-plugins-$(CNI_PLUGINS_VERSION)-cnitool-$(CNITOOL_VERSION)

cni-plugins: $(CNI_STAMP)

$(CNI_STAMP):
	@mkdir -p $(CNI_BIN) && rm -f $(CNI_BIN)/.stamp-*
	GOBIN=$(CNI_BIN) $(GO) install \
	  github.com/containernetworking/plugins/plugins/main/ptp@$(CNI_PLUGINS_VERSION) \
	  github.com/containernetworking/plugins/plugins/main/bridge@$(CNI_PLUGINS_VERSION) \
	  github.com/containernetworking/plugins/plugins/ipam/host-local@$(CNI_PLUGINS_VERSION)
	GOBIN=$(CNI_BIN) $(GO) install github.com/containernetworking/cni/cnitool@$(CNITOOL_VERSION)
	@touch $@

# Privileged tests run in throwaway namespaces; they need root. One package
# at a time (-p 1): a macvtap's /dev/tapN is named by its ifindex and shared
# by every namespace, so two packages' macvtap tests running at once (each
# namespace numbering its devices from 2) would take each other's node.
# cmd/tcwire runs past go test's default 10 minutes: its VM tests boot
# guests under TCG, and its concurrency tests run hundreds of processes.
test: fmt-check vet deps-check portable cni-plugins
	TCWIRE_CNI_BIN=$(CNI_BIN) $(GO) test -race -count=1 -p 1 -timeout 45m $(PKGS)
	$(MAKE) test-nested
	$(MAKE) fuzz-short

# bench/vishvananda is a module of its own (vishvananda/netlink stays out of
# tcwire's go.mod): vetted and tested from its directory.
test-nested:
	cd bench/vishvananda && $(GO) vet ./... && $(GO) test -race -count=1 ./...

# Every Fuzz target, briefly (CI); `make fuzz` runs each for FUZZTIME.
fuzz-short:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZSHORT)

# Go 1.26's fuzz coordinator can fail a target with a bare "context
# deadline exceeded" when -fuzztime runs out (go.dev/issue/75804, fixed in
# Go 1.27): that, with no failing input written, is reported, not fatal.
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f ($(FUZZTIME))"; \
	    out=$$(mktemp); rc=0; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 1s $$pkg >$$out 2>&1 || rc=$$?; \
	    cat $$out; \
	    if [ $$rc -ne 0 ]; then \
	      if grep -q 'context deadline exceeded' $$out && ! grep -q 'Failing input written' $$out; then \
	        echo "fuzz $$f: go.dev/issue/75804 (fuzz coordinator deadline race), no failing input: ignored"; \
	      else rm -f $$out; exit $$rc; fi; \
	    fi; \
	    rm -f $$out; \
	  done; \
	done

# The hardening tests at full size (TCWIRE_LONG=1, as root): 1000 veth/tap
# pairs wired and unwired by concurrent goroutines, 300 attach/detach runs
# killed with SIGKILL, thousands of requests in one batch, 10000 filters in
# one dump; then every fuzz target for HARDENING_FUZZTIME. `make test` runs
# the same tests at their CI size (100 pairs, 50 kills, fuzz 10 s each).
HARDENING_TESTS   ?= ^(TestConcurrentWire|TestKilled|TestDeviceDeletedDuringAttach|TestFilters10000|TestDoLargeBatch)$$
HARDENING_FUZZTIME ?= 1m
hardening:
	TCWIRE_LONG=1 $(GO) test -race -count=1 -timeout 60m -v -run '$(HARDENING_TESTS)' . ./nl ./tc ./cmd/tcwire
	$(MAKE) --no-print-directory fuzz FUZZTIME=$(HARDENING_FUZZTIME)

# bin/tcwire, and its tcwire-ifup link (qemu's script=).
# Static (CGO_ENABLED=0): a dynamically linked tcwire spends about 1 ms of
# its ~3 ms run in the dynamic loader, and a VM start or a CNI ADD runs it
# once per VM.
build-bin:
	CGO_ENABLED=0 $(GO) build -o bin/tcwire ./cmd/tcwire
	ln -sf tcwire bin/tcwire-ifup

# bin/tcwire-bench and the vishvananda/netlink contender it runs.
bench-bin: build-bin
	$(GO) build -o bin/tcwire-bench ./cmd/tcwire-bench
	cd bench/vishvananda && $(GO) build -o ../../bin/tcwire-bench-vishvananda .

# As root: the full suite (about 20 minutes); rewrites bench/RESULTS.md,
# bench/results.json and bench/results.svg. BENCH_FLAGS adds flags. The
# bulk TCP section needs iperf3 (Debian package iperf3, as in .ci/run).
BENCH_FLAGS ?=
bench: bench-bin
	./bin/tcwire-bench --json --svg bench/results.svg --results bench/RESULTS.md $(BENCH_FLAGS) > bench/results.json.new
	mv bench/results.json.new bench/results.json

# As root: the short run (under 2 minutes), a table on stdout; writes nothing.
bench-quick: bench-bin
	./bin/tcwire-bench --quick $(BENCH_FLAGS)

# As root (sudo make demo; sudo env PATH="$$PATH" make demo when root's PATH
# lacks go): wires a veth to a tap in two throwaway namespaces with
# bin/tcwire, proves frames cross both ways through the tap fd, prints
# `tcwire show`, cleans up and prints PASS/FAIL.
demo: build-bin
	$(GO) build -o bin/tcwire-demo ./cmd/tcwire-demo
	./bin/tcwire-demo -tcwire bin/tcwire

# Re-capture the golden fixtures from the installed tc, ip and bridge (root,
# strace): testdata/tc and testdata/link.
fixtures:
	./testdata/capture.sh testdata
	./testdata/link/capture.sh testdata/link

clean:
	$(GO) clean -testcache
