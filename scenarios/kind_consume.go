package scenarios

import (
	"time"

	"jetstorm/checker"
	"jetstorm/history"
	"jetstorm/workloads"
)

// ConsumeOptions are the consume workload's own keys of the workload
// section. The number of durable consumers is the bench key `consumers`
// (the same *int), default 2. Fractions whose zero is meaningful are
// pointers, so a resolved scenario keeps an explicit 0.
type ConsumeOptions struct {
	ConsumerClients int      `yaml:"consumer_clients,omitempty"` // clients per durable; default 1
	Mode            string   `yaml:"mode,omitempty"`             // pull (default) | push
	AckWait         Duration `yaml:"ack_wait,omitempty"`         // default 5s
	MaxDeliver      int      `yaml:"max_deliver,omitempty"`      // default 5; -1: unlimited
	MaxAckPending   int      `yaml:"max_ack_pending,omitempty"`  // default 1000; -1: unlimited
	DoubleAck       *bool    `yaml:"double_ack,omitempty"`       // default true
	Retention       string   `yaml:"retention,omitempty"`        // limits (default) | workqueue | interest
	// Fractions of deliveries nak'd, nak'd with a 1 s delay, left unacked
	// (ack_wait expires) and term'd; the rest are acked.
	Nak          *float64 `yaml:"nak,omitempty"`           // default 0.02
	NakDelay     *float64 `yaml:"nak_delay,omitempty"`     // default 0.02
	NoAck        *float64 `yaml:"no_ack,omitempty"`        // default 0.01
	Term         *float64 `yaml:"term,omitempty"`          // default 0.005
	RestartEvery Duration `yaml:"restart_every,omitempty"` // clients re-attach this often; default 0: never
	// StallAfter: after the last fault, a consumer with messages pending
	// that receives nothing for this long is a stall; default 30s. It
	// must exceed ack_wait plus the nak delay (1s).
	StallAfter Duration `yaml:"stall_after,omitempty"`
	// DeliverPolicy by_start_sequence or by_start_time adds a durable
	// "replay", created replay_at into the run (default: half the
	// workload's duration), starting at half the stream's last sequence
	// then, or at half the time elapsed then; all (default): none.
	DeliverPolicy string   `yaml:"deliver_policy,omitempty"`
	ReplayAt      Duration `yaml:"replay_at,omitempty"`
}

// consumeKind: the queue workload's publishers plus durable consumers read
// during the faults (issue 13).
var consumeKind = &Kind{
	Defaults: consumeDefaults,
	Validate: consumeValidate,
	New:      newConsume,
	Checkers: func(CheckOptions) []checker.Checker {
		// Queue and per-node judge the publishers (skipped when the
		// stream's retention deletes what consumers acked); the consumer
		// checks judge the durables.
		return []checker.Checker{&checker.Queue{}, &checker.PerNode{}, &checker.Consumer{}, &checker.ConsumerReplicas{}}
	},
	Progress: []string{history.FDeliver},
}

func defaultPtr[T any](p **T, def T) {
	if *p == nil {
		*p = &def
	}
}

func consumeDefaults(s *Scenario) {
	w := &s.Workload.Consume
	defaultPtr(&s.Workload.Bench.Consumers, 2)
	setDefault(s, &w.ConsumerClients, "workload.consumer_clients", 1)
	setDefault(s, &w.Mode, "workload.mode", "pull")
	setDefault(s, &w.AckWait, "workload.ack_wait", Duration(5e9))
	setDefault(s, &w.MaxDeliver, "workload.max_deliver", 5)
	setDefault(s, &w.MaxAckPending, "workload.max_ack_pending", 1000)
	defaultPtr(&w.DoubleAck, true)
	setDefault(s, &w.Retention, "workload.retention", "limits")
	defaultPtr(&w.Nak, 0.02)
	defaultPtr(&w.NakDelay, 0.02)
	defaultPtr(&w.NoAck, 0.01)
	defaultPtr(&w.Term, 0.005)
	setDefault(s, &w.StallAfter, "workload.stall_after", Duration(30*time.Second))
	setDefault(s, &w.DeliverPolicy, "workload.deliver_policy", "all")
	if w.DeliverPolicy != "all" {
		setDefault(s, &w.ReplayAt, "workload.replay_at", s.Workload.Duration/2)
	}
}

func consumeValidate(s *Scenario, check checkFunc) {
	w := s.Workload.Consume
	d := *s.Workload.Bench.Consumers
	check(d >= 1 && d <= 100, "workload.consumers", "must be 1..100 durable consumers, got %d", d)
	check(w.ConsumerClients >= 1 && w.ConsumerClients <= 100, "workload.consumer_clients", "must be 1..100, got %d", w.ConsumerClients)
	check(w.Mode == "pull" || w.Mode == "push", "workload.mode", "must be pull or push, got %q", w.Mode)
	switch w.DeliverPolicy {
	case "all":
		check(w.ReplayAt == 0, "workload.replay_at", "needs deliver_policy by_start_sequence or by_start_time")
	case "by_start_sequence", "by_start_time":
		check(w.Retention != "workqueue", "workload.deliver_policy", "%s needs retention limits or interest: on a workqueue stream the replay durable's filter would overlap the others'", w.DeliverPolicy)
		check(w.ReplayAt > 0 && w.ReplayAt < s.Workload.Duration, "workload.replay_at", "(%s) must fall within the workload's duration (%s)", w.ReplayAt, s.Workload.Duration)
	default:
		check(false, "workload.deliver_policy", "must be all, by_start_sequence or by_start_time, got %q", w.DeliverPolicy)
	}
	check(w.AckWait > 0, "workload.ack_wait", "must be positive")
	check(w.StallAfter.D() > w.AckWait.D()+time.Second, "workload.stall_after", "(%s) must exceed ack_wait (%s) plus the nak delay (1s): a redelivery may take that long", w.StallAfter, w.AckWait)
	check(w.MaxDeliver >= 1 || w.MaxDeliver == -1, "workload.max_deliver", "must be at least 1, or -1 (unlimited), got %d", w.MaxDeliver)
	check(w.MaxAckPending >= 1 || w.MaxAckPending == -1, "workload.max_ack_pending", "must be at least 1, or -1 (unlimited), got %d", w.MaxAckPending)
	check(w.Retention == "limits" || w.Retention == "workqueue" || w.Retention == "interest",
		"workload.retention", "must be limits, workqueue or interest, got %q", w.Retention)
	sum := 0.0
	for _, kf := range []struct {
		key string
		f   float64
	}{{"nak", *w.Nak}, {"nak_delay", *w.NakDelay}, {"no_ack", *w.NoAck}, {"term", *w.Term}} {
		check(kf.f >= 0 && kf.f <= 1, "workload."+kf.key, "must be a fraction 0..1, got %v", kf.f)
		sum += kf.f
	}
	check(sum <= 1, "workload.nak", "nak + nak_delay + no_ack + term must not exceed 1, got %v", sum)
	check(w.RestartEvery >= 0, "workload.restart_every", "must not be negative")
}

func newConsume(s *Scenario, o RunOptions) workloads.Workload {
	w, c := s.Workload, s.Workload.Consume
	return workloads.NewConsume(workloads.ConsumeOptions{
		Queue: workloads.QueueOptions{
			Replicas: s.Stream.Replicas, Memory: s.Stream.Storage == "memory", Stream: s.stream,
			Clients: w.Clients, Rate: w.Rate, Duration: w.Duration.D(),
			Payload: w.Payload.Bytes(), Timeout: w.Timeout.D(), Retention: c.Retention, Connections: w.Connections,
		},
		Durables: *w.Bench.Consumers, ClientsPer: c.ConsumerClients,
		AckWait: c.AckWait.D(), MaxDeliver: c.MaxDeliver, MaxAckPending: c.MaxAckPending,
		DoubleAck: *c.DoubleAck, Nak: *c.Nak, NakDelay: *c.NakDelay, NoAck: *c.NoAck, Term: *c.Term,
		Push: c.Mode == "push", ReplayAt: c.ReplayAt.D(), Replay: c.DeliverPolicy,
		RestartEvery: c.RestartEvery.D(), CatchUp: s.Final.DrainTimeout.D(), Seed: s.seed(), StallAfter: c.StallAfter.D(), Hide: o.ConsumeHide,
	})
}
