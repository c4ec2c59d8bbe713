package history

import (
	"fmt"
	"strconv"
	"strings"
)

// The occ workload's ops (optimistic concurrency, event sourcing's append,
// issue 16): appends to per-entity subjects <stream>.entity.<K>, each with
// Nats-Expected-Last-Subject-Sequence, and reads of an entity's last
// message. An append is named like a queue value, "P-C", which is also
// the message's body and its CounterOpHeader header; the drains record
// each stored message as a read or node-read op whose Value is an
// OCCEntry's String (Expect from the stored header).
const (
	// FOCCAppend is one append: invoke, then ok (Seq the ack's
	// sequence), fail (definitely not stored; a wrong-last-sequence
	// answer in Err) or info; Value "K P-C Expect" in every phase.
	FOCCAppend = "occ-append"
	// FOCCRead reads an entity's last message from the stream leader:
	// invoke (Value "K"), then ok (Value "K P-C", "K -" when the entity
	// has no message; Seq its sequence, 0 for none) or info.
	FOCCRead = "occ-read"
)

// OCCEntry is an append: to entity K, named Op, expecting the entity's
// last sequence to be Expect (0: no message yet).
type OCCEntry struct {
	K      int
	Op     string
	Expect uint64
}

func (e OCCEntry) String() string { return fmt.Sprintf("%d %s %d", e.K, e.Op, e.Expect) }

// ParseOCCEntry reads an OCCEntry's String; a read's "K P-C" (or "K -")
// parses with Expect 0.
func ParseOCCEntry(s string) (OCCEntry, bool) {
	f := strings.Fields(s)
	if len(f) < 1 || len(f) > 3 {
		return OCCEntry{}, false
	}
	k, err := strconv.Atoi(f[0])
	if err != nil || k < 0 {
		return OCCEntry{}, false
	}
	e := OCCEntry{K: k}
	if len(f) > 1 {
		e.Op = f[1]
	}
	if len(f) == 3 {
		if e.Expect, err = strconv.ParseUint(f[2], 10, 64); err != nil {
			return OCCEntry{}, false
		}
	}
	return e, true
}
