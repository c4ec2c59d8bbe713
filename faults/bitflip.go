package faults

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"

	"jetstorm/clusters"
)

// BitFlip flips Count (default 3) random bits in each of up to 2 random
// store files (message blocks, indexes, snapshots, Raft logs: any file, or
// those whose path contains one of Files) of the target nodes while they
// are down; healing restarts them.
type BitFlip struct{}

func (BitFlip) Name() string                  { return "bitflip" }
func (BitFlip) Needs() Needs                  { return Needs{} }
func (BitFlip) Check(s Spec, nodes int) error { return checkCorrupt(s, nodes) }

func (BitFlip) Inject(ctx context.Context, c clusters.Cluster, env Env, s Spec, rng *rand.Rand) (*Injection, error) {
	bits := s.Count
	if bits == 0 {
		bits = 3
	}
	return corruptDown(ctx, c, env, s, rng, func(dir string, rng *rand.Rand) ([]map[string]any, error) {
		files, err := pickFiles(dir, 2, s.Files, rng)
		if err != nil {
			return nil, err
		}
		var changes []map[string]any
		for _, f := range files {
			path := filepath.Join(dir, f)
			info, err := os.Stat(path)
			if err != nil {
				return changes, err
			}
			var flips []int64 // bit offsets
			for i := 0; i < bits; i++ {
				bit := rng.Int64N(info.Size() * 8)
				b := make([]byte, 1)
				fh, err := os.Open(path)
				if err != nil {
					return changes, err
				}
				_, err = fh.ReadAt(b, bit/8)
				fh.Close()
				if err != nil {
					return changes, err
				}
				b[0] ^= 1 << (bit % 8)
				if err := writeSynced(path, b, bit/8); err != nil {
					return changes, err
				}
				flips = append(flips, bit)
			}
			changes = append(changes, map[string]any{"file": f, "size": info.Size(), "bits_flipped": flips})
		}
		return changes, nil
	})
}
