package history

import (
	"fmt"
	"strconv"
	"strings"
)

// The batch workload's ops (atomic batch publish, issue 16). A batch is
// named like a queue value, "P-C" (process P's C-th op), and holds N
// messages whose bodies are "P-C:I/N", I from 1 to N, all published to one
// subject. The final drain and the per-node drains record them as the
// queue workload's read and node-read ops, with those strings as Value.
const (
	// FBatch is one batch publish: invoke, then ok (its commit was acked;
	// Seq is the ack's sequence, the batch's last message), fail (it was
	// definitely not stored: the server refused it, or its commit was
	// never sent) or info (unknown). Value is BatchName(id, n) for every
	// phase. A batch of one ("P-C/1") is a plain publish, without batch
	// headers (the workload's mixed-in single publishes).
	FBatch = "batch-publish"
	// Reads made during the run by the batch workload's readers, one per
	// read path (ok; Value the message read, "P-C:I/N"; Seq its sequence;
	// Node the node the reader is pinned to). The server isolates the
	// get paths from batches being committed; a consumer may see a
	// prefix of one (nats-server's stream.go, isolateMu).
	FReadGet      = "read-get"      // STREAM.MSG.GET of the subject's last message (the stream leader answers)
	FReadDirect   = "read-direct"   // DIRECT.GET of the subject's last message (any replica answers)
	FReadConsumer = "read-consumer" // a message an ordered consumer delivered
)

// ReaderProcessBase is the first process number of the batch workload's
// readers (reader k is ReaderProcessBase+k).
const ReaderProcessBase = 2_000_000

// BatchName is the Value of an FBatch op: the batch id and its size.
func BatchName(id string, n int) string { return id + "/" + strconv.Itoa(n) }

// ParseBatchName splits an FBatch op's Value; ok false when malformed.
func ParseBatchName(s string) (id string, n int, ok bool) {
	i := strings.LastIndexByte(s, '/')
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(s[i+1:])
	if err != nil || n < 1 {
		return "", 0, false
	}
	return s[:i], n, true
}

// BatchMsg is the body of message i (1-based) of batch id of n messages.
func BatchMsg(id string, i, n int) string { return fmt.Sprintf("%s:%d/%d", id, i, n) }

// ParseBatchMsg splits a message body made by BatchMsg; ok false when it
// is not one (a value some other client wrote).
func ParseBatchMsg(s string) (id string, i, n int, ok bool) {
	c := strings.LastIndexByte(s, ':')
	if c <= 0 {
		return "", 0, 0, false
	}
	id, n, ok = ParseBatchName(s[c+1:])
	if !ok {
		return "", 0, 0, false
	}
	i, err := strconv.Atoi(id)
	if err != nil || i < 1 || i > n {
		return "", 0, 0, false
	}
	return s[:c], i, n, true
}
