package scenarios

import (
	"strings"
	"sync"
	"testing"

	"jetstorm/checker"
	"jetstorm/history"
)

// The first pinned member (member 0, on n1) loses its node at 4 s for 5 s:
// another member takes over within pinned_ttl (2 s) + pull_expiry (1 s) +
// slack (5 s).
const pinnedScenario = `
name: pinned-e2e
seed: 2
cluster: {nodes: 3}
stream: {replicas: 3}
workload: {type: pinned, clients: 2, rate: 40, duration: 14s, members: 3, pinned_ttl: 2s, pull_expiry: 1s, slack: 5s, nak: 0, nak_delay: 0, no_ack: 0, term: 0}
timeline:
  - {at: 4s, fault: kill, target: n1, for: 5s}
final: {recover: 30s, drain_timeout: 30s}
`

// Members on a real cluster, the pinned one's node killed: one pinned
// member at a time, a timed takeover by another member, nothing
// redelivered after a confirmed ack: valid.
func TestPinnedTakeover(t *testing.T) {
	o := runYAML(t, pinnedScenario, RunOptions{})
	s := o.Results.Pinned
	if o.Results.Verdict != checker.Valid || s == nil {
		t.Fatalf("verdict %s: %+v", o.Results.Verdict, o.Results.Checks)
	}
	if s.Deliveries < 400 || s.Pins < 2 || len(s.Changes) < 1 || s.TakeoversJudged < 1 || s.ConfirmedAcks < 400 || len(s.Members) < 2 {
		t.Errorf("pinned: %+v", *s)
	}
	if c := s.Changes[0]; c.From != "1000000@n1" || c.To == c.From || c.TakeoverMs < 0 || c.TakeoverMs > s.BoundMs {
		t.Errorf("first pin change: %+v", c)
	}
}

// A member that records every other delivery under the first pin id the
// group had, once another pin took over, shows two members pinned at
// once: invalid, by the pinned check alone.
func TestPinnedStalePinIsCaught(t *testing.T) {
	var mu sync.Mutex
	first, n := "", 0
	tamper := func(member int, d *history.Delivery) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case d.PinID == "":
		case first == "":
			first = d.PinID
		case d.PinID != first:
			if n++; n%2 == 0 {
				d.PinID = first
			}
		}
	}
	o := runYAML(t, pinnedScenario, RunOptions{PinTamper: tamper})
	s := o.Results.Pinned
	if o.Results.Verdict != checker.Invalid || s == nil || s.TwoPinned == 0 {
		t.Fatalf("the stale pin is not caught: verdict %s: %+v", o.Results.Verdict, o.Results.Checks)
	}
	for _, c := range o.Results.Checks {
		if c.Name != "pinned" && c.Verdict == checker.Invalid {
			t.Errorf("check %s is invalid too: %s", c.Name, c.Message)
		}
		if c.Name == "pinned" && !strings.Contains(c.Message, "TWO PINNED") {
			t.Errorf("pinned: %s", c.Message)
		}
	}
}
