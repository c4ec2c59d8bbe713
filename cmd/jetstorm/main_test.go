package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"jetstorm/checker"
	"jetstorm/clusters"
	"jetstorm/history"
	"jetstorm/powerfs"
	"jetstorm/reports"
	"jetstorm/stats"
	"jetstorm/termlog"
)

// The test binary doubles as jetstorm (and, through main, as its nodes).
func TestMain(m *testing.M) {
	if os.Getenv("JETSTORM_TEST_AS_MAIN") == "1" || os.Getenv(clusters.ChildEnv) == "1" {
		main()
	}
	os.Exit(m.Run())
}

func jetstorm(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "JETSTORM_TEST_AS_MAIN=1")
	return cmd
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return ee.ExitCode()
}

func TestUsageErrorsExit3(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("name: x\ncluster:\n  nodes: 3\n  bogus: 1\n"), 0o644)
	badShape := filepath.Join(dir, "shape.yaml")
	os.WriteFile(badShape, []byte("name: x\nfaults:\n  kinds: [partition]\n  shapes: [halves, square]\n"), 0o644)
	badTarget := filepath.Join(dir, "target.yaml")
	os.WriteFile(badTarget, []byte("name: x\ntimeline:\n  - at: 1s\n    fault: kill\n    target: n5\n"), 0o644)
	badSet := filepath.Join(dir, "ok.yaml")
	os.WriteFile(badSet, []byte("name: x\n"), 0o644)
	// An earlier run's directory: a new run must not write over it.
	used := filepath.Join(dir, "used")
	os.MkdirAll(used, 0o755)
	os.WriteFile(filepath.Join(used, "history.jsonl"), []byte("earlier\n"), 0o644)
	// An external cluster nobody answers for: found before the run.
	ext := filepath.Join(dir, "ext.yaml")
	os.WriteFile(ext, []byte("name: x\ncluster:\n  backend: external\n  urls: ['nats://u:pw-secret@127.0.0.1:1']\nstream: {replicas: 1}\n"), 0o644)
	// External clusters take exec faults only, and an exec fault needs its
	// inject command; a login file must be there when the run starts.
	extKill := filepath.Join(dir, "extkill.yaml")
	os.WriteFile(extKill, []byte("name: x\ncluster: {backend: external, urls: ['nats://127.0.0.1:1']}\nstream: {replicas: 1}\nfaults:\n  kinds: [kill]\n"), 0o644)
	noInject := filepath.Join(dir, "noinject.yaml")
	os.WriteFile(noInject, []byte("name: x\ncluster: {backend: external, urls: ['nats://127.0.0.1:1']}\nstream: {replicas: 1}\nfaults:\n  kinds: [exec]\n  heal: 'true'\n"), 0o644)
	noCreds := filepath.Join(dir, "nocreds.yaml")
	os.WriteFile(noCreds, []byte("name: x\ncluster:\n  backend: external\n  urls: ['nats://127.0.0.1:1']\n  creds: /no/such.creds\nstream: {replicas: 1}\n"), 0o644)
	// NATS Streaming takes the faults that act on processes, links and
	// files, not JetStream's own.
	stanLeader := filepath.Join(dir, "stanleader.yaml")
	os.WriteFile(stanLeader, []byte("name: x\ncluster: {system: stan}\nfaults:\n  kinds: [kill, leader]\n"), 0o644)
	stanServer := filepath.Join(dir, "stanserver.yaml")
	os.WriteFile(stanServer, []byte("name: x\ncluster:\n  system: stan\n  stan: {server: v0.1}\n"), 0o644)
	sweep := filepath.Join(dir, "sweep.yaml")
	os.WriteFile(sweep, []byte("name: x\nsweep: {cluster.sync_interval: [always, 1s]}\n"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"unknown key", []string{"run", bad}, []string{bad + ":4:", `"bogus"`}},
		{"unknown partition shape", []string{"run", badShape}, []string{badShape + ":4:", `"square"`}},
		{"target not in cluster", []string{"run", badTarget}, []string{badTarget + ":5:", `"n5"`}},
		{"missing file", []string{"run", filepath.Join(dir, "nope.yaml")}, []string{"nope.yaml"}},
		{"bad --set", []string{"run", badSet, "--set", "cluster.sync_interval=sometimes"}, []string{"--set cluster.sync_interval=sometimes"}},
		{"bad --seed", []string{"run", badSet, "--seed", "abc"}, []string{"--seed"}},
		{"bad --log-format", []string{"run", badSet, "--log-format", "xml"}, []string{`--log-format "xml"`, "human, text, json"}},
		{"unknown flag", []string{"run", badSet, "--frobnicate"}, []string{"frobnicate"}},
		{"no args", []string{"run"}, []string{"arg"}},
		{"check missing dir", []string{"check", dir}, []string{"history.jsonl"}},
		{"used --out", []string{"run", badSet, "--out", used}, []string{used + " is not empty"}},
		{"used --out, sweep", []string{"run", sweep, "--out", used}, []string{used + " is not empty"}},
		{"external cluster not there", []string{"run", ext, "--out", filepath.Join(dir, "ext")}, []string{ext + ":4: cluster.urls: nats://u:REDACTED@127.0.0.1:1: cannot connect"}},
		{"external cluster, kill", []string{"run", extKill}, []string{extKill + ":5: faults.kinds[0]", "external cluster takes exec faults only"}},
		{"exec without inject", []string{"run", noInject}, []string{noInject + ":5: faults.inject is needed by the exec fault"}},
		{"creds file missing", []string{"run", noCreds, "--out", filepath.Join(dir, "nocreds")}, []string{noCreds + ":5: cluster.creds: cannot read /no/such.creds"}},
		{"control not loopback", []string{"cluster", "--control", "0.0.0.0:7070"}, []string{"not a loopback address", "--control-remote"}},
		{"stan, a JetStream fault", []string{"run", stanLeader}, []string{stanLeader + ":4: faults.kinds[1]", `"leader" does not apply to NATS Streaming`}},
		{"stan, not a version", []string{"run", stanServer, "--out", filepath.Join(dir, "stanserver")}, []string{stanServer + ":4: cluster.stan.server", `"v0.1" is not a nats-streaming-server version`}},
		{"shard without start", []string{"bench", filepath.Join("..", "..", "scenarios", "bench.yaml"), "--shard", "1/2"}, []string{"--shard needs --start-at"}},
		{"shard of a process cluster", []string{"bench", filepath.Join("..", "..", "scenarios", "bench.yaml"), "--shard", "1/2", "--start-at", "2030-01-01T00:00:00Z"}, []string{"cluster.backend must be external"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			cmd := jetstorm(tc.args...)
			cmd.Stderr = &stderr
			if code := exitCode(t, cmd.Run()); code != 3 {
				t.Errorf("exit %d, want 3; stderr: %s", code, stderr.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q: %s", w, stderr.String())
				}
			}
			if strings.Contains(stderr.String(), "pw-secret") {
				t.Errorf("stderr shows a password: %s", stderr.String())
			}
		})
	}
	if b, _ := os.ReadFile(filepath.Join(used, "history.jsonl")); string(b) != "earlier\n" {
		t.Errorf("the earlier run's history was touched: %q", b)
	}
	// Refused before anything ran: no run directory to get in a retry's way.
	for _, d := range []string{"ext", "nocreds"} {
		if _, err := os.Stat(filepath.Join(dir, d)); err == nil {
			t.Errorf("a run refused at the start left its directory %s", d)
		}
	}
}

func writeHistory(t *testing.T, dir string, ops []history.Op) string {
	t.Helper()
	var b bytes.Buffer
	rec := history.NewRecorder(&b, false)
	rec.Record(history.Op{Process: -1, Type: history.OK, F: history.FMeta,
		Value: map[string]any{"scenario": "golden", "seed": 5, "server_version": "x"}})
	for _, op := range ops {
		rec.Record(op)
	}
	path := filepath.Join(dir, "history.jsonl")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCheckCommand(t *testing.T) {
	pub := func(p int, typ history.OpType, v string) history.Op {
		return history.Op{Process: p, Type: typ, F: history.FPublish, Value: v}
	}
	ops := []history.Op{
		pub(0, history.Invoke, "0-0"), pub(0, history.OK, "0-0"),
		pub(1, history.Invoke, "1-0"), pub(1, history.OK, "1-0"),
		{Process: -1, Type: history.Invoke, F: history.FDrain},
		{Process: -1, Type: history.OK, F: history.FRead, Value: "0-0", Seq: 1},
		{Process: -1, Type: history.OK, F: history.FDrain},
	}
	dir := t.TempDir()
	path := writeHistory(t, dir, ops)
	out, err := jetstorm("check", dir).Output()
	if code := exitCode(t, err); code != 1 {
		t.Fatalf("check of a history with a lost write: exit %d, want 1\n%s", code, out)
	}
	var res struct {
		Verdict string
		Seed    int
		Queue   struct{ Lost int }
	}
	b, _ := os.ReadFile(filepath.Join(dir, "results.json"))
	if err := json.Unmarshal(b, &res); err != nil || res.Verdict != "invalid" || res.Queue.Lost != 1 || res.Seed != 5 {
		t.Errorf("results.json: %v %+v", err, res)
	}

	// A truncated history (jetstorm SIGKILLed mid-write) is still checked:
	// every complete line is judged and the cut line is named. Here the cut
	// line is the drain's completion, so the lost write is no longer proven.
	full, _ := os.ReadFile(path)
	os.WriteFile(path, full[:len(full)-10], 0o644)
	var stderr bytes.Buffer
	cmd := jetstorm("check", dir)
	cmd.Stderr = &stderr
	if code := exitCode(t, cmd.Run()); code != 2 || !strings.Contains(stderr.String(), path+":8:") || !strings.Contains(stderr.String(), "incomplete") {
		t.Errorf("truncated history: exit %d, stderr %q; want 2 naming %s:8 as incomplete", code, stderr.String(), path)
	}
	b, _ = os.ReadFile(filepath.Join(dir, "results.json"))
	if !strings.Contains(string(b), "checked the 7 complete ops") {
		t.Errorf("results.json does not say the history was cut:\n%s", b)
	}
	// Cut inside the drain instead (the drain's completion line whole is
	// gone and the read before it is cut): still checked.
	os.WriteFile(path, full[:bytes.LastIndex(full[:len(full)-1], []byte("\n"))+5], 0o644)
	if code := exitCode(t, jetstorm("check", dir).Run()); code != 2 {
		t.Errorf("history cut mid-line before the drain's end: exit %d, want 2", code)
	}
}

const shortRun = `name: interrupt
seed: 3
cluster: {nodes: 3}
workload: {clients: 3, rate: 100, duration: 60s}
faults: {kinds: [kill], interval: 20s, downtime: 5s}
`

const powerRun = `name: interrupt-powerfs
seed: 3
cluster: {nodes: 3, powerloss_fs: true}
workload: {clients: 3, rate: 100, duration: 60s}
`

// startRun starts `jetstorm run` and waits until its workload is publishing.
func startRun(t *testing.T, scenario string) (*exec.Cmd, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs a real 3-node cluster; skipped with -short")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "s.yaml")
	os.WriteFile(file, []byte(scenario), 0o644)
	out := filepath.Join(dir, "out")
	cmd := jetstorm("run", file, "--out", out, "-q")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(filepath.Join(out, "history.jsonl"))
		if bytes.Contains(b, []byte(`"f":"publish"`)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the run never started publishing")
		}
		time.Sleep(100 * time.Millisecond)
	}
	nodes := 0
	for _, p := range clusters.ProcessesMentioning(filepath.Join(out, "nodes")) {
		if strings.Contains(p, ".conf") { // not the powerfs keepers
			nodes++
		}
	}
	if nodes != 3 {
		t.Fatalf("%d node processes running, want 3", nodes)
	}
	return cmd, out
}

// Ctrl-C mid-run: clean stop, exit 2 (unknown), results.json written, no
// node left running, no mount left behind.
func TestInterruptLeavesNoProcess(t *testing.T) {
	t.Run("plain", func(t *testing.T) { testInterrupt(t, shortRun) })
	t.Run("powerfs", func(t *testing.T) {
		powerfs.NeedInTest(t)
		testInterrupt(t, powerRun)
	})
}

func testInterrupt(t *testing.T, scenario string) {
	cmd, out := startRun(t, scenario)
	time.Sleep(2 * time.Second)
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if code := exitCode(t, err); code != 2 {
			t.Errorf("exit %d after SIGINT, want 2", code)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("jetstorm did not exit within 60s of SIGINT")
	}
	if left := clusters.ProcessesMentioning(filepath.Join(out, "nodes")); len(left) > 0 {
		t.Errorf("left running: %v", left)
	}
	if m := mountsUnder(out); len(m) > 0 {
		t.Errorf("left mounted: %v", m)
	}
	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil || !bytes.Contains(b, []byte(`"verdict": "unknown"`)) {
		t.Errorf("results.json after interrupt: %v %s", err, b)
	}
}

// Even when jetstorm itself dies without cleaning up (SIGKILL, or a panic in
// any goroutine), its nodes die with it.
func TestParentKillLeavesNoProcess(t *testing.T) {
	t.Run("plain", func(t *testing.T) { testParentKill(t, shortRun) })
	t.Run("powerfs", func(t *testing.T) {
		powerfs.NeedInTest(t)
		testParentKill(t, powerRun)
	})
}

func testParentKill(t *testing.T, scenario string) {
	cmd, out := startRun(t, scenario)
	cmd.Process.Kill()
	cmd.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for len(clusters.ProcessesMentioning(filepath.Join(out, "nodes"))) > 0 || len(mountsUnder(out)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("left after jetstorm was SIGKILLed: processes %v, mounts %v",
				clusters.ProcessesMentioning(filepath.Join(out, "nodes")), mountsUnder(out))
		}
		time.Sleep(100 * time.Millisecond)
	}
	// What was recorded before the kill is still a readable history prefix.
	if _, err := history.ReadFile(filepath.Join(out, "history.jsonl")); err != nil && !strings.Contains(err.Error(), "truncated") {
		t.Errorf("history after SIGKILL: %v", err)
	}
}

// mountsUnder lists mount points below dir (from /proc/self/mountinfo).
func mountsUnder(dir string) []string {
	b, _ := os.ReadFile("/proc/self/mountinfo")
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && strings.HasPrefix(f[4], dir) {
			out = append(out, f[4])
		}
	}
	return out
}

// compare is the CI gate: identical runs pass, a 30 % throughput drop fails.
func TestCompareExitCodes(t *testing.T) {
	write := func(dir string, throughput float64) string {
		os.MkdirAll(dir, 0o755)
		r := reports.Results{Verdict: checker.Valid, Scenario: "x", ThroughputAckedPerS: throughput,
			PublishLatencyMs: stats.Latency{Count: 10, P50: 1, P90: 2, P99: 3, P999: 4, Max: 5}}
		if err := r.WriteJSON(dir); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	base := write(filepath.Join(t.TempDir(), "base"), 1000)
	same := write(filepath.Join(t.TempDir(), "same"), 1000)
	slow := write(filepath.Join(t.TempDir(), "slow"), 700)
	if out, err := jetstorm("compare", base, same).CombinedOutput(); exitCode(t, err) != 0 {
		t.Errorf("identical runs: exit %d\n%s", exitCode(t, err), out)
	}
	out, err := jetstorm("compare", base, slow, "--max-throughput-drop", "10%").CombinedOutput()
	if exitCode(t, err) != 1 || !strings.Contains(string(out), "REGRESSION") {
		t.Errorf("30%% throughput drop: exit %d\n%s", exitCode(t, err), out)
	}
	if _, err := jetstorm("compare", base, slow, "--max-throughput-drop", "40%").CombinedOutput(); exitCode(t, err) != 0 {
		t.Errorf("30%% drop within a 40%% limit: exit %d", exitCode(t, err))
	}
	if _, err := jetstorm("compare", base, slow, "--max-throughput-drop", "lots").CombinedOutput(); exitCode(t, err) != 3 {
		t.Errorf("bad limit: exit %d, want 3", exitCode(t, err))
	}
}

func TestLogFormat(t *testing.T) {
	for _, tc := range []struct{ format, want string }{
		{"human", "   0.0s  healed kill n1\n"},
		{"text", "level=INFO msg=healed kind=kill nodes=[n1]\n"},
		{"json", `"level":"INFO","msg":"healed","kind":"kill","nodes":["n1"]}` + "\n"},
	} {
		var b bytes.Buffer
		log, err := newLogger(tc.format, slog.LevelInfo, termlog.NewScreen(&b, false))
		if err != nil {
			t.Fatalf("%s: %v", tc.format, err)
		}
		log.Info("healed", "kind", "kill", "nodes", []string{"n1"})
		if !strings.HasSuffix(b.String(), tc.want) {
			t.Errorf("%s: got %q, want it to end with %q", tc.format, b.String(), tc.want)
		}
	}
	for _, bad := range []string{"", "xml", "JSON"} {
		if _, err := newLogger(bad, slog.LevelInfo, termlog.NewScreen(io.Discard, false)); err == nil {
			t.Errorf("--log-format %q accepted", bad)
		}
	}
	help, err := jetstorm("run", "--help").Output()
	if err != nil || !strings.Contains(string(help), "--log-format") {
		t.Errorf("run --help lacks --log-format (%v): %s", err, help)
	}
}
