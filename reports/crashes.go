package reports

import (
	"fmt"
	"io"
	"strings"

	"jetstorm/checker"
)

// summaryCrashes prints every server crash, right under the verdict: a
// crash is why a run is invalid even when no write was lost.
func (r *Results) summaryCrashes(w io.Writer) {
	for _, c := range r.Crashes {
		label := "CRASH"
		if c.Known != "" {
			label = "known crash"
		}
		fmt.Fprintf(w, "  %s %s (%s)\n", label, c.Title(), c.Log)
		for _, f := range c.Stack {
			fmt.Fprintf(w, "        %s\n", f)
		}
		if c.Known != "" {
			fmt.Fprintf(w, "        matches check.known_crashes %q: reported, not an anomaly\n", c.Known)
		}
	}
}

// summaryLogWarnings prints, per node, the known-bad warnings its log shows.
func (r *Results) summaryLogWarnings(w io.Writer) {
	for _, n := range checker.SortedNodes(r.NodeLogs) {
		nl := r.NodeLogs[n]
		if len(nl.Warnings) == 0 {
			continue
		}
		var ws []string
		for _, x := range nl.Warnings {
			ws = append(ws, fmt.Sprintf("%s ×%d", x.Name, x.Count))
		}
		fmt.Fprintf(w, "  node %s log (%d starts): known-bad warnings: %s\n", n, nl.Starts, strings.Join(ws, ", "))
	}
}

// logHref is the log file of a "nodes/n2/n2.log:57" location, for a link.
func logHref(loc string) string {
	if i := strings.LastIndexByte(loc, ':'); i > 0 {
		return loc[:i]
	}
	return loc
}
