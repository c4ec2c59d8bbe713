package checker

// The per-node check's verdict and its messages, from PerNodeStats.

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Result implements Checker: it judges the ops observed.
func (p *PerNode) Result(ctx context.Context) Result {
	if r, ok := p.deletes.skip("per-node"); ok {
		return r
	}
	return judge(ctx, "per-node", p.a.stats, perNodeVerdict)
}

func perNodeVerdict(s PerNodeStats) (Verdict, string) {
	if len(s.Nodes) == 0 && s.Malformed == 0 {
		if s.System == "stan" {
			return Skipped, "NATS Streaming: only its Raft leader serves clients and it has no leadership transfer, so no replica's own copy can be read"
		}
		return Skipped, "no per-node reads in the history (final.per_node off)"
	}
	names := make([]string, 0, len(s.Nodes))
	for n := range s.Nodes {
		names = append(names, n)
	}
	slices.Sort(names)

	var problems, parts, incomplete []string
	nComplete, disagree := 0, s.Divergent > 0
	for _, name := range names {
		ns := s.Nodes[name]
		if !ns.Complete {
			incomplete = append(incomplete, name)
			parts = append(parts, fmt.Sprintf("%s %d read/%d acked but unread (incomplete)", name, ns.Read, ns.Lost))
		} else {
			nComplete++
			parts = append(parts, fmt.Sprintf("%s %d read/%d lost", name, ns.Read, ns.Lost))
			if ns.Lost > 0 {
				problems = append(problems, fmt.Sprintf("%s LOST %d acknowledged writes (first: %s)",
					name, ns.Lost, examples(ns.LostValues, ns.Lost)))
			}
			disagree = disagree || ns.MissingVsOthers > 0
		}
		if ns.Unexpected > 0 {
			problems = append(problems, fmt.Sprintf("%s has %d UNEXPECTED values never published (first: %s)",
				name, ns.Unexpected, examples(ns.UnexpectedValues, ns.Unexpected)))
		}
	}
	if disagree {
		problems = append(problems, fmt.Sprintf("SPLIT BRAIN: nodes disagree, %d divergent seqs (%s)",
			s.Divergent, strings.Join(s.Disagreements[:min(len(s.Disagreements), 3)], "; ")))
	}
	summary := fmt.Sprintf("%d nodes, %d complete: %s", len(names), nComplete, strings.Join(parts, ", "))

	if v, msg, ok := anomalyVerdict(s.Malformed, firstOf(s.MalformedExamples), problems, summary); ok {
		return v, msg
	}
	switch {
	case len(incomplete) > 0:
		return Unknown, fmt.Sprintf("per-node drain missing or incomplete on %s, so its lost writes and disagreement cannot be judged; %s",
			strings.Join(incomplete, ", "), summary)
	}
	return Valid, summary
}
