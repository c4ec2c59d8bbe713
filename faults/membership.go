package faults

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"jetstorm/clusters"
)

// Membership changes the JetStream cluster's membership the way operators
// replace a node, and Jepsen's membership nemesis does: the target (one
// node, default one at random) is stopped and removed from the cluster
// with $JS.API.SERVER.REMOVE (`nats server raft peer-remove`), which lets
// the meta leader move its stream replicas to a spare server, if there is
// one. Then, by action:
//
//   - replace (the default): its store is wiped and, at the heal, it starts
//     under a new server name (n2 -> n2-2), so it joins as a new peer.
//   - remove: at the heal it starts again as it was (same name and store),
//     and the cluster takes it back: nats-server (2.11 and later) re-adds
//     a removed server that returns, but not within 5 minutes of its
//     removal (peerRemoveTimeout), so the heal waits for that, up to
//     removeRejoin after the removal (HealWithin).
//
// The peer sets before, after the removal and after the return (the meta
// group's and the stream's, from /jsz) go into the history, with whether
// the stream's replica count was met again; the replicas check judges
// that. The system account's API needs a system user in every node's
// config (Needs.System), so the process backend only.
type Membership struct{}

// MembershipParams are a membership fault's parameters (timeline key action).
type MembershipParams struct {
	Action string `yaml:"action" json:"action,omitempty"` // replace (default) or remove
}

// MembershipActions are the values of action.
var MembershipActions = []string{"replace", "remove"}

func (Membership) Name() string                { return "membership" }
func (Membership) Needs() Needs                { return Needs{System: true, Store: true} }
func (Membership) StepParams() any             { return &MembershipParams{} }
func (Membership) RandomParams() any           { return nil }
func (Membership) Draw(*rand.Rand, any) Params { return nil }

func (Membership) CheckRandom(any, []string) error { return nil }

// TimelineOnly: one membership change at a time, at a chosen moment (the
// server refuses a second removal while one is in flight).
func (Membership) TimelineOnly() {}

func (Membership) Check(s Spec, nodes []string) error {
	if targetSet(s.Target) != nil {
		return fieldErr("target", "membership changes one node at a time: give one node, not a set")
	}
	if err := checkTarget(s.Target, nodes); err != nil {
		return err
	}
	if a := paramsOf[MembershipParams](s).Action; a != "" && !slices.Contains(MembershipActions, a) {
		return fieldErr("action", "%q is not a membership action (known: %s)", a, strings.Join(MembershipActions, ", "))
	}
	return nil
}

// Bounds on the steps of a membership change.
const (
	membershipRemove  = 30 * time.Second // the removal's answer (a meta leader may be being elected)
	membershipSettle  = 15 * time.Second // the removal showing in the meta leader's peer set
	membershipHealthy = 30 * time.Second // a healthy cluster after the return
	membershipRegrow  = 60 * time.Second // the stream's replica count met again (a replica catching up)
	// removeRejoin bounds the wait for a removed server that returned
	// under its own name to be a member again: nats-server refuses it for
	// 5 minutes after the removal, then re-adds it.
	removeRejoin = 5*time.Minute + 30*time.Second
)

// HealWithin: a removed node's return may wait out the server's 5 minutes.
func (Membership) HealWithin() time.Duration {
	return removeRejoin + membershipHealthy + membershipRegrow + 10*time.Second
}

func (Membership) Inject(ctx context.Context, c clusters.Cluster, env Env, s Spec, rng *rand.Rand) (*Injection, error) {
	names, nodes, err := targetNodes(ctx, c, env, s.Target, "one", rng)
	if err != nil {
		return nil, err
	}
	if len(nodes) != 1 {
		return nil, fmt.Errorf("membership: %d targets, want one", len(nodes))
	}
	n := nodes[0]
	action := cmp.Or(paramsOf[MembershipParams](s).Action, "replace")
	server := n.ServerName()
	before := readPeers(ctx, c, env.Stream)
	var removed clusters.PeerSets
	peers := map[string]any{"before": before}
	inj := &Injection{Targets: names, Params: map[string]any{"action": action, "server": server, "peers": peers}}
	var removedAt time.Time
	runCtx := ctx // the heal's own context outlives an interrupted run; its waits need not
	inj.Heal = func(ctx context.Context) error {
		var err error
		inj.Result, err = membershipReturn(ctx, runCtx, c, env, n, before.Replicas, removed, removedAt)
		return err
	}

	// Removal is for a server that is gone: stop it first.
	if err := n.Stop(ctx); err != nil {
		return inj, fmt.Errorf("membership: stop %s: %w", n.Name(), err)
	}
	nc, err := clusters.SysConnect(c, n)
	if err != nil {
		return inj, fmt.Errorf("membership: %w", err)
	}
	defer nc.Close()
	rctx, cancel := context.WithTimeout(ctx, membershipRemove)
	err = clusters.RemovePeer(rctx, nc, server)
	cancel()
	if err != nil {
		return inj, fmt.Errorf("membership: %w", err)
	}
	removedAt = time.Now()
	removed = awaitPeers(ctx, c, env.Stream, membershipSettle, func(ps clusters.PeerSets) bool {
		return ps.MetaLeader != "" && !slices.Contains(ps.Meta, server)
	})
	peers["removed"] = removed
	if action == "replace" {
		st := n.Store()
		if st == nil {
			return inj, fmt.Errorf("membership: %s: no store to wipe", n.Name())
		}
		if err := st.Wipe(); err != nil {
			return inj, fmt.Errorf("membership: wipe %s: %w", n.Name(), err)
		}
		next := nextServerName(n.Name(), server)
		if err := n.SetServerName(next); err != nil {
			return inj, err
		}
		inj.Params["new_server"] = next
	}
	return inj, nil
}

// membershipReturn is the heal: start the node (as it is now: renamed
// and wiped, or as it was), wait for a healthy cluster, then for the
// stream's want replicas, and say what the peer sets became.
// The node starts even when the run was interrupted (runCtx done), but
// then nothing is waited for.
func membershipReturn(ctx, runCtx context.Context, c clusters.Cluster, env Env, n clusters.Node, want int, removed clusters.PeerSets, removedAt time.Time) (map[string]any, error) {
	var errs []error
	if !n.Running() {
		errs = append(errs, n.Start(ctx))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(runCtx, cancel)()
	server := n.ServerName()
	out := map[string]any{}
	if !removedAt.IsZero() {
		// Wait to be a member again (a new name joins at once; the old
		// one only after the server's 5 minutes).
		ps := awaitPeers(ctx, c, env.Stream, time.Until(removedAt.Add(removeRejoin)), func(ps clusters.PeerSets) bool {
			return slices.Contains(ps.Meta, server)
		})
		if !slices.Contains(ps.Meta, server) {
			errs = append(errs, fmt.Errorf("membership: %s is not a member again %s after its removal (meta group: %v)",
				server, time.Since(removedAt).Round(time.Second), ps.Meta))
		}
		out["rejoined_after"] = time.Since(removedAt).Round(time.Second).String()
	}
	hctx, hcancel := context.WithTimeout(ctx, membershipHealthy)
	errs = append(errs, c.WaitHealthy(hctx))
	hcancel()
	// A spare: a server outside the stream's peers that stayed in the
	// cluster, for the meta leader to move the removed replica to.
	spare := removed.MetaLeader != "" && len(removed.Meta) >= want
	after := awaitPeers(ctx, c, env.Stream, membershipRegrow, func(ps clusters.PeerSets) bool {
		return slices.Contains(ps.Meta, server) && ps.Current >= want && len(ps.Stream) >= want
	})
	out["peers_after"] = after
	out["replicas"] = map[string]any{
		"want": want, "spare": spare, "peers": len(after.Stream), "current": after.Current,
		"met": after.Current >= want && len(after.Stream) >= want,
	}
	out["rejoined"] = slices.Contains(after.Meta, server)
	return out, errors.Join(errs...)
}

// readPeers reads the peer sets within a few seconds, even when ctx has
// ended: what they were when the wait ran out belongs in the history.
func readPeers(ctx context.Context, c clusters.Cluster, stream string) clusters.PeerSets {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return clusters.ReadPeerSets(rctx, c, stream)
}

// awaitPeers reads the peer sets until ok holds or d has passed, and
// returns the last read.
func awaitPeers(ctx context.Context, c clusters.Cluster, stream string, d time.Duration, ok func(clusters.PeerSets) bool) clusters.PeerSets {
	deadline := time.Now().Add(d)
	for {
		ps := readPeers(ctx, c, stream)
		if ok(ps) || time.Now().After(deadline) || ctx.Err() != nil {
			return ps
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// nextServerName is the server name a replaced node comes back under:
// node n2 first runs as n2, then as n2-2, n2-3, ...
func nextServerName(node, current string) string {
	gen := 1
	if s, ok := strings.CutPrefix(current, node+"-"); ok {
		if g, err := strconv.Atoi(s); err == nil {
			gen = g
		}
	}
	return fmt.Sprintf("%s-%d", node, gen+1)
}
