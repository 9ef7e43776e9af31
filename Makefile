# Flowline. The two commands a newcomer needs:
#   make run    server, designer and local runtime on the embedded SQLite store
#   make test   every test: Go (with Postgres) and the designer in Chromium

GO      ?= go
BIN     := bin/flowline
WEB_SRC := $(shell find web/src web/index.html web/vite.config.ts web/tsconfig.json web/package.json -type f 2>/dev/null)
GO_SRC  := $(shell find . -name '*.go' -not -path './web/node_modules/*' 2>/dev/null) go.mod go.sum
# The sources of the runtime's dependencies, embedded so that the server
# builds Go bundles with no module cache and no network.
VENDOR_ZIP := codegen/build/deps/vendor.zip

export FLOWLINE_TEST_POSTGRES ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable

.PHONY: run test test-go test-web build web bench fuzz clean

run: build
	./$(BIN) serve

build: $(BIN)

$(BIN): web/dist/index.html $(VENDOR_ZIP) $(GO_SRC)
	$(GO) build -o $(BIN) ./cmd/flowline

$(VENDOR_ZIP): go.mod go.sum $(shell find contract engine flow codegen/golang codegen/js codegen/plan.go -name '*.go') codegen/build/vendorgen/main.go
	$(GO) run ./codegen/build/vendorgen -go "$(GO)" -o $@

web: web/dist/index.html

web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
	touch $@

web/dist/index.html: web/node_modules/.installed $(WEB_SRC)
	cd web && npm run build

test: test-go test-web

test-go: $(BIN)
	$(GO) vet ./...
	FLOWLINE_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 25m ./...
	$(GO) test -count=1 -race -timeout 10m ./engine/... ./deploy/... ./server/gateway/...

test-web: build
	cd web && npm test
	cd web && FLOWLINE_BIN=../$(BIN) npm run test:e2e

# BENCH_FLAGS, e.g. -workloads W1,W2 -duration 5s -cold=false; see go run ./cmd/flowline-bench -h.
bench: build
	FLOWLINE_GO="$(GO)" $(GO) run ./cmd/flowline-bench $(BENCH_FLAGS)

# Longer fuzzing than the seed corpora `make test` runs; FUZZTIME per target.
FUZZTIME ?= 60s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./flow
	$(GO) test -run '^$$' -fuzz '^FuzzExprBudget$$' -fuzztime $(FUZZTIME) ./flow
	$(GO) test -run '^$$' -fuzz '^FuzzGenerateHostile$$' -fuzztime $(FUZZTIME) ./codegen/js
	$(GO) test -run '^$$' -fuzz '^FuzzGenerate$$' -fuzztime $(FUZZTIME) ./codegen/golang

clean:
	rm -rf bin web/dist/assets web/dist/index.html web/node_modules $(VENDOR_ZIP)
