package reports

import (
	"fmt"
	"image/color"
	"math"
	"regexp"
	"sort"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

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

// publish is one publish invoke and its outcome.
type publish struct {
	t     time.Duration
	index int64
	value string
	out   history.OpType // OK, Fail or Info ("" when it never completed)
}

// publishes pairs publish invokes with their completions, per process.
func publishes(ops []history.Op) []publish {
	var ps []publish
	open := map[int]int{} // process -> index into ps
	for _, op := range ops {
		if op.F != history.FPublish {
			continue
		}
		if op.Type == history.Invoke {
			open[op.Process] = len(ps)
			ps = append(ps, publish{t: op.Time, index: op.Index, value: op.ValueString()})
			continue
		}
		if i, ok := open[op.Process]; ok {
			ps[i].out = op.Type
			delete(open, op.Process)
		}
	}
	return ps
}

func classify(p publish, read map[string]bool) uint8 {
	switch p.out {
	case history.OK:
		if read[p.value] {
			return stOK
		}
		return stLost
	case history.Fail:
		return stFailed
	}
	return stUnknown
}

var nodeFileSafe = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

func (r *run) lossFigures() []figure {
	pubs := publishes(r.ops)
	if len(pubs) == 0 {
		return nil
	}
	read := map[string]bool{}
	nodeRead := map[string]map[string]bool{}
	drained := false
	nodeDrained := map[string]bool{}
	for _, op := range r.ops {
		switch {
		case op.F == history.FRead && op.Type == history.OK:
			read[op.ValueString()] = true
		case op.F == history.FDrain && op.Type == history.OK:
			drained = true
		case op.F == history.FNodeRead && op.Node != "":
			if nodeRead[op.Node] == nil {
				nodeRead[op.Node] = map[string]bool{}
			}
			if op.Type == history.OK {
				nodeRead[op.Node][op.ValueString()] = true
			}
		case op.F == history.FNodeDrain && op.Node != "":
			if nodeRead[op.Node] == nil {
				nodeRead[op.Node] = map[string]bool{}
			}
			if op.Type == history.OK {
				nodeDrained[op.Node] = true
			}
		}
	}
	lostWord := "lost: acked, never read by the final drain"
	if !drained {
		lostWord = "acked, unread (drain incomplete: not proven lost)"
	}
	figs := []figure{r.lossFigure("loss", "Publishes by outcome (a red streak is a window of lost acked writes)",
		"publishes by outcome, stacked per second of invoke time", lostWord, pubs, read)}
	for _, n := range sortedKeys(nodeRead) {
		w := "lost on " + n + ": acked, not read from " + n
		if !nodeDrained[n] {
			w = "acked, not read from " + n + " (node drain incomplete)"
		}
		figs = append(figs, r.lossFigure("loss-"+nodeFileSafe.ReplaceAllString(n, "_"), "Publishes by outcome on node "+n,
			"node "+n+": publishes by outcome, stacked per second of invoke time", w, pubs, nodeRead[n]))
	}
	return figs
}

func (r *run) lossFigure(name, caption, title, lostWord string, pubs []publish, read map[string]bool) figure {
	cols := map[int64][]publish{}
	for _, p := range pubs {
		s := secondOf(p.t)
		cols[s] = append(cols[s], p)
	}
	lc := &lossColumns{}
	var counts [nStatus]int
	for _, s := range sortedInt64Keys(cols) {
		ps := cols[s]
		sort.SliceStable(ps, func(i, j int) bool {
			if ps[i].t != ps[j].t {
				return ps[i].t < ps[j].t
			}
			return ps[i].index < ps[j].index
		})
		col := lossColumn{sec: s, st: make([]uint8, len(ps))}
		for i, p := range ps {
			col.st[i] = classify(p, read)
			counts[col.st[i]]++
		}
		lc.cols = append(lc.cols, col)
		lc.maxN = max(lc.maxN, len(ps))
	}
	p := r.timePlot(title, "publishes in that second (stacked)")
	p.Add(lc)
	names := [nStatus]string{"ok (acked, read)", "failed", "unknown (info)", lostWord}
	for _, st := range []uint8{stOK, stLost, stUnknown, stFailed} {
		if counts[st] > 0 { // no entry, no colour: a run without loss has no red
			p.Legend.Add(fmt.Sprintf("%s: %d", names[st], counts[st]), swatch{statusColor[st]})
		}
	}
	r.finishTime(p)
	p.Y.Min, p.Y.Max = 0, float64(lc.maxN)*1.35+1
	return single(name, caption, p)
}

func sortedInt64Keys[V any](m map[int64]V) []int64 {
	ks := make([]int64, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i] < ks[j] })
	return ks
}

// lossColumns draws one column per second: publish i of the second is the
// cell [i, i+1) of the column, coloured by outcome. Runs of one outcome
// merge into one rectangle; lost cells are drawn last, at least 1.5 points
// high, so a single lost write among thousands still shows.
type lossColumns struct {
	cols []lossColumn
	maxN int
}

type lossColumn struct {
	sec int64
	st  []uint8
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
	for _, pass := range []uint8{stOK, stFailed, stUnknown, stLost} {
		for _, col := range l.cols {
			x0, x1 := trX(float64(col.sec)+0.1), trX(float64(col.sec)+0.9)
			if x1 < x0+vg.Points(1) {
				x1 = x0 + vg.Points(1)
			}
			cell := trY(1) - trY(0)
			gap := vg.Length(0)
			if cell >= vg.Points(4) { // sparse: draw each publish as its own brick
				gap = cell * 0.15
			}
			for i := 0; i < len(col.st); {
				j := i + 1
				if gap == 0 {
					for j < len(col.st) && col.st[j] == col.st[i] {
						j++
					}
				}
				if col.st[i] == pass {
					y0, y1 := trY(float64(i)), trY(float64(j))-gap
					if y1 < y0+minH && pass == stLost {
						y1 = y0 + minH
					}
					c.FillPolygon(statusColor[pass], c.ClipPolygonXY([]vg.Point{{X: x0, Y: y0}, {X: x0, Y: y1}, {X: x1, Y: y1}, {X: x1, Y: y0}}))
				}
				i = j
			}
		}
	}
}
