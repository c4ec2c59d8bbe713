package reports

import (
	"fmt"
	"image/color"
	"math"
	"regexp"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"jetstorm/checker"
	"jetstorm/history"
)

// Outcomes of a publish in the loss plot, in drawing order: lost last so
// that it is never hidden.
const (
	stOK uint8 = iota
	stFailed
	stUnknown
	stLost
	nStatus
)

var statusColor = [nStatus]color.Color{colOK, colFailed, colUnknown, colLost}

var nodeFileSafe = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// lossFigures draws the publishes by outcome, against the final drain and
// against each node's own copy. Which acked values are lost comes from the
// checkers' sections of results.json (queue, per_node) whenever their list
// of lost values is complete; those lists are capped, so past the cap, or
// without the section, the lost values are those the history's reads
// missed.
func (r *run) lossFigures() []figure {
	if r.d == nil {
		return nil
	}
	l := &r.d.loss
	v := l.view.V
	if v.Acked == 0 && len(l.bad) == 0 {
		return nil
	}
	var lost func(int32) bool
	drained := l.drained
	if q := r.res.Queue; q != nil {
		drained = q.DrainComplete
		if len(q.LostValues) == q.Lost {
			lost = l.setOf(q.LostValues)
		}
	}
	if lost == nil {
		lost = func(id int32) bool { return v.Reads(id) == 0 }
	}
	lostWord := "lost: acked, never read by the final drain"
	if !drained {
		lostWord = "acked, unread (drain incomplete: not proven lost)"
	}
	figs := []figure{r.lossFigure("loss", "Publishes by outcome (a red streak is a window of lost acked writes)",
		"publishes by outcome, stacked per second of invoke time", lostWord, lost)}
	read := map[string]checker.ValuesNode{}
	for _, n := range v.Nodes() {
		read[n.Name] = n
	}
	nodes := sortedKeys(r.res.PerNode)
	if r.res.PerNode == nil {
		nodes = sortedKeys(read)
	}
	for _, n := range nodes {
		ns, ok := r.res.PerNode[n]
		var lostOn func(int32) bool
		complete := ns.Complete
		if ok && len(ns.LostValues) == ns.Lost {
			lostOn = l.setOf(ns.LostValues)
		} else {
			has := read[n].Has
			lostOn = func(id int32) bool { return !has.Has(id) }
			complete = read[n].Complete
		}
		w := "lost on " + n + ": acked, not read from " + n
		if !complete {
			w = "acked, not read from " + n + " (node drain incomplete)"
		}
		figs = append(figs, r.lossFigure("loss-"+nodeFileSafe.ReplaceAllString(n, "_"), "Publishes by outcome on node "+n,
			"node "+n+": publishes by outcome, stacked per second of invoke time", w, lostOn))
	}
	return figs
}

// setOf is membership of the values vs (those with no id were never acked).
func (l *lossTally) setOf(vs []string) func(int32) bool {
	var b history.Bitset
	for _, s := range vs {
		if id, ok := l.view.V.IDs.Lookup(s); ok {
			b.Add(id)
		}
	}
	return b.Has
}

// lossFigure stacks each second's publishes by part of the second (in
// order), then by outcome: ok, failed, unknown, lost.
func (r *run) lossFigure(name, caption, title, lostWord string, lost func(int32) bool) figure {
	l := &r.d.loss
	counts := map[uint32]*[nStatus]int{}
	at := func(slot uint32) *[nStatus]int {
		c := counts[slot]
		if c == nil {
			c = new([nStatus]int)
			counts[slot] = c
		}
		return c
	}
	// Each acked value at the slot its first publish started in.
	v := l.view.V
	for p := range v.Processes() {
		for id, slot := range v.ProcessStarts(p) {
			switch {
			case !v.OK(id): // not acked
			case lost(id):
				at(slot)[stLost]++
			default:
				at(slot)[stOK]++
			}
		}
	}
	for slot, b := range l.bad {
		at(slot)[stFailed] += b[0]
		at(slot)[stUnknown] += b[1]
	}
	slots := make([]uint32, 0, len(counts))
	for s := range counts {
		slots = append(slots, s)
	}
	sort.Slice(slots, func(i, j int) bool { return slots[i] < slots[j] })
	lc := &lossColumns{}
	var total [nStatus]int
	for _, slot := range slots {
		sec := secondOfSlot(slot)
		if len(lc.cols) == 0 || lc.cols[len(lc.cols)-1].sec != sec {
			lc.cols = append(lc.cols, lossColumn{sec: sec})
		}
		col := &lc.cols[len(lc.cols)-1]
		for st, n := range counts[slot] {
			if n == 0 {
				continue
			}
			total[st] += n
			col.n += n
			if k := len(col.runs); k > 0 && col.runs[k-1].st == uint8(st) {
				col.runs[k-1].n += n
			} else {
				col.runs = append(col.runs, lossRun{uint8(st), n})
			}
		}
		lc.maxN = max(lc.maxN, col.n)
	}
	p := r.timePlot(title, "publishes in that second (stacked)")
	p.Add(lc)
	names := [nStatus]string{"ok (acked, read)", "failed", "unknown (info)", lostWord}
	for _, st := range []uint8{stOK, stLost, stUnknown, stFailed} {
		if total[st] > 0 { // no entry, no colour: a run without loss has no red
			p.Legend.Add(fmt.Sprintf("%s: %d", names[st], total[st]), swatch{statusColor[st]})
		}
	}
	r.finishTime(p)
	p.Y.Min, p.Y.Max = 0, float64(lc.maxN)*1.35+1
	return single(name, caption, p)
}

// lossColumns draws one column per second: its publishes stacked in
// runs of one outcome (lossFigure's order), each publish a cell of height
// 1. Lost cells are drawn last, at least 1.5 points high, so a single
// lost write among thousands still shows; when cells are large, each
// publish is its own brick.
type lossColumns struct {
	cols []lossColumn
	maxN int
}

type lossColumn struct {
	sec  int64
	runs []lossRun
	n    int
}

type lossRun struct {
	st uint8
	n  int
}

func (l *lossColumns) DataRange() (xmin, xmax, ymin, ymax float64) {
	if len(l.cols) == 0 {
		return math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	}
	return float64(l.cols[0].sec), float64(l.cols[len(l.cols)-1].sec + 1), 0, float64(l.maxN)
}

func (l *lossColumns) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	minH := vg.Points(1.5)
	fill := func(pass uint8, x0, x1, y0, y1 vg.Length) {
		if y1 < y0+minH && pass == stLost {
			y1 = y0 + minH
		}
		c.FillPolygon(statusColor[pass], c.ClipPolygonXY([]vg.Point{{X: x0, Y: y0}, {X: x0, Y: y1}, {X: x1, Y: y1}, {X: x1, Y: y0}}))
	}
	for _, pass := range []uint8{stOK, stFailed, stUnknown, stLost} {
		for _, col := range l.cols {
			x0, x1 := trX(float64(col.sec)+0.1), trX(float64(col.sec)+0.9)
			if x1 < x0+vg.Points(1) {
				x1 = x0 + vg.Points(1)
			}
			cell := trY(1) - trY(0)
			bricks := cell >= vg.Points(4) // sparse: draw each publish as its own brick
			i := 0
			for _, run := range col.runs {
				if run.st == pass {
					if bricks {
						for k := i; k < i+run.n; k++ {
							fill(pass, x0, x1, trY(float64(k)), trY(float64(k+1))-cell*0.15)
						}
					} else {
						fill(pass, x0, x1, trY(float64(i)), trY(float64(i+run.n)))
					}
				}
				i += run.n
			}
		}
	}
}
