// The revision check of Linearizable (part 1 of the comment at the top of
// linearizable.go): OK gets and writes against each other, by revision.

package checker

import (
	"fmt"

	"jetstorm/history"
)

// revMismatches checks OK gets and writes against each other by revision.
func revMismatches(calls []*kvCall, st *LinearizableStats) {
	report := func(format string, args ...any) {
		st.RevMismatchCount++
		if len(st.RevMismatches) < maxLinExamples {
			st.RevMismatches = append(st.RevMismatches, fmt.Sprintf(format, args...))
		}
	}
	writeAt := map[uint64]*kvCall{}
	writtenRev := map[string]uint64{}
	for _, c := range calls {
		if c.f == history.FKVGet || c.typ != history.OK || c.rev == 0 {
			continue
		}
		if w := writeAt[c.rev]; w != nil {
			report("rev %d acked for two writes: %q (op %d) and %q (op %d)", c.rev, w.value, w.done, c.value, c.done)
			continue
		}
		writeAt[c.rev] = c
		writtenRev[c.value] = c.rev
	}
	readAt := map[uint64]*kvCall{}
	for _, c := range calls {
		if c.f != history.FKVGet || c.typ != history.OK || c.rev == 0 {
			continue
		}
		if w := writeAt[c.rev]; w != nil {
			if w.value != c.outValue || w.key != c.key {
				report("read value %q of key %s at rev %d (op %d), but rev %d wrote %q to key %s (op %d)", c.outValue, c.key, c.rev, c.done, c.rev, w.value, w.key, w.done)
			}
			continue
		}
		if r, ok := writtenRev[c.outValue]; ok {
			report("read value %q at rev %d (op %d), but %q was written at rev %d", c.outValue, c.rev, c.done, c.outValue, r)
			continue
		}
		if g := readAt[c.rev]; g != nil {
			if g.outValue != c.outValue || g.key != c.key {
				report("read value %q of key %s at rev %d (op %d), but op %d read %q of key %s at rev %d", c.outValue, c.key, c.rev, c.done, g.done, g.outValue, g.key, c.rev)
			}
			continue
		}
		readAt[c.rev] = c
	}
}
