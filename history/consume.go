package history

import "time"

// The consume workload's ops (durable consumers under faults). The
// publishes, the final drain (what the stream still holds, for retention)
// and the per-node reads are the queue workload's ops; these add the
// consumer side. Process numbers of consumer clients start at
// ConsumerProcessBase, so they never collide with publishers'. A publish
// records its subject in Op.Subject, so the consumer check knows which
// consumers' filters it matches (without it, a filtered consumer's missing
// messages cannot be judged).
const (
	// FConsumer is recorded (ok) once per durable consumer when the
	// workload creates it; Value is a ConsumerConfig.
	FConsumer = "consumer"
	// FDeliver is one delivery to a consumer client (ok); Value is a
	// Delivery, Seq its stream sequence, Node the node the client is
	// pinned to.
	FDeliver = "deliver"
	// FAck is the client's reply to a delivery: invoke, then ok (sent, or
	// for a double ack confirmed by the server), fail (definitely not
	// applied: the server answered with an error) or info (unknown: a
	// timeout). Value is an Ack, Seq the stream sequence.
	FAck = "ack"
	// FConsumerState is a sample of a consumer's state (ok), taken every
	// second during the run and once per node at the end; Value is a
	// ConsumerState, Node the node that answered. The final ones (Final)
	// are one per durable from its leader once the consumers caught up
	// after the last publish, and, with the per-node drain, one per durable
	// per node from that node's /jsz after the drains.
	FConsumerState = "consumer-state"
	// FConsumerRestart marks a consumer client that stopped and attached
	// to its durable again (info: a scheduled restart, or after an error);
	// Value is the consumer name, Err the reason.
	FConsumerRestart = "consumer-restart"
	// FDeadLetter is one advisory captured in jetstorm's dead-letter stream
	// (ok, recorded at the end); Value is a DeadLetter. Advisories are
	// sent once and dropped when no one hears them: a missing one is its
	// own, weaker class.
	FDeadLetter = "dead-letter"
)

// ConsumerProcessBase is the first process number of consumer clients.
const ConsumerProcessBase = 1_000_000

// ConsumerConfig is the Value of an FConsumer op: what the checker needs
// to judge the consumer's deliveries.
type ConsumerConfig struct {
	Name          string `json:"name"`
	Filter        string `json:"filter,omitempty"` // filter subject; "" = the whole stream
	Retention     string `json:"retention"`        // the stream's: limits, workqueue, interest
	AckWaitMs     int64  `json:"ack_wait_ms"`
	MaxDeliver    int    `json:"max_deliver"` // -1: unlimited
	MaxAckPending int    `json:"max_ack_pending"`
	DeliverPolicy string `json:"deliver_policy"`           // all, by_start_sequence, by_start_time
	StartSeq      uint64 `json:"start_seq,omitempty"`      // by_start_sequence: the first sequence it must see
	Replicas      int    `json:"replicas"`                 // the consumer's own replicas (file-backed)
	Mode          string `json:"mode"`                     // pull or push
	DoubleAck     bool   `json:"double_ack,omitempty"`     // acks are confirmed by the server
	CreatedAtSeq  uint64 `json:"created_at_seq,omitempty"` // the stream's last sequence when created (deliver_policy new, replay checks)
	// StartTime (by_start_time) is the consumer's start time on the run's
	// clock (as Op.Time): it must see every message published (invoked) at
	// or after it.
	StartTime time.Duration `json:"start_time,omitempty"`
	// StallAfterMs (workload.stall_after) is how long the consumer may
	// receive nothing with messages pending, after the last fault, before
	// that is a stall.
	StallAfterMs int64 `json:"stall_after_ms,omitempty"`
	// The pinned workload's priority group (Priority "" for none):
	// Priority is pinned or overflow, Group the group's name, PinnedTTLMs
	// the server's pinned_ttl, PullExpiryMs each pull's expiry, MinPending
	// (overflow) the secondary members' min_pending, TakeoverSlackMs what
	// a takeover may take beyond pinned_ttl plus the pull expiry.
	Priority        string `json:"priority,omitempty"`
	Group           string `json:"group,omitempty"`
	PinnedTTLMs     int64  `json:"pinned_ttl_ms,omitempty"`
	PullExpiryMs    int64  `json:"pull_expiry_ms,omitempty"`
	MinPending      int64  `json:"min_pending,omitempty"`
	TakeoverSlackMs int64  `json:"takeover_slack_ms,omitempty"`
}

// Delivery is the Value of an FDeliver op.
type Delivery struct {
	Consumer     string `json:"consumer"`
	Value        string `json:"value"` // the published value (payload prefix)
	StreamSeq    uint64 `json:"stream_seq"`
	ConsumerSeq  uint64 `json:"consumer_seq"`
	NumDelivered uint64 `json:"num_delivered"` // the server's count, this delivery included
	NumPending   uint64 `json:"num_pending"`
	// PinID is the delivery's Nats-Pin-Id header (a pinned priority
	// group's current pin): "" when it had none.
	PinID string `json:"pin_id,omitempty"`
}

// Ack kinds: the reply a client gave to a delivery.
const (
	AckAck      = "ack"       // processed
	AckNak      = "nak"       // redeliver now
	AckNakDelay = "nak-delay" // redeliver after a delay
	AckTerm     = "term"      // never redeliver: dead-lettered
)

// Ack is the Value of an FAck op.
type Ack struct {
	Consumer    string `json:"consumer"`
	Kind        string `json:"kind"` // AckAck, AckNak, AckNakDelay, AckTerm
	Value       string `json:"value"`
	StreamSeq   uint64 `json:"stream_seq"`
	ConsumerSeq uint64 `json:"consumer_seq"` // of the delivery acked
	Double      bool   `json:"double,omitempty"`
	// DeliveredAfter (ok double acks only) is the consumer's delivered
	// consumer sequence read after the ack was confirmed: a later delivery
	// of this message with a higher consumer sequence is a redelivery after
	// a confirmed ack.
	DeliveredAfter uint64 `json:"delivered_after,omitempty"`
	DelayMs        int64  `json:"delay_ms,omitempty"` // nak-delay
}

// ConsumerState is the Value of an FConsumerState op.
type ConsumerState struct {
	Consumer      string `json:"consumer"`
	Leader        string `json:"leader,omitempty"`
	NumPending    uint64 `json:"num_pending"`
	NumAckPending int    `json:"num_ack_pending"`
	Delivered     uint64 `json:"delivered_stream_seq"`
	// DeliveredConsumer is the last consumer sequence the consumer sent:
	// it grows with every delivery and redelivery (0: not recorded).
	DeliveredConsumer uint64 `json:"delivered_consumer_seq,omitempty"`
	AckFloor          uint64 `json:"ack_floor_stream_seq"`
	Final             bool   `json:"final,omitempty"` // read from Node's own copy at the end
	Paused            bool   `json:"paused,omitempty"`
}

// DeadLetter is the Value of an FDeadLetter op.
type DeadLetter struct {
	Consumer   string `json:"consumer"`
	Kind       string `json:"kind"` // max_deliveries or terminated
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries uint64 `json:"deliveries,omitempty"`
}
