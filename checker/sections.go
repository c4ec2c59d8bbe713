package checker

// Sections are the checkers' own sections of results.json, with exactly
// the keys results.json has (reports.Results embeds it). Each check's
// Details fills in its part; a section no check filled is left out.
type Sections struct {
	Crashes  []Crash              `json:"crashes,omitempty"`   // crashes check: server crashes (known ones marked)
	NodeLogs map[string]NodeLog   `json:"node_logs,omitempty"` // crashes check: starts, known-bad warnings per node
	Queue    *QueueStats          `json:"queue,omitempty"`
	PerNode  map[string]NodeStats `json:"per_node,omitempty"`
	// Disagreements (per-node check) says how the replicas differ.
	Disagreements []string `json:"disagreements,omitempty"`
	// UnrecoveredNodes names each node that was not healthy after the final
	// heal, with its last health error.
	UnrecoveredNodes map[string]string `json:"unrecovered_nodes,omitempty"`
	// Consumers (consumer check) is each durable consumer's deliveries,
	// acks and anomalies, by name.
	Consumers map[string]ConsumerStats `json:"consumers,omitempty"`
	// ConsumerReplicas (consumer-replicas check) is each durable
	// consumer's final state on every replica.
	ConsumerReplicas ConsumerReplicaStats `json:"consumer_replicas,omitempty"`
	// Batches (atomic check) are the batch workload's batches: outcomes,
	// what the drain and every replica hold, the reads during the run.
	Batches *AtomicStats `json:"batches,omitempty"`
	// Counters (counter check) are the counter workload's increments and
	// each counter's chain, on the drain's copy and every replica's.
	Counters *CounterStats `json:"counters,omitempty"`
	// OCC (occ check) are the occ workload's appends, their logs and
	// linearizability.
	OCC *OCCStats `json:"occ,omitempty"`
	// TTL (ttl check) are the ttl workload's messages: what expired, how
	// late, early or lost, on every node.
	TTL *TTLStats `json:"ttl,omitempty"`
	// Schedules (schedule check) are the schedule workload's schedules
	// and their firings.
	Schedules *ScheduleStats `json:"schedules,omitempty"`
	// Watch (watch check) are the watch workload's puts and what each
	// watcher saw of them.
	Watch *WatchStats `json:"watch,omitempty"`
	// Objects (objects check) are the objects workload's puts, deletes
	// and reads: torn, mismatched, lost or resurrected objects, garbage.
	Objects *ObjectsStats `json:"objects,omitempty"`
	// Mirrors (mirror check) are the mirror workload's origins, copies
	// and lag.
	Mirrors *MirrorStats `json:"mirrors,omitempty"`
	// Pinned (pinned check) is the pinned workload's priority group: its
	// members, pins, pin changes and takeover times, and the anomalies.
	Pinned *PinnedStats `json:"pinned,omitempty"`
	// Membership (replicas check) is each membership change's end: who
	// left, who came back, the stream's replica count after.
	Membership MembershipChanges `json:"membership,omitempty"`

	// HarnessErrors are errors a check found in the harness rather than in
	// the system (e.g. a crashed keeper in the node logs). They are no
	// section of their own: results.json lists them with the run's errors.
	HarnessErrors []string `json:"-"`
}

// Details is a check's checker-specific data (Result.Details), for reports
// and tests. AddTo puts what results.json shows of it into s.
type Details interface {
	AddTo(s *Sections)
}

// AddTo sets the queue section.
func (q QueueStats) AddTo(s *Sections) { s.Queue = &q }

// AddTo sets the per-node sections: per_node and disagreements.
func (p PerNodeStats) AddTo(s *Sections) {
	s.PerNode, s.Disagreements = p.Nodes, p.Disagreements
}

// AddTo sets membership.
func (m MembershipChanges) AddTo(s *Sections) { s.Membership = m }

// AddTo sets unrecovered_nodes.
func (r RecoveryStats) AddTo(s *Sections) { s.UnrecoveredNodes = r.Unrecovered }

// AddTo sets crashes and node_logs, and adds the harness errors found in
// the logs.
func (l LogStats) AddTo(s *Sections) {
	s.Crashes, s.NodeLogs = l.Crashes, l.Nodes
	s.HarnessErrors = append(s.HarnessErrors, l.Errors...)
}

// AddTo adds nothing: results.json shows the linearizability check only
// as its result (the timeline is history.html).
func (LinearizableStats) AddTo(*Sections) {}
