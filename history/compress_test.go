package history

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A compressed history reads back as it was recorded, through File,
// Stream and Skim.
func TestCompressedHistory(t *testing.T) {
	dir := t.TempDir()
	rec, err := CreateCompressed(filepath.Join(dir, CompressedFileName))
	if err != nil {
		t.Fatal(err)
	}
	rec.Record(Op{Process: -1, Type: OK, F: FMeta, Value: map[string]any{"workload": "queue"}})
	for i := range 1000 {
		rec.Record(Op{Process: i % 3, Type: Invoke, F: FPublish, Value: "x"})
	}
	rec.Record(Op{Process: -2, Type: Invoke, F: FFault, Value: map[string]any{"kind": "kill"}})
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	path := File(dir)
	if filepath.Base(path) != CompressedFileName {
		t.Fatalf("File(dir) = %s", path)
	}
	b, _ := os.ReadFile(path)
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("not gzip: % x", b[:min(len(b), 4)])
	}
	ops, err := ReadFile(path)
	if err != nil || len(ops) != 1002 || ops[1001].F != FFault || ops[500].Index != 500 {
		t.Fatalf("read %d ops, %v", len(ops), err)
	}
	s, err := Skim(path)
	if err != nil || s.Meta == nil || len(s.Faults) != 1 || s.Truncated {
		t.Errorf("skim: %+v, %v", s, err)
	}
}

// A jetstorm killed while writing a compressed history leaves a stream
// cut mid-way: the ops flushed before (every second) read back, then
// ErrTruncated, as a cut plain history does.
func TestCompressedHistoryCut(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, CompressedFileName)
	rec, err := CreateCompressed(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	for i := range 500 {
		rec.Record(Op{Process: i % 3, Type: Invoke, F: FPublish, Value: "x"})
	}
	// The file as a SIGKILL would leave it, once the flusher has run:
	// never closed, so no gzip trailer.
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		cut := filepath.Join(dir, "cut.jsonl.gz")
		os.WriteFile(cut, b, 0o644)
		ops, err := ReadFile(cut)
		s, serr := Skim(cut)
		if len(ops) == 500 {
			if !errors.Is(err, ErrTruncated) || serr != nil || !s.Truncated {
				t.Fatalf("a cut compressed history: %d ops, %v; skim truncated %v, %v", len(ops), err, s.Truncated, serr)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the flushed history holds %d of 500 ops after 30 s (%v)", len(ops), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
