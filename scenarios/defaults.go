package scenarios

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"jetstorm/faults"
)

// serverDefaultSyncInterval is nats-server's default jetstream sync_interval.
const serverDefaultSyncInterval = 2 * time.Minute

// SyncIntervalLabel is the sync interval for humans: "always", "1s", or the
// server default marked "(default)".
func (c Cluster) SyncIntervalLabel() string {
	if c.stan() { // no sync_interval: its own fsync settings
		o := c.stanOptions()
		if c.Nodes > 1 {
			return fmt.Sprintf("n/a (NATS Streaming: cluster_sync %t)", o.ClusterSync)
		}
		return fmt.Sprintf("n/a (NATS Streaming: file_sync %t)", o.FileSync)
	}
	if c.Backend == "external" { // configured by whoever runs it: not known here
		return "unknown (external cluster)"
	}
	if c.SyncInterval.IsZero() {
		return serverDefaultSyncInterval.String() + " (default)"
	}
	return c.SyncInterval.String()
}

// given reports whether key was written with a non-null value: an explicit
// zero ("nodes: 0") is then validated rather than replaced by the default.
func (s *Scenario) given(key string) bool {
	_, ok := s.pos[key]
	return ok
}

func setDefault[T comparable](s *Scenario, v *T, key string, def T) {
	var zero T
	if *v == zero && !s.given(key) {
		*v = def
	}
}

func (s *Scenario) fillDefaults() {
	if s.Name == "" && s.File != "" {
		base := filepath.Base(s.File)
		s.Name = strings.TrimSuffix(base, filepath.Ext(base))
	}
	c, st, w, f, fin := &s.Cluster, &s.Stream, &s.Workload, &s.Faults, &s.Final
	setDefault(s, &c.Backend, "cluster.backend", "process")
	setDefault(s, &c.System, "cluster.system", "jetstream")
	if c.stan() {
		if c.STAN == nil {
			c.STAN = &STANSection{}
		}
	}
	if c.Backend == "external" {
		if !s.given("cluster.nodes") {
			c.Nodes = len(c.URLs)
		}
		setDefault(s, &c.LostAfter, "cluster.lost_after", Duration(60*time.Second))
	}
	setDefault(s, &c.Nodes, "cluster.nodes", 3)
	// max(…, 1) keeps an invalid nodes from also producing a replicas error.
	setDefault(s, &st.Replicas, "stream.replicas", min(3, max(c.Nodes, 1)))
	setDefault(s, &st.Storage, "stream.storage", "file")
	setDefault(s, &st.Compression, "stream.compression", "none")
	setDefault(s, &w.Type, "workload.type", "queue")
	setDefault(s, &w.Clients, "workload.clients", 6)
	setDefault(s, &w.Rate, "workload.rate", 500)
	setDefault(s, &w.Duration, "workload.duration", Duration(60*time.Second))
	setDefault(s, &w.Payload, "workload.payload", 128)
	setDefault(s, &w.Timeout, "workload.timeout", Duration(5*time.Second))
	if k := s.kind(); k != nil && k.Defaults != nil {
		k.Defaults(s)
	}
	setDefault(s, &s.Check.Timeout, "check.timeout", Duration(60*time.Second))
	setDefault(s, &f.Interval, "faults.interval", Duration(10*time.Second))
	if !s.given("faults.downtime") && s.given("faults.duration") {
		f.Downtime = f.Duration // "duration" is another name for downtime
	}
	f.Duration = 0 // the resolved scenario says downtime only, so it loads again
	setDefault(s, &f.Downtime, "faults.downtime", Duration(5*time.Second))
	f.Params = faults.FillRandom(f.Params) // the kinds' own defaults (delay 50ms)
	if m := f.Mix; m != nil {
		setDefault(s, &m.Period, "faults.mix.period", Duration(2*time.Minute))
		setDefault(s, &m.Kinds, "faults.mix.kinds", 2)
		setDefault(s, &m.Quiet, "faults.mix.quiet", 0.25)
	}
	for i := range s.Timeline {
		setDefault(s, &s.Timeline[i].For, fmt.Sprintf("timeline[%d].for", i), Duration(5*time.Second))
	}
	if !s.given("cluster.link_proxies") {
		c.LinkProxies = s.needs().Links
	}
	if !s.given("cluster.client_links") {
		c.ClientLinks = s.needs().ClientLinks
	}
	if !s.given("cluster.powerloss_fs") {
		c.PowerLossFS = s.needs().PowerFS
	}
	setDefault(s, &c.Writeback, "cluster.writeback", Duration(30*time.Second))
	if !s.given("final.per_node") {
		s.Final.PerNode = st.Replicas > 1 && !c.stan() // NATS Streaming: no replica's copy can be read
	}
	if len(f.Kinds) > 0 && len(f.Targets) == 0 && !s.given("faults.targets") {
		f.Targets = []faults.Target{"one"}
	}
	setDefault(s, &fin.Recover, "final.recover", Duration(20*time.Second))
	setDefault(s, &fin.DrainTimeout, "final.drain_timeout", Duration(60*time.Second))
}
