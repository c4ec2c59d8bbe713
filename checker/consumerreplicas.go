package checker

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"jetstorm/history"
)

// ConsumerReplicas compares each durable consumer's state as every replica
// holds it at the end (the consume workload's final consumer-state ops, one
// per node, read from each node's own /jsz after the cluster settled): the
// stream sequences delivered and acknowledged must agree. Replicas that
// disagree keep different cursors: a failover to one of them redelivers
// acked messages or skips unacked ones. This is the consumer's split brain.
//
// A history without final per-node states is Skipped. ConsumerReplicas is
// a Checker: use a new &ConsumerReplicas{} per history.
type ConsumerReplicas struct {
	states   map[string]map[string]history.ConsumerState // consumer -> node -> state
	nBad     int                                         // malformed consumer-state ops
	firstBad string
}

// ConsumerReplicaStats is the consumer_replicas section of results.json:
// consumer -> node -> its final state.
type ConsumerReplicaStats map[string]map[string]history.ConsumerState

// AddTo sets consumer_replicas.
func (c ConsumerReplicaStats) AddTo(s *Sections) { s.ConsumerReplicas = c }

func (*ConsumerReplicas) Name() string { return "consumer-replicas" }

// Observe keeps the final per-node consumer states.
func (c *ConsumerReplicas) Observe(op history.Op) {
	if op.F != history.FConsumerState || op.Type != history.OK {
		return
	}
	var st history.ConsumerState
	if err := op.Decode(&st); err != nil || st.Consumer == "" {
		c.malformed(fmt.Sprintf("op %d: consumer-state without a consumer (%v)", op.Index, err))
		return
	}
	if !st.Final {
		return
	}
	if op.Node == "" {
		c.malformed(fmt.Sprintf("op %d: final consumer-state of %s names no node", op.Index, st.Consumer))
		return
	}
	if c.states == nil {
		c.states = map[string]map[string]history.ConsumerState{}
	}
	if c.states[st.Consumer] == nil {
		c.states[st.Consumer] = map[string]history.ConsumerState{}
	}
	c.states[st.Consumer][op.Node] = st // the last read of a node counts
}

func (c *ConsumerReplicas) malformed(why string) {
	if c.nBad == 0 {
		c.firstBad = why
	}
	c.nBad++
}

// Result judges the final states.
func (c *ConsumerReplicas) Result(ctx context.Context) Result {
	return judge(ctx, c.Name(), func() ConsumerReplicaStats { return c.states }, c.verdict)
}

func (c *ConsumerReplicas) verdict(s ConsumerReplicaStats) (Verdict, string) {
	if c.nBad > 0 {
		return Unknown, fmt.Sprintf("malformed history (%d bad consumer-state ops; first: %s)", c.nBad, c.firstBad)
	}
	if len(s) == 0 {
		return Skipped, "no per-node consumer states in the history (not a consume run)"
	}
	var problems, parts []string
	for _, name := range slices.Sorted(maps.Keys(s)) {
		nodes := s[name]
		var views []string
		agree := true
		var first history.ConsumerState
		for i, n := range slices.Sorted(maps.Keys(nodes)) {
			st := nodes[n]
			views = append(views, fmt.Sprintf("%s delivered %d, ack floor %d", n, st.Delivered, st.AckFloor))
			if i == 0 {
				first = st
			} else if st.Delivered != first.Delivered || st.AckFloor != first.AckFloor {
				agree = false
			}
		}
		if !agree {
			problems = append(problems, fmt.Sprintf("CONSUMER SPLIT BRAIN: %s's replicas disagree (%s)", name, strings.Join(views, "; ")))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s: %d replicas agree (delivered %d, ack floor %d)", name, len(nodes), first.Delivered, first.AckFloor))
	}
	if len(problems) > 0 {
		return Invalid, strings.Join(append(problems, parts...), "; ")
	}
	return Valid, strings.Join(parts, "; ")
}
