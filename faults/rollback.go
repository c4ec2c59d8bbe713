package faults

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"

	"jetstorm/clusters"
)

// Rollback makes a disk forget writes it had acknowledged: when the fault
// starts it copies count (default 4) 4 KiB chunks of up to 2 store files (or
// those whose path contains one of files) of each target node — every other
// one the file's tail, where appends land — and lets the node run on; at
// heal it kills the node, puts the old chunks back where they changed
// (zeros where the file grew into a chunk since), and restarts it. Chunks
// that did not change are left alone, and reported as such.
type Rollback struct{ corruptParams }

const chunkSize = 4096

func (Rollback) Name() string { return "rollback" }
func (Rollback) Needs() Needs { return Needs{Store: true} }

// digest is a short hash of a chunk, for the history.
func digest(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

type savedChunk struct {
	file string
	off  int64
	data []byte
}

func (Rollback) Inject(ctx context.Context, c clusters.Cluster, env Env, s Spec, rng *rand.Rand) (*Injection, error) {
	names, nodes, err := targetNodes(ctx, c, env, s.Target, "one", rng)
	if err != nil {
		return nil, err
	}
	stores, err := nodeStores(nodes)
	if err != nil {
		return nil, err
	}
	p := paramsOf[CorruptParams](s)
	k := p.Count
	if k == 0 {
		k = 4
	}
	saved := map[string][]savedChunk{}
	for i, n := range nodes {
		st := stores[i]
		files, err := pickFiles(st, 2, p.Files, rng)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n.Name(), err)
		}
		for i := 0; i < k; i++ {
			f := files[rng.IntN(len(files))]
			b, err := st.ReadFile(f)
			if err != nil {
				return nil, err
			}
			// Every other chunk is the file's tail, the one appends change.
			off := int64(len(b)-1) / chunkSize * chunkSize
			if i%2 == 1 {
				off = rng.Int64N(int64(len(b))) / chunkSize * chunkSize
			}
			end := min(off+chunkSize, int64(len(b)))
			saved[n.Name()] = append(saved[n.Name()], savedChunk{f, off, bytes.Clone(b[off:end])})
		}
	}
	restored := map[string]any{}
	inj := &Injection{Targets: names, Params: map[string]any{"chunks": restored}}
	inj.Heal = func(ctx context.Context) error {
		var errs []error
		for i, n := range nodes {
			if err := n.Kill(); err != nil {
				errs = append(errs, err)
				continue
			}
			var changes []map[string]any
			for _, ch := range saved[n.Name()] {
				cur, err := stores[i].ReadFile(ch.file)
				if err != nil {
					changes = append(changes, map[string]any{"file": ch.file, "offset": ch.off, "error": err.Error()})
					continue
				}
				// The old chunk, zero-filled where the file has since grown
				// into it: the disk "forgot" those writes.
				old := ch.data
				end := min(ch.off+chunkSize, int64(len(cur)))
				if n := end - ch.off; n > int64(len(old)) {
					old = append(bytes.Clone(old), make([]byte, n-int64(len(old)))...)
				}
				if ch.off >= int64(len(cur)) || bytes.Equal(cur[ch.off:end], old[:end-ch.off]) {
					changes = append(changes, map[string]any{"file": ch.file, "offset": ch.off, "rolled_back": false})
					continue
				}
				errs = append(errs, stores[i].WriteAt(ch.file, old[:end-ch.off], ch.off))
				changes = append(changes, map[string]any{"file": ch.file, "offset": ch.off, "bytes": len(ch.data), "rolled_back": true,
					"was": digest(cur[ch.off:end]), "now": digest(old[:end-ch.off])})
			}
			restored[n.Name()] = changes
		}
		errs = append(errs, startStopped(nodes)(ctx))
		return errors.Join(errs...)
	}
	return inj, nil
}
