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
