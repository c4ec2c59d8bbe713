package faults

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"jetstorm/clusters"
)

// Disk corruption faults (bitflip, truncate, rollback) change a node's store
// files while the node is down, then restart it on them: what does the
// server make of a damaged disk? Each records which files it touched and
// how. Shared code lives here; each fault is its own file.

// storeFiles lists the non-empty regular files under a node's store dir, in
// name order (so a seeded choice is reproducible), relative to the dir.
func storeFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if info, err := d.Info(); err == nil && info.Size() > 0 {
			rel, _ := filepath.Rel(dir, path)
			files = append(files, rel)
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}

// pickFiles chooses up to k distinct store files of a node whose path
// matches one of the patterns (substrings, e.g. ".blk"; none: any file).
func pickFiles(dir string, k int, patterns []string, rng *rand.Rand) ([]string, error) {
	all, err := storeFiles(dir)
	if err != nil {
		return nil, err
	}
	var cand []string
	for _, f := range all {
		if len(patterns) == 0 {
			cand = append(cand, f)
			continue
		}
		for _, p := range patterns {
			if strings.Contains(f, p) {
				cand = append(cand, f)
				break
			}
		}
	}
	if len(cand) == 0 {
		return nil, fmt.Errorf("no store files matching %v under %s", patterns, dir)
	}
	rng.Shuffle(len(cand), func(i, j int) { cand[i], cand[j] = cand[j], cand[i] })
	if k > len(cand) {
		k = len(cand)
	}
	out := cand[:k]
	sort.Strings(out)
	return out, nil
}

// storeDir is where a node keeps its data (through powerfs when mounted,
// so changes are seen the way the server sees the disk).
func storeDir(n clusters.Node) string { return filepath.Join(n.Dir(), "store") }

// writeSynced writes b at off in path and fsyncs it (through powerfs, data
// would otherwise stay volatile).
func writeSynced(path string, b []byte, off int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, werr := f.WriteAt(b, off)
	return errors.Join(werr, f.Sync(), f.Close())
}

// corruptDown is the shape of bitflip and truncate: kill the targets, damage
// their files with damage, and heal by restarting them.
func corruptDown(ctx context.Context, c clusters.Cluster, env Env, s Spec, rng *rand.Rand,
	damage func(dir string, rng *rand.Rand) ([]map[string]any, error)) (*Injection, error) {
	names, nodes, err := targetNodes(ctx, c, env, s.Target, "one", rng)
	if err != nil {
		return nil, err
	}
	touched := map[string]any{}
	inj := &Injection{Targets: names, Params: map[string]any{"files": touched}, Heal: startStopped(nodes)}
	for _, n := range nodes {
		if err := n.Kill(); err != nil {
			return inj, err
		}
		changes, err := damage(storeDir(n), rng)
		touched[n.Name()] = changes
		if err != nil {
			return inj, fmt.Errorf("%s: %w", n.Name(), err)
		}
	}
	return inj, nil
}

func checkCorrupt(s Spec, nodes int) error {
	if err := checkTarget(s.Target, nodes); err != nil {
		return err
	}
	if s.Count < 0 {
		return fieldErr("count", "must not be negative")
	}
	return nil
}
