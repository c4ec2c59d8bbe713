package history

import (
	"bytes"
	"path/filepath"
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
