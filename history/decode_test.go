package history

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// Every line of every golden history decodes as encoding/json decodes it,
// and most take the fast path (a regression there is a slowdown only).
func TestDecodeOpGolden(t *testing.T) {
	files, _ := filepath.Glob("../checker/testdata/*.jsonl")
	if len(files) < 10 {
		t.Fatalf("golden histories: %v", files)
	}
	lines, fast := 0, 0
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines++
			if _, ok := fastOp(sc.Bytes()); ok {
				fast++
			}
			checkDecode(t, sc.Bytes())
		}
		fh.Close()
	}
	if fast < lines*9/10 {
		t.Errorf("only %d of %d golden lines took the fast path", fast, lines)
	}
}

// checkDecode holds decodeOp to encoding/json: the same Op, or both fail.
func checkDecode(t *testing.T, b []byte) {
	t.Helper()
	var want Op
	werr := json.Unmarshal(b, &want)
	got, gerr := decodeOp(b)
	if (werr == nil) != (gerr == nil) || (werr == nil && !reflect.DeepEqual(got, want)) {
		t.Errorf("decodeOp(%q) = %+v, %v; encoding/json: %+v, %v", b, got, gerr, want, werr)
	}
}

func FuzzDecodeOp(f *testing.F) {
	for _, s := range []string{
		`{"index":1,"process":0,"type":"invoke","f":"publish","value":"0-1","time":2000000}`,
		`{"index":2,"process":-1,"type":"ok","f":"read","value":"0-1","seq":1,"node":"n1","time":9}`,
		`{"index":3,"process":-2,"type":"invoke","f":"fault","value":{"kind":"kill","nodes":["n2"]},"time":5,"err":"x"}`,
		`{"index":4,"process":0,"type":"ok","f":"kv-get","value":{"key":"k","value":"v\"q","rev":3},"time":5}`,
		`{"index":5,"process":0,"type":"ok","f":"publish","value":12.5,"subject":"s.a","time":1}`,
		`{"Index":5,"process":0,"type":"ok","f":"x","time":1}`,
		`{"index":05,"type":"ok","f":"x","time":1}`,
		`{"index":1,"type":"ok","f":"x","time":1e3}`,
		`{"index":1,"type":"ok","f":"x","value":null,"time":1}`,
		`{"index":1,"type":"ok","f":"x\u00e9","time":1} x`,
		`{"index":1,"type":"ok","f":"x","time":99999999999999999999}`,
		`{"index":1,"type":"ok","f":"x","time":-9223372036854775808}`,
		`{"index":1,"type":"ok","f":"x","value":[1,{"a":"]"}],"time":1}`,
		` { "index" : 1 , "type" : "ok" } `,
		`{}`, `{"index":1,}`, `{"index":1`, `[1]`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		op, ok := fastOp(b)
		if !ok {
			return
		}
		var want Op
		if err := json.Unmarshal(b, &want); err != nil || !reflect.DeepEqual(op, want) {
			t.Errorf("fastOp(%q) = %+v; encoding/json: %+v, %v", b, op, want, err)
		}
	})
}
