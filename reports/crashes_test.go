package reports

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"jetstorm/checker"
	"jetstorm/history"
)

// A crashes result as the checker makes it: one crash, one known crash,
// warnings on n2, and a harness error.
func crashChecks() []checker.Result {
	st := checker.LogStats{
		Crashes: []checker.Crash{
			{Node: "n2", Start: 2, Kind: "panic", Time: "2026-01-01T00:00:03.5Z", At: "3.5s",
				Message: "panic: runtime error: slice bounds out of range [4:0]",
				Stack: []string{"github.com/nats-io/nats-server/v2/server.(*msgBlock).rebuildStateLocked (filestore.go:1578)",
					"github.com/nats-io/nats-server/v2/server.(*msgBlock).rebuildState (filestore.go:1551)"},
				Log: "nodes/n2/n2.log:24"},
			{Node: "n3", Start: 1, Kind: "data race", Message: "WARNING: DATA RACE: Write at 0x1 by goroutine 8",
				Log: "nodes/n3/n3.log:9", Known: "DATA RACE"},
		},
		Nodes: map[string]checker.NodeLog{
			"n1": {Starts: 1},
			"n2": {Starts: 3, Warnings: []checker.LogWarning{{Name: "last sequence mismatch", Count: 2,
				First: "[1] 2026/01/01 00:00:04.000000 [ERR] ... last sequence mismatch", Log: "nodes/n2/n2.log:30"}}},
			"n3": {Starts: 1},
		},
		Errors: []string{"n1 start 2 could not run here (nodes/n1/n1.log:7): [FTL] address already in use"},
	}
	return []checker.Result{
		{Name: "crashes", Verdict: checker.Invalid, Message: "1 crash: n2 ...", Details: st},
		{Name: "other", Verdict: checker.Skipped, Message: "skipped: does not apply"},
	}
}

// Crashes show at the top of the summary and of index.html, next to the
// verdict; junit.xml has a failed case per crash, a skipped one per known
// crash and per skipped check; warnings are listed per node.
func TestCrashesReported(t *testing.T) {
	h := synthHistory(false)
	dir := t.TempDir()
	writeHistoryFile(t, dir, h)
	for _, n := range []string{"n1", "n2", "n3"} {
		os.MkdirAll(filepath.Join(dir, "nodes", n), 0o755)
		os.WriteFile(filepath.Join(dir, "nodes", n, n+".log"), []byte("log\n"), 0o644)
	}
	meta, err := history.MetaOf(h)
	if err != nil {
		t.Fatal(err)
	}
	_, checks := checker.Run(context.Background(), h, &checker.Queue{})
	checks = append(checks, crashChecks()...)
	res := Build(DigestOf(h), meta, checker.Invalid, checks, []string{"heal kill: start n2: process exited"})
	if len(res.Crashes) != 2 || res.NodeLogs["n2"].Starts != 3 || len(res.Errors) != 2 {
		t.Fatalf("results: crashes %+v node logs %+v errors %q", res.Crashes, res.NodeLogs, res.Errors)
	}
	if err := res.WriteJSON(dir); err != nil {
		t.Fatal(err)
	}

	var sum bytes.Buffer
	res.Summary(&sum)
	lines := strings.Split(sum.String(), "\n")
	t.Log(sum.String())
	if len(lines) < 8 || !strings.Contains(lines[1], "verdict: INVALID") ||
		lines[2] != "  CRASH n2 start 2 at 3.5s: panic: runtime error: slice bounds out of range [4:0] (nodes/n2/n2.log:24)" ||
		lines[3] != "        github.com/nats-io/nats-server/v2/server.(*msgBlock).rebuildStateLocked (filestore.go:1578)" ||
		!strings.HasPrefix(lines[5], "  known crash n3 start 1: WARNING: DATA RACE") ||
		!strings.Contains(lines[6], `matches check.known_crashes "DATA RACE"`) {
		t.Errorf("summary does not start with the crashes:\n%s", sum.String())
	}
	for _, want := range []string{
		"  node n2 log (3 starts): known-bad warnings: last sequence mismatch ×2\n",
		"  check other    skipped skipped: does not apply\n",
		"  error: n1 start 2 could not run here",
	} {
		if !strings.Contains(sum.String(), want) {
			t.Errorf("summary lacks %q", want)
		}
	}

	if err := Write(dir); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	p := string(page)
	crash, checksAt := strings.Index(p, "Server crash: n2, start 2, at 3.5s"), strings.Index(p, "<h2>Checks</h2>")
	if crash < 0 || checksAt < 0 || crash > checksAt || !strings.Contains(p, "a server crashed (below)") {
		t.Errorf("index.html does not show the crash above the checks (crash at %d, checks at %d)", crash, checksAt)
	}
	for _, want := range []string{
		"panic: runtime error: slice bounds out of range [4:0]",
		"(*msgBlock).rebuildStateLocked (filestore.go:1578)",
		`<a href="nodes/n2/n2.log">nodes/n2/n2.log:24</a>`,
		"Known crash: n3, start 1",
		"last sequence mismatch",
		`<td class="skipped">skipped</td>`,
	} {
		if !strings.Contains(p, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	for _, ref := range refs(t, dir) {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(ref))); err != nil {
			t.Errorf("index.html links %s: %v", ref, err)
		}
	}

	s := readJUnit(t, dir).Suites[0]
	var failed, skipped []string
	for _, c := range s.Cases {
		if c.Failure != nil {
			failed = append(failed, c.Name+": "+c.Failure.Message)
		}
		if c.Skipped != nil {
			skipped = append(skipped, c.Name+": "+c.Skipped.Message)
		}
	}
	wantFailed := []string{
		"crashes: 1 crash: n2 ...",
		"crash n2 (nodes/n2/n2.log:24): panic: runtime error: slice bounds out of range [4:0]",
	}
	wantSkipped := []string{
		"other: skipped: does not apply",
		`crash n3 (nodes/n3/n3.log:9): known crash (check.known_crashes "DATA RACE"): WARNING: DATA RACE: Write at 0x1 by goroutine 8`,
	}
	if strings.Join(failed, "\n") != strings.Join(wantFailed, "\n") || strings.Join(skipped, "\n") != strings.Join(wantSkipped, "\n") {
		t.Errorf("junit failed %q\nskipped %q", failed, skipped)
	}
	if s.Fails != 2 || s.Skipped != 2 {
		t.Errorf("junit counts: %d failures, %d skipped", s.Fails, s.Skipped)
	}
}
