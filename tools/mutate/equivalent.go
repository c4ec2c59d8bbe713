// The equivalence list (MUTANTS.md): survivors that change nothing
// observable.

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

type equivEntry struct {
	line                     int
	file, fn, expr, mutation string
	reason                   string
}

func (e *equivEntry) key() string {
	return fmt.Sprintf("`%s` `%s` `%s` `%s`", e.file, e.fn, e.expr, e.mutation)
}

var equivLine = regexp.MustCompile("^\\s*[-*]\\s+`([^`]+)`\\s+`([^`]+)`\\s+`([^`]+)`\\s+`([^`]+)`\\s*:?\\s*(.*)$")

// readEquiv parses the equivalence list; a missing file is an empty list.
func readEquiv(path string) ([]*equivEntry, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var entries []*equivEntry
	for i, line := range strings.Split(string(b), "\n") {
		m := equivLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		file, _, _ := strings.Cut(m[1], ":")
		e := &equivEntry{line: i + 1, file: filepath.Base(file), fn: m[2], expr: collapse(m[3]), mutation: normMutation(m[4]), reason: m[5]}
		if strings.TrimSpace(e.reason) == "" {
			return nil, fmt.Errorf("%s:%d: an equivalent mutant needs a reason", path, i+1)
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// normMutation accepts "->" for "→".
func normMutation(s string) string {
	return collapse(strings.ReplaceAll(s, "->", "→"))
}

func matchEquiv(entries []*equivEntry, m *mutant) *equivEntry {
	for _, e := range entries {
		if e.file == m.file && e.fn == m.fn && e.expr == m.expr && e.mutation == normMutation(m.mutation) {
			return e
		}
	}
	return nil
}
