# The test command README.md gives and .ci/run calls: installs redis-server
# and chromium (Debian packages; the console's browser tests drive chromium
# and fail without it) when missing, then vets and runs every test with the race
# detector, in the product module and in the load benchmark's own module
# (cmd/axonflow-bench, which the root ./... skips: a nested module).
GO ?= go
BENCH_DIR := cmd/axonflow-bench

.PHONY: test build vet fuzz bench bench-load screenshots chromium
test: chromium
	@command -v redis-server >/dev/null 2>&1 || { \
	  echo "redis-server not found: installing Debian's redis-server package"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 30m ./...
	cd $(BENCH_DIR) && $(GO) vet ./... && $(GO) test -race -count=1 -timeout 30m ./...

# The exact build the Dockerfile runs (static binary, no cgo).
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w" -o bin/axonflow-sync ./cmd/axonflow-sync

bench:
	$(GO) test -run=NONE -bench=. -benchmem ./...

# The load benchmark (README "Load benchmark"), a module of its own in
# cmd/axonflow-bench: --spawn starts a fresh axonflow-sync serve (built from
# this module) per store and tenant size, on a throw-away redis-server and on
# the embedded store, on free 127.0.0.1 ports; 64 connections, 10 s per phase,
# tenants of 1,000 and 100,000 users, the 100,000-member group at the larger
# size (10 minutes or more on 2 cores, mostly the two imports of 100,000
# users). A quick look (2-3 minutes):
#   make bench-load BENCH_FLAGS='--store both --sizes 1000,5000 --big-group 0 --duration 3s'
BENCH_FLAGS ?= --store both --sizes 1000,100000 --big-group 100000
bench-load:
	@command -v redis-server >/dev/null 2>&1 || { \
	  echo "redis-server not found: installing Debian's redis-server package"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
	cd $(BENCH_DIR) && $(GO) run . --spawn --server-src $(CURDIR) $(BENCH_FLAGS)

# Every fuzz target of the module (README "Fuzzing"), one after another, each
# for FUZZTIME (minimising a crasher for at most FUZZMINIMIZETIME); about 10
# minutes with the defaults. Not a CI step. A crasher is written to the
# package's testdata/fuzz/<target>/ directory, where every later `go test`
# runs it as a seed: commit it with the fix. The other targets still run;
# the make fails at the end naming the ones that crashed.
# On a shared machine: make fuzz FUZZFLAGS=-parallel=1
FUZZTIME ?= 2m
FUZZMINIMIZETIME ?= 5s
FUZZFLAGS ?=
fuzz:
	@failed=""; \
	for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
	  for target in $$($(GO) test -list '^Fuzz' $$dir | grep '^Fuzz'); do \
	    echo "== $$dir $$target: $(FUZZTIME)"; \
	    $(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) $(FUZZFLAGS) $$dir \
	      || failed="$$failed $$dir:$$target"; \
	  done; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: failed:$$failed (a crasher is saved under the package's testdata/fuzz)"; exit 1; fi; \
	echo "fuzz: no crasher"

# Debian's headless-capable chromium, which the review console's browser
# tests (internal/console, chromedp) drive; CHROMIUM_PATH names another.
chromium:
	@[ -n "$$CHROMIUM_PATH" ] || command -v chromium >/dev/null 2>&1 || { \
	  echo "chromium not found: installing Debian's chromium package"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Regenerates the README's console screenshots (docs/screenshots/*.png) from
# the browser tests.
screenshots: chromium
	mkdir -p docs/screenshots
	AXONFLOW_SCREENSHOTS=$(CURDIR)/docs/screenshots $(GO) test -count=1 -run 'TestBrowser(TokenSignIn|MappingPreview|RotateToken)' ./internal/console/
