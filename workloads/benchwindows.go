package workloads

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

const (
	benchWindowLen = time.Second
	// histMaxUs is the histograms' highest trackable value (60 s in µs);
	// larger latencies are recorded as 60 s.
	histMaxUs   = 60_000_000
	histSigFigs = 3
	// histRing is the number of dense (fast) histograms each recorder keeps
	// for its most recent windows; older windows are kept packed (sparse).
	histRing = 4
)

// benchWindows maps an offset from the run's start to a window index.
// Each step has ceil(duration/1s) windows, so windows never straddle
// steps; after the schedule, windows are one second long (step -1).
type benchWindows struct {
	stepStart []time.Duration // offset of each step
	stepFirst []int           // index of each step's first window
	end       time.Duration   // end of the schedule
	starts    []time.Duration // start of each schedule window
	steps     []int           // step of each schedule window
}

func newBenchWindows(steps []BenchStep) *benchWindows {
	bw := &benchWindows{}
	var off time.Duration
	for i, s := range steps {
		d := max(s.Duration, 0)
		bw.stepStart = append(bw.stepStart, off)
		bw.stepFirst = append(bw.stepFirst, len(bw.starts))
		for w := time.Duration(0); w < d; w += benchWindowLen {
			bw.starts = append(bw.starts, off+w)
			bw.steps = append(bw.steps, i)
		}
		off += d
	}
	bw.end = off
	return bw
}

func (bw *benchWindows) n() int { return len(bw.starts) }

func (bw *benchWindows) index(off time.Duration) int {
	if off < 0 {
		return 0
	}
	if off >= bw.end {
		return len(bw.starts) + int((off-bw.end)/benchWindowLen)
	}
	// The last step starting at or before off; among steps with the same
	// start (empty steps) that is the non-empty one.
	lo, hi := 0, len(bw.stepStart)
	for hi-lo > 1 {
		m := (lo + hi) / 2
		if bw.stepStart[m] <= off {
			lo = m
		} else {
			hi = m
		}
	}
	return bw.stepFirst[lo] + int((off-bw.stepStart[lo])/benchWindowLen)
}

func (bw *benchWindows) window(w int) (start time.Duration, step int) {
	if w < len(bw.starts) {
		return bw.starts[w], bw.steps[w]
	}
	return bw.end + time.Duration(w-len(bw.starts))*benchWindowLen, -1
}

// ---- per-goroutine recording ----

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, histMaxUs, histSigFigs) }

func toMicros(d time.Duration) int64 {
	us := d.Microseconds()
	if us < 1 {
		return 1
	}
	if us > histMaxUs {
		return histMaxUs
	}
	return us
}

// winHist holds one recorder's latencies per window. It is not safe for
// concurrent use. Recent windows are recorded into a small ring of dense
// histograms (a counts array index: fast); when a slot is reused its
// window moves into a packed (sparse) histogram, which also takes the
// rare record for a window older than the ring. A dense histogram of this
// range is ~140 KB, a packed one a few KB, so long runs stay small.
type winHist struct {
	dense  [histRing]*hdrhistogram.Histogram
	denseW [histRing]int
	packed map[int]*hdrhistogram.PackedHistogram
}

func (h *winHist) record(w int, d time.Duration) {
	us := toMicros(d)
	i := w % histRing
	if s := h.dense[i]; s != nil && h.denseW[i] == w {
		_ = s.RecordValue(us)
		return
	}
	s := h.dense[i]
	switch {
	case s == nil:
		s = newHist()
		h.dense[i] = s
	case h.denseW[i] < w:
		h.spill(h.denseW[i], s)
	default: // the slot holds a newer window: w is late
		_ = h.packedFor(w).RecordValue(us)
		return
	}
	h.denseW[i] = w
	_ = s.RecordValue(us)
}

func (h *winHist) packedFor(w int) *hdrhistogram.PackedHistogram {
	if h.packed == nil {
		h.packed = make(map[int]*hdrhistogram.PackedHistogram)
	}
	p := h.packed[w]
	if p == nil {
		p = hdrhistogram.NewPacked(1, histMaxUs, histSigFigs)
		h.packed[w] = p
	}
	return p
}

// spill moves a dense histogram's counts into the packed one of window w.
func (h *winHist) spill(w int, s *hdrhistogram.Histogram) {
	if s.TotalCount() > 0 {
		h.packedFor(w).MergeFrom(s)
		s.Reset()
	}
}

// flush moves everything into the packed histograms and frees the ring.
func (h *winHist) flush() {
	for i, s := range h.dense {
		if s != nil {
			h.spill(h.denseW[i], s)
			h.dense[i] = nil
		}
	}
}

func bump(s *[]int64, w int, n int64) {
	if w >= len(*s) {
		*s = append(*s, make([]int64, w+1-len(*s))...)
	}
	(*s)[w] += n
}
