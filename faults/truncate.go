package faults

import (
	"context"
	"math/rand/v2"

	"jetstorm/clusters"
)

// Truncate cuts the tail of a random store file (or one whose path contains
// one of files) of the target nodes while they are down: up to count bytes
// (default: a random part of up to half the file, at least 1 byte), like a
// torn write at the end of a log. Healing restarts the nodes.
type Truncate struct{ corruptParams }

func (Truncate) Name() string { return "truncate" }
func (Truncate) Needs() Needs { return Needs{Store: true} }

func (Truncate) Inject(ctx context.Context, c clusters.Cluster, env Env, s Spec, rng *rand.Rand) (*Injection, error) {
	p := paramsOf[CorruptParams](s)
	return corruptDown(ctx, c, env, s, rng, func(st clusters.Store, rng *rand.Rand) ([]map[string]any, error) {
		files, err := pickFiles(st, 1, p.Files, rng)
		if err != nil {
			return nil, err
		}
		size, err := st.Size(files[0])
		if err != nil {
			return nil, err
		}
		cut := int64(p.Count)
		if cut <= 0 {
			cut = 1 + rng.Int64N(max(size/2, 1))
		}
		cut = min(cut, size)
		change := []map[string]any{{"file": files[0], "size": size, "new_size": size - cut}}
		return change, st.Truncate(files[0], size-cut)
	})
}
