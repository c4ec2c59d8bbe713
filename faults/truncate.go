package faults

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"

	"jetstorm/clusters"
)

// Truncate cuts the tail of a random store file (or one whose path contains
// one of Files) of the target nodes while they are down: up to Count bytes
// (default: a random part of up to half the file, at least 1 byte), like a
// torn write at the end of a log. Healing restarts the nodes.
type Truncate struct{}

func (Truncate) Name() string                  { return "truncate" }
func (Truncate) Needs() Needs                  { return Needs{} }
func (Truncate) Check(s Spec, nodes int) error { return checkCorrupt(s, nodes) }

func (Truncate) Inject(ctx context.Context, c clusters.Cluster, env Env, s Spec, rng *rand.Rand) (*Injection, error) {
	return corruptDown(ctx, c, env, s, rng, func(dir string, rng *rand.Rand) ([]map[string]any, error) {
		files, err := pickFiles(dir, 1, s.Files, rng)
		if err != nil {
			return nil, err
		}
		path := filepath.Join(dir, files[0])
		info, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		cut := int64(s.Count)
		if cut <= 0 {
			cut = 1 + rng.Int64N(max(info.Size()/2, 1))
		}
		cut = min(cut, info.Size())
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		terr := f.Truncate(info.Size() - cut)
		serr := f.Sync()
		f.Close()
		change := []map[string]any{{"file": files[0], "size": info.Size(), "new_size": info.Size() - cut}}
		if terr != nil {
			return change, terr
		}
		return change, serr
	})
}
