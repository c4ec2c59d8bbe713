package reports

import (
	"strconv"

	"jetstorm/checker"
)

// objectsTablesOf are the objects check's counts, one line a final view,
// and its first anomalies, for index.html.
func objectsTablesOf(s *checker.ObjectsStats) *timeTables {
	if s == nil {
		return nil
	}
	n := func(k string, v int) kv { return kv{k, strconv.Itoa(v)} }
	t := &timeTables{Title: "Object store", Anomalies: s.Anomalies, Counts: []kv{
		n("names", s.Names), n("puts", s.Puts), n("puts acked", s.PutsAcked), n("puts failed", s.PutsFailed),
		n("puts unknown", s.PutsUnknown), n("deletes", s.Deletes), n("deletes acked", s.DeletesAcked),
		n("API reads", s.Gets), n("API reads failed", s.GetsFailed), n("torn", s.Torn),
		n("torn, racing a write (not judged)", s.TornRacing), n("digest mismatches", s.DigestMismatch),
		n("phantom", s.Phantom), n("failed puts visible", s.FailedVisible), n("lost", s.Lost),
		n("resurrected", s.Resurrected), n("views disagreeing", s.Disagreements),
		{"leftover chunks (garbage)", strconv.Itoa(s.LeftoverChunks) + " (" + strconv.FormatInt(s.LeftoverBytes, 10) + " bytes)"},
		n("names not judged", s.Unjudged),
	}}
	for _, name := range sortedKeys(s.Views) {
		v := s.Views[name]
		t.Counts = append(t.Counts, kv{"view " + name, strconv.Itoa(v.Objects) + " objects, " + strconv.Itoa(v.Torn) + " torn, " +
			strconv.Itoa(v.DigestMismatch) + " mismatched, complete " + strconv.FormatBool(!v.Incomplete)})
	}
	return t
}
