package history

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestRecordAndRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.jsonl")
	rec, err := Create(path, true)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for p := 0; p < 8; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				rec.Record(Op{Process: p, Type: Invoke, F: FPublish, Value: "v"})
				rec.Record(Op{Process: p, Type: OK, F: FPublish, Value: "v", Seq: uint64(i + 1)})
			}
		}()
	}
	wg.Wait()
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	ops, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 1600 || len(rec.Ops()) != 1600 {
		t.Fatalf("read %d ops, kept %d; want 1600", len(ops), len(rec.Ops()))
	}
	for i, op := range ops {
		if op.Index != int64(i) {
			t.Fatalf("op %d has index %d: indexes must follow file order", i, op.Index)
		}
		if op.Time <= 0 {
			t.Fatalf("op %d has no time", i)
		}
	}
	if ops[0].ValueString() != "v" {
		t.Errorf("value %v", ops[0].Value)
	}
}

func TestReadErrorsNameFileAndLine(t *testing.T) {
	var b bytes.Buffer
	rec := NewRecorder(&b, false)
	for i := 0; i < 3; i++ {
		rec.Record(Op{Type: OK, F: FRead, Value: "x"})
	}
	full := b.String()
	for _, tc := range []struct {
		name, text, want string
		ops              int
	}{
		{"complete", full, "", 3},
		{"truncated last line", full[:len(full)-5], "h.jsonl:3: truncated history", 2},
		{"last line without newline but whole", strings.TrimSuffix(full, "\n"), "", 3},
		{"garbage in the middle", strings.Replace(full, "\n", "\n{oops\n", 1), "h.jsonl:2: malformed history line", 1},
		{"bad type", full + `{"type":"maybe"}` + "\n", "h.jsonl:4: unknown op type", 3},
		{"empty", "", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ops, err := Read(strings.NewReader(tc.text), "h.jsonl")
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
			if len(ops) != tc.ops {
				t.Errorf("%d ops before the error, want %d", len(ops), tc.ops)
			}
		})
	}
}

// Stream yields what Read returns, op by op, then the same error; Read is
// built on it, so this checks the stream against ReadFile on a file.
func TestStream(t *testing.T) {
	var b bytes.Buffer
	rec := NewRecorder(&b, false)
	long := strings.Repeat("x", 200<<10) // longer than the reader's buffer
	rec.Record(Op{Type: OK, F: FRead, Value: "a"})
	rec.Record(Op{Type: OK, F: FRead, Value: long})
	rec.Record(Op{Type: OK, F: FRead, Value: "c"})
	full := b.String()
	dir := t.TempDir()
	for _, tc := range []struct {
		name, text, want string
		ops              []string
	}{
		{"complete", full, "", []string{"a", long, "c"}},
		{"truncated last line", full[:len(full)-5], "h.jsonl:3: truncated history", []string{"a", long}},
		{"truncated long line", full[:len(full)-100<<10], "h.jsonl:2: truncated history", []string{"a"}},
		{"garbage", "{oops\n" + full, "h.jsonl:1: malformed history line", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "h.jsonl")
			if err := os.WriteFile(path, []byte(tc.text), 0o644); err != nil {
				t.Fatal(err)
			}
			var got []string
			var errs []error
			for op, err := range Stream(path) {
				if err != nil {
					errs = append(errs, err)
					continue
				}
				if len(errs) > 0 {
					t.Fatal("an op after the error")
				}
				got = append(got, op.ValueString())
			}
			if tc.want == "" && len(errs) != 0 || tc.want != "" && (len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.want)) {
				t.Errorf("errors %v, want %q", errs, tc.want)
			}
			if !slices.Equal(got, tc.ops) {
				t.Errorf("%d ops, want %d", len(got), len(tc.ops))
			}
			if strings.Contains(tc.want, "truncated") && !errors.Is(errs[0], ErrTruncated) {
				t.Errorf("%v is not ErrTruncated", errs[0])
			}
			ops, err := ReadFile(path)
			if len(ops) != len(got) || (err == nil) != (len(errs) == 0) || err != nil && err.Error() != errs[0].Error() {
				t.Errorf("ReadFile: %d ops, %v", len(ops), err)
			}
		})
	}
	// Each range reads the file again; stopping early is fine.
	n := 0
	for range Stream(filepath.Join(dir, "h.jsonl")) {
		n++
		break
	}
	if n != 1 {
		t.Fatal(n)
	}
	for _, err := range Stream(filepath.Join(dir, "missing.jsonl")) {
		if !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("missing file: %v", err)
		}
	}
	var seq []int64
	for op, err := range Seq([]Op{{Index: 4}, {Index: 7}}) {
		if err != nil {
			t.Fatal(err)
		}
		seq = append(seq, op.Index)
	}
	if !slices.Equal(seq, []int64{4, 7}) {
		t.Fatal(seq)
	}
}
