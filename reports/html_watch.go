package reports

import (
	"strconv"

	"jetstorm/checker"
)

// watchTablesOf are the watch check's counts and first anomalies, for
// index.html (in the tables the ttl and schedule checks use).
func watchTablesOf(s *checker.WatchStats) *timeTables {
	if s == nil {
		return nil
	}
	n := func(k string, v int) kv { return kv{k, strconv.Itoa(v)} }
	ms := func(k string, v int64) kv { return kv{k, strconv.FormatInt(v, 10) + " ms"} }
	t := &timeTables{Title: "KV watchers", Anomalies: s.Anomalies, Counts: []kv{
		n("puts", s.Puts), n("acked", s.Acked), n("failed", s.Failed), n("indeterminate", s.Indeterminate),
		n("keys", s.Keys), n("history depth", s.History), n("most puts to one key", s.MaxPutsPerKey),
		{"history covers the run", strconv.FormatBool(s.HistoryCoversRun)}, n("watchers", len(s.Watchers)),
		n("heals caught up after", s.HealsJudged), n("heals not judged", s.HealsUnjudged),
		ms("slowest catch-up after a heal", s.CatchUpMaxMs), ms("converge within", s.ConvergeMs),
		n("phantom updates", s.Phantom), n("failed puts seen", s.FailedSeen), n("revision mismatches", s.RevisionMismatch),
		n("regressions", s.Regressions), n("gaps", s.Gaps), n("skipped, rolled off by design", s.Overwritten),
		n("watchers not converged", s.NotConverged), n("watchers lagging after a heal", s.Lagging), n("lost updates", s.Lost),
	}}
	for _, name := range sortedKeys(s.Watchers) {
		w := s.Watchers[name]
		t.Counts = append(t.Counts, kv{"watcher " + name, strconv.Itoa(w.Seen) + " seen, " + strconv.Itoa(w.Starts) + " starts (" +
			strconv.Itoa(w.StartFailures) + " failed), converged " + strconv.FormatBool(w.Converged)})
	}
	return t
}
