package faults

import (
	"context"
	"math/rand/v2"

	"jetstorm/clusters"
)

// BitFlip flips count (default 3) random bits in each of up to 2 random
// store files (message blocks, indexes, snapshots, Raft logs: any file, or
// those whose path contains one of files) of the target nodes while they
// are down; healing restarts them.
type BitFlip struct{ corruptParams }

func (BitFlip) Name() string { return "bitflip" }
func (BitFlip) Needs() Needs { return Needs{Store: true} }

func (BitFlip) Inject(ctx context.Context, c clusters.Cluster, env Env, s Spec, rng *rand.Rand) (*Injection, error) {
	p := paramsOf[CorruptParams](s)
	bits := p.Count
	if bits == 0 {
		bits = 3
	}
	return corruptDown(ctx, c, env, s, rng, func(st clusters.Store, rng *rand.Rand) ([]map[string]any, error) {
		files, err := pickFiles(st, 2, p.Files, rng)
		if err != nil {
			return nil, err
		}
		var changes []map[string]any
		for _, f := range files {
			size, err := st.Size(f)
			if err != nil {
				return changes, err
			}
			var flips []int64 // bit offsets
			for i := 0; i < bits; i++ {
				bit := rng.Int64N(size * 8)
				b := make([]byte, 1)
				if err := st.ReadAt(f, b, bit/8); err != nil {
					return changes, err
				}
				b[0] ^= 1 << (bit % 8)
				if err := st.WriteAt(f, b, bit/8); err != nil {
					return changes, err
				}
				flips = append(flips, bit)
			}
			changes = append(changes, map[string]any{"file": f, "size": size, "bits_flipped": flips})
		}
		return changes, nil
	})
}
