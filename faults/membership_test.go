package faults

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"jetstorm/clusters"
)

// A membership change on a 4-node cluster with an R3 stream. Replacing a
// stream peer: it leaves the meta group and the stream's peers (the stream
// moves to the spare node), comes back wiped under a new name as a new
// member, and the stream has 3 current peers again with every message.
// Removing a node and starting it again as it was: it leaves the meta
// group and, back within nats-server's 5 minutes, stays out of it.
func TestMembership(t *testing.T) {
	c, ctx := startClusterWith(t, clusters.ProcessOptions{Nodes: 4, SystemUser: true})
	_, js := connect(t, c.Nodes()[0])
	createStream(t, ctx, js)
	if n := publishes(ctx, js, 50, 5*time.Second); n != 50 {
		t.Fatalf("%d/50 published", n)
	}
	before := clusters.ReadPeerSets(ctx, c, "T")
	if before.Err != "" || len(before.Meta) != 4 || len(before.Stream) != 3 || before.Replicas != 3 {
		t.Fatalf("peer sets before: %+v", before)
	}
	// The stream's peer that does not lead: the client's node (n1) keeps
	// serving, unless n1 is the one.
	target := ""
	for _, p := range before.Stream {
		if p != before.Leader && (target == "" || target == "n1") {
			target = p
		}
	}
	inj := injectNow(t, ctx, c, Spec{Kind: "membership", Target: target, Params: MembershipParams{Action: "replace"}})
	removed := inj.Params["peers"].(map[string]any)["removed"].(clusters.PeerSets)
	if slices.Contains(removed.Meta, target) || len(removed.Meta) != 3 {
		t.Errorf("meta peers after removing %s: %v", target, removed.Meta)
	}
	newName := inj.Params["new_server"]
	if newName != target+"-2" {
		t.Fatalf("new server name %v, want %s-2", newName, target)
	}
	if err := inj.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	after := inj.Result["peers_after"].(clusters.PeerSets)
	if !slices.Contains(after.Meta, target+"-2") || slices.Contains(after.Meta, target) || len(after.Meta) != 4 {
		t.Errorf("meta peers after the return: %v, want %s replaced by %s-2", after.Meta, target, target)
	}
	if slices.Contains(after.Stream, target) || len(after.Stream) != 3 {
		t.Errorf("stream peers after the return: %v, want 3 without %s", after.Stream, target)
	}
	if r := inj.Result["replicas"].(map[string]any); r["met"] != true || r["spare"] != true {
		t.Errorf("replicas after the return: %v", r)
	}
	if n := clusters.NodeByName(c, target+"-2"); n == nil || n.Name() != target {
		t.Errorf("node by its new server name: %v", n)
	}
	healthy(t, ctx, c)
	if info, err := js.Stream(ctx, "T"); err != nil || info.CachedInfo().State.Msgs != 50 {
		t.Errorf("stream after the replacement: %v %+v", err, info)
	}

	// Remove, and return as it was: a node other than n1.
	other := "n2"
	if target == "n2" {
		other = "n3"
	}
	inj = injectNow(t, ctx, c, Spec{Kind: "membership", Target: other, Params: MembershipParams{Action: "remove"}})
	removed = inj.Params["peers"].(map[string]any)["removed"].(clusters.PeerSets)
	if slices.Contains(removed.Meta, other) {
		t.Errorf("meta peers after removing %s: %v", other, removed.Meta)
	}
	if inj.Params["new_server"] != nil {
		t.Errorf("remove renamed the server: %v", inj.Params["new_server"])
	}
	// The server refuses the returning member for 5 minutes after its
	// removal; the heal waits for it, here only briefly.
	hctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	err := inj.Heal(hctx)
	cancel()
	if err == nil || !strings.Contains(err.Error(), "not a member again") {
		t.Errorf("heal within 15s of the removal: %v, want not a member again", err)
	}
	after = inj.Result["peers_after"].(clusters.PeerSets)
	if slices.Contains(after.Meta, other) || len(after.Meta) != 3 || inj.Result["rejoined"] != false {
		t.Errorf("meta peers 15s after %s's removal: %v, want it still out", other, after.Meta)
	}
	if !clusters.NodeByName(c, other).Running() {
		t.Errorf("%s is not running again", other)
	}
	if info, err := js.Stream(ctx, "T"); err != nil || info.CachedInfo().State.Msgs != 50 {
		t.Errorf("stream after the removal: %v %+v", err, info)
	}
}
