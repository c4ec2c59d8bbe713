package reports

import (
	"strconv"

	"jetstorm/checker"
)

// batchTables are index.html's batches section (the atomic check).
type batchTables struct {
	Counts    []kv
	Reads     []batchReadRow
	Nodes     []batchNodeRow
	Anomalies []string
}

type batchReadRow struct {
	Path string
	S    checker.ReadPathStats
}

type batchNodeRow struct {
	Node string
	S    checker.AtomicNodeStats
}

func batchTablesOf(b *checker.AtomicStats) *batchTables {
	if b == nil {
		return nil
	}
	n := func(k string, v int) kv { return kv{k, strconv.Itoa(v)} }
	t := &batchTables{Counts: []kv{
		n("batches attempted", b.Batches), n("single publishes attempted", b.Singles),
		n("acked", b.Acked), n("failed", b.Failed), n("indeterminate", b.Indeterminate),
		n("stored whole (drain)", b.Stored), n("of them indeterminate", b.IndeterminateStored),
		n("lost", b.Lost), n("partial or torn", b.Partial), n("duplicated", b.Duplicated),
		n("failed but stored", b.FailedStored), n("misplaced", b.Misplaced),
		n("seen then lost", b.SeenThenLost), n("unexpected messages", b.Unexpected),
		n("replica disagreements", b.Disagreements),
	}, Anomalies: b.Anomalies}
	for _, p := range []string{"get", "direct", "consumer"} {
		if s, ok := b.Reads[p]; ok {
			t.Reads = append(t.Reads, batchReadRow{p, s})
		}
	}
	for _, name := range sortedKeys(b.Nodes) {
		t.Nodes = append(t.Nodes, batchNodeRow{name, b.Nodes[name]})
	}
	return t
}

// counterTables are index.html's counters section (the counter check).
type counterTables struct {
	Counts    []kv
	Values    []counterValueRow
	Nodes     []counterNodeRow
	Anomalies []string
}

type counterValueRow struct {
	Counter string
	V       checker.CounterValue
}

type counterNodeRow struct {
	Node string
	S    checker.CounterNodeStat
}

func counterTablesOf(c *checker.CounterStats) *counterTables {
	if c == nil {
		return nil
	}
	n := func(k string, v int) kv { return kv{k, strconv.Itoa(v)} }
	t := &counterTables{Counts: []kv{
		n("increments attempted", c.Increments), n("acked", c.Acked), n("failed", c.Failed),
		n("indeterminate", c.Indeterminate), n("applied (drain)", c.Applied),
		n("of them indeterminate", c.IndeterminateApplied), n("lost", c.Lost),
		n("duplicated", c.Duplicated), n("failed but applied", c.FailedApplied),
		n("ack mismatches", c.AckMismatch), n("chain breaks", c.ChainBreaks),
		n("unexpected", c.Unexpected), n("final value mismatches", c.FinalMismatch),
		n("replica disagreements", c.Disagreements),
	}, Anomalies: c.Anomalies}
	for _, k := range sortedKeys(c.Values) {
		t.Values = append(t.Values, counterValueRow{k, c.Values[k]})
	}
	for _, name := range sortedKeys(c.Nodes) {
		t.Nodes = append(t.Nodes, counterNodeRow{name, c.Nodes[name]})
	}
	return t
}
