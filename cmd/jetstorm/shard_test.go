package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/nats-io/nats-server/v2/server"

	"jetstorm/internal/natstest"
	"jetstorm/stats"
)

// Two bench shards as two processes against one server, merged: together
// they sent the whole schedule (every intended message once), the merged
// throughput is the sum of theirs, and the merged percentiles are those of
// the union of their raw latencies. Without --start-at, --shard is a
// usage error.
func TestShardsMerge(t *testing.T) {
	s := natstest.Run(t, server.Options{JetStream: true})
	dir := t.TempDir()
	scenario := filepath.Join(dir, "shards.yaml")
	yaml := "name: shards\ncluster: {backend: external, urls: ['" + s.ClientURL() + "']}\nstream: {replicas: 1, storage: memory}\n" +
		"workload: {type: bench, publishers: 4, consumers: 2, payload: 64B, steps: [{rate: 1000, duration: 3s}]}\n"
	if err := os.WriteFile(scenario, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := jetstorm("bench", scenario, "--shard", "1/2", "-q", "--out", filepath.Join(dir, "x")).Run(); exitCode(t, err) != 3 {
		t.Errorf("--shard without --start-at: exit %d, want 3", exitCode(t, err))
	}
	// Time for both processes to start and shard 1 to set the stream up,
	// even on a busy machine.
	at := time.Now().Add(8 * time.Second).UTC().Format(time.RFC3339Nano)
	var cmds []*bytes.Buffer
	errs := make(chan error, 2)
	for i := 1; i <= 2; i++ {
		var out bytes.Buffer
		cmds = append(cmds, &out)
		c := jetstorm("bench", scenario, "--shard", []string{"", "1/2", "2/2"}[i], "--start-at", at, "-q", "--out", filepath.Join(dir, []string{"", "s1", "s2"}[i]))
		c.Stdout, c.Stderr = &out, &out
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { errs <- c.Wait() }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("a shard: %v\n%s\n%s", err, cmds[0], cmds[1])
		}
	}
	var out bytes.Buffer
	c := jetstorm("merge", "--out", filepath.Join(dir, "m"), filepath.Join(dir, "s1"), filepath.Join(dir, "s2"))
	c.Stdout, c.Stderr = &out, &out
	if err := c.Run(); err != nil {
		t.Fatalf("merge: %v\n%s", err, out.String())
	}
	read := func(d string) *stats.BenchResult {
		var r stats.BenchResult
		b, err := os.ReadFile(filepath.Join(dir, d, "bench.json"))
		if err == nil {
			err = json.Unmarshal(b, &r)
		}
		if err != nil {
			t.Fatal(err)
		}
		return &r
	}
	s1, s2, m := read("s1"), read("s2"), read("m")
	o1, a1, _, _ := s1.Totals()
	o2, a2, _, _ := s2.Totals()
	om, am, cm, em := m.Totals()
	t.Logf("shard 1 offered %d acked %d; shard 2 %d %d; merged %d %d consumed %d errors %d", o1, a1, o2, a2, om, am, cm, em)
	if o1 != 1500 || o2 != 1500 || om != 3000 || am != a1+a2 || am != 3000 || cm != 3000 {
		t.Errorf("offered %d + %d = %d, acked %d + %d = %d, consumed %d: want the schedule's 3,000 once", o1, o2, om, a1, a2, am, cm)
	}
	if got, want := m.Steps[0].AckThroughput, s1.Steps[0].AckThroughput+s2.Steps[0].AckThroughput; math.Abs(got-want) > 1e-6 {
		t.Errorf("merged throughput %v, want %v", got, want)
	}
	union := hdrhistogram.New(1, 60_000_000, 3)
	for _, r := range []*stats.BenchResult{s1, s2} {
		for _, w := range r.Windows {
			if w.Step == 0 && len(w.PubAckHist) > 0 {
				h, err := hdrhistogram.Decode(w.PubAckHist)
				if err != nil {
					t.Fatal(err)
				}
				union.Merge(h)
			}
		}
	}
	if got, want := m.Steps[0].PubAck, stats.LatencyOf(union); got != want {
		t.Errorf("merged p-latencies %+v, want the union's %+v", got, want)
	}
	csv, err := os.ReadFile(filepath.Join(dir, "m", "natsbench.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{",P0,", ",P1,", ",P2,", ",P3,", ",S0,", ",S1,"} {
		if !strings.Contains(string(csv), id) {
			t.Errorf("natsbench.csv has no %s row:\n%s", id, csv)
		}
	}
	// Both shards ran on this machine's clock: their offset is none,
	// within what the round trips allow.
	if len(m.Clocks) != 1 || m.Clocks[0].Unknown != "" || m.Clocks[0].Offset.Abs() > m.Clocks[0].Uncertainty+2*time.Millisecond {
		t.Errorf("merged clocks %+v (shards' %+v, %+v), want shard 2 within its uncertainty of shard 1", m.Clocks, s1.Clock, s2.Clock)
	}
	if !strings.Contains(out.String(), "shard 2: ") {
		t.Errorf("merge printed no clocks:\n%s", out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "m", "results.json")); err != nil {
		t.Errorf("merged run has no results.json: %v", err)
	}
}
