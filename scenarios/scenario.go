// Package scenarios loads scenario files and runs them: it is the only
// package that ties clusters, workloads, faults, checkers and reports
// together, and the layer the CLI is thin over.
//
// A file per concern: scenario.go (the sections), load.go / keys.go /
// overrides.go (YAML with positions, --set), defaults.go, validate.go,
// plan.go (the fault schedule), kinds.go and kind_*.go (one per workload
// kind: its options, defaults, validation, constructor, checks, files and
// results sections), run.go (Run: start, load and faults, heal, drain),
// finish.go (Finish: check, results.json, report; also `jetstorm check`),
// serve.go (`jetstorm cluster`), sweep.go, progress.go, logcheck.go.
package scenarios

import (
	"jetstorm/clusters"
	"jetstorm/faults"
)

// Scenario is one scenario file. Zero values are filled with defaults by Load.
type Scenario struct {
	Name     string    `yaml:"name"`
	Seed     *uint64   `yaml:"seed"` // nil: random, printed and recorded
	Cluster  Cluster   `yaml:"cluster"`
	Stream   Stream    `yaml:"stream"`
	Workload Workload  `yaml:"workload"`
	Faults   Faults    `yaml:"faults"`
	Timeline []Step    `yaml:"timeline"` // faults at fixed times, instead of faults.kinds
	Final    Final     `yaml:"final"`
	Check    Check     `yaml:"check"`
	Capacity *Capacity `yaml:"capacity"` // bench only
	// Sweep runs the whole scenario once per value of a key, each on a
	// fresh cluster, and writes one table: {cluster.sync_interval: [always, 1s, 2m]}.
	Sweep map[string][]string `yaml:"sweep"`
	// Variants run the whole scenario once per named set of --set
	// overrides, each on a fresh cluster, into one table: what a sweep of
	// one key cannot say (NATS Streaming with file_sync against JetStream
	// with sync_interval always).
	Variants []Variant `yaml:"variants"`

	// File is the path the scenario was loaded from ("" when built in code).
	File string `yaml:"-"`
	// pos maps a dotted key path ("cluster.nodes") to "file:line" or
	// "--set cluster.nodes=4", for error messages found after decoding.
	pos map[string]string
	// stream, when set, names the stream (or KV bucket) the workload
	// creates instead of its default: a run against an external cluster
	// gets a unique one (see Run).
	stream string
}

type Cluster struct {
	Backend string `yaml:"backend"` // process (default) | docker | external
	// external: a running cluster (e.g. from `jetstorm cluster`): its
	// client URLs and, optionally, monitor URLs (same order) for health.
	URLs        []string `yaml:"urls"`
	MonitorURLs []string `yaml:"monitor_urls"`
	// Auth (external) is how jetstorm logs in: creds, nkey, user and
	// password, tls. Files are named by path; the saved scenario.yaml
	// keeps the paths and redacts the password.
	Auth clusters.Auth `yaml:",inline"`
	// System is what the nodes run: jetstream (the default) or stan: NATS
	// Streaming (nats-streaming-server, clustered; process backend, queue
	// workload), for teams comparing it with JetStream under the same
	// faults. Its settings are in STAN.
	System string       `yaml:"system"`
	STAN   *STANSection `yaml:"stan,omitempty"`
	// KeepStream (external) keeps the stream (or bucket) after the run.
	// Default: jetstorm creates it under a unique name
	// (jetstorm-<UTC time>-<random>) and deletes it once checked.
	KeepStream bool `yaml:"keep_stream,omitempty"`
	// LostAfter (external): when no node has answered for this long the
	// cluster is lost and the run stops (exit 2). Default 60s.
	LostAfter Duration `yaml:"lost_after,omitempty"`
	Nodes     int      `yaml:"nodes"` // default 3
	// Server is the nats-server the nodes run: embedded (default: the one
	// compiled into jetstorm), a release version ("v2.12.1": built once
	// from the Go module proxy, then cached) or a path to a binary.
	Server string `yaml:"server"`
	// Servers (process backend) gives each node its own server, in node
	// order, as server does for all: a cluster of mixed versions from the
	// start ([v2.14.9, v2.14.9, embedded]). Not with server.
	Servers []string `yaml:"servers,omitempty"`
	// Image (docker backend) is a user's image to run instead, as it is,
	// e.g. the official nats:2.12 pulled beforehand: its entrypoint must
	// be nats-server; each node runs it with `-c /node/nN.conf`.
	Image        string       `yaml:"image"`
	SyncInterval SyncInterval `yaml:"sync_interval"`
	// LinkProxies routes every node-to-node link through a proxy jetstorm
	// owns (needed by partition and slowlink). Default: on when the
	// scenario schedules such a fault.
	LinkProxies bool `yaml:"link_proxies"`
	// ClientLinks (process backend) puts a proxy of jetstorm's between
	// each node and its clients (needed by client-partition and
	// client-slowlink). Default: on when the scenario schedules such a
	// fault.
	ClientLinks bool `yaml:"client_links,omitempty"`
	// PowerLossFS serves every store dir through powerfs, which holds
	// unsynced writes in memory so a powerloss fault can drop them. Default:
	// on when the scenario schedules a powerloss. Needs root and /dev/fuse.
	PowerLossFS bool `yaml:"powerloss_fs"`
	// Writeback emulates the kernel writing dirty pages back on its own
	// after this long (Linux: 30s); 0s: never (nothing unsynced survives a
	// power loss, the LazyFS worst case). Default 30s.
	Writeback Duration `yaml:"writeback"`
}

// Variant is one row of a variants table: its name and its overrides,
// each as --set takes it ("cluster.system=stan").
type Variant struct {
	Name string   `yaml:"name"`
	Set  []string `yaml:"set"`
}

// STANSection is cluster.stan: the NATS Streaming servers' release and
// durability settings.
type STANSection struct {
	// Server: a nats-streaming-server release (v0.25.6, the default and
	// last one: built once from the Go module proxy) or a path to one.
	Server string `yaml:"server"`
	// FileSync fsyncs the file store on every flush (default true, the
	// server's own default: the opposite of JetStream's). One node only:
	// a clustered server takes cluster_sync for its store too.
	FileSync *bool `yaml:"file_sync"`
	// ClusterSync (clustered) fsyncs the Raft log and the store after
	// every write (default false, the server's).
	ClusterSync bool `yaml:"cluster_sync"`
	// Raft timeouts; absent: the server's (heartbeat and election 2s,
	// lease 1s, commit 100ms).
	RaftHeartbeatTimeout Duration `yaml:"raft_heartbeat_timeout"`
	RaftElectionTimeout  Duration `yaml:"raft_election_timeout"`
	RaftLeaseTimeout     Duration `yaml:"raft_lease_timeout"`
	RaftCommitTimeout    Duration `yaml:"raft_commit_timeout"`
}

// stan reports whether the scenario runs NATS Streaming.
func (c Cluster) stan() bool { return c.System == "stan" }

// stanOptions are the process backend's settings for cluster.stan.
func (c Cluster) stanOptions() *clusters.STANOptions {
	if !c.stan() || c.STAN == nil {
		return nil
	}
	st := c.STAN
	fileSync := st.FileSync == nil || *st.FileSync
	if c.Nodes > 1 {
		fileSync = st.ClusterSync // what the server does with it (see validateSTAN)
	}
	return &clusters.STANOptions{FileSync: fileSync, ClusterSync: st.ClusterSync,
		RaftHeartbeat: st.RaftHeartbeatTimeout.D(), RaftElection: st.RaftElectionTimeout.D(),
		RaftLease: st.RaftLeaseTimeout.D(), RaftCommit: st.RaftCommitTimeout.D()}
}

type Stream struct {
	Replicas int    `yaml:"replicas"` // default min(3, nodes)
	Storage  string `yaml:"storage"`  // file (default) | memory
	// Compression (bench workload): none (default) or s2, the file
	// store's compression of message blocks.
	Compression string `yaml:"compression"`
}

// Workload is the workload section: the kind (type), the keys every kind
// reads, and each kind's own options (see kinds.go). The kinds' structs are
// inline, so a scenario file keeps one flat workload section.
type Workload struct {
	Type     string   `yaml:"type"`     // queue (default) | kv | bench | consume | batch | counter | occ | ttl | schedule | objects | watch | mirror | pinned: a key of Kinds
	Clients  int      `yaml:"clients"`  // default 6
	Rate     float64  `yaml:"rate"`     // total ops/s over all clients; default 500
	Duration Duration `yaml:"duration"` // default 60s
	Payload  Size     `yaml:"payload"`  // default 128B
	Timeout  Duration `yaml:"timeout"`  // per-op timeout; default 5s
	// Connections (queue, consume): the clients share that many
	// connections; default 0, one each. Each client is still its own
	// process with one op in flight, but their writes go out together.
	Connections int `yaml:"connections"`
	// ClientsRoam (queue, batch, counter, occ): each client may reconnect
	// to any node, starting on its own and moving on in order when its
	// connection drops (lame-duck); ops record the node it was on. Default
	// false: pinned, as Jepsen's clients are: a client of a node that is
	// down fails (or times out) until the node is back.
	ClientsRoam bool `yaml:"clients_roam"`
	// Slack (ttl, schedule): how long past its time a promise about time
	// may take to be kept (an expiry, a firing); default 10s for ttl (a
	// leader election may take 9 s), 5s for schedule.
	Slack Duration `yaml:"slack,omitempty"`

	Queue    QueueOptions    `yaml:",inline"` // kind_queue.go
	KV       KVOptions       `yaml:",inline"` // kind_kv.go
	Bench    BenchOptions    `yaml:",inline"` // kind_bench.go
	Consume  ConsumeOptions  `yaml:",inline"` // kind_consume.go
	Batch    BatchOptions    `yaml:",inline"` // kind_batch.go
	Counter  CounterOptions  `yaml:",inline"` // kind_counter.go
	OCC      OCCOptions      `yaml:",inline"` // kind_occ.go
	TTL      TTLOptions      `yaml:",inline"` // kind_ttl.go
	Schedule ScheduleOptions `yaml:",inline"` // kind_schedule.go
	Watch    WatchOptions    `yaml:",inline"` // kind_watch.go
	Mirror   MirrorOptions   `yaml:",inline"` // kind_mirror.go
	Objects  ObjectsOptions  `yaml:",inline"` // kind_objects.go
	Pinned   PinnedOptions   `yaml:",inline"` // kind_pinned.go
}

type Check struct {
	Timeout Duration `yaml:"timeout"` // linearizability search limit; default 60s (then: unknown)
	// KnownCrashes are regular expressions matched against each server
	// crash found in the node logs (its message and stack): a match is
	// reported as a known crash and does not make the run invalid.
	KnownCrashes []string `yaml:"known_crashes,omitempty"`
}

// Faults is a random schedule: every interval, one fault drawn from kinds
// (and its target from targets, its parameters from the kind's own keys)
// lasting downtime.
type Faults struct {
	Kinds    []string `yaml:"kinds"`              // kill, restart, pause, partition, slowlink, sync-interval, ...; empty: no faults
	Interval Duration `yaml:"interval"`           // time between fault starts; default 10s
	Downtime Duration `yaml:"downtime"`           // how long a fault lasts; default 5s
	Duration Duration `yaml:"duration,omitempty"` // the same as downtime (give one of them)
	// Targets: one is drawn for each fault: one (default), minority,
	// majority, all, stream-leader, meta-leader, a node name, or a node
	// set as a nested list ([[n1, n2], n3]: both n1 and n2, or n3).
	Targets []faults.Target `yaml:"targets"`
	// Mix rotates the kinds for long soak runs: periods of mix.period
	// (default 2m), a mix.quiet fraction of them (default 0.25) without
	// faults, the others drawing from mix.kinds (default 2) random kinds.
	Mix *faults.Mix `yaml:"mix,omitempty"`
	// Params are the fault kinds' own keys (shapes, delay, rate,
	// sync_intervals, count, files: each fault's RandomParams), by kind.
	Params faults.RandomSection `yaml:"-"`
}

// Step is one fault of a timeline.
type Step struct {
	At     Duration      `yaml:"at"`     // since the workload started
	Fault  string        `yaml:"fault"`  // a fault kind
	For    Duration      `yaml:"for"`    // how long until healed; default 5s
	Target faults.Target `yaml:"target"` // as in faults.targets; a list is a node set: [n1, n2]
	// Params are the fault kind's own keys (shape, links, delay, rate,
	// sync_interval, count, files: its StepParams).
	Params faults.Params `yaml:"-"`
}

type Final struct {
	Recover      Duration `yaml:"recover"`       // time allowed for the healed cluster to become healthy; default 20s
	DrainTimeout Duration `yaml:"drain_timeout"` // time allowed for the final read, and per node for the per-node reads; default 60s
	// PerNode also reads every replica's own copy and checks each one
	// (split brain). Default: on when stream.replicas > 1.
	PerNode bool `yaml:"per_node"`
}
