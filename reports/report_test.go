package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"jetstorm/checker"
	"jetstorm/history"
	"jetstorm/stats"
)

// synthHistory is a small queue run: two writers at 20 publishes/s for 6 s,
// two fault windows (kill n2 over 1.5..2.5 s, partition n1,n3 over
// 4..4.8 s), some failed and unknown publishes, the final drain and per-node
// drains of n1 and n2. With lose, process 0's acked publishes invoked in
// 2.0..2.5 s are never read (lost), and n2 also misses every value invoked
// during its kill.
func synthHistory(lose bool) []history.Op {
	var h []history.Op
	add := func(op history.Op) {
		op.Index = int64(len(h))
		h = append(h, op)
	}
	add(history.Op{Process: -1, Type: history.OK, F: history.FMeta, Value: map[string]any{
		"scenario": "synthetic <kill & partition>", "seed": 42, "server_version": "2.15.2",
		"sync_interval": "always", "nodes": 3, "replicas": 3, "storage": "file", "workload": "queue",
		"started_at": "2026-01-01T00:00:00Z",
	}})
	fault := func(at, until time.Duration, kind string, nodes ...string) [2]history.Op {
		v := map[string]any{"kind": kind, "nodes": nodes, "for": (until - at).String()}
		return [2]history.Op{
			{Process: -2, Type: history.Invoke, F: history.FFault, Value: v, Time: at},
			{Process: -2, Type: history.OK, F: history.FFault, Value: v, Time: until},
		}
	}
	faults := [][2]history.Op{
		fault(1500*time.Millisecond, 2500*time.Millisecond, "kill", "n2"),
		fault(4000*time.Millisecond, 4800*time.Millisecond, "partition", "n1", "n3"),
	}
	type pub struct {
		v   string
		t   time.Duration
		out history.OpType
	}
	var pubs []pub
	fi := 0
	for i := 0; i < 120; i++ {
		for p := 0; p < 2; p++ {
			t := time.Duration(i)*50*time.Millisecond + time.Duration(p)*10*time.Millisecond
			for fi < len(faults) && faults[fi][0].Time <= t {
				add(faults[fi][0])
				fi++
			}
			v := fmt.Sprintf("%d-%d", p, i)
			out := history.OK
			switch {
			case i%17 == 5 && p == 1:
				out = history.Fail
			case i%23 == 7:
				out = history.Info
			}
			add(history.Op{Process: p, Type: history.Invoke, F: history.FPublish, Value: v, Time: t})
			lat := time.Duration(1+i%7) * time.Millisecond
			if t >= 1500*time.Millisecond && t < 2500*time.Millisecond {
				lat *= 30
			}
			add(history.Op{Process: p, Type: out, F: history.FPublish, Value: v, Time: t + lat, Seq: uint64(len(pubs) + 1)})
			pubs = append(pubs, pub{v, t, out})
		}
		for _, f := range faults {
			if e := f[1]; e.Time > time.Duration(i)*50*time.Millisecond && e.Time <= time.Duration(i+1)*50*time.Millisecond {
				add(e)
			}
		}
	}
	end := 7 * time.Second
	add(history.Op{Process: -1, Type: history.Invoke, F: history.FDrain, Time: end})
	lost := func(p pub) bool {
		return lose && strings.HasPrefix(p.v, "0-") && p.t >= 2*time.Second && p.t < 2500*time.Millisecond
	}
	seq := uint64(0)
	for _, p := range pubs {
		if p.out == history.Fail || lost(p) || (p.out == history.Info && p.t < 3*time.Second) {
			continue
		}
		seq++
		add(history.Op{Process: -1, Type: history.OK, F: history.FRead, Value: p.v, Seq: seq, Time: end + time.Millisecond})
	}
	add(history.Op{Process: -1, Type: history.OK, F: history.FDrain, Time: end + 10*time.Millisecond})
	for _, n := range []string{"n1", "n2"} {
		add(history.Op{Process: -1, Type: history.Invoke, F: history.FNodeDrain, Node: n, Time: end + 20*time.Millisecond})
		seq := uint64(0)
		for _, p := range pubs {
			if p.out == history.Fail || lost(p) || (p.out == history.Info && p.t < 3*time.Second) {
				continue
			}
			seq++
			if lose && n == "n2" && p.t >= 1500*time.Millisecond && p.t < 2500*time.Millisecond {
				continue // n2 missed what was written while it was down
			}
			add(history.Op{Process: -1, Type: history.OK, F: history.FNodeRead, Node: n, Value: p.v, Seq: seq, Time: end + 30*time.Millisecond})
		}
		add(history.Op{Process: -1, Type: history.OK, F: history.FNodeDrain, Node: n, Time: end + 40*time.Millisecond})
	}
	return h
}

// writeHistoryFile writes h as dir/history.jsonl, as the recorder does.
func writeHistoryFile(t *testing.T, dir string, h []history.Op) {
	t.Helper()
	var buf bytes.Buffer
	rec := history.NewRecorder(&buf, false)
	for _, op := range h {
		rec.Record(op)
	}
	if err := os.WriteFile(filepath.Join(dir, "history.jsonl"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeRunDir writes history.jsonl and results.json (as the runner does)
// for h into a new directory.
func writeRunDir(t *testing.T, h []history.Op) string {
	t.Helper()
	dir := t.TempDir()
	writeHistoryFile(t, dir, h)
	meta, err := history.MetaOf(h)
	if err != nil {
		t.Fatal(err)
	}
	meta.Faults = []any{
		map[string]any{"at": "1.5s", "for": "1s", "fault": map[string]any{"kind": "kill", "target": "one"}, "seed": 7},
		map[string]any{"at": "4s", "for": "800ms", "fault": map[string]any{"kind": "partition", "target": "minority", "shape": "isolate"}, "seed": 8},
	}
	verdict, checks := checker.Run(context.Background(), h, &checker.Queue{}, &checker.PerNode{})
	if err := Build(DigestOf(h), meta, verdict, checks, nil).WriteJSON(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

var refRE = regexp.MustCompile(`(?:src|href)="([^"]*)"`)

// refs returns every src= and href= of index.html, unescaped.
func refs(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range refRE.FindAllStringSubmatch(string(b), -1) {
		out = append(out, strings.NewReplacer("&amp;", "&", "&#43;", "+").Replace(m[1]))
	}
	return out
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

func countColor(img image.Image, c [3]uint32) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 == c[0] && g>>8 == c[1] && bl>>8 == c[2] {
				n++
			}
		}
	}
	return n
}

var lostRGB = [3]uint32{uint32(colLost.R), uint32(colLost.G), uint32(colLost.B)}

func TestWriteReport(t *testing.T) {
	t.Parallel()
	dir := writeRunDir(t, synthHistory(true))
	// A node log, to be linked.
	if err := os.MkdirAll(filepath.Join(dir, "nodes", "n1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "nodes", "n1", "n1.log"), []byte("log\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(dir); err != nil {
		t.Fatal(err)
	}
	var res Results
	if b, err := os.ReadFile(filepath.Join(dir, "results.json")); err != nil || json.Unmarshal(b, &res) != nil {
		t.Fatal("results.json", err)
	}
	if res.Verdict != checker.Invalid || res.Queue == nil || res.Queue.Lost == 0 {
		t.Fatalf("synthetic run should be invalid with lost writes: %+v", res.Queue)
	}

	rs := refs(t, dir)
	imgs := map[string]bool{}
	for _, ref := range rs {
		if strings.Contains(ref, "://") || strings.HasPrefix(ref, "/") {
			t.Errorf("index.html refers outside the run dir: %q", ref)
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(ref))); err != nil {
			t.Errorf("index.html refers to a missing file: %v", err)
		}
		if strings.HasSuffix(ref, ".png") {
			imgs[ref] = true
		}
	}
	for _, want := range []string{"latency.png", "throughput.png", "loss.png", "loss-n1.png", "loss-n2.png",
		"loss.svg", "history.jsonl", "results.json", "junit.xml", "nodes/n1/n1.log"} {
		if !contains(rs, want) {
			t.Errorf("index.html does not refer to %s; refs: %v", want, rs)
		}
	}
	for _, absent := range []string{"history.html", "bench.json", "capacity.png", "sweep.png", "e2e-latency.png"} {
		if contains(rs, absent) {
			t.Errorf("index.html refers to %s, which the run does not have", absent)
		}
	}
	for ref := range imgs {
		img := decodePNG(t, filepath.Join(dir, ref))
		if b := img.Bounds(); b.Dx() != 8*pngDPI || b.Dy() != 4*pngDPI {
			t.Errorf("%s is %dx%d, want %dx%d", ref, b.Dx(), b.Dy(), 8*pngDPI, 4*pngDPI)
		}
	}
	if n := countColor(decodePNG(t, filepath.Join(dir, "loss.png")), lostRGB); n == 0 {
		t.Error("loss.png has no pixel of the lost colour")
	}
	if n := countColor(decodePNG(t, filepath.Join(dir, "loss-n2.png")), lostRGB); n == 0 {
		t.Error("loss-n2.png has no pixel of the lost colour")
	}
	// Every SVG is well-formed XML.
	for ref := range imgs {
		svg := strings.TrimSuffix(ref, ".png") + ".svg"
		checkXML(t, filepath.Join(dir, svg))
	}

	html, _ := os.ReadFile(filepath.Join(dir, "index.html"))
	for _, want := range []string{"synthetic &lt;kill &amp; partition&gt;", "invalid", "kill n2", "partition n1,n3",
		"lost middle", "2.15.2", "always", "per-node", "0-40"} {
		if !bytes.Contains(html, []byte(want)) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	if bytes.Contains(html, []byte("<kill")) {
		t.Error("index.html has unescaped scenario text")
	}
	if i, j := bytes.Index(html, []byte(`class="verdict`)), bytes.Index(html, []byte("<h2>Summary")); i < 0 || j < i {
		t.Error("the verdict does not come first")
	}
	for _, ext := range []string{"<script", "<link", "@import", "url("} {
		if bytes.Contains(bytes.ToLower(html), []byte(ext)) {
			t.Errorf("index.html is not self-contained: has %q", ext)
		}
	}

	// junit.xml: the queue check failed.
	suites := readJUnit(t, dir)
	if len(suites.Suites) != 1 || suites.Suites[0].Name != "synthetic <kill & partition>" {
		t.Fatalf("junit suites %+v", suites.Suites)
	}
	s := suites.Suites[0]
	if s.Tests != len(res.Checks) || s.Fails == 0 {
		t.Errorf("junit counts: tests %d fails %d, checks %d", s.Tests, s.Fails, len(res.Checks))
	}
	for _, c := range s.Cases {
		if c.Name == "queue" && (c.Failure == nil || !strings.Contains(c.Failure.Text, "LOST")) {
			t.Errorf("queue testcase has no failure with the check's message: %+v", c)
		}
	}
}

func contains(xs []string, x string) bool {
	for _, e := range xs {
		if e == x {
			return true
		}
	}
	return false
}

func checkXML(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := xml.NewDecoder(f)
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
}

func readJUnit(t *testing.T, dir string) junitSuites {
	t.Helper()
	checkXML(t, filepath.Join(dir, "junit.xml"))
	b, err := os.ReadFile(filepath.Join(dir, "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var s junitSuites
	if err := xml.Unmarshal(b, &s); err != nil {
		t.Fatalf("junit.xml: %v", err)
	}
	return s
}

func TestWriteNoLossHasNoRed(t *testing.T) {
	t.Parallel()
	dir := writeRunDir(t, synthHistory(false))
	if err := Write(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"loss.png", "loss-n1.png", "loss-n2.png"} {
		if n := countColor(decodePNG(t, filepath.Join(dir, f)), lostRGB); n != 0 {
			t.Errorf("%s: %d pixels of the lost colour in a run without loss", f, n)
		}
	}
	s := readJUnit(t, dir).Suites[0]
	if s.Fails != 0 {
		t.Errorf("junit has %d failures for a valid run", s.Fails)
	}
}

func TestWriteDeterministic(t *testing.T) {
	t.Parallel()
	dir := writeRunDir(t, synthHistory(true))
	if err := Write(dir); err != nil {
		t.Fatal(err)
	}
	first := readOutputs(t, dir)
	if err := Write(dir); err != nil {
		t.Fatal(err)
	}
	// A copy of the run's inputs elsewhere reports the same bytes.
	cp := t.TempDir()
	for _, f := range []string{"history.jsonl", "results.json"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cp, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := Write(cp); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{dir, cp} {
		again := readOutputs(t, d)
		if len(again) != len(first) {
			t.Fatalf("%s: %d outputs, first run %d", d, len(again), len(first))
		}
		for name, b := range first {
			if !bytes.Equal(again[name], b) {
				t.Errorf("%s differs between two reports of the same run", name)
			}
		}
	}
}

func readOutputs(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, pat := range []string{"*.png", "*.svg", "index.html", "junit.xml"} {
		ms, _ := filepath.Glob(filepath.Join(dir, pat))
		for _, m := range ms {
			b, err := os.ReadFile(m)
			if err != nil {
				t.Fatal(err)
			}
			out[filepath.Base(m)] = b
		}
	}
	if len(out) == 0 {
		t.Fatal("no outputs")
	}
	return out
}

func TestWriteTruncatedHistory(t *testing.T) {
	dir := writeRunDir(t, synthHistory(false))
	p := filepath.Join(dir, "history.jsonl")
	b, _ := os.ReadFile(p)
	lines := bytes.Count(b, []byte("\n"))
	b = append(b, []byte(`{"index":99999,"process":0,"type":"inv`)...)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	// A cut last line (the writer died mid-write): the report is built
	// from every complete line.
	if err := Write(dir); err != nil {
		t.Fatalf("truncated history: %v", err)
	}
	// A malformed line in the middle is still an error naming it.
	b = append(b[:len(b)-len(`{"index":99999,"process":0,"type":"inv`)], []byte("{oops\n{}\n")...)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	err := Write(dir)
	want := fmt.Sprintf("%s:%d:", p, lines+1)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("malformed history: got %v, want an error naming %s", err, want)
	}
}

func TestWriteMissingResults(t *testing.T) {
	dir := writeRunDir(t, synthHistory(false))
	os.Remove(filepath.Join(dir, "results.json"))
	if err := Write(dir); err == nil || !strings.Contains(err.Error(), "results.json") {
		t.Fatalf("got %v", err)
	}
}

func lat(p50 float64) stats.Latency {
	return stats.Latency{Count: 100, P50: p50, P90: p50 * 2, P99: p50 * 4, P999: p50 * 8, Max: p50 * 10}
}

func writeJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// benchDir is a bench run: a history with only meta and one fault, and
// bench.json, sweep.json and capacity.json.
func benchDir(t *testing.T, rateScale, latScale float64) string {
	t.Helper()
	h := []history.Op{
		{Process: -1, Type: history.OK, F: history.FMeta, Value: map[string]any{"scenario": "bench", "seed": 1, "workload": "bench"}},
		{Process: -2, Type: history.Invoke, F: history.FFault, Value: map[string]any{"kind": "slowlink", "nodes": []string{"n1", "n2"}}, Time: 3 * time.Second},
		{Process: -2, Type: history.Info, F: history.FFault, Value: map[string]any{"kind": "slowlink", "nodes": []string{"n1", "n2"}}, Time: 5 * time.Second, Err: "heal: boom"},
	}
	dir := t.TempDir()
	writeHistoryFile(t, dir, h)
	res := Build(DigestOf(h), history.Meta{Scenario: "bench", Seed: 1}, checker.Valid, []checker.Result{{Name: "bench", Verdict: checker.Valid, Message: "ok"}}, nil)
	if err := res.WriteJSON(dir); err != nil {
		t.Fatal(err)
	}
	var br stats.BenchResult
	for i := 0; i < 8; i++ {
		step := i / 4
		rate := 1000 * float64(step+1) * rateScale
		l := 1.0 * latScale
		if i >= 3 && i < 5 {
			l *= 20 // the fault
		}
		br.Windows = append(br.Windows, stats.BenchWindow{Start: time.Duration(i) * time.Second, Step: step,
			Offered: int64(rate), Acked: int64(rate) - 3, Errors: 3, AcksReceived: int64(rate), Consumed: int64(rate) - 5,
			PubAck: lat(l), E2E: lat(l * 1.5)})
	}
	for s := 0; s < 2; s++ {
		rate := 1000 * float64(s+1) * rateScale
		br.Steps = append(br.Steps, stats.BenchStepResult{Rate: rate, Duration: 4 * time.Second, OfferedRate: rate,
			AckedRate: rate - 3, AckThroughput: rate - 3, ConsumedRate: rate - 5, Errors: 12, PubAck: lat(float64(s+1) * latScale), E2E: lat(2 * latScale)})
	}
	writeJSONFile(t, filepath.Join(dir, BenchFile), br)
	writeJSONFile(t, filepath.Join(dir, SweepFile), Sweep{Key: "sync_interval", Rows: []SweepRow{
		{Value: "always", Throughput: 800, PubAck: lat(3), E2E: lat(4), Verdict: checker.Valid},
		{Value: "1s", Throughput: 5000, PubAck: lat(1), E2E: lat(2), Verdict: checker.Invalid, Message: "LOST 3 <acked> writes"},
		{Value: "2m", Throughput: 6000, PubAck: lat(0.8), E2E: lat(1.5)},
	}})
	cap := stats.CapacityResult{SLOP99Ms: 10, BestRate: 4000, Held: []bool{true, true, true, false}, Stopped: "p99 over the SLO"}
	for i, r := range []float64{1000, 2000, 4000, 8000} {
		cap.Steps = append(cap.Steps, stats.BenchStepResult{Rate: r, Duration: 5 * time.Second, OfferedRate: r,
			AckedRate: r, AckThroughput: min(r, 5000), PubAck: lat(float64(i*i) + 0.5)})
	}
	writeJSONFile(t, filepath.Join(dir, CapacityFile), cap)
	if err := os.WriteFile(filepath.Join(dir, BenchCSVFile), []byte("start_s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestWriteBench(t *testing.T) {
	t.Parallel()
	dir := benchDir(t, 1, 1)
	if err := Write(dir); err != nil {
		t.Fatal(err)
	}
	rs := refs(t, dir)
	for _, want := range []string{"latency.png", "e2e-latency.png", "throughput.png", "capacity.png", "sweep.png",
		"capacity.svg", "bench.json", "bench.csv", "sweep.json", "capacity.json"} {
		if !contains(rs, want) {
			t.Errorf("index.html does not refer to %s; refs %v", want, rs)
		}
	}
	if contains(rs, "loss.png") {
		t.Error("a bench run has no loss plot")
	}
	for _, ref := range rs {
		if _, err := os.Stat(filepath.Join(dir, ref)); err != nil {
			t.Errorf("missing: %v", err)
		}
		if strings.HasSuffix(ref, ".png") {
			decodePNG(t, filepath.Join(dir, ref))
		}
	}
	s := readJUnit(t, dir).Suites[0]
	// One case per bench step (here the capacity search's four): the step
	// that broke the SLO fails.
	if s.Tests != 8 || s.Fails != 2 || s.Errors != 0 {
		t.Errorf("junit: tests %d fails %d errors %d, want 8 2 0", s.Tests, s.Fails, s.Errors)
	}
	for _, c := range s.Cases {
		if strings.HasPrefix(c.Name, "step ") && (c.Failure != nil) != strings.HasPrefix(c.Name, "step 3:") {
			t.Errorf("bench step testcase %s: failure %+v (only step 3 broke the SLO)", c.Name, c.Failure)
		}
		if c.Name == "sweep sync_interval=1s" && (c.Failure == nil || c.Failure.Text != "LOST 3 <acked> writes") {
			t.Errorf("sweep row testcase %+v", c)
		}
	}
	html, _ := os.ReadFile(filepath.Join(dir, "index.html"))
	for _, want := range []string{"slowlink n1,n2", "heal failed", "Sweep of sync_interval", "best rate", "LOST 3 &lt;acked&gt; writes",
		`class="missed"`, "p99 over the SLO"} {
		if !bytes.Contains(html, []byte(want)) {
			t.Errorf("index.html lacks %q", want)
		}
	}
}

// A sweep's directory has sweep.json and one run directory per value, but
// no results.json or history.jsonl of its own.
func TestWriteSweepDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	four := 4
	writeJSONFile(t, filepath.Join(dir, SweepFile), Sweep{Key: "sync_interval", Rows: []SweepRow{
		{Value: "always", Throughput: 800, PubAck: lat(3), Verdict: checker.Valid, Acked: 100},
		{Value: "2m", Throughput: 6000, PubAck: lat(0.8), Verdict: checker.Invalid, Acked: 100, Lost: &four, Message: "LOST 4"},
	}})
	for _, sub := range []string{"sync_interval=always", "sync_interval=2m"} {
		src := writeRunDir(t, synthHistory(sub == "sync_interval=2m"))
		if err := os.Rename(src, filepath.Join(dir, sub)); err != nil {
			// t.TempDir()s may be on different devices in theory; copy instead.
			t.Skipf("rename: %v", err)
		}
	}
	if err := Write(filepath.Join(dir, "sync_interval=always")); err != nil {
		t.Fatal(err)
	}
	if err := Write(dir); err != nil {
		t.Fatal(err)
	}
	rs := refs(t, dir)
	for _, want := range []string{"sweep.png", "sweep.json", "sync_interval=always/index.html", "sync_interval=2m/results.json"} {
		if !contains(rs, want) {
			t.Errorf("index.html does not refer to %s; refs %v", want, rs)
		}
	}
	for _, ref := range rs {
		if _, err := os.Stat(filepath.Join(dir, ref)); err != nil {
			t.Errorf("missing: %v", err)
		}
	}
	s := readJUnit(t, dir).Suites[0]
	if s.Name != "sweep of sync_interval" || s.Tests != 2 || s.Fails != 1 {
		t.Errorf("junit %s: tests %d fails %d", s.Name, s.Tests, s.Fails)
	}
	html, _ := os.ReadFile(filepath.Join(dir, "index.html"))
	if !bytes.Contains(html, []byte(`class="verdict invalid"`)) {
		t.Error("the sweep's verdict is not the rows' combined (invalid)")
	}
}
