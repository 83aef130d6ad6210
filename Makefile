# The test command README.md gives and .ci/run calls: installs redis-server
# (Debian package) when missing, then runs every test with the race detector.
GO ?= go

.PHONY: test build vet fuzz bench
test:
	@command -v redis-server >/dev/null 2>&1 || { \
	  echo "redis-server not found: installing Debian's redis-server package"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 30m ./...

# The exact build the Dockerfile runs (static binary, no cgo).
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w" -o bin/axonflow-sync ./cmd/axonflow-sync

bench:
	$(GO) test -run=NONE -bench=. -benchmem ./...
