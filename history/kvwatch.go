package history

import (
	"strings"
)

// The watch workload's ops (KV watch under faults, issue 22). Writers put
// values named like queue values ("P-C") to a bucket's keys; watchers
// pinned to nodes watch every key and record each update they are
// delivered.
const (
	// FWatchPut puts one value: invoke (Value a WatchEntry), then ok (Seq
	// the revision), fail or info.
	FWatchPut = "watch-put"
	// FWatchSee is one update a watcher was delivered: ok, Process the
	// watcher's, Node its node, Value a WatchEntry, Seq the revision.
	FWatchSee = "watch-see"
	// FWatchStart (re)starts a watcher: invoke (Seq the revision it
	// resumes from), then ok, or info when it could not (it tries again).
	FWatchStart = "watch-start"
	// FWatchStop ends a watcher after the final reads (ok): what it saw
	// until then is its final view.
	FWatchStop = "watch-stop"
	// FWatchRead is one final read of a key from the stream leader: invoke
	// (Value the key), then ok (Value a WatchEntry, or the key alone when
	// it has no value; Seq the revision) or info.
	FWatchRead = "watch-read"
	// FWatchRules records the check's rules at the start of the load (ok;
	// Value a WatchRules).
	FWatchRules = "watch-rules"
)

// WatchRules are the watch check's rules: the bucket's history depth (a
// key keeps its last History revisions) and how long after a heal every
// watcher must have caught up.
type WatchRules struct {
	History    int   `json:"history"`
	ConvergeMs int64 `json:"converge_ms"`
}

// WatchEntry is one key's value: "key value".
type WatchEntry struct {
	Key, Value string
}

func (e WatchEntry) String() string { return e.Key + " " + e.Value }

// ParseWatchEntry reads a WatchEntry's String; a key alone (a read that
// found no value) has Value "".
func ParseWatchEntry(s string) (WatchEntry, bool) {
	k, v, _ := strings.Cut(s, " ")
	if k == "" || strings.Contains(v, " ") {
		return WatchEntry{}, false
	}
	return WatchEntry{Key: k, Value: v}, true
}
