# jetstorm — see README.md. Everything runs on 127.0.0.1.
GO      ?= go
BIN     := bin/jetstorm
SCENARIO ?= scenarios/smoke.yaml

.PHONY: deploy-check build run test test-short bench bench-check bench-recorder bench-go bench-vs-nats vet mutate clean docker-engine docker-engine-stop

# Static (CGO_ENABLED=0): nothing needs cgo (only net and os/user have cgo
# files, with pure-Go fallbacks), and a static binary runs in the docker
# backend's FROM-scratch node image as it is.
build:
	CGO_ENABLED=0 $(GO) build -o $(BIN) ./cmd/jetstorm

# A Docker engine for the docker backend (cluster.backend: docker): starts
# dockerd (installing docker.io when missing) unless one answers already.
# docker-engine-stop stops only a dockerd that docker-engine started.
docker-engine:
	scripts/docker-engine.sh start

docker-engine-stop:
	scripts/docker-engine.sh stop

# The main job: a real 3-node cluster, the queue workload, kills, the
# lost-write check. Exit code 0 = valid.
run: build
	./$(BIN) run $(SCENARIO)

# Unit tests, real-cluster and docker integration tests (about 7 minutes on 2 cores;
# the docker tests skip without an engine: make docker-engine starts one).
test: vet deploy-check
	$(GO) test -count=1 -timeout 20m ./...

# The Kubernetes and Chaos Mesh manifests in deploy/, decoded strictly
# into their own Go API types (a module of its own: see docs/kubernetes.md).
deploy-check:
	cd deploy/validate && $(GO) vet ./... && $(GO) test -count=1 ./...

# Unit tests only (no cluster).
test-short: vet
	$(GO) test -count=1 -short ./...

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }

# The default benchmark: 3 nodes, R3 file stream, open-loop steps; prints a
# table (about a minute). Results: docs/benchmarks.md.
bench: build
	./$(BIN) bench scenarios/bench.yaml -q

# `jetstorm check` (checks, results.json and report) on a generated 10 M-line
# queue history (1 GB, written once to $TMPDIR and reused): wall time and
# peak RSS. ARGS='-lines 1000000' for a smaller one. Results: docs/benchmarks.md.
bench-check: build
	$(GO) run ./tools/benchcheck -jetstorm $(BIN) $(ARGS)

# On one cluster: the bench capacity (scenarios/capacity.yaml) and the
# queue workload's highest recorded rate, and their ratio (about 3 minutes).
bench-recorder: build
	scripts/recorder-ratio.sh $(ARGS)

# Micro-benchmarks of the checkers and the power-loss filesystem.
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./checker/ ./powerfs/

# jetstorm's generator against `nats bench js pub async` on the same cluster.
# NATS is a natscli binary you built yourself; ARGS = NODES REPLICAS STORAGE
# ROUNDS (default 1 1 memory 5: the generator's ceiling).
bench-vs-nats: build
	@test -n "$(NATS)" || { echo "usage: make bench-vs-nats NATS=/path/to/nats [ARGS='3 3 file 5'] [MODE=async|sync|atomic|fast|kvput|kvget|fetch|consume|ordered|direct|getsync|doubleack]"; exit 3; }
	MODE=$(or $(MODE),async) scripts/vs-nats-bench.sh $(NATS) $(ARGS)

# Mutation testing of checker/: a survivor needs a new test or an entry in checker/MUTANTS.md (about 5 minutes).
mutate:
	$(GO) run ./tools/mutate -pkg ./checker
	$(GO) run ./tools/mutate -pkg ./history -only '^(near|valueids|chunked)\.go'

clean:
	rm -rf bin

# Findings as regressions (docs/findings.md, README "Track record"): run a
# finding's scenario on the release it was found on until it reproduces (at
# most FINDING_TRIES runs, default 5), then once on the fixed or newest
# release; one line per release. Exit 0 = jetstorm still finds the bug.
# `make finding ID=F3` is the same as `make finding-F3`.
FINDINGS := F1 F2 F3 F4 F5 F6 F9 F12 F13 F14 F15
.PHONY: finding $(addprefix finding-,$(FINDINGS))

$(addprefix finding-,$(FINDINGS)): finding-%: build
	scripts/finding.sh $*

finding: build
	@test -n "$(ID)" || { echo "usage: make finding ID=F3 (IDs: $(FINDINGS), all)"; exit 3; }
	scripts/finding.sh $(ID)
