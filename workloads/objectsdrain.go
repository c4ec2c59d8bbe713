package workloads

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"slices"
	"sort"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"jetstorm/clusters"
	"jetstorm/history"
)

// Drain reads every object name back from the stream leader through the
// API (a read op each: FRead), then Lists the bucket (FObjList). A name
// whose read fails is tried again (3 times); one that still fails is
// recorded as info, and the drain as incomplete.
func (w *Objects) Drain(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	return recordDrain(rec, func() (int, error) {
		nc, js, err := connectAll(c, "objects drain")
		if err != nil {
			return 0, err
		}
		defer nc.Close()
		var obs jetstream.ObjectStore
		if err := retry(ctx, "objects drain: bind", func(ctx context.Context) error {
			obs, err = js.ObjectStore(ctx, w.bucket)
			return err
		}); err != nil {
			return 0, err
		}
		read, failed := 0, 0
		for k := range w.o.Objects {
			var op history.Op
			for attempt := 0; attempt < 3 && ctx.Err() == nil; attempt++ {
				if op = w.get(obs, objName(k)); op.Type == history.OK {
					break
				}
			}
			if op.Type == "" {
				op = history.Op{Type: history.Info, Value: objName(k), Err: ctx.Err().Error()}
			}
			op.Process, op.F = -1, history.FRead
			rec.Record(op)
			if op.Type == history.OK {
				read++
			} else {
				failed++
			}
		}
		if err := w.list(ctx, obs, rec); err != nil {
			return read, err
		}
		if failed > 0 {
			return read, fmt.Errorf("objects drain: %d of %d objects could not be read", failed, w.o.Objects)
		}
		return read, nil
	})
}

// list records the bucket's List: every live object's name and put.
func (w *Objects) list(ctx context.Context, obs jetstream.ObjectStore, rec *history.Recorder) error {
	rec.Record(history.Op{Process: -1, Type: history.Invoke, F: history.FObjList})
	var infos []*jetstream.ObjectInfo
	err := retry(ctx, "objects drain: list", func(ctx context.Context) error {
		var err error
		infos, err = obs.List(ctx)
		if errors.Is(err, jetstream.ErrNoObjectsFound) {
			infos, err = nil, nil
		}
		return err
	})
	if err != nil {
		rec.Record(history.Op{Process: -1, Type: history.Info, F: history.FObjList, Err: err.Error()})
		return err
	}
	var pairs []string
	for _, in := range infos {
		op := in.Metadata[history.ObjOpMeta]
		if op == "" {
			op = history.ObjForeign
		}
		pairs = append(pairs, in.Name+" "+op)
	}
	sort.Strings(pairs)
	rec.Record(history.Op{Process: -1, Type: history.OK, F: history.FObjList, Value: strings.Join(pairs, " ")})
	return nil
}

// DrainNodes rebuilds every object from each node's own copy of the
// bucket's stream (see Queue.DrainNodes for how a node's copy is read):
// per meta, the node's chunks of it, hashed as they stream by; and the
// chunks no live meta refers to (garbage). The ops are recorded once a
// node's read is complete.
func (w *Objects) DrainNodes(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	nc, js, err := connectAll(c, "objects per-node drain")
	if err != nil {
		return err
	}
	defer nc.Close()
	names, err := w.peers(ctx, js)
	if err != nil {
		return fmt.Errorf("objects per-node drain: %w", err)
	}
	var errs []error
	for _, name := range names {
		rec.Record(history.Op{Process: -1, Type: history.Invoke, F: history.FNodeDrain, Node: name})
		cp := newObjCopy(w.bucket)
		_, err := w.readNode(ctx, js, name, placeFor, func(m jetstream.Msg, _ *jetstream.MsgMetadata) {
			cp.add(m.Subject(), m.Data())
		})
		if errors.Is(err, errNotPlaced) {
			cp = newObjCopy(w.bucket)
			_, err = w.readAsLeader(ctx, js, name, func(m *jetstream.RawStreamMsg) { cp.add(m.Subject, m.Data) })
		}
		op := history.Op{Process: -1, Type: history.OK, F: history.FNodeDrain, Node: name}
		if err != nil {
			op.Type, op.Err = history.Info, err.Error()
			errs = append(errs, fmt.Errorf("read %s's copy: %w", name, err))
		} else {
			entries := cp.entries()
			for _, e := range entries {
				rec.Record(history.Op{Process: -1, Type: history.OK, F: history.FNodeRead, Node: name, Value: e.String()})
			}
			op.Value = len(entries)
		}
		rec.Record(op)
	}
	return errors.Join(errs...)
}

// objCopy rebuilds the objects of one node's copy, in stream order: the
// last meta of each name (a meta rolls its subject up), and each chunk
// subject's bytes hashed as they come.
type objCopy struct {
	metaPre, chunkPre string
	metas             map[string]jetstream.ObjectInfo // by meta subject
	chunks            map[string]*objChunks           // by NUID
	bad               []string                        // metas that do not parse
}

type objChunks struct {
	h     hash.Hash
	bytes int64
	n     int
}

func newObjCopy(bucket string) *objCopy {
	return &objCopy{metaPre: "$O." + bucket + ".M.", chunkPre: "$O." + bucket + ".C.",
		metas: map[string]jetstream.ObjectInfo{}, chunks: map[string]*objChunks{}}
}

func (cp *objCopy) add(subject string, data []byte) {
	switch {
	case strings.HasPrefix(subject, cp.metaPre):
		var info jetstream.ObjectInfo
		if err := json.Unmarshal(data, &info); err != nil || info.Name == "" {
			cp.bad = append(cp.bad, subject)
			return
		}
		cp.metas[subject] = info
	case strings.HasPrefix(subject, cp.chunkPre):
		nuid := subject[len(cp.chunkPre):]
		c := cp.chunks[nuid]
		if c == nil {
			c = &objChunks{h: sha256.New()}
			cp.chunks[nuid] = c
		}
		c.h.Write(data)
		c.bytes += int64(len(data))
		c.n++
	}
}

// entries are the copy's objects by name (a deleted one ObjAbsent; a meta
// that does not parse a foreign object of that subject), then the garbage.
func (cp *objCopy) entries() []history.ObjEntry {
	var out []history.ObjEntry
	live := map[string]bool{}
	for _, info := range cp.metas {
		e := history.ObjEntry{Name: info.Name, Op: history.ObjAbsent, Chunks: -1}
		if !info.Deleted {
			live[info.NUID] = true
			e.Op = info.Metadata[history.ObjOpMeta]
			if e.Op == "" {
				e.Op = history.ObjForeign
			}
			e.SHA, e.Chunks = hex.EncodeToString(sha256.New().Sum(nil)), 0
			if c := cp.chunks[info.NUID]; c != nil {
				e.Size, e.SHA, e.Chunks = c.bytes, hex.EncodeToString(c.h.Sum(nil)), c.n
			}
		}
		out = append(out, e)
	}
	for _, s := range cp.bad {
		out = append(out, history.ObjEntry{Name: s, Op: history.ObjForeign, Chunks: -1})
	}
	slices.SortFunc(out, func(a, b history.ObjEntry) int { return strings.Compare(a.Name, b.Name) })
	g := history.ObjEntry{Name: history.ObjGarbage, Op: "-", SHA: "-"}
	for nuid, c := range cp.chunks {
		if !live[nuid] {
			g.Size += c.bytes
			g.Chunks += c.n
		}
	}
	return append(out, g)
}
