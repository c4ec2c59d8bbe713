package scenarios

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"jetstorm/checker"
	"jetstorm/clusters"
	"jetstorm/history"
	"jetstorm/reports"
	"jetstorm/stats"
	"jetstorm/workloads"
)

func TestMain(m *testing.M) {
	clusters.RunNodeIfChild() // this test binary serves as the node executable
	os.Exit(m.Run())
}

// runYAML runs a scenario given as YAML on a real cluster, with opt's
// hooks, into a temporary directory, and fails the test if the run fails
// or leaves a process behind. Skipped with -short.
func runYAML(t *testing.T, text string, opt RunOptions) *Outcome {
	t.Helper()
	if testing.Short() {
		t.Skip("runs a real 3-node cluster; skipped with -short")
	}
	s, err := Parse([]byte(text), "test.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	opt.OutDir = t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	o, err := Run(ctx, s, opt)
	if err != nil {
		t.Fatal(err)
	}
	if left := clusters.ProcessesMentioning(opt.OutDir); len(left) > 0 {
		t.Errorf("processes left after the run: %v", left)
	}
	return o
}

// runScenario runs a queue scenario (runYAML) and checks what every run
// writes: results.json, the report and the memory samples.
func runScenario(t *testing.T, text string) (*Outcome, []history.Op) {
	t.Helper()
	o := runYAML(t, text, RunOptions{})
	dir := o.Dir
	s, _ := Parse([]byte(text), "test.yaml", nil) // runYAML parsed it already
	h, err := history.ReadFile(filepath.Join(dir, "history.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var res reports.Results
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err == nil {
		err = json.Unmarshal(b, &res)
	}
	if err != nil {
		t.Fatalf("results.json: %v", err)
	}
	if res.Verdict != o.Results.Verdict || res.Queue == nil || res.Queue.Acked != o.Results.Queue.Acked {
		t.Errorf("results.json does not match the run: %+v", res)
	}
	checkReport(t, dir)
	checkRSSFile(t, dir, s.Workload.Duration.D())
	return o, h
}

// checkRSSFile: jetstorm's memory was sampled every second of the run,
// from before the load to after the check.
func checkRSSFile(t *testing.T, dir string, load time.Duration) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, RSSFile))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < int(load.Seconds()) || lines[0] != "time_s,rss_mib,heap_mib" {
		t.Fatalf("%s: %d lines for a %s load, want one a second:\n%s", RSSFile, len(lines), load, b)
	}
	last := -1.0
	for _, l := range lines[1:] {
		var ts, rss, heap float64
		if _, err := fmt.Sscanf(l, "%g,%g,%g", &ts, &rss, &heap); err != nil || ts < last || rss <= 0 || heap <= 0 {
			t.Fatalf("%s: line %q (%v)", RSSFile, l, err)
		}
		last = ts
	}
}

// A real R3 cluster with a node SIGKILLed every few seconds loses nothing.
func TestRunWithKillsIsValid(t *testing.T) {
	o, h := runScenario(t, `
name: kills
seed: 42
cluster: {nodes: 3, sync_interval: always}
stream: {replicas: 3}
workload: {clients: 6, rate: 300, duration: 17s}
faults: {kinds: [kill], interval: 5s, downtime: 2s}
final: {recover: 30s, drain_timeout: 30s}
`)
	r := o.Results
	if r.Verdict != checker.Valid {
		t.Fatalf("verdict %s: %+v", r.Verdict, r.Checks)
	}
	if r.Queue.Acked < 1000 || r.Queue.Read < r.Queue.Acked {
		t.Errorf("acked %d read %d", r.Queue.Acked, r.Queue.Read)
	}
	kills := 0
	for _, op := range h {
		if op.F == history.FFault && op.Type == history.Invoke {
			kills++
		}
	}
	if kills != 3 || r.FaultsInjected != 3 {
		t.Errorf("%d kills in history, %d in results; want 3", kills, r.FaultsInjected)
	}
	if r.ServerVersion != clusters.ServerVersion || r.Seed != 42 {
		t.Errorf("server_version %q seed %d", r.ServerVersion, r.Seed)
	}
	if r.PublishLatencyMs.Count != int64(r.Queue.Acked) || r.PublishLatencyMs.P50 <= 0 {
		t.Errorf("latency %+v for %d acks", r.PublishLatencyMs, r.Queue.Acked)
	}
}

// An R1 memory stream whose only replica is SIGKILLed really loses acked
// writes, and the run must say so: the check can fail end to end.
func TestRunLossyMemoryIsInvalid(t *testing.T) {
	o, _ := runScenario(t, `
name: lossy
seed: 7
cluster: {nodes: 3}
stream: {replicas: 1, storage: memory}
workload: {clients: 3, rate: 300, duration: 8s}
faults: {kinds: [kill], interval: 5s, downtime: 2s, targets: [stream-leader]}
final: {recover: 30s, drain_timeout: 15s}
`)
	r := o.Results
	if r.Verdict != checker.Invalid || r.Queue.Lost == 0 || len(r.Queue.LostValues) == 0 {
		t.Fatalf("verdict %s lost %d; want invalid with lost > 0", r.Verdict, r.Queue.Lost)
	}
	if o.ExitCode() != 1 {
		t.Errorf("exit code %d", o.ExitCode())
	}
	// Stores are kept for inspection when the run is invalid.
	if _, err := os.Stat(filepath.Join(o.Dir, "nodes", "n1", "store")); err != nil {
		t.Errorf("store dir not kept: %v", err)
	}
}

const kvScenario = `
name: kv
seed: 9
cluster: {nodes: 3, sync_interval: always}
stream: {replicas: 3}
workload: {type: kv, clients: 4, rate: 120, duration: 8s, keys: 3}
final: {recover: 30s, drain_timeout: 30s}
check: {timeout: 30s}
`

// staleKV serves stale reads on purpose: after a few reads of a key it keeps
// answering with the first value it saw for it.
type staleKV struct {
	workloads.KVClient
	mu    sync.Mutex
	first map[string][2]any
	reads map[string]int
}

func (s *staleKV) Get(ctx context.Context, key string) (string, uint64, error) {
	v, rev, err := s.KVClient.Get(ctx, key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil || v == "" {
		return v, rev, err
	}
	if _, ok := s.first[key]; !ok {
		s.first[key] = [2]any{v, rev}
	}
	if s.reads[key]++; s.reads[key] > 3 {
		f := s.first[key]
		return f[0].(string), f[1].(uint64), nil
	}
	return v, rev, nil
}

func runKV(t *testing.T, wrap func(workloads.KVClient) workloads.KVClient) *Outcome {
	t.Helper()
	o := runYAML(t, kvScenario, RunOptions{KVWrap: wrap})
	if b, err := os.ReadFile(filepath.Join(o.Dir, "history.html")); err != nil || len(b) == 0 {
		t.Errorf("history.html: %v", err)
	}
	return o
}

// A KV CAS workload on a healthy R3 cluster is linearizable.
func TestKVLinearizable(t *testing.T) {
	o := runKV(t, nil)
	if o.Results.Verdict != checker.Valid {
		t.Fatalf("verdict %s: %+v", o.Results.Verdict, o.Results.Checks)
	}
}

// The check fails end to end when the client serves stale reads.
func TestKVStaleReadsAreCaught(t *testing.T) {
	o := runKV(t, func(c workloads.KVClient) workloads.KVClient {
		return &staleKV{KVClient: c, first: map[string][2]any{}, reads: map[string]int{}}
	})
	if o.Results.Verdict != checker.Invalid {
		t.Fatalf("stale reads not caught: verdict %s: %+v", o.Results.Verdict, o.Results.Checks)
	}
}

// Latency numbers reflect reality: a slowlink adding 5 ms on every route
// link raises the publish→ack p50 of an R3 stream by at least 4 ms.
func TestSlowLinkRaisesPublishLatency(t *testing.T) {
	o := runYAML(t, `
name: slowlink-latency
seed: 5
cluster: {nodes: 3}
stream: {replicas: 3}
workload: {type: bench, publishers: 2, consumers: 0, steps: [{rate: 200, duration: 16s}]}
timeline:
  - {at: 8s, fault: slowlink, delay: 5ms, for: 8s}
`, RunOptions{})
	h, err := history.ReadFile(filepath.Join(o.Dir, "history.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var from, to time.Duration
	for _, op := range h {
		if op.F == history.FFault && op.Type == history.Invoke {
			from = op.Time
		}
		if op.F == history.FFault && op.Type == history.OK {
			to = op.Time
		}
	}
	if from == 0 || to == 0 {
		t.Fatal("no slowlink in the history")
	}
	var br stats.BenchResult
	b, err := os.ReadFile(filepath.Join(o.Dir, "bench.json"))
	if err == nil {
		err = json.Unmarshal(b, &br)
	}
	if err != nil {
		t.Fatal(err)
	}
	var before, during []float64
	for _, w := range br.Windows {
		switch {
		case w.PubAck.Count == 0 || w.Step < 0:
		case w.Start+time.Second <= from-500*time.Millisecond && w.Start >= br.Windows[0].Start+2*time.Second:
			before = append(before, w.PubAck.P50)
		case w.Start >= from+time.Second && w.Start+time.Second <= to:
			during = append(during, w.PubAck.P50)
		}
	}
	if len(before) < 2 || len(during) < 2 {
		t.Fatalf("too few windows: %d before, %d during", len(before), len(during))
	}
	mb, md := median(before), median(during)
	t.Logf("publish p50: %.2f ms before, %.2f ms with 5 ms on every link (windows %v / %v)", mb, md, before, during)
	if md-mb < 4 {
		t.Errorf("p50 grew by %.2f ms, want >= 4 ms", md-mb)
	}
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

var refRE = regexp.MustCompile(`(?:src|href)="([^"#]+)"`)

// checkReport: every run writes index.html, junit.xml and the plots; every
// image and link the page references exists, and every PNG decodes.
func checkReport(t *testing.T, dir string) {
	t.Helper()
	page, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "junit.xml")); err != nil {
		t.Error(err)
	}
	pngs := 0
	for _, m := range refRE.FindAllStringSubmatch(string(page), -1) {
		ref := html.UnescapeString(m[1])
		if strings.Contains(ref, "://") {
			t.Errorf("index.html references %s: it must work offline", ref)
			continue
		}
		path := filepath.Join(dir, filepath.FromSlash(ref))
		f, err := os.Open(path)
		if err != nil {
			t.Errorf("index.html references %s: %v", ref, err)
			continue
		}
		if strings.HasSuffix(ref, ".png") {
			if _, err := png.Decode(f); err != nil {
				t.Errorf("%s does not decode: %v", ref, err)
			}
			pngs++
		}
		f.Close()
	}
	if pngs < 3 {
		t.Errorf("index.html shows %d PNG plots, want at least 3 (latency, throughput, loss)", pngs)
	}
}
