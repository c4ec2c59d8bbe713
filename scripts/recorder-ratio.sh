#!/bin/sh
# recorder-ratio.sh: on ONE cluster (jetstorm cluster, 3 nodes, started
# here and stopped at the end), the bench workload's capacity
# (scenarios/capacity.yaml) and then the queue workload's highest recorded
# rate (every publish recorded as invoke and ok in history.jsonl, offered
# well above capacity, clients sharing connections), and their ratio.
# Usage: scripts/recorder-ratio.sh [CLIENTS CONNECTIONS]  (default 1024 6)
# Needs bin/jetstorm (make build). Results: docs/benchmarks.md.
set -eu
clients=${1:-1024}
conns=${2:-6}
bin=bin/jetstorm
dir=$(mktemp -d /tmp/jetstorm-ratio.XXXXXX)
$bin cluster --dir "$dir/cluster" >"$dir/cluster.out" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT INT TERM
i=0
until grep -q '^monitor_urls:' "$dir/cluster.out"; do
	i=$((i + 1))
	if [ $i -gt 120 ] || ! kill -0 $pid 2>/dev/null; then
		echo "recorder-ratio: the cluster did not start:" >&2
		cat "$dir/cluster.out" >&2
		exit 2
	fi
	sleep 1
done
urls=$(sed -n 's/^urls: //p' "$dir/cluster.out" | tr -d ' ')
mon=$(sed -n 's/^monitor_urls: //p' "$dir/cluster.out" | tr -d ' ')
ext="--set cluster.backend=external --set cluster.urls=$urls --set cluster.monitor_urls=$mon"
# shellcheck disable=SC2086
$bin bench scenarios/capacity.yaml --seed 1 $ext --out "$dir/capacity" -q >/dev/null || true
cat >"$dir/queue.yaml" <<YAML
name: queue-ceiling
seed: 1
stream: {replicas: 3, storage: file}
workload: {type: queue, clients: $clients, connections: $conns, rate: 40000, duration: 20s}
faults: {kinds: []}
final: {recover: 30s, drain_timeout: 120s, per_node: false}
YAML
# shellcheck disable=SC2086
$bin run "$dir/queue.yaml" $ext --out "$dir/queue" -q >/dev/null || true
cap=$(sed -n 's/.*"capacity_best_rate": \([0-9.]*\).*/\1/p' "$dir/capacity/results.json" | head -1)
q=$(sed -n 's/.*"throughput_acked_per_s": \([0-9.]*\).*/\1/p' "$dir/queue/results.json" | head -1)
echo "bench capacity (held p99 <= 20 ms): ${cap:-?} msgs/s"
echo "queue workload, $clients clients on $conns connections, every op recorded: ${q:-?} acked/s"
if [ -n "$cap" ] && [ -n "$q" ]; then
	awk -v q="$q" -v c="$cap" 'BEGIN { printf "ratio: %.2f\n", q / c }'
fi
echo "runs in $dir"
