package reports

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"jetstorm/checker"
	"jetstorm/history"
	"jetstorm/stats"
)

// index.html is self-contained (inline CSS, no scripts, no external fonts)
// and links only to files in the run directory, by relative paths, so it
// works opened from disk or from a copy of the directory.

type kv struct{ K, V string }

type link struct{ Href, Text string }

type plannedRow struct{ At, For, Fault, Seed string }

type faultRow struct {
	Start, End, Duration, Label, Status, Params, Err string
}

type nodeRow struct {
	Node                                    string
	Complete                                bool
	Read, Lost, Unexpected, MissingVsOthers int
	LostValues                              string
}

type stepRow struct {
	Rate, Duration, Offered, Acked, AckThroughput, Consumed, Errors string
	P50, P99, P999, E2EP99                                          string
	Held                                                            string // capacity: met the SLO ("" unknown)
}

type sweepRow struct {
	Value, Throughput, P50, P99, P999, E2EP99, CalmP50, CalmP99, Errors, Acked, Lost, Verdict, Message string
}

// crashRow is a server crash, shown under the verdict.
type crashRow struct {
	Node, Start, At, Time, Kind, Message, Stack, Log, LogHref, Known string
}

// nodeLogRow is one node's log: starts and known-bad warnings.
type nodeLogRow struct {
	Node, Starts, Log string
	Warnings          []checker.LogWarning
}

type htmlData struct {
	Scenario, Verdict, VerdictMsg string
	Crashes                       []crashRow
	NodeLogRows                   []nodeLogRow
	Summary                       []kv
	Checks                        []checker.Result
	Queue                         []kv
	LostValues                    string
	Perf                          []kv
	PerNode                       []nodeRow
	Consumers                     []consumerRow
	Batches                       *batchTables
	Counters                      *counterTables
	Times                         []*timeTables // ttl, schedules, watch, objects
	Disagreements                 []string
	Planned                       []plannedRow
	PlannedRaw                    string
	Injected, NotInjected         []faultRow
	Errors                        []string
	Unrecovered                   []string // "n2: its last health error"
	Figures                       []figureFile
	BenchSteps                    []stepRow
	BenchErrors                   string
	Capacity                      []kv
	CapacitySteps                 []stepRow
	SweepKey                      string
	Sweep                         []sweepRow
	Links, NodeLogs, SubRuns      []link
}

func (r *run) writeHTML(w io.Writer, figs []figureFile) error {
	res := r.res
	d := htmlData{
		Scenario: res.Scenario, Verdict: string(res.Verdict),
		Checks: res.Checks, Disagreements: res.Disagreements, Errors: res.Errors, Figures: figs,
		Unrecovered: unrecovered(res.UnrecoveredNodes),
	}
	if d.Verdict == "" {
		d.Verdict = string(checker.Unknown)
	}
	switch res.Verdict {
	case checker.Valid:
		d.VerdictMsg = "no anomaly found"
	case checker.Invalid:
		d.VerdictMsg = "an anomaly was proven"
	case checker.None:
		d.VerdictMsg = "a benchmark: it measured, and proves nothing about correctness"
	default:
		d.VerdictMsg = "the history can prove neither validity nor an anomaly"
	}
	unknownCrashes := 0
	for _, c := range res.Crashes {
		row := crashRow{Node: c.Node, At: c.At, Time: c.Time, Kind: c.Kind, Message: c.Message,
			Stack: strings.Join(c.Stack, "\n"), Log: c.Log, LogHref: logHref(c.Log), Known: c.Known}
		if c.Start > 0 {
			row.Start = strconv.Itoa(c.Start)
		}
		if c.Known == "" {
			unknownCrashes++
		}
		d.Crashes = append(d.Crashes, row)
	}
	switch {
	case unknownCrashes == 1:
		d.VerdictMsg += ": a server crashed (below)"
	case unknownCrashes > 1:
		d.VerdictMsg += fmt.Sprintf(": servers crashed %d times (below)", unknownCrashes)
	}
	for _, n := range checker.SortedNodes(res.NodeLogs) {
		nl := res.NodeLogs[n]
		d.NodeLogRows = append(d.NodeLogRows, nodeLogRow{Node: n, Starts: strconv.Itoa(nl.Starts),
			Log: "nodes/" + n + "/" + n + ".log", Warnings: nl.Warnings})
	}
	m := res.Meta
	d.Summary = []kv{
		{"scenario", res.Scenario}, {"scenario file", m.ScenarioFile},
		{"seed", strconv.FormatUint(res.Seed, 10)},
		{"nats-server", res.ServerVersion}, {"sync_interval", res.SyncInterval},
		{"nodes", itoaNZ(m.Nodes)}, {"replicas", itoaNZ(m.Replicas)},
		{"storage", m.Storage}, {"workload", m.Workload}, {"started at", m.StartedAt},
		{"faults injected", strconv.Itoa(res.FaultsInjected)},
	}
	if r.d != nil && r.d.ops > 0 {
		d.Summary = append(d.Summary, kv{"history", fmt.Sprintf("%d ops over %s", r.d.ops, fmtSeconds(r.end))})
	}
	d.Summary = dropEmpty(d.Summary)
	if q := res.Queue; q != nil {
		lostWord := "lost (acked, never read)"
		if !q.DrainComplete {
			lostWord = "acked but unread (drain incomplete)"
		}
		d.Queue = []kv{
			{"attempted", itoa(q.Attempted)}, {"acked", itoa(q.Acked)}, {"failed", itoa(q.Failed)},
			{"indeterminate", itoa(q.Indeterminate)}, {"read", itoa(q.Read)},
			{lostWord, itoa(q.Lost)}, {"lost prefix", itoa(q.LostPrefix)}, {"lost middle", itoa(q.LostMiddle)},
			{"lost postfix", itoa(q.LostPostfix)}, {"recovered", itoa(q.Recovered)},
			{"unexpected", itoa(q.Unexpected)}, {"duplicated", itoa(q.Duplicated)},
			{"failed but read", itoa(q.FailedButRead)}, {"order violations", itoa(q.OrderViolations)},
			{"drain complete", strconv.FormatBool(q.DrainComplete)},
		}
		if q.LostOnReplicas+q.LostOnNoReplica > 0 {
			d.Queue = append(d.Queue, kv{"lost, on no replica read", itoa(q.LostOnNoReplica)},
				kv{"lost to clients, still on a replica", itoa(q.LostOnReplicas)})
		}
		if q.StaleReadCount > 0 {
			d.Queue = append(d.Queue, kv{"stale reads (consumer behind the leader)", itoa(q.StaleReadCount)},
				kv{"stale reads that hid data", itoa(q.StaleReadsHiding)})
		}
		if q.Malformed > 0 {
			d.Queue = append(d.Queue, kv{"malformed ops", itoa(q.Malformed)})
		}
		d.LostValues = examplesList(q.LostValues, q.Lost)
	}
	l := res.PublishLatencyMs
	d.Perf = []kv{
		{"throughput (acked/s)", fmtF(res.ThroughputAckedPerS, 1)},
		{"publish latency count", strconv.FormatInt(l.Count, 10)},
		{"p50 ms", fmtF(l.P50, 3)}, {"p90 ms", fmtF(l.P90, 3)}, {"p99 ms", fmtF(l.P99, 3)},
		{"p99.9 ms", fmtF(l.P999, 3)}, {"max ms", fmtF(l.Max, 3)},
	}
	if c := res.PublishLatencyCalmMs; c != nil {
		d.Perf = append(d.Perf, kv{"outside faults: count", strconv.FormatInt(c.Count, 10)},
			kv{"outside faults: p50 ms", fmtF(c.P50, 3)}, kv{"outside faults: p99 ms", fmtF(c.P99, 3)},
			kv{"outside faults: p99.9 ms", fmtF(c.P999, 3)})
	}
	for _, n := range sortedKeys(res.PerNode) {
		s := res.PerNode[n]
		d.PerNode = append(d.PerNode, nodeRow{Node: n, Complete: s.Complete, Read: s.Read, Lost: s.Lost,
			Unexpected: s.Unexpected, MissingVsOthers: s.MissingVsOthers, LostValues: examplesList(s.LostValues, s.Lost)})
	}
	for _, n := range sortedKeys(res.Consumers) {
		d.Consumers = append(d.Consumers, consumerRowOf(n, res.Consumers[n]))
	}
	d.Batches = batchTablesOf(res.Batches)
	d.Counters = counterTablesOf(res.Counters)
	for _, t := range []*timeTables{ttlTablesOf(res.TTL), scheduleTablesOf(res.Schedules), watchTablesOf(res.Watch), objectsTablesOf(res.Objects)} {
		if t != nil {
			d.Times = append(d.Times, t)
		}
	}
	d.Planned, d.PlannedRaw = plannedRows(res.Faults)
	for _, f := range r.faults {
		d.Injected = append(d.Injected, faultRowOf(f))
	}
	for _, f := range r.notFaults {
		d.NotInjected = append(d.NotInjected, faultRowOf(f))
	}
	if b := r.bench; b != nil {
		for _, s := range b.Steps {
			d.BenchSteps = append(d.BenchSteps, stepRowOf(s))
		}
		if len(b.Windows) > 0 {
			off, ack, con, errs := b.Totals()
			d.BenchErrors = fmt.Sprintf("%d offered, %d acked, %d consumed, %d errors over %d windows", off, ack, con, errs, len(b.Windows))
		}
	}
	if c := r.capacity; c != nil {
		d.Capacity = dropEmpty([]kv{{"SLO p99 (ms)", fmtF(c.SLOP99Ms, 3)}, {"best rate within SLO (msgs/s)", fmtF(c.BestRate, 1)},
			{"search stopped", c.Stopped}})
		for i, s := range c.Steps {
			row := stepRowOf(s)
			if i < len(c.Held) {
				row.Held = "no"
				if c.Held[i] {
					row.Held = "yes"
				}
			}
			d.CapacitySteps = append(d.CapacitySteps, row)
		}
	}
	if s := r.sweep; s != nil {
		d.SweepKey = s.Key
		for _, row := range s.Rows {
			d.Sweep = append(d.Sweep, sweepRow{Value: row.Value, Throughput: fmtF(row.Throughput, 1),
				P50: fmtF(row.PubAck.P50, 3), P99: fmtF(row.PubAck.P99, 3), P999: fmtF(row.PubAck.P999, 3),
				E2EP99: fmtF(row.E2E.P99, 3), Errors: strconv.FormatInt(row.Errors, 10), CalmP50: "-", CalmP99: "-",
				Acked: strconv.FormatInt(row.Acked, 10), Lost: row.LostText(),
				Verdict: string(row.Verdict), Message: row.Message})
			if c := row.Calm; c != nil {
				last := &d.Sweep[len(d.Sweep)-1]
				last.CalmP50, last.CalmP99 = fmtF(c.P50, 3), fmtF(c.P99, 3)
			}
		}
	}
	for _, f := range []struct{ name, text string }{
		{history.FileName, "history.jsonl (every operation)"},
		{history.CompressedFileName, "history.jsonl.gz (every operation, compressed)"},
		{"results.json", "results.json (verdict and counts)"},
		{JUnitFile, "junit.xml"},
		{HistoryHTML, "history.html (linearizability timeline)"},
		{BenchFile, "bench.json (per-window results)"},
		{BenchCSVFile, "bench.csv"},
		{NatsBenchCSVFile, "natsbench.csv (per client, in nats bench --csv's layout)"},
		{OMBFile, "omb-result.json (the OpenMessaging Benchmark's result format)"},
		{SweepFile, "sweep.json"},
		{CapacityFile, "capacity.json"},
	} {
		if f.name == JUnitFile || exists(filepath.Join(r.dir, f.name)) {
			d.Links = append(d.Links, link{f.name, f.text})
		}
	}
	// A sweep's (or any parent's) run directories, one level down.
	subs, _ := filepath.Glob(filepath.Join(r.dir, "*", "results.json"))
	for _, p := range subs {
		sub := filepath.Base(filepath.Dir(p))
		target := sub + "/results.json"
		if exists(filepath.Join(r.dir, sub, IndexFile)) {
			target = sub + "/" + IndexFile
		}
		d.SubRuns = append(d.SubRuns, link{target, sub})
	}
	logs, _ := filepath.Glob(filepath.Join(r.dir, "nodes", "*", "n*.log"))
	for _, p := range logs { // Glob sorts
		rel, err := filepath.Rel(r.dir, p)
		if err == nil {
			d.NodeLogs = append(d.NodeLogs, link{filepath.ToSlash(rel), filepath.ToSlash(rel)})
		}
	}
	return indexTmpl.Execute(w, d)
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func itoa(n int) string { return strconv.Itoa(n) }

func itoaNZ(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func fmtF(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }

func fmtSeconds(d time.Duration) string { return fmtF(d.Seconds(), 3) + " s" }

func dropEmpty(kvs []kv) []kv {
	out := kvs[:0]
	for _, e := range kvs {
		if e.V != "" {
			out = append(out, e)
		}
	}
	return out
}

func examplesList(vs []string, total int) string {
	if len(vs) == 0 {
		return ""
	}
	s := strings.Join(vs, ", ")
	if total > len(vs) {
		s += fmt.Sprintf(", … (%d in all)", total)
	}
	return s
}

func faultRowOf(f history.FaultWindow) faultRow {
	return faultRow{Start: fmtSeconds(f.Start), End: fmtSeconds(f.End), Duration: fmtSeconds(f.End - f.Start),
		Label: f.Label(), Status: f.Status, Params: f.Params, Err: f.Err}
}

func stepRowOf(s stats.BenchStepResult) stepRow {
	return stepRow{Rate: fmtF(s.Rate, 1), Duration: s.Duration.String(), Offered: fmtF(s.OfferedRate, 1),
		Acked: fmtF(s.AckedRate, 1), AckThroughput: fmtF(s.AckThroughput, 1), Consumed: fmtF(s.ConsumedRate, 1),
		Errors: strconv.FormatInt(s.Errors, 10), P50: fmtF(s.PubAck.P50, 3), P99: fmtF(s.PubAck.P99, 3),
		P999: fmtF(s.PubAck.P999, 3), E2EP99: fmtF(s.E2E.P99, 3)}
}

// plannedRows renders results.faults: a list of {at, for, seed, and the
// fault (nested as "fault" or flattened)}. Anything else is shown raw.
func plannedRows(v any) ([]plannedRow, string) {
	if v == nil {
		return nil, ""
	}
	list, ok := v.([]any)
	if !ok {
		return nil, history.Compact(v)
	}
	var rows []plannedRow
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			rows = append(rows, plannedRow{Fault: history.Compact(e)})
			continue
		}
		row := plannedRow{At: history.Compact(m["at"]), For: history.Compact(m["for"]), Seed: history.Compact(m["seed"])}
		var parts []string
		if f, ok := m["fault"]; ok {
			parts = append(parts, faultDesc(f))
		}
		rest := map[string]any{}
		for k, x := range m {
			switch k {
			case "at", "for", "seed", "fault":
			default:
				rest[k] = x
			}
		}
		if len(rest) > 0 {
			parts = append(parts, faultDesc(rest))
		}
		row.Fault = strings.Join(parts, " ")
		rows = append(rows, row)
	}
	return rows, ""
}

// faultDesc renders a fault spec as "kind k=v ...".
func faultDesc(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return history.Compact(v)
	}
	kind, _ := m["kind"].(string)
	rest := map[string]any{}
	for k, x := range m {
		if k != "kind" {
			rest[k] = x
		}
	}
	return strings.TrimSpace(kind + " " + history.Compact(rest))
}

// unrecovered renders the nodes that never recovered, in name order.
func unrecovered(m map[string]string) []string {
	var out []string
	for _, n := range sortedKeys(m) {
		out = append(out, n+": "+m[n])
	}
	return out
}

// consumerRow is one durable consumer in the report's Consumers table.
type consumerRow struct {
	Name, Verdict, Other, Latency, CatchUp string
	S                                      checker.ConsumerStats
}

func consumerRowOf(name string, s checker.ConsumerStats) consumerRow {
	var other []string
	for _, a := range []struct {
		n    int
		what string
	}{{s.MaxDeliverExceeded, "max_deliver exceeded"}, {s.RetentionViolations, "retention"},
		{s.DeliveredWhilePaused, "delivered while paused"}, {s.DeliveredOutside, "delivered outside"},
		{s.UnackedDropped, "unacked dropped"}, {s.ConsumerSeqReused, "consumer seqs reused"},
		{s.LateRedeliveries, "late redeliveries"}, {s.AdvisoryMissing, "advisories missing"}} {
		if a.n > 0 {
			other = append(other, fmt.Sprintf("%d %s", a.n, a.what))
		}
	}
	r := consumerRow{Name: name, Verdict: string(s.Verdict), S: s, Other: strings.Join(other, ", "),
		Latency: fmtF(s.LatencyP50Ms, 1) + " / " + fmtF(s.LatencyP99Ms, 1), CatchUp: fmtF(s.CatchUpMaxS, 1)}
	for _, c := range s.CatchUp {
		if !c.CaughtUp {
			r.CatchUp = "never (" + c.Fault + ")"
			break
		}
	}
	return r
}
