package checker

import (
	"context"
	"fmt"
	"strings"

	"jetstorm/history"
)

// Replicas judges what membership faults did to the stream's replica
// count. A removed server's stream replicas must move to a spare server
// (one that stayed in the cluster outside the stream's peers), so after
// each membership change the stream must have its configured replica
// count again, placed and current, when there was a spare: a count left
// short then is Invalid. Without a spare (3 nodes, R3) the stream may
// stay under-replicated: reported as such, not as an anomaly. A stream
// with its peers placed but not all current by the fault's end is
// Unknown (still catching up: neither proven); so is a change that never
// ended or recorded no count. Without membership faults it is skipped.
//
// Replicas is a Checker: use a new &Replicas{} per history.
type Replicas struct {
	changes MembershipChanges
	open    int // membership faults started and not ended
}

// MembershipChanges are the membership faults' ends, in order.
type MembershipChanges []MembershipChange

// MembershipChange is one membership fault's end, as the fault recorded it.
type MembershipChange struct {
	Action    string `json:"action"`
	Server    string `json:"server"`
	NewServer string `json:"new_server,omitempty"`
	Rejoined  bool   `json:"rejoined"`
	Replicas  *struct {
		Want    int  `json:"want"`
		Spare   bool `json:"spare"`
		Peers   int  `json:"peers"`
		Current int  `json:"current"`
	} `json:"replicas"`
	decodeErr error
}

func (*Replicas) Name() string { return "replicas" }

// Observe implements Checker: it keeps each membership fault's end.
func (c *Replicas) Observe(op history.Op) {
	if op.F != history.FFault {
		return
	}
	var m struct {
		Kind string `json:"kind"`
	}
	if op.Decode(&m) != nil || m.Kind != "membership" {
		return
	}
	if op.Type == history.Invoke {
		c.open++
		return
	}
	if op.Type == history.Fail { // never started
		return
	}
	c.open--
	var ch MembershipChange
	ch.decodeErr = op.Decode(&ch)
	c.changes = append(c.changes, ch)
}

// Result implements Checker.
func (c *Replicas) Result(ctx context.Context) Result {
	r := Result{Name: "replicas", Verdict: Unknown, Details: c.changes}
	if err := ctx.Err(); err != nil {
		r.Message = "not checked: " + err.Error()
		return r
	}
	if len(c.changes) == 0 && c.open == 0 {
		r.Verdict, r.Message = Skipped, "no membership change in the run"
		return r
	}
	var bad, unknown, notes []string
	for _, ch := range c.changes {
		who := ch.Server
		if ch.NewServer != "" {
			who += " (back as " + ch.NewServer + ")"
		}
		switch rp := ch.Replicas; {
		case ch.decodeErr != nil:
			unknown = append(unknown, fmt.Sprintf("%s: %v", who, ch.decodeErr))
		case rp == nil || rp.Want == 0:
			unknown = append(unknown, who+": no replica count recorded")
		case rp.Peers < rp.Want && rp.Spare:
			bad = append(bad, fmt.Sprintf("after %s %s: the stream has %d of %d peers though a spare server existed", ch.Action, who, rp.Peers, rp.Want))
		case rp.Peers < rp.Want:
			notes = append(notes, fmt.Sprintf("after %s %s: under-replicated, %d of %d peers (no spare server)", ch.Action, who, rp.Peers, rp.Want))
		case rp.Current < rp.Want:
			unknown = append(unknown, fmt.Sprintf("after %s %s: %d peers placed, only %d current when the fault ended", ch.Action, who, rp.Peers, rp.Current))
		default:
			notes = append(notes, fmt.Sprintf("after %s %s: %d of %d peers, current", ch.Action, who, rp.Current, rp.Want))
		}
	}
	if c.open > 0 {
		unknown = append(unknown, fmt.Sprintf("%d membership change(s) never ended", c.open))
	}
	switch {
	case len(bad) > 0:
		r.Verdict = Invalid
		r.Message = strings.Join(append(bad, unknown...), "; ")
	case len(unknown) > 0:
		r.Message = strings.Join(unknown, "; ")
	default:
		r.Verdict = Valid
		r.Message = strings.Join(notes, "; ")
	}
	return r
}
