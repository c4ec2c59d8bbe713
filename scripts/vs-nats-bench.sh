#!/usr/bin/env bash
# jetstorm's bench generator against `nats bench` (natscli) on the same
# cluster, same payload (128 B), 4 clients, taking turns, ROUNDS rounds
# each. Prints every round, the medians and their ratio; for the publish
# modes also the CPU each client used per message. MODE (environment):
#   async   (default) `js pub async --batch 256` / publish: async, window 256
#   sync    `js pub sync` / publish: sync (one in flight)
#   atomic  `js pub atomic --batch 100` / publish: batch, batch_size 100
#   fast    `js pub fast --batch 1000` / publish: fast, batch_size 1000
#   kvput   `kv put` (one put in flight per client) / op: kv-put, publish: sync
#   kvget   `kv get` (one get in flight per client) / op: kv-get, publish: sync
#   fetch   `js fetch --batch 256 --acks explicit` / consume: fetch
#   consume `js consume --batch 256 --acks explicit` / consume: consume
#   ordered `js ordered --batch 256` (each client reads all) / consume: ordered
#   direct  `js get batch --batch 256` / consume: direct (batched direct gets of 256)
#   getsync `js get sync` (one get a message) / consume: direct, direct_batch: 1
#   doubleack `js consume --batch 256 --acks explicit --doubleack` / consume: consume, double_ack: true
# The consumer modes read a backlog of MSGS messages: nats bench's stream
# is filled by `js pub async` first (not timed); jetstorm's is a backlog
# bench (workload.backlog with stop_publishing), whose drain rate is the
# figure. Their CPU is not compared (jetstorm's process also published).
#
#   scripts/vs-nats-bench.sh NATS_BIN [NODES REPLICAS STORAGE ROUNDS]
#   e.g. scripts/vs-nats-bench.sh ~/natscli/nats 1 1 memory 5
#   MODE=sync scripts/vs-nats-bench.sh ~/natscli/nats 3 3 file 5
#
# NATS_BIN is a natscli binary you built yourself (natscli is not part of
# jetstorm; `fast` needs nats-server 2.14+ and natscli 0.5+). Needs
# bin/jetstorm (make build). Starts its own cluster with `jetstorm
# cluster` and stops it (by pid) on exit.
set -euo pipefail
NATS=${1:?usage: $0 NATS_BIN [NODES REPLICAS STORAGE ROUNDS]}
NODES=${2:-1} R=${3:-1} S=${4:-memory} ROUNDS=${5:-5}
MODE=${MODE:-async}
side=pub # pub: publishers compared; cons: consumers draining a backlog
case $MODE in
async) nbargs=(js pub async bench.nb --batch 256) jsmode="window: 256" defmsgs=800000 ;;
sync) nbargs=(js pub sync bench.nb) jsmode="publish: sync" defmsgs=40000 ;;
atomic) nbargs=(js pub atomic bench.nb --batch 100) jsmode="publish: batch, batch_size: 100, window: 256" defmsgs=800000 ;;
fast) nbargs=(js pub fast bench.nb --batch 1000) jsmode="publish: fast, batch_size: 1000, window: 256" defmsgs=2000000 defrate=1000000 ;;
kvput) nbargs=(kv put) jsmode="op: kv-put, publish: sync" defmsgs=40000 ;;
kvget) nbargs=(kv get) jsmode="op: kv-get, publish: sync" defmsgs=40000 ;;
fetch | consume) nbargs=(js "$MODE" --batch 256 --acks explicit) jsmode="consume: $MODE" side=cons defmsgs=400000 ;;
ordered) nbargs=(js ordered --batch 256) jsmode="consume: ordered" side=cons defmsgs=400000 ;;
direct) nbargs=(js get batch --batch 256) jsmode="consume: direct" side=cons defmsgs=400000 ;;
getsync) nbargs=(js get sync) jsmode="consume: direct, direct_batch: 1" side=cons defmsgs=40000 ;;
doubleack) nbargs=(js consume --batch 256 --acks explicit --doubleack) jsmode="consume: consume, double_ack: true" side=cons defmsgs=100000 ;;
*) echo "$0: MODE=$MODE: want async, sync, atomic, fast, kvput, kvget, fetch, consume, ordered, direct, getsync or doubleack" >&2; exit 3 ;;
esac
MSGS=${MSGS:-$defmsgs}  # per nats bench round (all clients; ordered: each client)
RATE=${RATE:-${defrate:-250000}} # jetstorm's offered rate: far above what the cluster takes
SECS=${SECS:-8}         # jetstorm's step length
JS=$(cd "$(dirname "$0")/.." && pwd)/bin/jetstorm
[[ -x $NATS ]] || { echo "$0: $NATS: not an executable" >&2; exit 3; }
[[ -x $JS ]] || { echo "$0: $JS missing: run make build" >&2; exit 3; }
work=$(mktemp -d)
cpid=
cleanup() { [[ -n $cpid ]] && kill -INT "$cpid" 2>/dev/null && wait "$cpid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$JS" cluster --nodes "$NODES" --dir "$work/cluster" >"$work/cluster.log" 2>&1 &
cpid=$!
for _ in $(seq 120); do grep -q '^NATS_URL=' "$work/cluster.log" && break; sleep 0.5; done
export NATS_URL=$(sed -n 's/^NATS_URL=//p' "$work/cluster.log")
[[ -n $NATS_URL ]] || { cat "$work/cluster.log" >&2; exit 2; }
urls=$(sed -n 's/^urls: //p' "$work/cluster.log")
nodepids=$(pgrep -f -- "node --config $work/cluster/" | tr '\n' ' ')
if [[ $side == pub ]]; then
	jsload="publishers: 4, consumers: 0, payload: 128B, $jsmode, steps: [{rate: $RATE, duration: ${SECS}s}]"
else
	jsload="publishers: 4, consumers: 4, payload: 128B, $jsmode, backlog: {size: $((MSGS * 128))B, stop_publishing: true}, steps: [{rate: $RATE, duration: ${SECS}s}]"
fi
cat >"$work/vs.yaml" <<EOY
name: vs-nats-bench
cluster: {backend: external, urls: $urls}
stream: {replicas: $R, storage: $S}
workload: {type: bench, $jsload}
EOY

ticks() { local t=0 u s; for p in $nodepids; do read -r u s < <(cut -d' ' -f14,15 "/proc/$p/stat"); t=$((t+u+s)); done; echo "$t"; }
# run LABEL CMD...: runs CMD, prints "CLIENT_CPU_S SERVER_CPU_S".
run() {
	local label=$1; shift
	local s0 s1 c
	s0=$(ticks)
	c=$( { TIMEFORMAT='%U %S'; time "$@" >"$work/$label.out" 2>&1; } 2>&1 ) || { cat "$work/$label.out" >&2; exit 2; }
	s1=$(ticks)
	echo "$c" | awk -v s=$((s1 - s0)) -v hz="$(getconf CLK_TCK)" '{printf "%.2f %.2f\n", $1 + $2, s / hz}'
}

# nbprep: what nats bench needs before a timed round (not timed).
nbprep() {
	case $MODE in
	kvput) "$NATS" kv rm benchbucket -f >/dev/null 2>&1 || true ;;
	kvget)
		if ! "$NATS" kv info benchbucket >/dev/null 2>&1; then
			"$NATS" bench kv put --clients 4 --msgs "$MSGS" --size 128B --storage "$S" --replicas "$R" --no-progress >/dev/null 2>&1
		fi ;;
	fetch | consume | ordered | direct | getsync | doubleack)
		"$NATS" stream rm benchstream -f >/dev/null 2>&1 || true
		"$NATS" bench js pub async bench.nb --batch 256 --clients 4 --msgs "$MSGS" --size 128B --create --replicas "$R" --storage "$S" --no-progress >/dev/null 2>&1 ;;
	*) "$NATS" stream rm benchstream -f >/dev/null 2>&1 || true ;;
	esac
}
nbflags=(--clients 4 --msgs "$MSGS" --no-progress)
case $MODE in
async | sync | atomic | fast) nbflags+=(--size 128B --create --replicas "$R" --storage "$S" --purge) ;;
kvput) nbflags+=(--size 128B --replicas "$R" --storage "$S") ;;
esac

echo "mode $MODE: nats bench ${nbargs[*]} / jetstorm $jsmode; cluster: $NODES node(s), stream R$R $S, 4 clients, 128 B, $ROUNDS rounds each; $($JS version 2>/dev/null | head -1)"
if [[ $side == pub ]]; then
	echo "(CPU per message: the client's own, then the cluster's while that client ran)"
	printf '%-6s %12s %12s %12s %12s %12s %12s\n' round "nats msgs/s" "client µs" "server µs" "jetstorm/s" "client µs" "server µs"
else
	echo "(msgs/s: nats bench's aggregated rate; jetstorm's backlog drain rate, $MSGS messages)"
	printf '%-6s %12s %12s\n' round "nats msgs/s" "jetstorm/s"
fi
nb=() js=()
us() { echo "$1 * 1000000 / $2" | bc -l; }
for i in $(seq "$ROUNDS"); do
	"$NATS" stream rm bench -f >/dev/null 2>&1 || true # jetstorm's: its subjects (bench.>) overlap nats bench's
	nbprep
	[[ $MODE == fetch || $MODE == consume || $MODE == doubleack ]] && { "$NATS" consumer rm -f benchstream nats-bench >/dev/null 2>&1 || true; }
	read -r ncpu nsrv < <(run nb "$NATS" bench "${nbargs[@]}" "${nbflags[@]}")
	n=$(grep -o 'stats: [0-9,]* msgs/sec' "$work/nb.out" | tail -1 | grep -o '[0-9,]*' | tr -d ,)
	"$NATS" stream rm benchstream -f >/dev/null 2>&1 || true
	[[ $MODE == kvput ]] && { "$NATS" kv rm benchbucket -f >/dev/null 2>&1 || true; }
	read -r jcpu jsrv < <(run js "$JS" bench "$work/vs.yaml" -q --out "$work/run$i")
	if [[ $side == cons ]]; then
		j=$(sed -n 's/.*drained at \([0-9]*\) msgs\/s.*/\1/p' "$work/js.out")
		[[ -n $j ]] || { cat "$work/js.out" >&2; exit 2; }
		nb+=("$n") js+=("$j")
		printf '%-6s %12s %12s\n' "$i" "$n" "$j"
		continue
	fi
	j=$(awk '/^ *step/{getline; print $4}' "$work/js.out")
	# Per-message costs divide by the messages acked, as nats bench's
	# (every one of its messages is acked): a sync publisher offered far
	# more than it can send skips what falls 10 s behind.
	jsent=$(sed -n 's/.*check bench .* offered, \([0-9]*\) acked.*/\1/p' "$work/js.out")
	nb+=("$n") js+=("$j")
	printf '%-6s %12s %12.2f %12.2f %12s %12.2f %12.2f\n' "$i" "$n" "$(us "$ncpu" "$MSGS")" "$(us "$nsrv" "$MSGS")" \
		"$j" "$(us "$jcpu" "$jsent")" "$(us "$jsrv" "$jsent")"
done
med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
mn=$(med "${nb[@]}") mj=$(med "${js[@]}")
printf 'median: nats bench %s msgs/s, jetstorm %s msgs/s, ratio %.2f\n' "$mn" "$mj" "$(echo "$mj / $mn" | bc -l)"
