package history

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// appendOp writes what encoding/json's Encoder writes, byte for byte.
func TestAppendOp(t *testing.T) {
	for _, op := range []Op{
		{},
		{Index: 1, Process: 0, Type: Invoke, F: FPublish, Value: "0-1", Node: "n1", Time: 2 * time.Millisecond},
		{Index: 2, Process: -1, Type: OK, F: FRead, Value: "0-1", Seq: 1<<64 - 1, Node: "n2", Subject: "s.q.1", Time: -5, Err: "x"},
		{Index: 3, Process: -2, Type: Invoke, F: FFault, Value: map[string]any{"kind": "kill", "nodes": []string{"n2"}, "z": 1.5}},
		{Index: 4, Type: Info, F: FRunError, Err: "heal kill: \"start\" n2 <exited> & \\ \n\t\x01 é \u2028 \xff"},
		{Index: 5, Type: OK, F: FMeta, Value: Meta{Scenario: "a<b>", Seed: 7}},
		{Index: 6, Type: OK, F: FPublish, Value: ""},
		{Index: 7, Type: OK, F: FPublish, Value: 12},
		{Index: 8, Type: OK, F: FPublish, Value: []byte("raw")},
		{Index: 9, Type: OK, F: FPublish, Value: StaleRead{Leader: "n1", ClaimedEnd: 3}},
	} {
		want, err := json.Marshal(op)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendOp(nil, op)
		if err != nil || !bytes.Equal(got, append(want, '\n')) {
			t.Errorf("appendOp(%+v) =\n%s (%v)\nencoding/json:\n%s", op, got, err, want)
		}
	}
	if _, err := appendOp(nil, Op{Value: func() {}}); err == nil {
		t.Error("a value encoding/json cannot encode is not an error")
	}
}

func FuzzAppendOp(f *testing.F) {
	for _, s := range []string{"0-1", "", "a\"b", "<&>", "\u2028", "\xff", "é"} {
		f.Add(s, s, int64(1), uint64(2))
	}
	f.Fuzz(func(t *testing.T, v, e string, i int64, seq uint64) {
		op := Op{Index: i, Process: int(i % 7), Type: OK, F: v, Value: v, Seq: seq, Node: e, Subject: v, Time: time.Duration(i), Err: e}
		want, _ := json.Marshal(op)
		got, err := appendOp(nil, op)
		if err != nil || !bytes.Equal(got, append(want, '\n')) {
			t.Errorf("appendOp(%+v) = %s; encoding/json: %s", op, got, want)
		}
	})
}
