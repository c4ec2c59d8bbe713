package checker

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"jetstorm/history"
)

// checkedInRe is porcupine's time in a message.
var checkedInRe = regexp.MustCompile(`checked in [^:;]*`)

var updateDetails = flag.Bool("update", false, "rewrite checker/testdata/details/*.json")

// TestDetailsGolden keeps every figure the batch, counter and occ checks
// give on their golden histories (testdata/{batch,counter,occ}_*.jsonl):
// the verdict, the message and the whole Details, as JSON in
// testdata/details. Regenerate with go test ./checker -run DetailsGolden
// -update, and read the diff.
func TestDetailsGolden(t *testing.T) {
	checkers := map[string]func() Checker{
		"batch_":   func() Checker { return &Atomic{} },
		"counter_": func() Checker { return &Counter{} },
		"occ_":     func() Checker { return &OCC{} },
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.jsonl"))
	n := 0
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".jsonl")
		for prefix, mk := range checkers {
			if !strings.HasPrefix(name, prefix) {
				continue
			}
			n++
			t.Run(name, func(t *testing.T) {
				h, err := history.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				r := RunOne(t.Context(), h, mk())
				msg := checkedInRe.ReplaceAllString(r.Message, "checked in X")
				got, err := json.MarshalIndent(struct {
					Verdict Verdict `json:"verdict"`
					Message string  `json:"message"`
					Details Details `json:"details"`
				}{r.Verdict, msg, r.Details}, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				path := filepath.Join("testdata", "details", name+".json")
				if *updateDetails {
					os.MkdirAll(filepath.Dir(path), 0o755)
					if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if string(want) != string(got)+"\n" {
					t.Errorf("%s differs:\n%s", path, got)
				}
			})
		}
	}
	if n < 30 {
		t.Fatalf("only %d golden histories of the batch, counter and occ checks", n)
	}
}
