package history

import "strings"

// The mirror workload's ops (mirrors and sources, issue 23). The queue's
// publishers (FPublish) write to two origin streams, value "P-C" to
// origin C mod 2; one stream mirrors the first origin, another sources
// both.
const (
	// FMirrorRules names the streams at the start of the load (ok; Value
	// a MirrorRules).
	FMirrorRules = "mirror-rules"
	// FMirrorLag is one sample of how far the copies are behind: ok with
	// Value a MirrorLag, or info when a stream could not be read.
	FMirrorLag = "mirror-lag"
	// FStreamDrain brackets the final read of one stream: invoke (Value
	// its name), then ok (complete) or info.
	FStreamDrain = "stream-drain"
	// FStreamRead is one message of a stream's final read: ok, Value a
	// StreamEntry, Seq its sequence in that stream.
	FStreamRead = "stream-read"
)

// MirrorRules are the mirror workload's streams and how long after the
// last heal the copies must have caught up.
type MirrorRules struct {
	Origins         []string `json:"origins"` // origin i takes the values whose counter is i mod len
	Mirror          string   `json:"mirror"`  // mirrors Origins[0]
	Sourced         string   `json:"sourced"` // sources every origin
	ConvergeAfterMs int64    `json:"converge_after_ms"`
}

// MirrorLag is one sample: messages the mirror lacks of its origin (the
// origin's last sequence less the mirror's: a mirror keeps the origin's
// sequences) and the sourced stream of its origins (their message counts
// less its own), and the lag the server reports for each.
type MirrorLag struct {
	Mirror          int64  `json:"mirror"`
	Sourced         int64  `json:"sourced"`
	MirrorReported  uint64 `json:"mirror_reported"`
	SourcedReported uint64 `json:"sourced_reported"`
}

// StreamEntry is one message of a stream's final read: "stream value".
type StreamEntry struct {
	Stream, Value string
}

func (e StreamEntry) String() string { return e.Stream + " " + e.Value }

// ParseStreamEntry reads a StreamEntry's String.
func ParseStreamEntry(s string) (StreamEntry, bool) {
	st, v, ok := strings.Cut(s, " ")
	if !ok || st == "" || v == "" || strings.Contains(v, " ") {
		return StreamEntry{}, false
	}
	return StreamEntry{Stream: st, Value: v}, true
}
