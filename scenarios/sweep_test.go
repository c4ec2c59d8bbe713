package scenarios

import (
	"bytes"
	"os"
	"path/filepath"
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

// The end-to-end column is there when a row measured it (a bench's
// consumers), not as zeros beside queue runs.
func TestPrintSweepE2E(t *testing.T) {
	var q, b bytes.Buffer
	PrintSweep(&q, &reports.Sweep{Key: "variant", Rows: []reports.SweepRow{{Value: "stan", Acked: 1, Lost: new(int)}}})
	PrintSweep(&b, &reports.Sweep{Key: "variant", Rows: []reports.SweepRow{{Value: "bench", Acked: 1, E2E: stats.Latency{Count: 5, P99: 7.25}}}})
	if strings.Contains(q.String(), "e2e") {
		t.Errorf("queue rows with an e2e column:\n%s", q.String())
	}
	if !strings.Contains(b.String(), "e2e p99 ms") || !strings.Contains(b.String(), "7.25") {
		t.Errorf("bench row without its e2e p99:\n%s", b.String())
	}
}

// Variants load once each, with their own overrides and the scenario's
// seed, as rows named after them; one that does not load names itself.
func TestPlanVariants(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "v.yaml")
	text := "name: v\nseed: 7\nworkload: {duration: 10s}\nvariants:\n" +
		"  - {name: stan, set: [cluster.system=stan, cluster.stan.cluster_sync=true]}\n" +
		"  - {name: always, set: [cluster.sync_interval=always]}\n"
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := PlanSweep(file, nil, s)
	if err != nil {
		t.Fatal(err)
	}
	if p.Key != "variant" || len(p.Scenarios) != 2 || p.Values[0] != "stan" || p.Values[1] != "always" {
		t.Fatalf("plan %+v", p)
	}
	a, b := p.Scenarios[0], p.Scenarios[1]
	if !a.Cluster.stan() || !a.Cluster.STAN.ClusterSync || a.Final.PerNode || b.Cluster.stan() || b.Cluster.SyncInterval.String() != "always" {
		t.Errorf("variants: %+v %+v / %+v", a.Cluster, a.Cluster.STAN, b.Cluster)
	}
	if *a.Seed != 7 || *b.Seed != 7 || a.Variants != nil {
		t.Errorf("seeds %d %d, variants left %v", *a.Seed, *b.Seed, a.Variants)
	}
	bad := strings.Replace(text, "cluster.stan.cluster_sync=true", "cluster.stan.file_sync=false", 1)
	if err := os.WriteFile(file, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	s, _ = Load(file, nil)
	if _, err := PlanSweep(file, nil, s); err == nil || !strings.Contains(err.Error(), "variant stan:") || !strings.Contains(err.Error(), "file_sync has no effect") {
		t.Errorf("a variant that does not load: %v", err)
	}
}
