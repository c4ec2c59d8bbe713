package main

import (
	"reflect"
	"strings"
	"testing"
)

// compare's arguments: BASE CAND; --base and --cand lists (a glob's
// expansion), with limits anywhere, as "--flag v" or "--flag=v"; errors
// name what is wrong.
func TestParseCompareArgs(t *testing.T) {
	o, err := parseCompareArgs([]string{"b", "c", "--max-p99-rise", "30%"})
	if err != nil || !o.single || o.base[0] != "b" || o.cand[0] != "c" || o.opts.MaxP99Rise != 0.3 || o.opts.MaxThroughputDrop != 0.1 {
		t.Errorf("BASE CAND: %+v %v", o, err)
	}
	o, err = parseCompareArgs([]string{"--base", "b1", "b2", "b3", "b4", "--alpha=0.1", "--cand", "c1", "c2", "c3", "c4", "--max-throughput-drop=5%"})
	if err != nil || o.single || !reflect.DeepEqual(o.base, []string{"b1", "b2", "b3", "b4"}) ||
		!reflect.DeepEqual(o.cand, []string{"c1", "c2", "c3", "c4"}) || o.opts.Alpha != 0.1 || o.opts.MaxThroughputDrop != 0.05 {
		t.Errorf("lists: %+v %v", o, err)
	}
	if o, err := parseCompareArgs([]string{"--base=b1", "b2", "--cand=c1", "c2"}); err != nil || len(o.base) != 2 || len(o.cand) != 2 {
		t.Errorf("--base=DIR: %+v %v", o, err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"b"}, "give BASE CAND"},
		{[]string{"--base", "b1", "--cand"}, "give BASE CAND, or --base DIR... --cand DIR..."},
		{[]string{"b", "--base", "b1", "--cand", "c1"}, `["b"] is not a directory of either`},
		{[]string{"b", "c", "--max-p99-rise"}, "--max-p99-rise needs a value"},
		{[]string{"b", "c", "--alpha", "2"}, "--alpha must be between 0 and 1"},
		{[]string{"b", "c", "--max-p99-rise", "lots"}, `"lots" is not a percentage`},
		{[]string{"b", "c", "--bogus"}, "unknown flag --bogus"},
	} {
		if _, err := parseCompareArgs(tt.args); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.args, err, tt.want)
		}
	}
	if _, err := parseCompareArgs([]string{"-h"}); err != errHelp {
		t.Errorf("-h: %v", err)
	}
}
