package scenarios

import (
	"bytes"
	"strings"
	"testing"

	"jetstorm/checker"
	"jetstorm/reports"
	"jetstorm/stats"
)

// A queue row shows its lost count; a bench row, which has no lost-write
// check, shows "-" rather than a zero nobody measured.
func TestPrintSweepLost(t *testing.T) {
	lost := 59
	var b bytes.Buffer
	PrintSweep(&b, &reports.Sweep{Key: "cluster.sync_interval", Rows: []reports.SweepRow{
		{Value: "1s", Verdict: checker.Invalid, Acked: 16313, Lost: &lost},
		{Value: "2m", Verdict: checker.Valid, Acked: 120000},
	}})
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want a header and 2 rows:\n%s", b.String())
	}
	if f := strings.Fields(lines[1]); f[len(f)-2] != "16313" || f[len(f)-1] != "59" {
		t.Errorf("queue row: %q", lines[1])
	}
	if f := strings.Fields(lines[2]); f[len(f)-2] != "120000" || f[len(f)-1] != "-" {
		t.Errorf("bench row: %q", lines[2])
	}
}

// Runs with faults add the steady-state ("calm") latency beside the lost
// writes: the price of each value without its outages.
func TestPrintSweepCalm(t *testing.T) {
	lost := 59
	var b bytes.Buffer
	PrintSweep(&b, &reports.Sweep{Key: "cluster.sync_interval", Rows: []reports.SweepRow{
		{Value: "always", Acked: 100, Lost: new(int), PubAck: stats.Latency{P50: 2, P99: 4723}, Calm: &stats.Latency{P50: 1.97, P99: 6.5}},
		{Value: "1s", Acked: 100, Lost: &lost, PubAck: stats.Latency{P50: 1.3, P99: 6046}},
	}})
	out := b.String()
	lines := strings.Split(out, "\n")
	if !strings.Contains(lines[0], "calm p50") || !strings.Contains(lines[1], "1.97") || !strings.Contains(lines[1], "6.50") {
		t.Errorf("calm columns missing:\n%s", out)
	}
	if f := strings.Fields(lines[2]); f[len(f)-3] != "-" || f[len(f)-1] != "59" {
		t.Errorf("row without calm latency: %q", lines[2])
	}
}
