# Hookflow: run `make help` for the targets.
SHELL := /bin/bash
GO ?= go
BIN := bin/hookflow
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
FUZZTIME ?= 30s

.DEFAULT_GOAL := help

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: run
run: ## Run Hookflow on :13000 with its data in ./data
	$(GO) run ./cmd/hookflow serve

.PHONY: test
test: ## Run every test with the race detector (browser tests when Chromium is installed, PostgreSQL tests when HOOKFLOW_TEST_DATABASE is set)
	$(GO) test -race -count=1 ./...

PGDIR ?= /tmp/hookflow-pg

.PHONY: test-postgres
test-postgres: ## Start a throwaway PostgreSQL (.ci/postgres, in PGDIR=/tmp/hookflow-pg) and run every test against it too
	HOOKFLOW_TEST_DATABASE=$$(bash .ci/postgres start $(PGDIR)) HOOKFLOW_REQUIRE_POSTGRES=1 $(MAKE) test

.PHONY: generate
generate: ## Regenerate templ components (*_templ.go)
	$(GO) tool templ generate

.PHONY: fmt
fmt: ## Format Go and templ sources
	gofmt -w $$(git ls-files '*.go' | grep -v '_templ.go$$')
	$(GO) tool templ fmt views

.PHONY: lint
lint: ## gofmt, go vet and templ fmt checks
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@$(GO) tool templ fmt -fail views >/dev/null || { echo "templ fmt would change files in views/ (run make fmt)"; exit 1; }

.PHONY: check-generated
check-generated: ## Fail if `templ generate` would change the committed *_templ.go files
	$(GO) tool templ generate >/dev/null
	@git diff --exit-code -- '*_templ.go' || { echo "generated templ code is stale: run make generate and commit"; exit 1; }
	@test -z "$$(git ls-files --others --exclude-standard -- '*_templ.go')" || { echo "uncommitted generated files:"; git ls-files --others --exclude-standard -- '*_templ.go'; exit 1; }

.PHONY: screenshots
screenshots: ## Take the README's screenshots again (docs/*.png) with the browser tests that make them (needs Chromium)
	HOOKFLOW_DOC_SHOTS=1 HOOKFLOW_REQUIRE_BROWSER=1 $(GO) test -count=1 -run 'TestBrowserTemplates$$|TestBrowserExecutionsScreenshot$$' ./cmd/hookflow

.PHONY: build
build: ## Build a static binary into bin/hookflow
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN) ./cmd/hookflow

.PHONY: bench
bench: build ## Load benchmark against a bare Fiber baseline (BENCHFLAGS=--quick for a short run; PostgreSQL rows when HOOKFLOW_TEST_DATABASE is set), then the Go micro-benchmarks
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/hookbench ./cmd/hookbench
	bin/hookbench run --hookflow $(BIN) $(BENCHFLAGS)
	$(GO) test -run '^$$' -bench . -benchmem ./engine/...

.PHONY: bench-postgres
bench-postgres: ## make bench with the PostgreSQL rows, on a throwaway PostgreSQL with its default durability (PGDIR-bench)
	HOOKFLOW_TEST_DATABASE=$$(PG_DURABLE=1 bash .ci/postgres start $(PGDIR)-bench) $(MAKE) bench

.PHONY: bench-pages
bench-pages: ## Time the pages with activity charts with 1,000,000 executions stored (about a minute; no Chromium needed)
	$(GO) test -run '^$$' -bench BenchmarkPages -benchtime 30x ./cmd/hookflow/

.PHONY: fuzz
fuzz: ## Run every fuzz target of ./engine and its sub-packages for FUZZTIME each (default 30s)
	@for pkg in $$($(GO) list ./engine/...); do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 10s $$pkg || exit 1; done; done

.PHONY: ci
ci: check-generated lint test ## What CI runs: generated code, lint, tests
