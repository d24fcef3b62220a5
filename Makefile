# Predikat. The two commands a newcomer needs: `make run` and `make test`.
# Tools (buf, protoc plugins, grpcurl) are pinned in proto/tools/go.mod and
# run with `go tool`, so nothing is installed globally and versions never drift.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

MODULES  := pkg pkg/platform services/registry services/assessment services/ranking cmd
PACKAGES := github.com/predikat-id/predikat/...
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

.PHONY: run
run: deps ## start NATS and every service in one process (data in ./.predikat)
	@# Built, then run as make's own child: under `go run`, which exits 1
	@# whenever it is interrupted, every clean Ctrl-C ended in "Error 1".
	@# predikat exits 0 when Ctrl-C stops it cleanly, non-zero on a failure.
	go build -o bin/predikat ./cmd/predikat
	exec bin/predikat dev $(ARGS)

.PHONY: test
test: deps check-generated lint breaking ## everything CI runs: generated-code check, lint, buf breaking, all tests against real NATS and Redis
	go test -race -count=1 -timeout 10m $(PACKAGES)

.PHONY: test-short
test-short: ## tests without the race detector, for a quick loop
	go test -count=1 $(PACKAGES)

.PHONY: deps
deps: ## install what a fresh Debian/Ubuntu machine lacks (redis-server), for run and test
	@command -v redis-server >/dev/null || { \
		echo "redis-server missing: installing it with apt-get"; \
		$(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
	@# apt starts a system redis on 6379; our tests never use it, so leave it alone.
	@redis-server --version

.PHONY: generate
generate: ## regenerate the vendored validate.proto and the Go code from proto/
	go run ./proto/tools/vendorproto proto/vendor
	go tool buf generate

.PHONY: check-generated
check-generated: ## fail if the committed generated code differs from what the protos produce
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	go run ./proto/tools/vendorproto $$tmp/vendor; \
	go tool buf generate -o $$tmp; \
	diff -r $$tmp/vendor proto/vendor && diff -r $$tmp/pkg/gen pkg/gen \
	  || { echo "generated code is stale: run 'make generate' and commit the result"; exit 1; }
	@echo "generated code is up to date"

.PHONY: lint
lint: lint-manifests ## buf lint (STANDARD), gofmt, golangci-lint (.golangci.yml: govet, staticcheck, errcheck, unused, gocyclo, funlen), the Kubernetes manifests
	go tool buf lint
	@bad=$$(gofmt -l $(MODULES) | grep -v '\.pb\.go$$' || true); \
	  if [ -n "$$bad" ]; then echo "gofmt needed:"; echo "$$bad"; exit 1; fi
	@# One module at a time: golangci-lint reads packages of the module it runs in.
	@# --allow-parallel-runners: another golangci-lint on the machine (an
	@# editor's, a second checkout's) waits its turn instead of failing this one.
	@for m in $(MODULES); do echo "golangci-lint $$m"; (cd $$m && go tool golangci-lint run --allow-parallel-runners ./...) || exit 1; done

.PHONY: lint-manifests
lint-manifests: ## build every kustomization of deploy/kubernetes and decode each object strictly into its pinned API type, offline
	go test -count=1 ./cmd/internal/deploycheck/

.PHONY: breaking
breaking: ## buf breaking against the API of the last release (proto/release/api.binpb, the tag in proto/release/VERSION)
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	go tool buf build -o $$tmp/api.binpb && \
	go tool buf breaking $$tmp/api.binpb --against proto/release/api.binpb && \
	echo "buf breaking: compatible with $$(cat proto/release/VERSION)"

.PHONY: release
release: ## VERSION=vX.Y.Z: make the current API the baseline of buf breaking, commit it and tag the release (clean tree only)
	@case "$(VERSION)" in v[0-9]*.[0-9]*.[0-9]*) ;; *) echo "VERSION=vX.Y.Z required"; exit 1;; esac
	@test -z "$$(git status --porcelain)" || { echo "release: commit or stash your changes first"; exit 1; }
	$(MAKE) breaking
	go tool buf build -o proto/release/api.binpb
	echo $(VERSION) > proto/release/VERSION
	git add proto/release && git commit -m "Release $(VERSION): the API baseline of buf breaking"
	git tag -a $(VERSION) -m "Predikat $(VERSION)"

.PHONY: tidy
tidy: ## go mod tidy in every module, then sync the workspace
	@for m in $(MODULES) proto/tools; do (cd $$m && go mod tidy); done
	go work sync

.PHONY: bench
bench: deps ## the benchmark harness: every hot path beside a same-run baseline; table + .bench/results.json
	go run ./cmd/predikat-bench $(ARGS)

.PHONY: bench-skm
bench-skm: ## SKM ingestion at national volume: 10M survey responses of 50,000 units beside a raw atomic batch, a kill -9 mid-ingestion, results compared; ARGS=--quick for 200k
	go run ./cmd/predikat-bench-skm $(ARGS)

.PHONY: chaos
chaos: deps ## the fault-injection suite: a 3-node NATS cluster, Redis and the services as processes under kill -9, leader kills, FLUSHALL; ARGS=--quick for the short run that make test includes
	go run ./cmd/predikat-chaos $(ARGS)

.PHONY: bench-go
bench-go: ## the Go micro-benchmarks (scoring, decimals, board updates, standings)
	go test -run '^$$' -bench . -benchtime 2000x $(PACKAGES)

.PHONY: regions
regions: ## refresh the built-in regions from the npm package idn-area-data (IDN_AREA_DATA=4.0.1); ODbL data, licence kept beside it
	@test -n "$(IDN_AREA_DATA)" || { echo "usage: make regions IDN_AREA_DATA=4.0.1"; exit 2; }
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	(cd $$tmp && npm pack --silent idn-area-data@$(IDN_AREA_DATA) >/dev/null && tar xzf idn-area-data-$(IDN_AREA_DATA).tgz) && \
	cp $$tmp/package/data/provinces.csv $$tmp/package/data/regencies.csv $$tmp/package/data/LICENSE.md services/registry/internal/region/data/ && \
	sed -i 's/^Version: .*/Version: $(IDN_AREA_DATA)/' services/registry/internal/region/data/README.md
	go test ./services/registry/internal/region/

