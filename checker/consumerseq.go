package checker

// Consumer sequences reused: each delivery (and redelivery) of a consumer
// gets the next consumer sequence, so one sequence naming two different
// stream sequences means the consumer's delivered pointer went back: its
// state was rolled back (a power loss of every replica, F6), or a new
// leader did not have its predecessor's last deliveries. Reported, not a
// verdict (the server does not promise unique consumer sequences across a
// failover); it also warns that checks judged by consumer sequence
// (redelivered-after-ack) may pair a delivery with the wrong ack.

import "jetstorm/history"

// noteCseq records which stream sequence d's consumer sequence named.
func (c *consumer) noteCseq(d history.Delivery, idx int64) {
	if d.ConsumerSeq == 0 {
		return
	}
	first, ok := c.cseqs[d.ConsumerSeq]
	if !ok {
		c.cseqs[d.ConsumerSeq] = cseqUse{seq: d.StreamSeq, idx: idx}
		return
	}
	if first.seq != d.StreamSeq {
		addEx(&c.s.ConsumerSeqReused, &c.s.ConsumerSeqReusedExamples, "consumer seq %d named stream seq %d (op %d), then stream seq %d (op %d, %s)",
			d.ConsumerSeq, first.seq, first.idx, d.StreamSeq, idx, d.Value)
	}
}

// cseqUse is the first delivery with a consumer sequence.
type cseqUse struct {
	seq uint64
	idx int64
}
