package reports

import (
	"bytes"
	"strings"
	"testing"

	"jetstorm/checker"
)

// A consume run's report has a Consumers table: one row per durable, its
// verdict, its counts, the anomalies without a column of their own, and a
// catch-up that never happened said as such.
func TestReportConsumersTable(t *testing.T) {
	r := &run{res: &Results{}}
	r.res.Consumers = map[string]checker.ConsumerStats{
		"durable-1": {Verdict: checker.Valid, Delivered: 10, CatchUpMaxS: 2.5},
		"durable-0": {Verdict: checker.Invalid, Delivered: 7, Redelivered: 2, LostToConsumer: 1, DeliveredWhilePaused: 3,
			LateRedeliveries: 1, LatencyP50Ms: 4, LatencyP99Ms: 80,
			CatchUp: []checker.CatchUp{{Fault: "kill n1", CaughtUp: true}, {Fault: "partition n1,n2,n3"}}},
	}
	var b bytes.Buffer
	if err := r.writeHTML(&b, nil); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	i, j := strings.Index(html, "<h2>Consumers</h2>"), strings.Index(html, "durable-1")
	if i < 0 || j < 0 || strings.Index(html, "durable-0") > j {
		t.Fatalf("no Consumers table with durable-0 before durable-1:\n%s", html)
	}
	row0 := html[strings.Index(html, "<td>durable-0</td>"):]
	row0 = row0[:strings.Index(row0, "</tr>")]
	for _, want := range []string{`class="invalid"`, "3 delivered while paused, 1 late redeliveries", "4.0 / 80.0", "never (partition n1,n2,n3)"} {
		if !strings.Contains(row0, want) {
			t.Errorf("durable-0's row lacks %q: %s", want, row0)
		}
	}
	if row1 := html[j:]; !strings.Contains(row1[:strings.Index(row1, "</tr>")], "2.5") {
		t.Errorf("durable-1's row lacks its catch-up: %s", row1[:strings.Index(row1, "</tr>")])
	}
	b.Reset()
	if err := (&run{res: &Results{}}).writeHTML(&b, nil); err != nil || strings.Contains(b.String(), "<h2>Consumers</h2>") {
		t.Errorf("a run without consumers has a Consumers table (%v)", err)
	}
}
