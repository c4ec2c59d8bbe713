// Package histgen writes large synthetic queue histories, deterministic
// in their options, for benchmarks (tools/benchcheck) and tests of the
// checks at scale: a meta op, publishes by Clients processes at Rate per
// second as invoke+ok pairs (stream sequences in ack order), a kill fault
// every 30 s for 10 s, and the final drain's reads of every acknowledged
// value but Lost of them: a tenth at the start of the stream, a tenth at
// its end, the rest spread evenly over the middle eight tenths.
package histgen

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"
)

// Options shape a history.
type Options struct {
	Publishes int // publish invoke+ok pairs (the history has about 3 lines per publish)
	Lost      int // acknowledged values the drain does not read
	Clients   int // publishing processes (default 6)
	Rate      int // publishes per second (default 10,000)
	// Nodes, when > 0, read back each of that many nodes' own copies
	// after the drain (final.per_node): a node-read per value each, the
	// lost ones too (lost to clients, still on the replicas).
	Nodes int
}

// Expect is what a correct queue check finds in the history.
type Expect struct {
	Lost, Prefix, Middle, Postfix int
	FirstLost                     []string // the first lost values, in publish order (up to 10)
}

// Queue writes the history to w.
func Queue(w io.Writer, o Options) (Expect, error) {
	if o.Clients <= 0 {
		o.Clients = 6
	}
	if o.Rate <= 0 {
		o.Rate = 10_000
	}
	if o.Lost > o.Publishes {
		return Expect{}, fmt.Errorf("histgen: %d lost of %d publishes", o.Lost, o.Publishes)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	var idx int64
	b := make([]byte, 0, 256)
	node := ""
	line := func(process int, typ, fn, value string, seq uint64, t time.Duration) {
		b = b[:0]
		b = append(b, `{"index":`...)
		b = strconv.AppendInt(b, idx, 10)
		b = append(b, `,"process":`...)
		b = strconv.AppendInt(b, int64(process), 10)
		b = append(b, `,"type":"`...)
		b = append(b, typ...)
		b = append(b, `","f":"`...)
		b = append(b, fn...)
		b = append(b, '"')
		if value != "" {
			b = append(b, `,"value":`...)
			b = append(b, value...)
		}
		if node != "" {
			b = append(b, `,"node":"`...)
			b = append(b, node...)
			b = append(b, '"')
		}
		if seq > 0 {
			b = append(b, `,"seq":`...)
			b = strconv.AppendUint(b, seq, 10)
		}
		b = append(b, `,"time":`...)
		b = strconv.AppendInt(b, int64(t), 10)
		b = append(b, "}\n"...)
		bw.Write(b)
		idx++
	}
	const fault = `{"kind":"kill","nodes":["n2"],"for":"10s"}`
	line(-1, "ok", "meta", `{"workload":"queue","scenario":"histgen","seed":1,"server_version":"synthetic"}`, 0, time.Millisecond)
	// Which publishes (by position) are lost: a tenth first, a tenth
	// last, the rest evenly over the middle.
	lost := make([]bool, o.Publishes)
	pre, post := o.Lost/10, o.Lost/10
	mid := o.Lost - pre - post
	for i := range pre {
		lost[i] = true
	}
	for i := range post {
		lost[o.Publishes-1-i] = true
	}
	lo, span := o.Publishes/10, o.Publishes*8/10
	for k := range mid {
		lost[lo+k*span/mid] = true
	}
	var e Expect
	step := time.Second / time.Duration(o.Rate)
	t := 10 * time.Millisecond
	nextFault, faultEnd := 30*time.Second, time.Duration(0)
	value := func(i int) string { return strconv.Quote(fmt.Sprintf("%d-%d", i%o.Clients, i/o.Clients+1)) }
	for i := range o.Publishes {
		if faultEnd > 0 && t >= faultEnd {
			line(-2, "ok", "fault", fault, 0, t)
			faultEnd = 0
		}
		if t >= nextFault {
			line(-2, "invoke", "fault", fault, 0, t)
			faultEnd, nextFault = t+10*time.Second, nextFault+30*time.Second
		}
		v := value(i)
		line(i%o.Clients, "invoke", "publish", v, 0, t)
		line(i%o.Clients, "ok", "publish", v, uint64(i+1), t+time.Duration(500+rng.IntN(2500))*time.Microsecond)
		if lost[i] {
			e.Lost++
			if len(e.FirstLost) < 10 {
				e.FirstLost = append(e.FirstLost, v[1:len(v)-1])
			}
		}
		t += step
	}
	if faultEnd > 0 {
		line(-2, "ok", "fault", fault, 0, t)
	}
	// Prefix and postfix are per process: lost before its first read
	// value, or after its last.
	for p := range o.Clients {
		first, last := -1, -1
		for i := p; i < o.Publishes; i += o.Clients {
			if !lost[i] {
				if first < 0 {
					first = i
				}
				last = i
			}
		}
		for i := p; i < o.Publishes; i += o.Clients {
			switch {
			case !lost[i]:
			case first < 0 || i > last:
				e.Postfix++
			case i < first:
				e.Prefix++
			default:
				e.Middle++
			}
		}
	}
	t += time.Second
	line(-1, "invoke", "drain", "", 0, t)
	if o.Nodes > 0 {
		node = "n1"
	}
	for i := range o.Publishes {
		if !lost[i] {
			t += time.Microsecond
			line(-1, "ok", "read", value(i), uint64(i+1), t)
		}
	}
	node = ""
	line(-1, "ok", "drain", "", 0, t+time.Millisecond)
	for n := range o.Nodes {
		node = fmt.Sprintf("n%d", n+1)
		line(-1, "invoke", "node-drain", "", 0, t)
		for i := range o.Publishes {
			t += time.Microsecond
			line(-1, "ok", "node-read", value(i), uint64(i+1), t)
		}
		line(-1, "ok", "node-drain", "", 0, t)
		node = ""
	}
	line(-1, "invoke", "recover", "", 0, t+2*time.Millisecond)
	line(-1, "ok", "recover", "", 0, t+3*time.Millisecond)
	return e, bw.Flush()
}
