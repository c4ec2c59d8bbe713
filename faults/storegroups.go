package faults

import (
	"path"
	"slices"
	"strings"
)

// StoreGroup names the store files of one kind, by where nats-server
// (2.10–2.15) keeps them under its store dir: a corruption fault's files
// list may name a group instead of a path fragment (files: [raft-state]).
type StoreGroup struct {
	Name  string
	Globs []string // matched against a file's last path elements (path.Match per element)
	Holds string   // what the files hold, for the docs and --help
}

// StoreGroups are the named groups. Stream files sit under
// jetstream/<account>/streams/<stream>/; Raft groups (the meta group
// _meta_, each replicated stream S-* and consumer C-*) under
// jetstream/$SYS/_js_/<group>/.
var StoreGroups = []StoreGroup{
	{"stream-blocks", []string{"streams/*/msgs/*.blk"},
		"the stream's messages, in message blocks"},
	{"stream-index", []string{"streams/*/msgs/index.db"},
		"the stream's state index (first and last sequence, subjects), written at shutdown; rebuilt from the blocks when missing"},
	{"stream-meta", []string{"streams/*/meta.inf", "streams/*/meta.sum"},
		"the stream's configuration and its checksum"},
	{"consumer-state", []string{"streams/*/obs/*/o.dat"},
		"a consumer's delivered and ack floors and pending acks"},
	{"consumer-meta", []string{"streams/*/obs/*/meta.inf", "streams/*/obs/*/meta.sum"},
		"a consumer's configuration and its checksum"},
	{"raft-log", []string{"_js_/*/msgs/*.blk", "_js_/*/msgs/index.db"},
		"the Raft log (write-ahead entries not yet compacted) of the meta, stream and consumer groups"},
	{"raft-state", []string{"_js_/*/peers.idx", "_js_/*/tav.idx", "_js_/*/commit.idx"},
		"a Raft group's peer set, its term and vote, and (meta group) its commit index"},
	{"raft-snapshots", []string{"_js_/*/snapshots/*"},
		"Raft snapshots: a group's state as of a log index, from which a lagging replica catches up"},
}

// StoreGroupNames lists the group names.
func StoreGroupNames() []string {
	var out []string
	for _, g := range StoreGroups {
		out = append(out, g.Name)
	}
	return out
}

// fileMatches reports whether a store file (a path relative to the store
// dir) matches a files entry: a group name, or else a fragment of its path
// (".blk").
func fileMatches(file, entry string) bool {
	i := slices.IndexFunc(StoreGroups, func(g StoreGroup) bool { return g.Name == entry })
	if i < 0 {
		return strings.Contains(file, entry)
	}
	elems := strings.Split(path.Clean(strings.ReplaceAll(file, "\\", "/")), "/")
	for _, glob := range StoreGroups[i].Globs {
		g := strings.Split(glob, "/")
		if len(g) > len(elems) {
			continue
		}
		tail, ok := elems[len(elems)-len(g):], true
		for k := range g {
			if m, _ := path.Match(g[k], tail[k]); !m {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
