package history

import (
	"fmt"
	"strconv"
	"strings"
)

// The counter workload's ops (distributed counters, issue 16). An
// increment is named like a queue value, "P-C"; it adds Incr to counter
// K (subject <stream>.counter.<K>), and the stream stores each increment
// as a message with its Nats-Incr header and the running total as its
// body. The drains record each stored increment as a read or node-read op
// whose Value is a CounterEntry's String.
const (
	// FCounterAdd is one increment: invoke (Value "K P-C Incr"), then ok
	// (Value "K P-C Incr Total", Total the ack's; Seq the ack's sequence),
	// fail or info (Value as the invoke's).
	FCounterAdd = "counter-add"
	// FCounterFinal is a counter's value after the drain, as the stream
	// leader answers it (ok; Value a CounterEntry "K final 0 Total"; Seq
	// its last sequence; no op when the counter has no message).
	FCounterFinal = "counter-final"
)

// CounterOpHeader names the increment ("P-C") a counter message came from.
const CounterOpHeader = "Jetstorm-Op"

// CounterEntry is one increment: published (Total unknown until acked)
// or stored.
type CounterEntry struct {
	K     int
	Op    string // "P-C"; "?" for a stored message without CounterOpHeader
	Incr  int64
	Total int64
	// HasTotal: Total is known (an ack, a stored message).
	HasTotal bool
}

func (e CounterEntry) String() string {
	s := fmt.Sprintf("%d %s %d", e.K, e.Op, e.Incr)
	if e.HasTotal {
		s += " " + strconv.FormatInt(e.Total, 10)
	}
	return s
}

// ParseCounterEntry reads a CounterEntry's String.
func ParseCounterEntry(s string) (CounterEntry, bool) {
	f := strings.Fields(s)
	if len(f) != 3 && len(f) != 4 {
		return CounterEntry{}, false
	}
	var e CounterEntry
	var err1, err2, err3 error
	e.K, err1 = strconv.Atoi(f[0])
	e.Op = f[1]
	e.Incr, err2 = strconv.ParseInt(f[2], 10, 64)
	if len(f) == 4 {
		e.Total, err3 = strconv.ParseInt(f[3], 10, 64)
		e.HasTotal = true
	}
	if err1 != nil || err2 != nil || err3 != nil || e.K < 0 {
		return CounterEntry{}, false
	}
	return e, true
}
