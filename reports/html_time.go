package reports

import (
	"strconv"

	"jetstorm/checker"
)

// timeTables are the ttl or schedule check's counts, its per-node table
// (ttl) and its first anomalies, for index.html.
type timeTables struct {
	Title     string
	Counts    []kv
	Nodes     []ttlNodeRow
	Anomalies []string
}

type ttlNodeRow struct {
	Node string
	S    checker.TTLNodeStats
}

func ttlTablesOf(s *checker.TTLStats) *timeTables {
	if s == nil {
		return nil
	}
	n := func(k string, v int) kv { return kv{k, strconv.Itoa(v)} }
	ms := func(k string, v int64) kv { return kv{k, strconv.FormatInt(v, 10) + " ms"} }
	t := &timeTables{Title: "Message TTLs", Anomalies: s.Anomalies, Counts: []kv{
		n("messages published", s.Messages), n("acked", s.Acked), n("of them without a TTL", s.NoTTL),
		n("failed", s.Failed), n("indeterminate", s.Indeterminate), n("expired (seen, then gone)", s.Expired),
		n("with their delete marker seen", s.Markers), n("probes of the nodes' copies", s.Probes),
		n("probes failed", s.ProbesFailed), n("API reads", s.Gets), ms("latest expiry past its deadline", s.MaxLatenessMs),
		ms("slack", s.SlackMs), n("early", s.Early), n("late", s.Late), n("lost (no TTL)", s.Lost),
		n("failed but stored", s.FailedStored), n("markers missing", s.MarkersMissing), n("unexpected", s.Unexpected),
		n("final copies disagreeing", s.Disagreements), n("absences in a fault, not judged", s.Unjudged),
	}}
	for _, name := range sortedKeys(s.Nodes) {
		t.Nodes = append(t.Nodes, ttlNodeRow{name, s.Nodes[name]})
	}
	return t
}

func scheduleTablesOf(s *checker.ScheduleStats) *timeTables {
	if s == nil {
		return nil
	}
	n := func(k string, v int) kv { return kv{k, strconv.Itoa(v)} }
	ms := func(k string, v int64) kv { return kv{k, strconv.FormatInt(v, 10) + " ms"} }
	return &timeTables{Title: "Message schedules", Anomalies: s.Anomalies, Counts: []kv{
		n("@at schedules", s.Schedules), n("@every schedules", s.Repeating), n("acked", s.Acked),
		n("failed", s.Failed), n("indeterminate", s.Indeterminate), n("@at fired", s.Fired),
		n("firings in all", s.Firings), n("pending at the drain", s.Pending),
		ms("latest @at firing past its time, outside faults", s.MaxDelayMs),
		ms("latest near a fault", s.MaxDelayFaultsMs), ms("tolerance", s.ToleranceMs),
		n("@every gaps judged", s.GapsJudged), n("@every gaps touching a fault (not judged)", s.GapsSkipped),
		n("missed", s.Missed), n("duplicated", s.Duplicated), n("early", s.Early), n("late", s.Late),
		n("failed but fired", s.FailedFired), n("unexpected", s.Unexpected), n("copies disagreeing", s.Disagreements),
	}}
}
