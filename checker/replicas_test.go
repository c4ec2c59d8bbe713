package checker

import (
	"strings"
	"testing"

	"jetstorm/history"
)

// membershipOps is one membership fault: its start and its end with the
// stream's replica count after it (nil: none recorded).
func membershipOps(replicas map[string]any) []history.Op {
	start := map[string]any{"kind": "membership", "action": "replace", "server": "n2"}
	end := map[string]any{"kind": "membership", "action": "replace", "server": "n2", "new_server": "n2-2", "rejoined": true}
	if replicas != nil {
		end["replicas"] = replicas
	}
	return []history.Op{
		{Process: -10, Type: history.Invoke, F: history.FFault, Value: start},
		{Process: -10, Type: history.OK, F: history.FFault, Value: end},
	}
}

func TestReplicas(t *testing.T) {
	met := map[string]any{"want": 3, "spare": true, "peers": 3, "current": 3}
	for _, tt := range []struct {
		name string
		h    []history.Op
		want Verdict
		msg  string
	}{
		{"no membership change", []history.Op{{Type: history.Invoke, F: history.FFault, Value: map[string]any{"kind": "kill"}},
			{Type: history.OK, F: history.FFault, Value: map[string]any{"kind": "kill"}}}, Skipped, "no membership change"},
		{"met", membershipOps(met), Valid, "after replace n2 (back as n2-2): 3 of 3 peers, current"},
		{"short with a spare", membershipOps(map[string]any{"want": 3, "spare": true, "peers": 2, "current": 2}), Invalid,
			"2 of 3 peers though a spare server existed"},
		{"short without a spare", membershipOps(map[string]any{"want": 3, "spare": false, "peers": 2, "current": 2}), Valid,
			"under-replicated, 2 of 3 peers (no spare server)"},
		{"placed, not current", membershipOps(map[string]any{"want": 3, "spare": true, "peers": 3, "current": 2}), Unknown,
			"only 2 current"},
		{"no count", membershipOps(nil), Unknown, "no replica count recorded"},
		{"never ended", membershipOps(met)[:1], Unknown, "never ended"},
		{"a second change short", append(membershipOps(met), membershipOps(map[string]any{"want": 3, "spare": true, "peers": 1, "current": 1})...),
			Invalid, "1 of 3 peers"},
		{"one fine, one never ended", append(membershipOps(met), membershipOps(met)[:1]...), Unknown, "1 membership change(s) never ended"},
		{"not started", []history.Op{{Type: history.Fail, F: history.FFault, Value: map[string]any{"kind": "membership"}, Err: "no leader"}},
			Skipped, "no membership change"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := RunOne(t.Context(), tt.h, &Replicas{})
			if r.Verdict != tt.want || !strings.Contains(r.Message, tt.msg) {
				t.Errorf("%s: %s, want %s: %q", r.Verdict, r.Message, tt.want, tt.msg)
			}
		})
	}
}
