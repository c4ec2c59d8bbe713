package history

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The ttl and schedule workloads' ops (promises about time, issue 21).
// A message is named like a queue value, "P-C", and goes to a subject of
// its own ending in that name, so a subject's delete marker or a
// schedule's firings name it too.
const (
	// FTTLPut publishes one message (or creates one KV key) with a TTL:
	// invoke (Value a TTLEntry "P-C TTL", TTL in whole seconds, 0 for one
	// that never expires), then ok (Seq the ack's), fail or info.
	FTTLPut = "ttl-put"
	// FTTLGet reads one message back through the API (the stream leader's
	// last message on its subject, or the KV key): invoke (Value "P-C"),
	// then ok with Value "P-C present", "P-C absent" or "P-C marker" (a
	// delete marker stands on its subject), or info.
	FTTLGet = "ttl-get"
	// FTTLProbe reads one node's own copy during the run: invoke (Node),
	// then ok with Value the copy's tokens (TTLTokens), or info.
	FTTLProbe = "ttl-probe"
	// FTimeRules records the promises' rules at the start of the load
	// (ok; Value a TimeRules), so that a saved history is checked alone.
	FTimeRules = "time-rules"
	// FScheduleAdd publishes one schedule: invoke (Value a ScheduleEntry),
	// then ok (Seq the ack's), fail or info.
	FScheduleAdd = "schedule-add"
)

// TimeRules are the ttl and schedule workloads' rules.
type TimeRules struct {
	SlackMs     int64 `json:"slack_ms"`
	MarkerTTLMs int64 `json:"marker_ttl_ms,omitempty"` // ttl: delete markers' TTL, 0 off
	ToleranceMs int64 `json:"tolerance_ms,omitempty"`  // schedule: how far from its time a firing may land
}

// TTLEntry is one message of the ttl workload.
type TTLEntry struct {
	Op  string // "P-C"
	TTL int    // seconds; 0: never expires
}

func (e TTLEntry) String() string { return e.Op + " " + strconv.Itoa(e.TTL) }

// ParseTTLEntry reads a TTLEntry's String.
func ParseTTLEntry(s string) (TTLEntry, bool) {
	op, ttl, ok := strings.Cut(s, " ")
	n, err := strconv.Atoi(ttl)
	if !ok || err != nil || n < 0 || op == "" || strings.ContainsAny(op, " !") {
		return TTLEntry{}, false
	}
	return TTLEntry{Op: op, TTL: n}, true
}

// The tokens a read of a copy records of each message: its name for a
// message, MarkerPrefix and the name for a delete marker on its subject,
// ForeignPrefix and the subject for anything else.
const (
	MarkerPrefix  = "!"
	ForeignPrefix = "?"
)

// TTLTokens are a probe's tokens, space-separated.
func TTLTokens(s string) []string { return strings.Fields(s) }

// ScheduleEntry is one schedule: @at (Every 0) fires once at At; @every
// fires every Every from its publish on. At is since the run's start, as
// op times are (the header sent holds it as a UTC time in whole seconds).
type ScheduleEntry struct {
	Op    string
	At    time.Duration
	Every time.Duration
}

func (e ScheduleEntry) String() string {
	if e.Every > 0 {
		return fmt.Sprintf("%s every %s", e.Op, e.Every)
	}
	return fmt.Sprintf("%s at %d", e.Op, e.At.Nanoseconds())
}

// ParseScheduleEntry reads a ScheduleEntry's String.
func ParseScheduleEntry(s string) (ScheduleEntry, bool) {
	f := strings.Fields(s)
	if len(f) != 3 || strings.ContainsAny(f[0], "!?@") {
		return ScheduleEntry{}, false
	}
	e := ScheduleEntry{Op: f[0]}
	switch f[1] {
	case "at":
		n, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return ScheduleEntry{}, false
		}
		e.At = time.Duration(n)
	case "every":
		d, err := time.ParseDuration(f[2])
		if err != nil || d <= 0 {
			return ScheduleEntry{}, false
		}
		e.Every = d
	default:
		return ScheduleEntry{}, false
	}
	return e, true
}

// Firing is what the drains record of a schedule's firing: "P-C@T", T
// the stored message's time since the run's start, in nanoseconds.
func Firing(op string, at time.Duration) string {
	return op + "@" + strconv.FormatInt(at.Nanoseconds(), 10)
}

// ParseFiring reads a Firing.
func ParseFiring(s string) (op string, at time.Duration, ok bool) {
	op, t, ok := strings.Cut(s, "@")
	n, err := strconv.ParseInt(t, 10, 64)
	if !ok || err != nil || op == "" || strings.ContainsAny(op, " !?") {
		return "", 0, false
	}
	return op, time.Duration(n), true
}
