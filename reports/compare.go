package reports

import (
	"cmp"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"jetstorm/stats"
)

// runFigures are the numbers Compare compares for one run directory.
type runFigures struct {
	Verdict          string
	Throughput       float64 // acked per second
	P50, P99, P999   float64 // publish → ack, ms
	Lost             int
	HasLost, HasLat  bool
	ThroughputSource string
}

// figuresOf reads dir/results.json and, if present, dir/bench.json. With
// bench.json (or else results.json's bench.steps), throughput is the acked throughput over all steps (each
// step's ack_throughput weighted by its duration) and each latency
// percentile is the highest of the steps' publish → ack percentiles (the
// worst step: percentiles of different steps cannot be merged exactly).
// Without it they come from results.json. A directory needs at least one
// of the two files.
func figuresOf(dir string) (runFigures, error) {
	var f runFigures
	var res *Results
	var bench *stats.BenchResult
	if err := readOptional(filepath.Join(dir, "results.json"), &res); err != nil {
		return f, err
	}
	if err := readOptional(filepath.Join(dir, BenchFile), &bench); err != nil {
		return f, err
	}
	if res == nil && bench == nil {
		return f, fmt.Errorf("compare: %s: %w", filepath.Join(dir, "results.json"), fs.ErrNotExist)
	}
	if res != nil {
		f.Verdict = string(res.Verdict)
		f.Throughput, f.ThroughputSource = res.ThroughputAckedPerS, "results.json"
		l := res.PublishLatencyMs
		f.P50, f.P99, f.P999, f.HasLat = l.P50, l.P99, l.P999, l.Count > 0
		if res.Queue != nil {
			f.Lost, f.HasLost = res.Queue.Lost, true
		}
	}
	var steps []stats.BenchStepResult
	switch {
	case bench != nil:
		steps, f.ThroughputSource = bench.Steps, BenchFile
	case res != nil && res.Bench != nil && len(res.Bench.Steps) > 0:
		steps, f.ThroughputSource = res.Bench.Steps, "results.json bench"
	}
	if steps != nil {
		var acked, secs float64
		f.P50, f.P99, f.P999, f.HasLat = 0, 0, 0, false
		for _, s := range steps {
			d := s.Duration.Seconds()
			acked += s.AckThroughput * d
			secs += d
			if s.PubAck.Count > 0 {
				f.HasLat = true
				f.P50, f.P99, f.P999 = math.Max(f.P50, s.PubAck.P50), math.Max(f.P99, s.PubAck.P99), math.Max(f.P999, s.PubAck.P999)
			}
		}
		f.Throughput = 0
		if secs > 0 {
			f.Throughput = acked / secs
		}
	}
	return f, nil
}

// Compare compares the candidate run directory cand against the baseline
// base. It returns a printable side-by-side table (verdict, throughput,
// publish → ack p50/p99/p99.9, lost; deltas in %) and whether the
// candidate regressed: its verdict differs from the baseline's, or its
// throughput is lower by more than maxThroughputDrop (a fraction: 0.10 is
// 10 %), or its p99 is higher by more than maxP99Rise (a fraction). A
// negative limit disables that test; a baseline figure of 0 cannot be
// compared and never regresses. The table ends with one line per reason.
func Compare(base, cand string, maxThroughputDrop, maxP99Rise float64) (table string, regressed bool, err error) {
	b, err := figuresOf(base)
	if err != nil {
		return "", false, err
	}
	c, err := figuresOf(cand)
	if err != nil {
		return "", false, err
	}
	var rows [][]string
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	verdictDelta := ""
	if b.Verdict != c.Verdict {
		verdictDelta = "CHANGED"
	}
	rows = append(rows, []string{"", "base", "candidate", "delta"},
		[]string{"verdict", dash(b.Verdict), dash(c.Verdict), verdictDelta})
	row := func(name string, bv, cv float64, prec int, ok bool) {
		if !ok {
			rows = append(rows, []string{name, "-", "-", ""})
			return
		}
		rows = append(rows, []string{name, fmtF(bv, prec), fmtF(cv, prec), pctDelta(bv, cv)})
	}
	row("throughput acked/s", b.Throughput, c.Throughput, 1, true)
	row("p50 ms", b.P50, c.P50, 3, b.HasLat || c.HasLat)
	row("p99 ms", b.P99, c.P99, 3, b.HasLat || c.HasLat)
	row("p99.9 ms", b.P999, c.P999, 3, b.HasLat || c.HasLat)
	if b.HasLost || c.HasLost {
		rows = append(rows, []string{"lost", strconv.Itoa(b.Lost), strconv.Itoa(c.Lost), fmt.Sprintf("%+d", c.Lost-b.Lost)})
	}
	var sb strings.Builder
	writeTable(&sb, rows)

	var reasons []string
	if b.Verdict != c.Verdict {
		reasons = append(reasons, fmt.Sprintf("verdict changed from %s to %s", dash(b.Verdict), dash(c.Verdict)))
	}
	if maxThroughputDrop >= 0 && b.Throughput > 0 {
		if drop := (b.Throughput - c.Throughput) / b.Throughput; drop > maxThroughputDrop {
			reasons = append(reasons, fmt.Sprintf("throughput dropped %.1f%% (limit %.1f%%)", drop*100, maxThroughputDrop*100))
		}
	}
	if maxP99Rise >= 0 && b.P99 > 0 && c.HasLat {
		if rise := (c.P99 - b.P99) / b.P99; rise > maxP99Rise {
			reasons = append(reasons, fmt.Sprintf("p99 rose %.1f%% (limit %.1f%%)", rise*100, maxP99Rise*100))
		}
	}
	for _, r := range reasons {
		sb.WriteString("REGRESSION: " + r + "\n")
	}
	if len(reasons) == 0 {
		sb.WriteString("no regression\n")
	}
	return sb.String(), len(reasons) > 0, nil
}

// writeTable writes rows with the first column left-aligned and the others
// right-aligned, two spaces apart.
func writeTable(sb *strings.Builder, rows [][]string) {
	var w []int
	for _, r := range rows {
		for i, c := range r {
			if i >= len(w) {
				w = append(w, 0)
			}
			w[i] = max(w[i], utf8.RuneCountInString(c))
		}
	}
	for _, r := range rows {
		var line strings.Builder
		for i, c := range r {
			pad := strings.Repeat(" ", w[i]-utf8.RuneCountInString(c))
			if i == 0 {
				line.WriteString(c + pad)
			} else {
				line.WriteString("  " + pad + c)
			}
		}
		sb.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
}

func pctDelta(b, c float64) string {
	switch {
	case b == c:
		return "+0.0%"
	case b == 0:
		return "n/a"
	}
	return fmt.Sprintf("%+.1f%%", (c-b)/b*100)
}

// MinRuns is the fewest runs a side CompareRuns takes: with 3 a side no
// two-sided rank test reaches p < 0.1 (the most extreme ordering has
// p = 2/20), with 4 it can reach 2/70 ≈ 0.029.
const MinRuns = 4

// CompareOptions are a multi-run comparison's limits: a regression needs
// a change past the limit (a fraction; negative: off) of the medians
// that the rank test finds significant at Alpha.
type CompareOptions struct {
	MaxThroughputDrop, MaxP99Rise float64
	Alpha                         float64 // default 0.05
}

// CompareRuns compares several independent runs of the baseline with
// several of the candidate (at least MinRuns a side), as benchstat does:
// per figure, the medians, their delta, and the Mann-Whitney U test's
// p-value over the runs (the per-second windows of one run are
// autocorrelated and are not samples). The candidate regressed when a
// run's verdict differs from the baseline runs' verdict, or its throughput
// median is lower by more than MaxThroughputDrop with p < Alpha, or its
// p99 median higher by more than MaxP99Rise with p < Alpha. A change past
// the limit that the test does not find significant is reported, not
// judged a regression: it may be noise.
func CompareRuns(base, cand []string, o CompareOptions) (table string, regressed bool, err error) {
	if len(base) < MinRuns || len(cand) < MinRuns {
		return "", false, fmt.Errorf("compare: %d baseline and %d candidate runs: give at least %d a side (with 3 a side no two-sided rank test reaches p < 0.1)",
			len(base), len(cand), MinRuns)
	}
	if o.Alpha <= 0 {
		o.Alpha = 0.05
	}
	read := func(dirs []string) ([]runFigures, error) {
		var fs []runFigures
		for _, d := range dirs {
			f, err := figuresOf(d)
			if err != nil {
				return nil, err
			}
			fs = append(fs, f)
		}
		return fs, nil
	}
	b, err := read(base)
	if err != nil {
		return "", false, err
	}
	c, err := read(cand)
	if err != nil {
		return "", false, err
	}
	col := func(fs []runFigures, get func(runFigures) float64) []float64 {
		var v []float64
		for _, f := range fs {
			v = append(v, get(f))
		}
		return v
	}
	verdicts := func(fs []runFigures) string {
		n := map[string]int{}
		for _, f := range fs {
			n[cmp.Or(f.Verdict, "-")]++
		}
		var parts []string
		for _, v := range slices.Sorted(maps.Keys(n)) {
			parts = append(parts, fmt.Sprintf("%s ×%d", v, n[v]))
		}
		return strings.Join(parts, ", ")
	}
	rows := [][]string{{"", fmt.Sprintf("base (median of %d)", len(b)), fmt.Sprintf("candidate (median of %d)", len(c)), "delta", "p"},
		{"verdicts", verdicts(b), verdicts(c), "", ""}}
	type figure struct {
		name  string
		get   func(runFigures) float64
		prec  int
		limit float64
		worse float64 // +1: higher is worse, -1: lower is worse
	}
	var reasons, notes []string
	for _, fg := range []figure{
		{"throughput acked/s", func(f runFigures) float64 { return f.Throughput }, 1, o.MaxThroughputDrop, -1},
		{"p50 ms", func(f runFigures) float64 { return f.P50 }, 3, -1, 1},
		{"p99 ms", func(f runFigures) float64 { return f.P99 }, 3, o.MaxP99Rise, 1},
		{"p99.9 ms", func(f runFigures) float64 { return f.P999 }, 3, -1, 1},
	} {
		bv, cv := col(b, fg.get), col(c, fg.get)
		bm, cm := stats.Median(bv), stats.Median(cv)
		p := stats.MannWhitney(bv, cv)
		delta := "~"
		if p < o.Alpha {
			delta = pctDelta(bm, cm)
		}
		rows = append(rows, []string{fg.name, fmtF(bm, fg.prec), fmtF(cm, fg.prec), delta, fmt.Sprintf("%.3f", p)})
		if fg.limit < 0 || bm <= 0 {
			continue
		}
		change := fg.worse * (cm - bm) / bm
		if change <= fg.limit {
			continue
		}
		what := "rose"
		if fg.worse < 0 {
			what = "dropped"
		}
		msg := fmt.Sprintf("%s median %s %.1f%% (limit %.1f%%; p=%.3f, n=%d+%d)", strings.Fields(fg.name)[0], what, change*100, fg.limit*100, p, len(b), len(c))
		if p < o.Alpha {
			reasons = append(reasons, msg)
		} else {
			notes = append(notes, msg+": not significant at alpha "+strconv.FormatFloat(o.Alpha, 'g', -1, 64)+", not judged")
		}
	}
	want := verdictOf(b)
	for i, f := range c {
		if f.Verdict != want {
			reasons = append(reasons, fmt.Sprintf("verdict of %s is %s, the baseline runs' %s", cand[i], cmp.Or(f.Verdict, "-"), cmp.Or(want, "-")))
		}
	}
	var sb strings.Builder
	writeTable(&sb, rows)
	sb.WriteString("(delta: of the medians, shown when the rank test finds the runs differ, p < " + strconv.FormatFloat(o.Alpha, 'g', -1, 64) + "; ~: no significant difference)\n")
	for _, n := range notes {
		sb.WriteString("note: " + n + "\n")
	}
	for _, r := range reasons {
		sb.WriteString("REGRESSION: " + r + "\n")
	}
	if len(reasons) == 0 {
		sb.WriteString("no regression\n")
	}
	return sb.String(), len(reasons) > 0, nil
}

// verdictOf is the baseline runs' verdict: the most common one (ties:
// the first in name order).
func verdictOf(fs []runFigures) string {
	n := map[string]int{}
	for _, f := range fs {
		n[f.Verdict]++
	}
	best := ""
	for _, v := range slices.Sorted(maps.Keys(n)) {
		if n[v] > n[best] || best == "" {
			best = v
		}
	}
	return best
}
