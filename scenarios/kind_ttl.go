package scenarios

import (
	"time"

	"jetstorm/checker"
	"jetstorm/history"
	"jetstorm/workloads"
)

// TTLOptions are the ttl workload's own keys of the workload section.
// workload.rate is messages per second; workload.slack (shared with the
// schedule workload) how long past its TTL a message may still be seen,
// default 10s: with delete markers a replica expires a message when the
// stream leader's marker reaches it, and electing a leader takes
// nats-server up to 9 s (its Raft election timeout is 4..9 s).
type TTLOptions struct {
	// TTLs are the per-message TTLs, drawn at random; whole seconds, at
	// least 1s. Default [5s, 10s].
	TTLs []Duration `yaml:"ttls,omitempty"`
	// NeverEvery: every n-th message of a client gets no TTL and must
	// stay (a control); default 10, 0 none.
	NeverEvery *int `yaml:"never_every,omitempty"`
	// MarkerTTL > 0 turns on subject delete markers with this TTL (whole
	// seconds, at most the shortest TTL: the server raises shorter ones);
	// default 0, off; the KV API needs it.
	MarkerTTL Duration `yaml:"marker_ttl,omitempty"`
	// API: stream (Nats-TTL publishes; default) or kv (a KV bucket's
	// per-key TTLs).
	API string `yaml:"api,omitempty"`
	// MaxAge > 0 is the stream's max_age (with api: kv, the bucket's TTL):
	// messages without a TTL or with a longer one go at max_age instead;
	// whole seconds, default 0 (none).
	MaxAge Duration `yaml:"max_age,omitempty"`
	// ProbeInterval is how often every node's own copy is read; default 1s.
	ProbeInterval Duration `yaml:"probe_interval,omitempty"`
}

// ttlKind: messages with a TTL must be gone from every replica by their
// TTL (plus workload.slack, less a replica's down time) and never before;
// markers appear where configured; replicas agree at the end (issue 21).
var ttlKind = &Kind{
	Defaults: func(s *Scenario) {
		t := &s.Workload.TTL
		if !s.given("workload.rate") {
			s.Workload.Rate = 20
		}
		if len(t.TTLs) == 0 && !s.given("workload.ttls") {
			t.TTLs = []Duration{Duration(5 * time.Second), Duration(10 * time.Second)}
		}
		defaultPtr(&t.NeverEvery, 10)
		setDefault(s, &t.API, "workload.api", "stream")
		setDefault(s, &t.ProbeInterval, "workload.probe_interval", Duration(time.Second))
		setDefault(s, &s.Workload.Slack, "workload.slack", Duration(10*time.Second))
	},
	Validate: func(s *Scenario, check checkFunc) {
		t := s.Workload.TTL
		check(len(t.TTLs) > 0, "workload.ttls", "must list at least one TTL")
		for i, d := range t.TTLs {
			check(d >= Duration(time.Second) && d.D()%time.Second == 0 && d <= Duration(time.Hour), "workload.ttls", "ttls[%d] must be whole seconds, 1s..1h, got %s", i, d)
			check(t.MarkerTTL == 0 || d >= t.MarkerTTL, "workload.ttls", "ttls[%d] (%s) is below marker_ttl (%s): the server would raise it", i, d, t.MarkerTTL)
		}
		check(*t.NeverEvery >= 0, "workload.never_every", "must not be negative")
		check(t.MaxAge == 0 || (t.MaxAge >= Duration(time.Second) && t.MaxAge.D()%time.Second == 0 && t.MaxAge >= t.MarkerTTL), "workload.max_age", "must be 0 (none) or whole seconds, at least 1s and at least marker_ttl, got %s", t.MaxAge)
		check(t.MarkerTTL == 0 || (t.MarkerTTL >= Duration(time.Second) && t.MarkerTTL.D()%time.Second == 0), "workload.marker_ttl", "must be 0 (off) or whole seconds, at least 1s, got %s", t.MarkerTTL)
		check(t.API == "stream" || t.API == "kv", "workload.api", "must be stream or kv, got %q", t.API)
		check(t.API != "kv" || t.MarkerTTL > 0, "workload.marker_ttl", "api: kv needs marker_ttl (a bucket takes per-key TTLs only with limit markers)")
		check(t.ProbeInterval >= Duration(100*time.Millisecond), "workload.probe_interval", "must be at least 100ms, got %s", t.ProbeInterval)
		check(s.Workload.Slack > 0, "workload.slack", "must be positive")
	},
	New: func(s *Scenario, o RunOptions) workloads.Workload {
		w := newTTL(s)
		w.Sent = o.TTLSent
		return w
	},
	Duration: func(s *Scenario) time.Duration {
		return s.Workload.Duration.D() + newTTL(s).Tail()
	},
	Checkers: func(CheckOptions) []checker.Checker {
		return []checker.Checker{&checker.TTL{}}
	},
	Progress: []string{history.FTTLPut},
}

func newTTL(s *Scenario) *workloads.TTL {
	t := s.Workload.TTL
	return workloads.NewTTL(workloads.TTLOptions{
		Queue: queueBase(s), TTLs: durations(t.TTLs), NeverEvery: *t.NeverEvery, MarkerTTL: t.MarkerTTL.D(), MaxAge: t.MaxAge.D(),
		KV: t.API == "kv", Slack: s.Workload.Slack.D(), ProbeInterval: t.ProbeInterval.D(), Seed: s.seed(),
	})
}

// durations are a list of scenario durations as time.Durations.
func durations(ds []Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.D()
	}
	return out
}
