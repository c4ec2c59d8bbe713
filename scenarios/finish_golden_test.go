package scenarios

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// `jetstorm check` keeps its answer: Finish on every golden history of the
// checkers writes the results.json (or fails with the error) that it did
// before histories were read in one streaming pass (issue 15), kept in
// testdata/finish-golden: made by the commit before that work, with the
// run directory written DIR and the check's duration X.
func TestFinishGolden(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "checker", "testdata", "*.jsonl"))
	if len(files) < 40 {
		t.Fatalf("golden histories: %d", len(files))
	}
	took := regexp.MustCompile(`checked in [^"]*"`)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".jsonl")
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, "history.jsonl"), b, 0o644)
			_, err = Finish(context.Background(), dir, FinishOptions{})
			golden := filepath.Join("testdata", "finish-golden", name)
			if want, rerr := os.ReadFile(golden + ".err"); rerr == nil {
				if err == nil || strings.ReplaceAll(err.Error(), dir, "DIR") != strings.TrimSpace(string(want)) {
					t.Errorf("error %v, want %s", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(filepath.Join(dir, "results.json"))
			norm := took.ReplaceAllString(strings.ReplaceAll(string(got), dir, "DIR"), `checked in X"`)
			want, err := os.ReadFile(golden + ".json")
			if err != nil {
				t.Fatal(err)
			}
			if norm != string(want) {
				t.Errorf("results.json differs from %s.json:\n%s", golden, norm)
			}
		})
	}
}
