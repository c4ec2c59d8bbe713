#!/usr/bin/env bash
# Findings as regressions (docs/findings.md): run a finding's scenario on the
# nats-server release it was found on until it reproduces (at most
# FINDING_TRIES runs), then on the release that fixed it, or the newest one
# known when it is not fixed. One line per release:
#
#   F4 v2.10.22: reproduced (try 1/5, seed 1, dir results/findings/F4/...)
#   F4 v2.10.23 (fixed): not reproduced in 1 try (seed 1: valid, ...)
#
# Exit 0 when the finding reproduced on its affected release: jetstorm still
# finds the bug. 1 when it did not, 3 on a usage or configuration error.
#
# Usage: scripts/finding.sh ID...      (e.g. F3; `all` for every finding)
#        scripts/finding.sh --list
# Environment:
#   FINDING_TRIES        runs on the affected release (default: the table's, else 5)
#   FINDING_FIXED_TRIES  runs on the fixed/newest release (default 1; 0 skips it)
#   FINDING_SEEDS        seeds to cycle through (default: the table's)
#   FINDING_OUT          base directory: runs go to FINDING_OUT/<ID>/ (default
#                        results/findings/<ID>/<UTC time>/), new or empty
#   FINDING_TIMEOUT      limit per run, seconds (default 900; then SIGINT, which
#                        jetstorm handles: nodes killed, what was recorded checked)
#   JETSTORM             the binary (default bin/jetstorm; `make build`)
set -uo pipefail

# One line per finding, fields separated by `|`:
#   id | scenario | --set overrides (space separated, - for none) | seeds |
#   affected release | fixed release (or `newest:R` when not fixed) |
#   tries (- = FINDING_TRIES or 5) | check | what reproducing means
# A release is vX.Y.Z or `embedded`; a release equal to the embedded server's
# version runs on the embedded server (no build). Checks (functions below):
#   lost     verdict invalid and queue.lost > 0 (acknowledged writes lost)
#   stale    queue.stale_read_count > 0 (a consumer claimed the end early)
#   log:RE   RE (grep -E; `;` separates alternatives, as `|` separates
#            fields) in jetstorm's output or in results.json
TABLE='
F1 | scenarios/powerloss-default-fsync.yaml | - | 1 2 3 4 5 | v2.15.2 | newest:embedded | - | lost | acked writes lost when every node loses power (default sync_interval)
F2 | scenarios/powerloss-default-fsync.yaml | - | 4 1 3 2 5 | v2.15.2 | newest:embedded | - | stale | after the power loss a lagging replica serves a truncated stream (stale read)
F3 | scenarios/partition-powerloss.yaml | - | 1 2 3 | v2.12.1 | newest:embedded | - | lost | one power loss during a partition loses acked writes (split brain)
F4 | scenarios/kill-storm.yaml | - | 1 | v2.10.22 | v2.10.23 | - | lost | kill -9 alone deletes the stream: every acked write lost
F5 | scenarios/smoke.yaml | cluster.link_proxies=true faults.kinds=[] workload.duration=5s | 1 | v2.10.23 | newest:embedded | 20 | log:JetStream meta group of [0-9]+ nodes, not [0-9]+;established contact with a meta leader;no suitable peers for placement | a node left out of the meta group at start-up
F6 | scenarios/consume-powerloss.yaml | - | 1 2 3 | v2.15.2 | newest:embedded | - | log:REDELIVERED AFTER a confirmed ACK;consumer sequences? REUSED | a whole-cluster power loss rolls durable consumers back: confirmed acks undone, consumer sequences reused
F9 | scenarios/occ-partition.yaml | - | 3 2 1 4 5 | v2.15.2 | newest:embedded | - | log:appends whose publish FAILED are stored | after a partition heals the deposed stream leader rejects publishes the new leader stores
F12 | scenarios/ttl-kill.yaml | - | 3 1 2 | v2.15.2 | newest:embedded | - | log:messages still there past their TTL | after a partition the catch-up of a replica loops, and with delete markers it keeps messages past their TTL
F13 | scenarios/ttl-kill.yaml | timeline=[] workload.duration=30s | 1 | v2.11.0 | v2.12.1 | - | log:messages still there past their TTL;without their delete marker | messages with a TTL not expired while publishing goes on; no delete marker for a TTL expiry
F14 | scenarios/schedule-partition.yaml | timeline=[] workload.every=0s workload.repeating=0 workload.duration=30s | 1 | v2.12.0 | v2.12.1 | - | log:firings past their time outside any fault | @at schedules fire in bursts, seconds late, while schedules keep coming
F15 | scenarios/kv-watch-partition.yaml | workload.restart_every=500ms | 1 2 3 | v2.10.23 | v2.11.0 | 6 | log:revisions seen out of order | a KV watch resumed from a revision right after a partition heals is delivered older revisions again
'

trim() { local s=$1; s=${s#"${s%%[![:space:]]*}"}; s=${s%"${s##*[![:space:]]}"}; printf '%s' "$s"; }
rows() { printf '%s\n' "$TABLE" | grep -v '^[[:space:]]*$'; }

# server_arg R: the cluster.server value for release R.
server_arg() {
	if [[ $1 == embedded || $1 == "v$EMBEDDED" ]]; then echo embedded; else echo "$1"; fi
}
# label R: how a release is printed.
label() {
	if [[ $1 == embedded ]]; then echo "embedded $EMBEDDED"
	elif [[ $1 == "v$EMBEDDED" ]]; then echo "$1 (embedded)"
	else echo "$1"; fi
}

# summary DIR CODE: one clause about a run, from its results.json.
summary() {
	local res=$1/results.json
	if [[ ! -s $res ]]; then
		echo "exit $2, no results.json: $(grep -v '^[[:space:]]*$' "$1.log" 2>/dev/null | tail -n 1 | cut -c1-160)"
		return
	fi
	jq -r --arg code "$2" '"\(.verdict) (exit \($code)), server \(.server_version // "?"), acked \(.queue.acked // .occ.acked // .batches.acked // .counters.acked // .ttl.acked // .schedules.acked // .watch.acked // .objects.puts_acked // 0), lost \(.queue.lost // .occ.lost // .batches.lost // .counters.lost // 0)"
		+ ((.occ.failed_stored // .batches.failed_stored // 0) as $n | if $n > 0 then ", failed but stored \($n)" else "" end)
		+ ((.ttl.late // .schedules.late // 0) as $n | if $n > 0 then ", late \($n)" else "" end)
		+ ((.ttl.markers_missing // 0) as $n | if $n > 0 then ", markers missing \($n)" else "" end)
		+ ((.watch.regressions // 0) as $n | if $n > 0 then ", revisions out of order \($n)" else "" end)
		+ (if (.queue.stale_read_count // 0) > 0 then ", stale reads \(.queue.stale_read_count)" else "" end)
		+ (([.checks[]? | select(.name == "per-node") | .message | capture("(?<n>[0-9]+) divergent seq").n] | first) as $n
		   | if $n then ", split brain (\($n) divergent seqs)"
		     elif (.disagreements // []) | length > 0 then ", split brain" else "" end)
		+ (if (.crashes // []) | length > 0 then ", crashes \(.crashes | length)" else "" end)' "$res"
}

# check KIND DIR: 0 when the run in DIR shows the finding.
check() {
	local kind=$1 dir=$2 res=$2/results.json
	case $kind in
	lost) [[ -s $res ]] && jq -e '.verdict == "invalid" and (.queue.lost // 0) > 0' "$res" >/dev/null ;;
	stale) [[ -s $res ]] && jq -e '(.queue.stale_read_count // 0) > 0' "$res" >/dev/null ;;
	log:*)
		local pats=() p
		IFS=';' read -r -a pats <<<"${kind#log:}"
		local args=()
		for p in "${pats[@]}"; do args+=(-e "$p"); done
		local f found=1
		for f in "$dir.log" "$res"; do
			[[ -f $f ]] && grep -Eq "${args[@]}" "$f" && found=0
		done
		return $found ;;
	*) echo "finding: unknown check $kind" >&2; return 3 ;;
	esac
}

# attempt ID RELEASE TRIES ROLE: run up to TRIES times until the check holds;
# prints the release's line; returns 0 when reproduced.
attempt() {
	local id=$1 rel=$2 tries=$3 role=$4 i seed dir code n=${#SEEDS[@]}
	local lbl; lbl="$(label "$rel")${role:+ ($role)}"
	local what="" trs=tries
	((tries == 1)) && trs=try
	for ((i = 1; i <= tries; i++)); do
		seed=${SEEDS[$(((i - 1) % n))]}
		dir=$BASE/$(server_arg "$rel")-try$i
		local args=(run "$SCEN" --seed "$seed" --set "cluster.server=$(server_arg "$rel")" --out "$dir" -q)
		local s
		for s in "${SETS[@]}"; do args+=(--set "$s"); done
		echo "  $id $lbl: try $i/$tries, seed $seed: $JETSTORM ${args[*]}" >&2
		timeout -s INT -k 120 "$TIMEOUT" "$JETSTORM" "${args[@]}" </dev/null >"$dir.log" 2>&1
		code=$?
		if ((code == 3)); then
			echo "$id $lbl: configuration error (exit 3), see $dir.log:" >&2
			tail -n 5 "$dir.log" >&2
			exit 3
		fi
		what=$(summary "$dir" "$code")
		echo "  $id $lbl: try $i: $what" >&2
		check "$CHECK" "$dir"
		case $? in
		0)
			echo "$id $lbl: reproduced (try $i/$tries, seed $seed, dir $dir): $what"
			return 0 ;;
		3) exit 3 ;;
		esac
	done
	echo "$id $lbl: not reproduced in $tries $trs (last: seed $seed, $what, dir $dir)"
	return 1
}

run_finding() {
	local want=$1 found=0 id scen sets seeds aff fixed tries what
	while IFS='|' read -r id scen sets seeds aff fixed tries CHECK what; do
		id=$(trim "$id")
		[[ $id == "$want" ]] || continue
		found=1
		SCEN=$(trim "$scen")
		CHECK=$(trim "$CHECK")
		aff=$(trim "$aff") fixed=$(trim "$fixed") tries=$(trim "$tries") sets=$(trim "$sets")
		read -r -a SEEDS <<<"${FINDING_SEEDS:-$(trim "$seeds")}"
		SETS=()
		[[ $sets == - ]] || read -r -a SETS <<<"$sets"
		[[ $tries == - ]] && tries=5
		tries=${FINDING_TRIES:-$tries}
		BASE=results/findings/$id/$(date -u +%Y%m%dT%H%M%SZ)
		[[ -n ${FINDING_OUT:-} ]] && BASE=$FINDING_OUT/$id
		mkdir -p "$BASE" || exit 3
		echo "  $id: $(trim "$what"); check: $CHECK; runs under $BASE" >&2

		local rc=1
		attempt "$id" "$aff" "$tries" "" && rc=0

		local role=fixed rel=$fixed
		if [[ $fixed == newest:* ]]; then role="newest, not fixed" rel=${fixed#newest:}; fi
		local ftries=${FINDING_FIXED_TRIES:-1}
		if [[ $(server_arg "$rel") == "$(server_arg "$aff")" ]]; then
			echo "$id $(label "$rel") ($role): the affected release itself; not run again"
		elif ((ftries > 0)); then
			attempt "$id" "$rel" "$ftries" "$role"
			local frc=$?
			if [[ $role == fixed && $frc == 0 ]]; then
				echo "$id: reproduced on $rel, which fixed it: a regression in nats-server, or the check is too loose" >&2
			fi
		fi
		return $rc
	done < <(rows)
	if ((found == 0)); then
		echo "finding: no finding $want (scripts/finding.sh --list)" >&2
		exit 3
	fi
}

# main is called on the script's last line, which bash reads whole before it
# runs it: editing this file while a run goes on cannot change what it does.
main() {
	cd "$(dirname "$0")/.." || exit 3
	JETSTORM=${JETSTORM:-bin/jetstorm}
	TIMEOUT=${FINDING_TIMEOUT:-900}

	if [[ $# -eq 0 ]]; then
		echo "usage: scripts/finding.sh ID... (F1..F6, all) | --list" >&2
		exit 3
	fi
	if [[ $1 == --list ]]; then
		rows | while IFS='|' read -r id scen sets seeds aff fixed tries check what; do
			printf '%s  %-40s affected %-9s %-18s %s\n' "$(trim "$id")" "$(trim "$scen")" "$(trim "$aff")" "$(trim "$fixed")" "$(trim "$what")"
		done
		exit 0
	fi
	if [[ ! -x $JETSTORM ]]; then
		echo "finding: $JETSTORM not found (make build)" >&2
		exit 3
	fi
	command -v jq >/dev/null || { echo "finding: needs jq (Debian: apt-get install jq)" >&2; exit 3; }
	EMBEDDED=$("$JETSTORM" version | sed -n 's/.*nats-server \([0-9][0-9.]*\).*/\1/p')

	ids=("$@")
	if [[ $1 == all ]]; then
		mapfile -t ids < <(rows | cut -d'|' -f1 | tr -d ' ')
	fi
	status=0
	for id in "${ids[@]}"; do
		run_finding "$id" || status=1
	done
	return $status
}

main "$@"; exit $?
