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

// classify colours one publish: an acked one is lost when its value is in
// lost.
func classify(p history.Call, lost map[string]bool) uint8 {
	switch p.Outcome {
	case history.OK:
		if lost[p.Value] {
			return stLost
		}
		return stOK
	case history.Fail:
		return stFailed
	}
	return stUnknown
}

var nodeFileSafe = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// lossFigures draws the publishes by outcome, against the final drain and
// against each node's own copy. Which acked values are lost comes from the
// checkers' sections of results.json (queue, per_node) whenever their list
// of lost values is complete; those lists are capped, so past the cap, or
// without the section, the lost values are found from the history's reads.
func (r *run) lossFigures() []figure {
	pubs := history.PublishPairs(r.ops)
	if len(pubs) == 0 {
		return nil
	}
	var hr *historyReads // only read when a checker's list does not do
	reads := func() *historyReads {
		if hr == nil {
			hr = readsOf(r.ops)
		}
		return hr
	}
	var lost map[string]bool
	var drained bool
	if q := r.res.Queue; q != nil {
		drained = q.DrainComplete
		if len(q.LostValues) == q.Lost {
			lost = setOf(q.LostValues)
		}
	} else {
		drained = reads().drained
	}
	if lost == nil {
		lost = unread(pubs, reads().read)
	}
	lostWord := "lost: acked, never read by the final drain"
	if !drained {
		lostWord = "acked, unread (drain incomplete: not proven lost)"
	}
	figs := []figure{r.lossFigure("loss", "Publishes by outcome (a red streak is a window of lost acked writes)",
		"publishes by outcome, stacked per second of invoke time", lostWord, pubs, lost)}
	nodes := sortedKeys(r.res.PerNode)
	if r.res.PerNode == nil {
		nodes = sortedKeys(reads().node)
	}
	for _, n := range nodes {
		ns, ok := r.res.PerNode[n]
		var lostOn map[string]bool
		complete := ns.Complete
		if ok && len(ns.LostValues) == ns.Lost {
			lostOn = setOf(ns.LostValues)
		} else {
			lostOn = unread(pubs, reads().node[n])
			complete = reads().nodeDrained[n]
		}
		w := "lost on " + n + ": acked, not read from " + n
		if !complete {
			w = "acked, not read from " + n + " (node drain incomplete)"
		}
		figs = append(figs, r.lossFigure("loss-"+nodeFileSafe.ReplaceAllString(n, "_"), "Publishes by outcome on node "+n,
			"node "+n+": publishes by outcome, stacked per second of invoke time", w, pubs, lostOn))
	}
	return figs
}

// historyReads is what the history's reads hold: the values the final
// drain read, and those read from each node's own copy.
type historyReads struct {
	read        map[string]bool
	drained     bool
	node        map[string]map[string]bool
	nodeDrained map[string]bool
}

func readsOf(ops []history.Op) *historyReads {
	hr := &historyReads{read: map[string]bool{}, node: map[string]map[string]bool{}, nodeDrained: map[string]bool{}}
	for _, op := range ops {
		switch {
		case op.F == history.FRead && op.Type == history.OK:
			hr.read[op.ValueString()] = true
		case op.F == history.FDrain && op.Type == history.OK:
			hr.drained = true
		case op.F == history.FNodeRead && op.Node != "":
			if hr.node[op.Node] == nil {
				hr.node[op.Node] = map[string]bool{}
			}
			if op.Type == history.OK {
				hr.node[op.Node][op.ValueString()] = true
			}
		case op.F == history.FNodeDrain && op.Node != "":
			if hr.node[op.Node] == nil {
				hr.node[op.Node] = map[string]bool{}
			}
			if op.Type == history.OK {
				hr.nodeDrained[op.Node] = true
			}
		}
	}
	return hr
}

// unread is the values of the acked publishes not in read.
func unread(pubs []history.Call, read map[string]bool) map[string]bool {
	lost := map[string]bool{}
	for _, p := range pubs {
		if p.Outcome == history.OK && !read[p.Value] {
			lost[p.Value] = true
		}
	}
	return lost
}

func setOf(vs []string) map[string]bool {
	m := make(map[string]bool, len(vs))
	for _, v := range vs {
		m[v] = true
	}
	return m
}

func (r *run) lossFigure(name, caption, title, lostWord string, pubs []history.Call, lost map[string]bool) figure {
	cols := map[int64][]history.Call{}
	for _, p := range pubs {
		s := secondOf(p.Start)
		cols[s] = append(cols[s], p)
	}
	lc := &lossColumns{}
	var counts [nStatus]int
	for _, s := range sortedInt64Keys(cols) {
		ps := cols[s]
		sort.SliceStable(ps, func(i, j int) bool {
			if ps[i].Start != ps[j].Start {
				return ps[i].Start < ps[j].Start
			}
			return ps[i].Index < ps[j].Index
		})
		col := lossColumn{sec: s, st: make([]uint8, len(ps))}
		for i, p := range ps {
			col.st[i] = classify(p, lost)
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
