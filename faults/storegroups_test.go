package faults

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Every store file of a real cluster with a replicated stream and a
// durable consumer that acked some messages falls in at most one group,
// and after a clean stop every group holds a file. A fragment still
// matches as a substring.
func TestStoreGroups(t *testing.T) {
	c, ctx := startCluster(t, false)
	_, js := connect(t, c.Nodes()[0])
	createStream(t, ctx, js)
	if n := publishes(ctx, js, 100, 5*time.Second); n != 100 {
		t.Fatalf("%d/100 published", n)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, "T", jetstream.ConsumerConfig{Durable: "d", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	// A consumer just created on another node: its pull subject may not
	// have reached this client's server yet ("no responders", seen in CI).
	acked := 0
	for deadline := time.Now().Add(10 * time.Second); acked == 0; time.Sleep(100 * time.Millisecond) {
		batch, err := cons.Fetch(10, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			if m.DoubleAck(ctx) == nil {
				acked++
			}
		}
		if acked == 0 && (!errors.Is(batch.Error(), nats.ErrNoResponders) || time.Now().After(deadline)) {
			t.Fatalf("no message acked: %v", batch.Error())
		}
	}
	n := c.Nodes()[1]
	if err := n.Stop(ctx); err != nil { // a clean stop writes the stream index
		t.Fatal(err)
	}
	files, err := n.Store().Files()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string][]string{}
	for _, f := range files {
		var in []string
		for _, g := range StoreGroupNames() {
			if fileMatches(f, g) {
				in = append(in, g)
				seen[g] = append(seen[g], f)
			}
		}
		if len(in) > 1 {
			t.Errorf("%s is in %v", f, in)
		}
	}
	for _, g := range StoreGroupNames() {
		if len(seen[g]) == 0 {
			t.Errorf("no file in group %s; files: %v", g, files)
		}
	}
	if !slices.ContainsFunc(files, func(f string) bool { return fileMatches(f, ".blk") }) {
		t.Error(`the fragment ".blk" matches no file`)
	}
	t.Logf("groups: %v", seen)
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	healthy(t, ctx, c)
}

// Group globs match a path's last elements, whole: a consumer's o.dat is
// consumer state, not stream metadata; a Raft group's block is its log.
func TestFileMatches(t *testing.T) {
	for _, tc := range []struct {
		file, entry string
		want        bool
	}{
		{"jetstream/$G/streams/s/msgs/1.blk", "stream-blocks", true},
		{"jetstream/$SYS/_js_/S-R3F-x/msgs/1.blk", "stream-blocks", false},
		{"jetstream/$SYS/_js_/S-R3F-x/msgs/1.blk", "raft-log", true},
		{"jetstream/$G/streams/s/obs/d/o.dat", "consumer-state", true},
		{"jetstream/$G/streams/s/obs/d/meta.inf", "stream-meta", false},
		{"jetstream/$G/streams/s/obs/d/meta.inf", "consumer-meta", true},
		{"jetstream/$SYS/_js_/_meta_/snapshots/snap.1.2", "raft-snapshots", true},
		{"jetstream/$SYS/_js_/_meta_/tav.idx", "raft-state", true},
		{"msgs/1.blk", "stream-blocks", false}, // too short
		{"jetstream/$G/streams/s/msgs/1.blk", "msgs/", true},
	} {
		if got := fileMatches(tc.file, tc.entry); got != tc.want {
			t.Errorf("fileMatches(%q, %q) = %v", tc.file, tc.entry, got)
		}
	}
}
