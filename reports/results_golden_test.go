package reports

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"jetstorm/checker"
	"jetstorm/history"
)

var updateGolden = flag.Bool("update", false, "rewrite reports/testdata/results/*.json")

// checkedIn is the one part of a result that changes from run to run.
var checkedIn = regexp.MustCompile(`checked in [^"]*"`)

// results.json keeps its bytes: its keys, their order and their values,
// for the checkers' golden histories (and a run with crashes and harness
// errors), as Build made them before the checkers' sections moved into
// checker.Sections. Regenerate with go test ./reports -run ResultsJSONGolden -update.
func TestResultsJSONGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "checker", "testdata", "*.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("golden histories: %v %v", files, err)
	}
	type run struct {
		name   string
		h      []history.Op
		checks func([]history.Op) (checker.Verdict, []checker.Result)
	}
	all := func(h []history.Op) (checker.Verdict, []checker.Result) {
		return checker.Run(context.Background(), h, &checker.Queue{}, &checker.PerNode{}, &checker.Recovery{}, &checker.Linearizable{})
	}
	var runs []run
	for _, f := range files {
		h, err := history.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name, checks := strings.TrimSuffix(filepath.Base(f), ".jsonl"), all
		if strings.HasPrefix(name, "consume_") {
			checks = func(h []history.Op) (checker.Verdict, []checker.Result) {
				return checker.Run(context.Background(), h, &checker.Queue{}, &checker.Consumer{}, &checker.Recovery{})
			}
		}
		if strings.HasPrefix(name, "counter_") {
			checks = func(h []history.Op) (checker.Verdict, []checker.Result) {
				return checker.Run(context.Background(), h, &checker.Counter{}, &checker.Recovery{})
			}
		}
		if strings.HasPrefix(name, "occ_") {
			checks = func(h []history.Op) (checker.Verdict, []checker.Result) {
				return checker.Run(context.Background(), h, &checker.OCC{}, &checker.Recovery{})
			}
		}
		if strings.HasPrefix(name, "objects_") {
			checks = func(h []history.Op) (checker.Verdict, []checker.Result) {
				return checker.Run(context.Background(), h, &checker.Objects{}, &checker.Recovery{})
			}
		}
		if strings.HasPrefix(name, "ttl_") {
			checks = func(h []history.Op) (checker.Verdict, []checker.Result) {
				return checker.Run(context.Background(), h, &checker.TTL{}, &checker.Recovery{})
			}
		}
		if strings.HasPrefix(name, "schedule_") {
			checks = func(h []history.Op) (checker.Verdict, []checker.Result) {
				return checker.Run(context.Background(), h, &checker.Schedule{}, &checker.Recovery{})
			}
		}
		if strings.HasPrefix(name, "mirror_") {
			checks = func(h []history.Op) (checker.Verdict, []checker.Result) {
				return checker.Run(context.Background(), h, &checker.Mirror{}, &checker.Recovery{})
			}
		}
		if strings.HasPrefix(name, "watch_") {
			checks = func(h []history.Op) (checker.Verdict, []checker.Result) {
				return checker.Run(context.Background(), h, &checker.Watch{}, &checker.Recovery{})
			}
		}
		if strings.HasPrefix(name, "pinned_") {
			checks = func(h []history.Op) (checker.Verdict, []checker.Result) {
				return checker.Run(context.Background(), h, &checker.Pinned{}, &checker.Recovery{})
			}
		}
		if strings.HasPrefix(name, "batch_") {
			checks = func(h []history.Op) (checker.Verdict, []checker.Result) {
				return checker.Run(context.Background(), h, &checker.Atomic{}, &checker.Recovery{})
			}
		}
		runs = append(runs, run{name, h, checks})
	}
	runs = append(runs, run{"synth", synthHistory(false), all}, run{"synthlose", synthHistory(true), all},
		run{"crash", synthHistory(false), func(h []history.Op) (checker.Verdict, []checker.Result) {
			_, checks := checker.Run(context.Background(), h, &checker.Queue{})
			return checker.Invalid, append(checks, crashChecks()...)
		}})
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			v, checks := r.checks(r.h)
			meta, _ := history.MetaOf(r.h)
			dir := t.TempDir()
			if err := Build(DigestOf(r.h), meta, v, checks, []string{"e1"}).WriteJSON(dir); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(dir, "results.json"))
			if err != nil {
				t.Fatal(err)
			}
			got := checkedIn.ReplaceAll(b, []byte(`checked in X"`))
			golden := filepath.Join("testdata", "results", r.name+".json")
			if *updateGolden {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("results.json differs from %s:\n%s", golden, got)
			}
		})
	}
}
