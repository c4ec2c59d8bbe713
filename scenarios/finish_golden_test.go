package scenarios

import (
	"bytes"
	"compress/gzip"
	"context"
	"flag"
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
//
// -update writes the golden results of histories that have none yet
// (a new checker's); it never rewrites one.
var updateFinish = flag.Bool("update", false, "write testdata/finish-golden/*.json for golden histories that have none")

func TestFinishGolden(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "checker", "testdata", "*.jsonl"))
	if len(files) < 40 {
		t.Fatalf("golden histories: %d", len(files))
	}
	took := regexp.MustCompile(`checked in [^"]*"`)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".jsonl")
		// And the same history compressed, as run --compress writes it.
		for _, gz := range []bool{false, true} {
			if gz {
				name += ".gz"
			}
			t.Run(name, func(t *testing.T) { finishGolden(t, f, strings.TrimSuffix(name, ".gz"), gz, took) })
		}
	}
}

func finishGolden(t *testing.T, f, name string, gz bool, took *regexp.Regexp) {
	dir := t.TempDir()
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	if gz {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		os.WriteFile(filepath.Join(dir, "history.jsonl.gz"), buf.Bytes(), 0o644)
	} else {
		os.WriteFile(filepath.Join(dir, "history.jsonl"), b, 0o644)
	}
	_, err = Finish(context.Background(), dir, FinishOptions{})
	golden := filepath.Join("testdata", "finish-golden", name)
	if want, rerr := os.ReadFile(golden + ".err"); rerr == nil {
		msg := ""
		if err != nil {
			msg = strings.ReplaceAll(strings.ReplaceAll(err.Error(), dir, "DIR"), ".jsonl.gz", ".jsonl")
		}
		if msg != strings.TrimSpace(string(want)) {
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
	if os.IsNotExist(err) && *updateFinish {
		want, err = []byte(norm), os.WriteFile(golden+".json", []byte(norm), 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
	if norm != string(want) {
		t.Errorf("results.json differs from %s.json:\n%s", golden, norm)
	}
}
