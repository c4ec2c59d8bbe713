package scenarios

import (
	"encoding/json"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"jetstorm/clusters"
	"jetstorm/faults"
	"jetstorm/powerfs"
	"jetstorm/units"
)

func TestLoadExample(t *testing.T) {
	s, err := Load("testdata/smoke.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Scenario{
		Name:    "smoke",
		Cluster: Cluster{Backend: "process", System: "jetstream", Nodes: 3, SyncInterval: units.SyncEvery(2 * time.Minute), Writeback: Duration(30 * time.Second)},
		Stream:  Stream{Replicas: 3, Storage: "file", Compression: "none"},
		Workload: Workload{Type: "queue", Clients: 6, Rate: 500, Duration: Duration(time.Minute), Payload: 128, Timeout: Duration(5 * time.Second),
			Queue: QueueOptions{DuplicateWindow: Duration(2 * time.Minute)}},
		Faults: Faults{Kinds: []string{"kill"}, Interval: Duration(10 * time.Second), Downtime: Duration(5 * time.Second), Targets: []faults.Target{"one"}, Params: faults.FillRandom(nil)},
		Final:  Final{Recover: Duration(20 * time.Second), DrainTimeout: Duration(time.Minute), PerNode: true},
		Check:  Check{Timeout: Duration(time.Minute)},
		File:   "testdata/smoke.yaml",
	}
	if s.Seed == nil || *s.Seed != 1 {
		t.Errorf("seed = %v, want 1", s.Seed)
	}
	got := *s
	got.Seed, got.pos = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	for key, pos := range map[string]string{
		"cluster.nodes":   "testdata/smoke.yaml:3",
		"faults.kinds[0]": "testdata/smoke.yaml:6",
		"faults.targets":  "testdata/smoke.yaml", // defaulted: file only
	} {
		if got := s.Pos(key); got != pos {
			t.Errorf("Pos(%q) = %q, want %q", key, got, pos)
		}
	}
	if got := s.Cluster.SyncIntervalLabel(); got != "2m0s" {
		t.Errorf("SyncIntervalLabel = %q", got)
	}
	if _, err := Load("testdata/missing.yaml", nil); err == nil || !strings.Contains(err.Error(), "testdata/missing.yaml") {
		t.Errorf("missing file: %v", err)
	}
}

func TestDefaults(t *testing.T) {
	s, err := Parse([]byte("seed: 7\n"), "dir/minimal.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Scenario{
		Name:    "minimal",
		Cluster: Cluster{Backend: "process", System: "jetstream", Nodes: 3, Writeback: Duration(30 * time.Second)},
		Stream:  Stream{Replicas: 3, Storage: "file", Compression: "none"},
		Workload: Workload{Type: "queue", Clients: 6, Rate: 500, Duration: Duration(time.Minute), Payload: 128, Timeout: Duration(5 * time.Second),
			Queue: QueueOptions{DuplicateWindow: Duration(2 * time.Minute)}},
		Faults: Faults{Interval: Duration(10 * time.Second), Downtime: Duration(5 * time.Second), Params: faults.FillRandom(nil)}, // no kinds: no targets
		Final:  Final{Recover: Duration(20 * time.Second), DrainTimeout: Duration(time.Minute), PerNode: true},
		Check:  Check{Timeout: Duration(time.Minute)},
		File:   "dir/minimal.yaml",
	}
	got := *s
	got.Seed, got.pos = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if got := s.Cluster.SyncIntervalLabel(); got != "2m0s (default)" {
		t.Errorf("SyncIntervalLabel = %q", got)
	}

	// Replicas follow a small cluster; nulls mean "default".
	s, err = Parse([]byte("cluster: {nodes: 1}\nstream:\nworkload: {clients: ~}\n"), "x.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Stream.Replicas != 1 || s.Workload.Clients != 6 || s.Stream.Storage != "file" {
		t.Errorf("got replicas=%d clients=%d storage=%q", s.Stream.Replicas, s.Workload.Clients, s.Stream.Storage)
	}
}

func TestSet(t *testing.T) {
	const file = "name: f\ncluster:\n  nodes: 5\nstream: {storage: file}\n"
	for _, tc := range []struct {
		sets  []string
		check func(*Scenario) bool
		key   string // Pos(key) must be the last --set
	}{
		{[]string{"cluster.nodes=4"}, func(s *Scenario) bool { return s.Cluster.Nodes == 4 }, "cluster.nodes"},
		{[]string{"cluster.sync_interval=always"}, func(s *Scenario) bool { return s.Cluster.SyncInterval.Always() }, "cluster.sync_interval"},
		{[]string{"cluster.sync_interval=1s"}, func(s *Scenario) bool { return s.Cluster.SyncInterval.Interval() == time.Second }, "cluster.sync_interval"},
		{[]string{"workload.duration=1m30s"}, func(s *Scenario) bool { return s.Workload.Duration.D() == 90*time.Second }, "workload.duration"},
		{[]string{"workload.payload=1KiB"}, func(s *Scenario) bool { return s.Workload.Payload.Bytes() == 1024 }, "workload.payload"},
		{[]string{"workload.rate=2.5"}, func(s *Scenario) bool { return s.Workload.Rate == 2.5 }, "workload.rate"},
		{[]string{"stream.storage=memory"}, func(s *Scenario) bool { return s.Stream.Storage == "memory" }, "stream.storage"},
		{[]string{"name=other"}, func(s *Scenario) bool { return s.Name == "other" }, "name"},
		{[]string{"seed=42"}, func(s *Scenario) bool { return s.Seed != nil && *s.Seed == 42 }, "seed"},
		// A missing section is created; a list value; its items are positioned too.
		{[]string{"faults.kinds=[kill]"}, func(s *Scenario) bool {
			return reflect.DeepEqual(s.Faults.Kinds, []string{"kill"}) && reflect.DeepEqual(s.Faults.Targets, []faults.Target{"one"})
		}, "faults.kinds[0]"},
		{[]string{"faults.targets=[one, all]", "faults.kinds=[kill]"}, func(s *Scenario) bool { return len(s.Faults.Targets) == 2 }, "faults.kinds"},
		// A mix gets its defaults; a quiet fraction given as 0 stays 0.
		{[]string{"faults.kinds=[kill]", "faults.mix={kinds: 1, quiet: 0}"}, func(s *Scenario) bool {
			m := s.Faults.Mix
			return m != nil && m.Period.D() == 2*time.Minute && m.Kinds == 1 && m.Quiet == 0
		}, "faults.mix"},
		// A node set is a nested list.
		{[]string{"faults.targets=[[n1, n3], n2]", "faults.kinds=[kill]"}, func(s *Scenario) bool {
			return reflect.DeepEqual(s.Faults.Targets, []faults.Target{"n1,n3", "n2"})
		}, "faults.kinds"},
		// A whole section as a flow mapping.
		{[]string{"final={recover: 1s}"}, func(s *Scenario) bool {
			return s.Final.Recover.D() == time.Second && s.Final.DrainTimeout.D() == time.Minute
		}, "final.recover"},
		// The last --set wins; an empty value restores the default.
		{[]string{"cluster.nodes=7", "cluster.nodes=2"}, func(s *Scenario) bool { return s.Cluster.Nodes == 2 }, "cluster.nodes"},
		{[]string{"cluster.nodes="}, func(s *Scenario) bool { return s.Cluster.Nodes == 3 }, ""},
	} {
		t.Run(strings.Join(tc.sets, " "), func(t *testing.T) {
			s, err := Parse([]byte(file), "x.yaml", tc.sets)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(s) {
				t.Errorf("unexpected result %+v", *s)
			}
			if want := "--set " + tc.sets[len(tc.sets)-1]; tc.key != "" && s.Pos(tc.key) != want {
				t.Errorf("Pos(%q) = %q, want %q", tc.key, s.Pos(tc.key), want)
			}
			if s.Pos("cluster") != "x.yaml:2" {
				t.Errorf("Pos(cluster) = %q", s.Pos("cluster"))
			}
		})
	}
}

// TestErrors checks that each bad input fails with every wanted substring.
func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		sets       []string
		want       []string
	}{
		{"empty", "", nil, []string{"x.yaml: empty scenario file"}},
		{"comments only", "# nothing\n", nil, []string{"x.yaml: empty"}},
		{"null document", "---\n", nil, []string{"x.yaml: empty"}},
		{"not a mapping", "- a\n- b\n", nil, []string{"x.yaml:1: a scenario must be a mapping", "list"}},
		{"two documents", "name: a\n---\nname: b\n", nil, []string{"x.yaml:2:", "one YAML document"}},
		{"truncated", "cluster: {nodes: 3\n", nil, []string{"x.yaml:"}},
		{"invalid yaml", "name: a\n  bad: [\n", nil, []string{"x.yaml:2:"}},
		{"tab indent", "cluster:\n\tnodes: 3\n", nil, []string{"x.yaml:2:"}},

		{"unknown top", "name: a\n\nbogus: 1\n", nil, []string{`x.yaml:3: unknown key "bogus" at top level (known keys: capacity, check, cluster, faults, final, name, seed, stream, sweep, timeline, variants, workload)`}},
		{"unknown nested", "name: a\ncluster:\n  nodes: 3\n  bogus: 1\n", nil, []string{`x.yaml:4: unknown key "bogus" in cluster (known keys: backend, client_links, creds, image, keep_stream, link_proxies, lost_after, monitor_urls, nkey, nodes,`}},
		{"unknown flow", "name: a\nstream: {replicas: 1, sotrage: file}\n", nil, []string{`x.yaml:2: unknown key "sotrage" in stream`}},
		{"hidden field", "File: a\n", nil, []string{`x.yaml:1: unknown key "File"`}},
		{"duplicate", "cluster:\n  nodes: 3\n  nodes: 4\n", nil, []string{`x.yaml:3: duplicate key "nodes" in cluster (first at line 2)`}},
		{"duplicate top", "name: a\nname: b\n", nil, []string{`x.yaml:2: duplicate key "name" at top level`}},
		{"section scalar", "name: a\ncluster: 3\n", nil, []string{`x.yaml:2: cluster must be a mapping`}},
		{"section list", "name: a\nfinal:\n  - 1s\n", nil, []string{`x.yaml:3: final must be a mapping`}},
		{"wrong type", "cluster:\n  nodes: three\n", nil, []string{"x.yaml:2: cannot unmarshal !!str `three` into int"}},
		{"list expected", "faults:\n  kinds: kill\n", nil, []string{"x.yaml:2: cannot unmarshal"}},
		{"negative seed", "seed: -1\n", nil, []string{"x.yaml:1: cannot unmarshal"}},

		{"bad duration", "workload:\n  duration: soon\n", nil, []string{`x.yaml:2: invalid duration "soon"`}},
		{"bare duration", "final:\n  recover: 20\n", nil, []string{`x.yaml:2: duration "20" has no unit`}},
		{"negative duration", "faults: {interval: -1s}\n", nil, []string{`x.yaml:1: duration "-1s" must not be negative`}},
		{"duration list", "final:\n  recover: [1s]\n", nil, []string{`x.yaml:2: a duration must be a single value, got a list`}},
		{"bad size", "workload:\n  clients: 2\n  payload: 12XB\n", nil, []string{`x.yaml:3: invalid size "12XB"`}},
		{"huge size", "workload:\n  payload: 65MiB\n", nil, []string{`x.yaml:2: size "65MiB" is larger than 64MiB`}},
		{"negative size", "workload:\n  payload: -1\n", nil, []string{`x.yaml:2: size "-1" must not be negative`}},
		{"bad known crash", "check:\n  known_crashes:\n    - rebuildStateLocked\n    - 'filestore(\\.go'\n", nil, []string{`x.yaml:4: check.known_crashes[1] is not a regular expression: error parsing regexp: missing closing )`}},
		{"empty known crash", "check: {known_crashes: ['']}\n", nil, []string{`x.yaml:1: check.known_crashes[0] must not be empty`}},
		{"set bad known crash", "name: a\n", []string{"check.known_crashes=[a, '*']"}, []string{`--set check.known_crashes=[a, '*']: check.known_crashes[1] is not a regular expression`}},
		{"bad sync", "cluster:\n  sync_interval: sometimes\n", nil, []string{`x.yaml:2: sync_interval "sometimes" must be "always" or a positive duration`}},
		{"zero sync", "cluster:\n  sync_interval: 0s\n", nil, []string{`x.yaml:2: sync_interval "0s" must be`}},
		{"all type errors", "cluster: {nodes: x}\nworkload:\n  duration: y\n", nil, []string{"x.yaml:1: cannot unmarshal", `x.yaml:3: invalid duration "y"`}},

		{"backend", "cluster:\n  backend: kubernetes\n", nil, []string{`x.yaml:2: cluster.backend "kubernetes" is not supported yet`}},
		{"docker server and image", "cluster:\n  backend: docker\n  server: v2.12.1\n  image: nats:2.12\n", nil, []string{`x.yaml:3: cluster.server and cluster.image: give one`}},
		{"image not docker", "cluster:\n  nodes: 3\n  image: nats:2.12\n", nil, []string{`x.yaml:3: cluster.image is for the docker backend`}},
		{"nodes", "cluster:\n  nodes: 10\n", nil, []string{`x.yaml:2: cluster.nodes must be 1..9, got 10`}},
		{"explicit zero", "cluster:\n  nodes: 0\n", nil, []string{`x.yaml:2: cluster.nodes must be 1..9, got 0`}},
		{"overlap", "faults:\n  kinds: [kill]\n  interval: 5s\n  duration: 5s\n", nil, []string{`x.yaml:4: faults.duration (5s) must be shorter than faults.interval (5s)`}},
		{"same-kind overlap", "timeline:\n  - {at: 1s, fault: kill, for: 10s}\n  - {at: 5s, fault: kill}\n", nil, []string{`x.yaml:3: timeline[1].at (5s) overlaps timeline[0] (kill at 1s for 10s)`}},
		{"server", "cluster:\n  server: latest\n", nil, []string{`x.yaml:2: cluster.server "latest" is not embedded, a nats-server v2 version`}},
		{"server external", "cluster:\n  backend: external\n  urls: [nats://h:4222]\n  server: v2.12.1\n", nil, []string{`x.yaml:4: cluster.server is for the process backend`}},
		{"replicas range", "stream:\n  replicas: 6\ncluster: {nodes: 9}\n", nil, []string{`x.yaml:2: stream.replicas must be 1..5`}},
		{"replicas > nodes", "cluster: {nodes: 3}\nstream:\n  replicas: 5\n", nil, []string{`x.yaml:3: stream.replicas (5) must not exceed cluster.nodes (3)`}},
		{"storage", "stream:\n  storage: disk\n", nil, []string{`x.yaml:2: stream.storage must be file or memory, got "disk"`}},
		{"workload type", "workload: {type: bogus}\n", nil, []string{`x.yaml:1: workload.type "bogus" is not supported`}},
		{"clients", "workload:\n  clients: 0\n", nil, []string{`x.yaml:2: workload.clients must be at least 1`}},
		{"rate", "workload:\n  rate: 2e6\n", nil, []string{`x.yaml:2: workload.rate must be > 0`}},
		{"zero rate", "workload:\n  rate: 0\n", nil, []string{`x.yaml:2: workload.rate must be > 0`}},
		{"zero duration", "workload:\n  duration: 0s\n", nil, []string{`x.yaml:2: workload.duration must be positive`}},
		{"zero timeout", "workload:\n  timeout: 0s\n", nil, []string{`x.yaml:2: workload.timeout must be positive`}},
		{"fault kind", "faults:\n  kinds:\n    - kill\n    - explode\n", nil, []string{`x.yaml:4: faults.kinds[1] "explode" is not a known fault kind (known: bitflip, client-partition, client-slowlink, exec, kill, lame-duck, leader, membership, partition`}},
		{"fault target", "faults:\n  kinds: [kill]\n  targets: [one,\n    everyone]\n", nil, []string{`x.yaml:4: faults.targets[1]: "everyone" is not a target of this 3-node cluster`}},
		{"no targets", "faults:\n  kinds: [kill]\n  targets: []\n", nil, []string{`x.yaml:3: faults.targets must not be empty`}},
		{"zero downtime", "faults:\n  downtime: 0s\n", nil, []string{`x.yaml:2: faults.downtime must be positive`}},
		{"zero interval", "faults:\n  interval: 0s\n", nil, []string{`x.yaml:2: faults.interval must be positive`}},
		{"zero recover", "final:\n  recover: 0s\n", nil, []string{`x.yaml:2: final.recover must be positive`}},
		{"zero drain", "final:\n  drain_timeout: 0s\n", nil, []string{`x.yaml:2: final.drain_timeout must be positive`}},
		{"target node not in cluster", "faults:\n  kinds: [kill]\n  targets: [n2, n7]\n", nil, []string{`x.yaml:3: faults.targets[1]: "n7" is not a target of this 3-node cluster`}},
		{"bad shape", "faults:\n  kinds: [partition]\n  shapes:\n    - halves\n    - triangle\n", nil, []string{`x.yaml:5: faults.shapes[1]: "triangle" is not a partition shape`}},
		{"timeline bad shape", "timeline:\n  - {at: 1s, fault: partition, shape: halves}\n  - at: 2s\n    fault: partition\n    shape: square\n", nil, []string{`x.yaml:5: timeline[1].shape: "square" is not a partition shape`}},
		{"timeline bad target", "timeline:\n  - at: 1s\n    fault: kill\n    target: n4\n", nil, []string{`x.yaml:4: timeline[0].target: "n4" is not a target of this 3-node cluster`}},
		{"set with a stranger", "timeline:\n  - at: 1s\n    fault: kill\n    target: [n1, n9]\n", nil, []string{`x.yaml:4: timeline[0].target: "n9" in the node set is not a node of this 3-node cluster`}},
		{"set twice", "timeline:\n  - at: 1s\n    fault: pause\n    target: [n1, n1]\n", nil, []string{`x.yaml:4: timeline[0].target: "n1" is in the node set twice`}},
		{"set of specs", "faults:\n  kinds: [kill]\n  targets: [one, [minority, n1]]\n", nil, []string{`x.yaml:3: faults.targets[1]: "minority" in the node set is not a node`}},
		{"empty set", "timeline:\n  - at: 1s\n    fault: kill\n    target: []\n", nil, []string{`x.yaml:4: an empty node set`}},
		{"mapping target", "timeline:\n  - at: 1s\n    fault: kill\n    target: {n1: yes}\n", nil, []string{`x.yaml:4: a target must be a name or a list of node names, got a mapping`}},
		{"leader set", "timeline:\n  - at: 1s\n    fault: leader\n    target: [n1, n2]\n", nil, []string{`x.yaml:4: timeline[0].target: one node leads`}},
		{"mix without kinds", "faults:\n  mix: {period: 1m}\n", nil, []string{`x.yaml:2: faults.mix rotates faults.kinds: give them`}},
		{"mix period", "faults:\n  kinds: [kill]\n  interval: 10s\n  mix:\n    period: 5s\n", nil, []string{`x.yaml:5: faults.mix.period (5s) must be at least faults.interval (10s)`}},
		{"mix quiet", "faults:\n  kinds: [kill]\n  mix: {quiet: 1}\n", nil, []string{`x.yaml:3: faults.mix.quiet must be a fraction 0..1`}},
		{"mix kinds", "faults:\n  kinds: [kill]\n  mix: {kinds: -1}\n", nil, []string{`x.yaml:3: faults.mix.kinds must be at least 1, got -1`}},
		{"mix key", "faults:\n  kinds: [kill]\n  mix: {perod: 1m}\n", nil, []string{`x.yaml:3: unknown key "perod" in faults.mix`}},
		{"servers count", "cluster:\n  nodes: 3\n  servers: [v2.14.9, embedded]\n", nil, []string{`x.yaml:3: cluster.servers give one server per node: 2 for 3 nodes`}},
		{"servers and server", "cluster:\n  server: v2.14.9\n  servers: [v2.14.9, v2.14.9, v2.14.9]\n", nil, []string{`x.yaml:3: cluster.servers give cluster.server (every node) or cluster.servers (each node), not both`}},
		{"servers spec", "cluster:\n  servers:\n    - embedded\n    - 2.x\n    - embedded\n", nil, []string{`x.yaml:4: cluster.servers[1] "2.x" is not embedded, a nats-server v2 version`}},
		{"upgrade random", "faults:\n  kinds: [kill, upgrade]\n", nil, []string{`x.yaml:2: faults.kinds[1] "upgrade" is for timeline steps only`}},
		{"upgrade without to", "timeline:\n  - at: 1s\n    fault: upgrade\n", nil, []string{`x.yaml:2: timeline[0]: to is missing`}},
		{"bench consume", "workload: {type: bench, consume: pull}\n", nil, []string{`x.yaml:1: workload.consume must be consume, fetch, push, ordered or direct, got "pull"`}},
		{"bench ordered acks", "workload: {type: bench, consume: ordered, ack_policy: explicit}\n", nil, []string{`x.yaml:1: workload.ack_policy must be none with consume: ordered`}},
		{"bench double ack none", "workload: {type: bench, ack_policy: none, double_ack: true}\n", nil, []string{`x.yaml:1: workload.double_ack needs ack_policy explicit or all`}},
		{"bench ack", "workload: {type: bench, ack_policy: some}\n", nil, []string{`x.yaml:1: workload.ack_policy must be explicit, all or none, got "some"`}},
		{"bench op", "workload: {type: bench, op: kv-delete}\n", nil, []string{`x.yaml:1: workload.op must be publish, kv-put or kv-get, got "kv-delete"`}},
		{"bench kv consumers", "workload: {type: bench, op: kv-get, consumers: 2}\n", nil, []string{`x.yaml:1: workload.consumers must be 0 with op kv-get`}},
		{"bench kv dist", "workload: {type: bench, op: kv-put, key_dist: pareto}\n", nil, []string{`x.yaml:1: workload.key_dist must be uniform or zipf, got "pareto"`}},
		{"bench kv history", "workload: {type: bench, op: kv-put, kv_history: 100}\n", nil, []string{`x.yaml:1: workload.kv_history must be 1..64, got 100`}},
		{"bench payload_data", "workload: {type: bench, payload_data: zeros}\n", nil, []string{`x.yaml:1: workload.payload_data must be random or text, got "zeros"`}},
		{"bench subject_choice", "workload: {type: bench, subject_choice: zipf}\n", nil, []string{`x.yaml:1: workload.subject_choice must be round-robin or random, got "zipf"`}},
		{"bench kv subject_choice", "workload: {type: bench, op: kv-get, subject_choice: random}\n", nil, []string{`x.yaml:1: workload.subject_choice is for op: publish`}},
		{"bench kv-get msg_id", "workload: {type: bench, op: kv-get, msg_id: true}\n", nil, []string{`x.yaml:1: workload.msg_id is for publishes`}},
		{"compression", "stream: {compression: zstd}\n", nil, []string{`x.yaml:1: stream.compression must be none or s2, got "zstd"`}},
		{"compression memory", "stream: {compression: s2, storage: memory}\nworkload: {type: bench}\n", nil, []string{`x.yaml:1: stream.compression s2 is for file storage`}},
		{"compression queue", "stream: {compression: s2}\n", nil, []string{`x.yaml:1: stream.compression is for the bench workload`}},
		{"bench backlog size", "workload: {type: bench, backlog: {size: 2PB}}\n", nil, []string{`x.yaml:1: invalid size "2PB"`}},
		{"bench backlog zero", "workload:\n  type: bench\n  backlog:\n    size: 0\n", nil, []string{`x.yaml:4: workload.backlog.size must be positive`}},
		{"bench backlog consumers", "workload: {type: bench, consumers: 0, backlog: {size: 1GiB}}\n", nil, []string{`x.yaml:1: workload.backlog needs consumers`}},
		{"capacity axis", "workload: {type: bench}\ncapacity: {slo_p99: 10ms, axis: subjects}\n", nil, []string{`x.yaml:2: capacity.axis must be rate or streams, got "subjects"`}},
		{"capacity streams start", "workload: {type: bench}\ncapacity: {slo_p99: 10ms, axis: streams, start: 2.5}\n", nil, []string{`x.yaml:2: capacity.start is a number of streams`}},
		{"capacity rate_per_stream", "workload: {type: bench}\ncapacity: {slo_p99: 10ms, rate_per_stream: 5}\n", nil, []string{`x.yaml:2: capacity.rate_per_stream is for axis: streams`}},
		{"bench direct_batch", "workload: {type: bench, direct_batch: 10}\n", nil, []string{`x.yaml:1: workload.direct_batch is for consume: direct, 1..10000, got 10`}},
		{"bench direct_batch 0", "workload: {type: bench, consume: direct, direct_batch: 0}\n", nil, []string{`x.yaml:1: workload.direct_batch is for consume: direct, 1..10000, got 0`}},
		{"bench key_dist publish", "workload: {type: bench, key_dist: zipf}\n", nil, []string{`x.yaml:1: workload.key_dist and kv_history are for op: kv-put or kv-get`}},
		{"bench publish", "workload: {type: bench, publish: quick}\n", nil, []string{`x.yaml:1: workload.publish must be async, sync, batch or fast, got "quick"`}},
		{"bench fast batch_size", "workload: {type: bench, publish: fast, batch_size: 0}\n", nil, []string{`x.yaml:1: workload.batch_size must be 1..1000000, got 0`}},
		{"bench kv fast", "workload: {type: bench, op: kv-put, publish: fast}\n", nil, []string{`x.yaml:1: workload.publish fast is for op: publish`}},
		{"bench sync window", "workload: {type: bench, publish: sync, window: 8}\n", nil, []string{`x.yaml:1: workload.window is 8, but publish: sync has one publish in flight`}},
		{"bench batch size", "workload: {type: bench, publish: batch, batch_size: 5000}\n", nil, []string{`x.yaml:1: workload.batch_size must be 2..1000, got 5000`}},
		{"bench batch window", "workload: {type: bench, publish: batch, batch_size: 100, window: 50}\n", nil, []string{`x.yaml:1: workload.window is 50, less than batch_size 100`}},
		{"bench batch_size async", "workload: {type: bench, batch_size: 10}\n", nil, []string{`x.yaml:1: workload.batch_size is for publish: batch`}},
		{"membership random", "faults:\n  kinds: [membership]\n", nil, []string{`x.yaml:2: faults.kinds[0] "membership" is for timeline steps only`}},
		{"membership set", "cluster: {nodes: 4}\ntimeline:\n  - {at: 1s, fault: membership, target: [n1, n2]}\n", nil, []string{`x.yaml:3: timeline[0].target: membership changes one node at a time`}},
		{"membership action", "cluster: {nodes: 4}\ntimeline:\n  - {at: 1s, fault: membership, action: evict}\n", nil, []string{`x.yaml:3: timeline[0].action: "evict" is not a membership action (known: replace, remove)`}},
		{"membership docker", "cluster: {nodes: 4, backend: docker}\ntimeline:\n  - {at: 1s, fault: membership}\n", nil, []string{`cluster.backend is docker, but a membership fault needs the process backend`}},
		{"upgrade bad to", "timeline:\n  - at: 1s\n    fault: upgrade\n    to: latest\n", nil, []string{`x.yaml:4: timeline[0].to: "latest" is not embedded`}},
		{"client links off", "cluster:\n  client_links: false\nfaults: {kinds: [client-partition]}\n", nil, []string{`x.yaml:2: cluster.client_links is false, but client-partition and client-slowlink faults need client links`}},
		{"timeline bad link", "timeline:\n  - at: 1s\n    fault: partition\n    links: [[n1, n9]]\n", nil, []string{`x.yaml:4: timeline[0].links: "n9" is not a node`}},
		{"timeline unknown fault", "timeline:\n  - at: 1s\n    fault: meteor\n", nil, []string{`x.yaml:3: timeline[0].fault: "meteor" is not a known fault kind`}},
		{"timeline no sync value", "timeline:\n  - at: 1s\n    fault: sync-interval\n", nil, []string{`x.yaml:2: timeline[0]: sync_interval`}},
		{"timeline late", "workload: {duration: 10s}\ntimeline:\n  - at: 11s\n    fault: kill\n", nil, []string{`x.yaml:3: timeline[0].at (11s) must be within workload.duration (10s)`}},
		{"timeline unknown key", "timeline:\n  - at: 1s\n    fault: kill\n    shap: halves\n", nil, []string{`x.yaml:4: unknown key "shap" in timeline[0]`}},
		{"kinds and timeline", "faults: {kinds: [kill]}\ntimeline:\n  - {at: 1s, fault: kill}\n", nil, []string{`x.yaml:2: timeline give either faults.kinds`}},
		{"proxies off", "cluster:\n  link_proxies: false\nfaults: {kinds: [partition]}\n", nil, []string{`x.yaml:2: cluster.link_proxies is false, but partition`}},
		{"duration and downtime", "faults:\n  downtime: 1s\n  duration: 2s\n", nil, []string{`x.yaml:3: faults.duration give faults.duration or faults.downtime`}},
		{"several", "cluster:\n  nodes: 0\nstream:\n  storage: disk\n", nil, []string{"x.yaml:2: cluster.nodes", "x.yaml:4: stream.storage"}},

		{"stan file_sync clustered", "cluster:\n  system: stan\n  stan: {file_sync: false}\n", nil, []string{`x.yaml:3: cluster.stan.file_sync has no effect on a clustered NATS Streaming server`}},
		{"stan jetstream keys", "cluster:\n  system: stan\n  sync_interval: always\nworkload: {type: kv}\n", nil, []string{`x.yaml:3: cluster.sync_interval is JetStream's`, `x.yaml:4: workload.type must be queue for cluster.system stan`}},
		{"stan section without stan", "cluster:\n  stan: {cluster_sync: true}\n", nil, []string{`x.yaml:2: cluster.stan is for cluster.system: stan`}},
		{"unknown system", "cluster: {system: kafka}\n", nil, []string{`cluster.system must be jetstream or stan, got "kafka"`}},
		{"variants", "variants:\n  - {name: a, set: [cluster.nodes=3]}\n  - {name: a, set: [nodes]}\n", nil, []string{`x.yaml:3: variants[1].name must be given and unique`, `variants[1].set[0] must be key=value`}},
		{"ttl fraction of a second", "workload:\n  type: ttl\n  ttls: [5s, 1500ms]\n", nil, []string{`x.yaml:3: workload.ttls ttls[1] must be whole seconds, 1s..1h, got 1.5s`}},
		{"objects sizes", "workload:\n  type: objects\n  sizes: [0B]\n  delete_every: 1\n", nil, []string{`x.yaml:3: workload.sizes sizes[0] must be 1B..64MiB, got 0B`, `x.yaml:4: workload.delete_every must be 0 (none) or at least 2 (1 would only delete), got 1`}},
		{"objects chunk size", "workload:\n  type: objects\n  chunk_size: 2MiB\n", nil, []string{`x.yaml:3: workload.chunk_size must be 1B..1MiB (the server's max payload), got 2MiB`}},
		{"ttl below marker", "workload:\n  type: ttl\n  marker_ttl: 5s\n  ttls: [2s]\n", nil, []string{`x.yaml:4: workload.ttls ttls[0] (2s) is below marker_ttl (5s)`}},
		{"ttl kv without markers", "workload:\n  type: ttl\n  api: kv\n", nil, []string{`workload.marker_ttl api: kv needs marker_ttl`}},
		{"ttl api", "workload:\n  type: ttl\n  api: redis\n", nil, []string{`x.yaml:3: workload.api must be stream or kv, got "redis"`}},
		{"pinned members", "workload:\n  type: pinned\n  members: 1\n", nil, []string{`workload.members must be 2..100`}},
		{"pinned priority", "workload:\n  type: pinned\n  priority: fifo\n", nil, []string{`workload.priority must be pinned or overflow, got "fifo"`}},
		{"pinned ttl", "workload:\n  type: pinned\n  pinned_ttl: 100ms\n", nil, []string{`workload.pinned_ttl must be at least 1s`}},
		{"pinned consumers", "workload:\n  type: pinned\n  consumers: 2\n", nil, []string{`workload.consumers must be 1 for the pinned workload`}},
		{"pinned push", "workload:\n  type: pinned\n  mode: push\n", nil, []string{`workload.mode must be pull for the pinned workload`}},
		{"pinned overflow ttl", "workload:\n  type: pinned\n  priority: overflow\n  pinned_ttl: 2s\n", nil, []string{`workload.pinned_ttl is for priority pinned`}},
		{"members elsewhere", "workload:\n  type: consume\n  members: 3\n", nil, []string{`workload.members is for the pinned workload`}},
		{"slack elsewhere", "workload:\n  type: queue\n  slack: 3s\n", nil, []string{`x.yaml:3: workload.slack is for the ttl, schedule and pinned workloads`}},
		{"schedule repeating without every", "workload:\n  type: schedule\n  repeating: 2\n", nil, []string{`x.yaml:3: workload.repeating needs workload.every`}},
		{"watch history", "workload:\n  type: watch\n  kv_history: 100\n  converge: 100ms\n", nil, []string{`x.yaml:3: workload.kv_history must be 1..64 (a bucket keeps at most 64 revisions of a key), got 100`, `x.yaml:4: workload.converge must be at least 1s, got 100ms`}},
		{"mirror drain shorter than converge", "workload:\n  type: mirror\n  converge_after: 90s\nfinal: {drain_timeout: 60s}\n", nil, []string{`x.yaml:4: final.drain_timeout must be at least workload.converge_after (1m30s) + 30s`}},
		{"watchers elsewhere", "workload:\n  type: kv\n  watchers: 2\n", nil, []string{`x.yaml:3: workload.watchers is for the watch workload`}},
		{"schedule every fraction", "workload:\n  type: schedule\n  every: 1500ms\n", nil, []string{`x.yaml:3: workload.every must be 0 (none) or whole seconds`}},
		{"set unknown", "name: a\n", []string{"cluster.bogus=1"}, []string{`--set cluster.bogus=1: unknown key "bogus" in cluster (known keys: backend, client_links, creds, image, keep_stream, link_proxies, lost_after, monitor_urls, nkey, nodes,`}},
		{"set unknown top", "name: a\n", []string{"clusters.nodes=1"}, []string{`--set clusters.nodes=1: unknown key "clusters" at top level`}},
		{"set into value", "name: a\n", []string{"name.x=1"}, []string{`--set name.x=1: name is a value, not a section`}},
		{"set no =", "name: a\n", []string{"cluster.nodes"}, []string{`--set cluster.nodes: want key=value`}},
		{"set empty path", "name: a\n", []string{"cluster..nodes=1"}, []string{`--set cluster..nodes=1: want key=value`}},
		{"set bad yaml", "name: a\n", []string{"faults.kinds=[kill"}, []string{`--set faults.kinds=[kill: bad value`}},
		{"set bad duration", "name: a\n", []string{"cluster.nodes=4", "workload.duration=abc"}, []string{`--set workload.duration=abc: invalid duration "abc"`}},
		{"set wrong type", "name: a\n", []string{"cluster.nodes=many"}, []string{"--set cluster.nodes=many: cannot unmarshal"}},
		{"set invalid", "name: a\n", []string{"cluster.nodes=1", "stream.replicas=3"}, []string{`--set stream.replicas=3: stream.replicas (3) must not exceed cluster.nodes (1)`}},
		{"set bad kind", "name: a\n", []string{"faults.kinds=[kill, nuke]"}, []string{`--set faults.kinds=[kill, nuke]: faults.kinds[1] "nuke"`}},
		{"set mapping value", "name: a\n", []string{"cluster={bogus: 1}"}, []string{`--set cluster={bogus: 1}: unknown key "bogus" in cluster`}},
		{"set under scalar", "name: a\ncluster: 3\n", []string{"cluster.nodes=1"}, []string{`x.yaml:2: cluster must be a mapping`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse([]byte(tc.yaml), "x.yaml", tc.sets)
			if err == nil {
				t.Fatalf("no error; got %+v", *s)
			}
			t.Log(err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

// Partitions load on the docker backend (link_proxies turned on: kernel
// links there) where links can be cut in the kernel, and are refused,
// saying why, where they cannot.
func TestDockerPartitionLoads(t *testing.T) {
	s, err := Parse([]byte("cluster: {backend: docker}\nfaults: {kinds: [kill, partition]}\n"), "x.yaml", nil)
	if avail := clusters.DockerLinksAvailable(); avail != nil {
		if err == nil || !strings.Contains(err.Error(), "x.yaml:2: faults needs route links cut in the kernel") {
			t.Errorf("links unavailable here (%v), yet: %v", avail, err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if !s.Cluster.LinkProxies {
		t.Error("a partition must turn link_proxies on")
	}
}

// A slowlink loads on the docker backend, root or not: with one scheduled,
// every route link goes through a userspace proxy (DelayLinks), partitions
// too, and no kernel rule is needed.
func TestDockerSlowLinkLoads(t *testing.T) {
	for _, file := range []string{
		"cluster: {backend: docker}\nfaults: {kinds: [kill, partition, slowlink]}\n",
		"cluster: {backend: docker}\ntimeline:\n  - {at: 1s, fault: slowlink, delay: 100ms}\n",
	} {
		s, err := Parse([]byte(file), "x.yaml", nil)
		if err != nil {
			t.Fatalf("%q: %v", file, err)
		}
		if o := s.clusterConfig(t.TempDir(), "").ProcessOptions; !o.LinkProxies || !o.DelayLinks {
			t.Errorf("%q: link_proxies %v, delay links %v; want both", file, o.LinkProxies, o.DelayLinks)
		}
	}
	s, err := Parse([]byte("cluster: {backend: docker}\nfaults: {kinds: [kill]}\n"), "x.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.clusterConfig(t.TempDir(), "").DelayLinks {
		t.Error("delay links without a slowlink")
	}
}

// Power loss loads on the docker backend (powerloss_fs turned on, or given)
// where powerfs can mount, and is refused, saying why, where it cannot.
func TestDockerPowerLossLoads(t *testing.T) {
	for _, file := range []string{
		"cluster: {backend: docker}\nfaults: {kinds: [kill, powerloss]}\n",
		"cluster: {backend: docker, powerloss_fs: true}\n",
	} {
		s, err := Parse([]byte(file), "x.yaml", nil)
		if avail := powerfs.Available(); avail != nil {
			if err == nil || !strings.Contains(err.Error(), "needs the power-loss filesystem, which cannot run here") {
				t.Errorf("powerfs unavailable here (%v), yet %q: %v", avail, file, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", file, err)
		}
		if !s.Cluster.PowerLossFS {
			t.Errorf("%q: powerloss_fs off", file)
		}
	}
}

func TestAnchors(t *testing.T) {
	const file = "final: &f {recover: 2s}\nstream:\n  <<: {storage: memory}\n  replicas: 1\n"
	s, err := Parse([]byte(file), "x.yaml", []string{"final.recover=3s"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Final.Recover.D() != 3*time.Second || s.Stream.Storage != "memory" || s.Pos("stream.storage") != "x.yaml:3" {
		t.Errorf("got %+v, pos %v", *s, s.pos)
	}
	_, err = Parse([]byte("stream:\n  <<: {bogus: 1}\n"), "x.yaml", nil)
	if err == nil || !strings.Contains(err.Error(), `x.yaml:2: unknown key "bogus" in stream`) {
		t.Errorf("merge: %v", err)
	}
}

func TestPosErrorf(t *testing.T) {
	s, err := Parse([]byte("cluster:\n  nodes: 3\n"), "x.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Errorf("cluster.nodes", "need %d more", 2).Error(); got != "x.yaml:2: need 2 more" {
		t.Errorf("Errorf = %q", got)
	}
	if got := s.Pos("stream.replicas"); got != "x.yaml" {
		t.Errorf("Pos of a defaulted key = %q", got)
	}
	var code Scenario // built in code: no file, no prefix
	if got := code.Errorf("cluster.nodes", "bad").Error(); got != "bad" {
		t.Errorf("Errorf without file = %q", got)
	}
}

func TestTypes(t *testing.T) {
	type doc struct {
		D Duration     `yaml:"d" json:"d"`
		S SyncInterval `yaml:"s" json:"s"`
		Z Size         `yaml:"z" json:"z"`
	}
	for _, tc := range []struct {
		in, json, err string
		conf          string
	}{
		{in: "{d: 500ms, s: always, z: 4KB}", json: `{"d":"500ms","s":"always","z":"4000B"}`, conf: "always"},
		{in: "{d: 1m30s, s: 2m, z: 1KiB}", json: `{"d":"1m30s","s":"2m0s","z":"1KiB"}`, conf: `"2m0s"`},
		{in: "{d: 0s, s: 1.5s, z: 3MiB}", json: `{"d":"0s","s":"1.5s","z":"3MiB"}`, conf: `"1.5s"`},
		{in: "{z: 64MiB, s: Always}", json: `{"d":"0s","s":"always","z":"64MiB"}`, conf: "always"},
		{in: "{z: 128, d: 1h}", json: `{"d":"1h0m0s","s":"","z":"128B"}`, conf: ""},
		{in: "{z: 2 MB}", json: `{"d":"0s","s":"","z":"2000000B"}`},
		{in: "{d: 60}", err: "line 1: duration \"60\" has no unit"},
		{in: "{d: -5s}", err: "must not be negative"},
		{in: "{d: 5 s}", err: "invalid duration"},
		{in: "{s: -1s}", err: `sync_interval "-1s" must be`},
		{in: "{s: {a: 1}}", err: "sync_interval must be a single value, got a mapping"},
		{in: "{z: 1.5KiB}", err: "invalid size"},
		{in: "{z: 1kb}", err: "invalid size"},
		{in: "{z: 67108865}", err: "larger than 64MiB"},
		{in: "{z: 99999999999999999999999}", err: "larger than 64MiB"},
		{in: "{z: MiB}", err: "invalid size"},
	} {
		var d doc
		err := yaml.Unmarshal([]byte(tc.in), &d)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		j, _ := json.Marshal(d)
		if string(j) != tc.json {
			t.Errorf("%s: json %s, want %s", tc.in, j, tc.json)
		}
		if got := d.S.ConfString(); got != tc.conf {
			t.Errorf("%s: ConfString %q, want %q", tc.in, got, tc.conf)
		}
		// Both marshalled forms parse back to the same value.
		var back doc
		if err := json.Unmarshal(j, &back); err != nil || back != d {
			t.Errorf("%s: json round trip %+v, %v", tc.in, back, err)
		}
		y, _ := yaml.Marshal(d)
		back = doc{}
		if err := yaml.Unmarshal(y, &back); err != nil || back != d {
			t.Errorf("%s: yaml round trip via %q: %+v, %v", tc.in, y, back, err)
		}
	}
}

func TestTimelineAndPlan(t *testing.T) {
	s, err := Parse([]byte(`
workload: {duration: 60s}
timeline:
  - {at: 10s, fault: partition, shape: halves, for: 20s}
  - {at: 35s, fault: kill, target: stream-leader, for: 5s}
  - {at: 41s, fault: sync-interval, sync_interval: always}
  - {at: 50s, fault: slowlink, delay: 5ms}
`), "t.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Cluster.LinkProxies {
		t.Error("a partition in the timeline must turn link proxies on")
	}
	plan := s.Plan(rand.New(rand.NewPCG(1, 2)))
	if len(plan) != 4 || plan[0].At != 10*time.Second || plan[0].For != 20*time.Second || plan[0].Params.(faults.PartitionParams).Shape != "halves" ||
		plan[1].Target != "stream-leader" || !plan[2].Params.(faults.SyncIntervalParams).SyncInterval.Always() || plan[2].For != 5*time.Second ||
		plan[3].Params.(faults.SlowLinkParams).Delay.D() != 5*time.Millisecond {
		t.Errorf("plan: %+v", plan)
	}
	// duration is another name for downtime.
	s, err = Parse([]byte("faults: {kinds: [pause], duration: 3s}\n"), "d.yaml", nil)
	if err != nil || s.Faults.Downtime.D() != 3*time.Second || s.Cluster.LinkProxies {
		t.Errorf("duration alias: %v %+v", err, s.Faults)
	}
	// The resolved scenario (a run's scenario.yaml) loads again, the same.
	b, err := yaml.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(b, "scenario.yaml", nil)
	if err != nil || again.Faults.Downtime != s.Faults.Downtime {
		t.Errorf("resolved scenario does not load again: %v\n%s", err, b)
	}
}

// The same seed gives the same fault schedule (as results.json lists it);
// another seed gives another.
func TestSameSeedSameSchedule(t *testing.T) {
	s, err := Load("partition-kill.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	js := func(seed uint64) string {
		b, err := json.Marshal(s.PlanFor(seed))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if a, b := js(5), js(5); a != b {
		t.Errorf("same seed, different schedules:\n%s\n%s", a, b)
	}
	if js(5) == js(6) {
		t.Error("different seeds, same schedule")
	}
	if n := len(s.PlanFor(5)); n != 7 {
		t.Errorf("%d faults planned, want 7 (at 12s, 24s, ... 84s: each heals within the 100s)", n)
	}
}

// Every shipped scenario loads.
func TestShippedScenariosLoad(t *testing.T) {
	files, _ := filepath.Glob("*.yaml")
	if len(files) < 4 {
		t.Fatalf("only %d scenarios found", len(files))
	}
	for _, f := range files {
		if _, err := Load(f, nil); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// A run's resolved scenario.yaml (every key written, zero values too) runs
// the same scenario again: for every shipped scenario, and for one written
// before the workload kinds and fault parameters had their own structs
// (testdata/resolved-before-kinds.yaml: a flat workload section with every
// kind's keys, and every fault's keys in faults:).
func TestResolvedScenariosReload(t *testing.T) {
	files, _ := filepath.Glob("*.yaml")
	for _, f := range files {
		s, err := Load(f, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := yaml.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Parse(b, f+" (resolved)", nil)
		if err != nil {
			t.Errorf("%s: the resolved scenario does not load: %v\n%s", f, err, b)
			continue
		}
		sameYAML := func(a, b any) bool { // as written: nil and empty lists alike
			x, _ := yaml.Marshal(a)
			y, _ := yaml.Marshal(b)
			return string(x) == string(y)
		}
		same := func(a, b any) bool {
			x, _ := json.Marshal(a)
			y, _ := json.Marshal(b)
			return string(x) == string(y)
		}
		for what, eq := range map[string]bool{
			"workload": reflect.DeepEqual(again.Workload, s.Workload),
			"plan":     same(again.PlanFor(9), s.PlanFor(9)),
			"cluster":  sameYAML(again.Cluster, s.Cluster),
		} {
			if !eq {
				t.Errorf("%s: the resolved scenario's %s differs", f, what)
			}
		}
	}
	s, err := Load("testdata/resolved-before-kinds.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Workload.Type != "queue" || s.Workload.Rate != 500 || len(s.PlanFor(*s.Seed)) != 5 {
		t.Errorf("old resolved scenario: %+v, %d faults", s.Workload, len(s.PlanFor(*s.Seed)))
	}
}

// On the docker backend, cluster.server (a release or a path) and
// cluster.image (a user's image) load; cluster.image is docker's only.
func TestDockerServerAndImageLoad(t *testing.T) {
	for _, y := range []string{
		"cluster: {backend: docker, server: v2.12.1}\n",
		"cluster: {backend: docker, server: ./nats-server}\n",
		"cluster: {backend: docker, image: 'nats:2.12'}\n",
	} {
		s, err := Parse([]byte(y), "x.yaml", nil)
		if err != nil {
			t.Errorf("%s: %v", y, err)
			continue
		}
		if cfg := s.clusterConfig("nodes", ""); cfg.Server != s.Cluster.Server || cfg.Image != s.Cluster.Image {
			t.Errorf("%s: cluster config %+v", y, cfg)
		}
	}
}
