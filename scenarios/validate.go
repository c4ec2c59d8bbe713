package scenarios

import (
	"context"
	"errors"
	"fmt"
	"jetstorm/clusters"
	"jetstorm/faults"
	"jetstorm/powerfs"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// downtimeKey is the key the fault duration was given as.
func downtimeKey(s *Scenario) string {
	if s.given("faults.duration") {
		return "faults.duration"
	}
	return "faults.downtime"
}

// validate reports every invalid value at once, each at its position.
func (s *Scenario) validate() error {
	var errs []error
	check := func(ok bool, key, format string, args ...any) {
		if !ok {
			errs = append(errs, s.Errorf(key, key+" "+format, args...))
		}
	}
	c, st, w, f, fin := s.Cluster, s.Stream, s.Workload, s.Faults, s.Final
	_, known := clusters.Backends[c.Backend]
	check(known, "cluster.backend", "%q is not supported yet (supported: %s)", c.Backend, strings.Join(clusters.BackendNames(), ", "))
	if c.Backend == "external" {
		check(len(c.URLs) > 0, "cluster.urls", "the external backend needs the cluster's client URLs")
		check(len(c.MonitorURLs) == 0 || len(c.MonitorURLs) == len(c.URLs), "cluster.monitor_urls", "give one per client URL, in the same order")
		// jetstorm does not control an external cluster's nodes: its faults
		// are the user's own commands.
		for i, k := range f.Kinds {
			check(k == "exec", fmt.Sprintf("faults.kinds[%d]", i), "%q: an external cluster takes exec faults only (jetstorm does not control its nodes; an exec fault runs your own inject and heal commands)", k)
		}
		for i, st := range s.Timeline {
			check(st.Fault == "exec", fmt.Sprintf("timeline[%d].fault", i), "%q: an external cluster takes exec faults only (jetstorm does not control its nodes; an exec fault runs your own inject and heal commands)", st.Fault)
		}
		check(c.Server == "", "cluster.server", "is for the process backend (an external cluster runs what it runs)")
		bad := c.Auth.Check()
		for _, k := range slices.Sorted(maps.Keys(bad)) {
			check(false, "cluster."+k, "%v", bad[k])
		}
		check(c.LostAfter > 0, "cluster.lost_after", "must be positive")
	} else {
		check(len(c.URLs) == 0 && len(c.MonitorURLs) == 0, "cluster.urls", "urls are for the external backend")
		check(c.Auth.Empty(), "cluster", "creds, nkey, user, password and tls are for the external backend (jetstorm's own clusters need no login)")
		check(!c.KeepStream && c.LostAfter == 0, "cluster", "keep_stream and lost_after are for the external backend")
		kind, err := clusters.ServerSpecKind(c.Server)
		check(err == nil, "cluster.server", "%v", err)
		if len(c.Servers) > 0 {
			check(c.Backend == "process", "cluster.servers", "is for the process backend")
			check(c.Server == "", "cluster.servers", "give cluster.server (every node) or cluster.servers (each node), not both")
			check(len(c.Servers) == c.Nodes, "cluster.servers", "give one server per node: %d for %d nodes", len(c.Servers), c.Nodes)
			for i, spec := range c.Servers {
				_, err := clusters.ServerSpecKind(spec)
				check(err == nil, fmt.Sprintf("cluster.servers[%d]", i), "%v", err)
			}
		}
		if c.Backend == "docker" {
			s.validateDocker(check, kind)
		}
	}
	check(c.Image == "" || c.Backend == "docker", "cluster.image", "is for the docker backend")
	s.validateSTAN(check)
	check(c.Nodes >= 1 && c.Nodes <= 9, "cluster.nodes", "must be 1..9, got %d", c.Nodes)
	check(st.Replicas >= 1 && st.Replicas <= 5, "stream.replicas", "must be 1..5, got %d", st.Replicas)
	check(st.Replicas <= c.Nodes || c.Nodes < 1 || c.Nodes > 9, "stream.replicas", "(%d) must not exceed cluster.nodes (%d)", st.Replicas, c.Nodes)
	check(st.Storage == "file" || st.Storage == "memory", "stream.storage", "must be file or memory, got %q", st.Storage)
	check(st.Compression == "none" || st.Compression == "s2", "stream.compression", "must be none or s2, got %q", st.Compression)
	if st.Compression == "s2" {
		check(st.Storage == "file", "stream.compression", "s2 is for file storage")
		check(s.Workload.Type == "bench", "stream.compression", "is for the bench workload")
	}
	if k := s.kind(); k == nil {
		check(false, "workload.type", "%q is not supported (supported: %s)", w.Type, strings.Join(KindNames(), ", "))
	} else if k.Validate != nil {
		k.Validate(s, check)
	}
	check(s.Capacity == nil || w.Type == "bench", "capacity", "is for the bench workload only")
	for k, vs := range s.Sweep {
		check(len(vs) > 0, "sweep", "%s: give at least one value", k)
	}
	check(len(s.Sweep) <= 1, "sweep", "sweep one key at a time (got %d)", len(s.Sweep))
	check(len(s.Sweep) == 0 || len(s.Variants) == 0, "variants", "give sweep or variants, not both")
	seen := map[string]bool{}
	for i, v := range s.Variants {
		k := fmt.Sprintf("variants[%d]", i)
		check(v.Name != "" && !seen[v.Name], k+".name", "must be given and unique, got %q", v.Name)
		seen[v.Name] = true
		for j, set := range v.Set {
			key, _, ok := strings.Cut(set, "=")
			check(ok && key != "" && key != "variants" && key != "sweep", fmt.Sprintf("%s.set[%d]", k, j), "must be key=value (as --set takes it), got %q", set)
		}
	}
	check(s.Check.Timeout > 0, "check.timeout", "must be positive")
	for i, pat := range s.Check.KnownCrashes {
		k := fmt.Sprintf("check.known_crashes[%d]", i)
		_, err := regexp.Compile(pat)
		check(err == nil, k, "is not a regular expression: %v", err)
		check(pat != "", k, "must not be empty (it would match every crash)")
	}
	check(w.Clients >= 1, "workload.clients", "must be at least 1, got %d", w.Clients)
	check(w.Connections >= 0 && w.Connections <= w.Clients, "workload.connections", "must be between 0 (one per client) and workload.clients (%d), got %d", w.Clients, w.Connections)
	check(w.Connections == 0 || w.Type == "queue" || w.Type == "consume", "workload.connections", "is for the queue and consume workloads")
	check(!w.ClientsRoam || slices.Contains([]string{"queue", "batch", "counter", "occ", "ttl", "schedule"}, w.Type), "workload.clients_roam", "is for the queue, batch, counter, occ, ttl and schedule workloads")
	check(w.Slack == 0 || w.Type == "ttl" || w.Type == "schedule" || w.Type == "pinned", "workload.slack", "is for the ttl, schedule and pinned workloads")
	check(w.Type == "watch" || !s.given("workload.watchers"), "workload.watchers", "is for the watch workload")
	for _, k := range []string{"members", "priority", "pinned_ttl", "pull_expiry", "min_pending"} {
		check(w.Type == "pinned" || !s.given("workload."+k), "workload."+k, "is for the pinned workload")
	}
	check(w.Type == "watch" || !s.given("workload.converge"), "workload.converge", "is for the watch workload")
	check(w.Type == "mirror" || !s.given("workload.converge_after"), "workload.converge_after", "is for the mirror workload")
	check(w.Rate > 0 && w.Rate <= 1e6, "workload.rate", "must be > 0 and <= 1000000 ops/s, got %v", w.Rate)
	check(w.Duration > 0, "workload.duration", "must be positive")
	check(w.Timeout > 0, "workload.timeout", "must be positive")
	for i, k := range f.Kinds {
		check(slices.Contains(faults.Kinds(), k), fmt.Sprintf("faults.kinds[%d]", i), "%q is not a known fault kind (known: %s)", k, strings.Join(faults.Kinds(), ", "))
		_, timelineOnly := faults.Registry[k].(faults.TimelineOnly)
		check(!timelineOnly, fmt.Sprintf("faults.kinds[%d]", i), "%q is for timeline steps only (a random schedule cannot draw its parameters)", k)
	}
	// Fault parameters are checked by the faults themselves; a FieldError
	// names the spec field or the faults: key, which maps to the scenario key here.
	nodes := clusters.NodeNames(c.Backend, c.Nodes)
	specErr := func(sp faults.Spec, key func(field string) string) {
		var fe *faults.FieldError
		if err := faults.Check(sp, nodes); errors.As(err, &fe) {
			k := key(fe.Field)
			errs = append(errs, s.Errorf(k, "%s: %s", k, fe.Msg))
		} else if err != nil {
			errs = append(errs, s.Errorf(key(""), "%v", err))
		}
	}
	for i, t := range f.Targets {
		specErr(faults.Spec{Kind: "kill", Target: string(t)}, func(string) string { return fmt.Sprintf("faults.targets[%d]", i) })
	}
	for _, err := range faults.CheckRandom(f.Params, nodes) {
		var fe *faults.FieldError
		if errors.As(err, &fe) {
			k := "faults." + fe.Field
			errs = append(errs, s.Errorf(k, "%s: %s", k, fe.Msg))
		} else {
			errs = append(errs, s.Errorf("faults", "faults: %v", err))
		}
	}
	check(len(f.Kinds) == 0 || len(f.Targets) > 0, "faults.targets", "must not be empty when faults.kinds is set")
	if slices.Contains(f.Kinds, "exec") {
		e, _ := f.Params.Random("exec").(*faults.ExecParams)
		if e == nil || strings.TrimSpace(e.Inject) == "" {
			at := "faults.inject" // its line, or the kinds' when it is missing
			if !s.given(at) {
				at = "faults.kinds"
			}
			errs = append(errs, s.Errorf(at, "faults.inject is needed by the exec fault (the command that injects it)"))
		}
	}
	check(f.Interval > 0, "faults.interval", "must be positive")
	if m := f.Mix; m != nil {
		check(len(f.Kinds) > 0, "faults.mix", "rotates faults.kinds: give them")
		check(m.Period >= f.Interval, "faults.mix.period", "(%s) must be at least faults.interval (%s)", m.Period, f.Interval)
		check(m.Kinds >= 1, "faults.mix.kinds", "must be at least 1, got %d", m.Kinds)
		check(m.Quiet >= 0 && m.Quiet < 1, "faults.mix.quiet", "must be a fraction 0..1 (below 1: some period must have faults), got %v", m.Quiet)
	}
	check(f.Downtime > 0, "faults.downtime", "must be positive")
	check(len(f.Kinds) == 0 || f.Downtime < f.Interval, downtimeKey(s), "(%s) must be shorter than faults.interval (%s): random faults do not overlap (timeline steps may)", f.Downtime, f.Interval)
	check(!s.given("faults.downtime") || !s.given("faults.duration"), "faults.duration", "give faults.duration or faults.downtime, not both")
	check(len(f.Kinds) == 0 || len(s.Timeline) == 0, "timeline", "give either faults.kinds (a random schedule) or a timeline, not both")
	stepKey := map[string]string{"kind": "fault"} // spec field -> step key, where they differ
	for i, st := range s.Timeline {
		base := fmt.Sprintf("timeline[%d]", i)
		check(st.At >= 0 && st.At < w.Duration, base+".at", "(%s) must be within workload.duration (%s)", st.At, w.Duration)
		check(st.For > 0, base+".for", "must be positive")
		specErr(st.spec(), func(field string) string {
			if k, ok := stepKey[field]; ok {
				field = k
			}
			if field == "" || !s.given(base+"."+field) {
				return base
			}
			return base + "." + field
		})
	}
	for i := 1; i < len(s.Timeline); i++ {
		check(s.Timeline[i].At >= s.Timeline[i-1].At, fmt.Sprintf("timeline[%d].at", i), "steps must be in time order")
	}
	// Overlapping steps of one kind would undo each other: the first heal
	// (restart, resume, delay 0) ends both. Only link cuts nest.
	for j, b := range s.Timeline {
		for i, a := range s.Timeline[:j] {
			if a.Fault == b.Fault && a.Fault != "partition" && b.At < a.At+a.For {
				check(false, fmt.Sprintf("timeline[%d].at", j), "(%s) overlaps timeline[%d] (%s at %s for %s): overlapping steps must be of different kinds (only partitions nest)", b.At, i, a.Fault, a.At, a.For)
			}
		}
	}
	check(c.LinkProxies || !s.needs().Links, "cluster.link_proxies", "is false, but partition and slowlink faults need link proxies")
	check(c.PowerLossFS || !s.needs().PowerFS, "cluster.powerloss_fs", "is false, but powerloss faults need it")
	check(c.ClientLinks || !s.needs().ClientLinks, "cluster.client_links", "is false, but client-partition and client-slowlink faults need client links")
	check(!c.ClientLinks || c.Backend == "process", "cluster.client_links", "is for the process backend")
	check(c.Backend == "process" || !s.needs().System, "cluster.backend", "is %s, but a membership fault needs the process backend (a system account user in each node's config, a store it can wipe, a server it can rename)", c.Backend)
	check(c.Backend == "process" || !s.needs().Servers, "cluster.backend", "is %s, but an upgrade changes the server a node runs, which only the process backend can", c.Backend)
	check(c.Writeback >= 0, "cluster.writeback", "must not be negative")
	if c.PowerLossFS {
		if err := powerfs.Available(); err != nil {
			key := "cluster.powerloss_fs"
			if !s.given(key) {
				key = "faults" // turned on by a powerloss fault
				if len(s.Timeline) > 0 {
					key = "timeline"
				}
			}
			check(false, key, "needs the power-loss filesystem, which cannot run here: %v", err)
		}
	}
	check(fin.Recover > 0, "final.recover", "must be positive")
	check(fin.DrainTimeout > 0, "final.drain_timeout", "must be positive")
	return errors.Join(errs...)
}

// validateDocker refuses what the docker backend cannot do: on an engine
// on another machine, what needs the nodes' namespaces or stores here
// (see clusters.RemoteEngineRefuses). Partitions cut
// links in the kernel (link_proxies, on by default with them, means that
// here), which takes root; but when a slowlink is scheduled (no delay in
// the kernel here) every route link goes through a userspace proxy on the
// host instead, which needs no root (clusters.ProcessOptions.DelayLinks).
// On an engine here, store faults (bitflip, truncate, rollback) work: a
// node's store is a host directory mounted into its container; so does powerloss,
// with the store's powerfs mounted on the host (root and /dev/fuse, checked
// in validate as for the process backend).
func (s *Scenario) validateDocker(check func(ok bool, key, format string, args ...any), server string) {
	key := "faults"
	if len(s.Timeline) > 0 {
		key = "timeline"
	}
	if daemon := clusters.DockerEngine(context.Background()); daemon != "" {
		n := s.needs()
		err := clusters.RemoteEngineRefuses(daemon, s.Cluster.LinkProxies, s.Cluster.PowerLossFS, n.Store)
		k := key
		if !n.Links && !n.PowerFS && !n.Store {
			k = "cluster.backend" // link_proxies or powerloss_fs asked for alone
		}
		check(err == nil, k, "docker: %v", err)
		if err != nil {
			return
		}
	}
	if s.Cluster.LinkProxies && !s.needs().Delay {
		if s.given("cluster.link_proxies") {
			key = "cluster.link_proxies"
		} // else turned on by a partition fault
		err := clusters.DockerLinksAvailable()
		check(err == nil, key, "needs route links cut in the kernel, which cannot be done here: %v", err)
	}
	check(s.Cluster.Image == "" || server == "embedded", "cluster.server", "and cluster.image: give one (the image runs its own nats-server)")
}

// stanFaults are the fault kinds a NATS Streaming cluster takes: what acts
// on processes, route links, client links and store files. The rest act
// on JetStream (its leaders, sync_interval, consumers, peers) or on a
// nats-server release (upgrade, lame duck).
var stanFaults = []string{"kill", "restart", "pause", "partition", "slowlink", "powerloss", "bitflip", "truncate", "rollback",
	"client-partition", "client-slowlink", "exec"}

// validateSTAN refuses what a NATS Streaming cluster (cluster.system:
// stan) cannot do, naming the key.
func (s *Scenario) validateSTAN(check func(ok bool, key, format string, args ...any)) {
	c := s.Cluster
	check(c.System == "jetstream" || c.System == "stan", "cluster.system", "must be jetstream or stan, got %q", c.System)
	if !c.stan() {
		check(c.STAN == nil, "cluster.stan", "is for cluster.system: stan")
		return
	}
	const why = "(NATS Streaming)"
	check(c.Backend == "process", "cluster.backend", "must be process for cluster.system stan, got %s", c.Backend)
	check(c.Server == "" && len(c.Servers) == 0, "cluster.server", "is for nats-server: give cluster.stan.server %s", why)
	check(c.SyncInterval.IsZero(), "cluster.sync_interval", "is JetStream's: NATS Streaming has cluster.stan.file_sync and cluster_sync")
	check(s.Workload.Type == "queue", "workload.type", "must be queue for cluster.system stan, got %q", s.Workload.Type)
	check(s.Workload.Connections == 0, "workload.connections", "is not supported %s", why)
	check(!s.Workload.ClientsRoam, "workload.clients_roam", "is not supported %s", why)
	check(!s.Workload.Queue.ExactlyOnce, "workload.exactly_once", "is JetStream's message deduplication %s", why)
	check(!s.Final.PerNode, "final.per_node", "cannot be on %s: only its Raft leader serves clients and it has no leadership transfer", why)
	// A clustered server sets its store's sync from cluster_sync
	// (nats-streaming-server v0.25.6, server.go: "Override store sync
	// configuration with cluster sync"): file_sync would say what did not run.
	check(c.Nodes == 1 || !s.given("cluster.stan.file_sync"), "cluster.stan.file_sync",
		"has no effect on a clustered NATS Streaming server: cluster_sync fsyncs both its Raft log and its store (give cluster_sync)")
	for i, k := range s.Faults.Kinds {
		check(slices.Contains(stanFaults, k), fmt.Sprintf("faults.kinds[%d]", i), "%q does not apply to NATS Streaming (it takes: %s)", k, strings.Join(stanFaults, ", "))
	}
	for i, st := range s.Timeline {
		check(slices.Contains(stanFaults, st.Fault), fmt.Sprintf("timeline[%d].fault", i), "%q does not apply to NATS Streaming (it takes: %s)", st.Fault, strings.Join(stanFaults, ", "))
	}
}
