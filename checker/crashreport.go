// Go crash reports in a node log (a panic, a "fatal error:", a data race):
// gathered line by line into a Crash with its message and first frames.

package checker

import (
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

const (
	maxStackFrames = 5   // frames reported per crash
	maxCrashLines  = 400 // lines of a crash report read (the rest: other goroutines)
)

var goroutineRE = regexp.MustCompile(`^goroutine \d+.*\[.*\]:$`)

// crashBlock gathers the lines of one crash report as they come.
type crashBlock struct {
	kind        string
	msg         []string
	lines       []string // the report after the message lines
	start, line int
	time        time.Time
	race        bool
	done        bool
}

// beginCrash starts a block at a line that begins a Go crash report.
func beginCrash(line string) *crashBlock {
	switch {
	case strings.HasPrefix(line, "panic: "):
		return &crashBlock{kind: "panic", msg: []string{line}}
	case strings.HasPrefix(line, "fatal error: "):
		return &crashBlock{kind: "fatal error", msg: []string{line}}
	case strings.TrimSpace(line) == "WARNING: DATA RACE":
		return &crashBlock{kind: "data race", msg: []string{"WARNING: DATA RACE"}, race: true}
	}
	return nil
}

// add takes the next line; false when the line is not part of the report
// (it is then read as an ordinary line).
func (b *crashBlock) add(line string) bool {
	if b.done {
		return false
	}
	if logLineRE.MatchString(line) {
		return false // the server logging again (a data race does not stop it)
	}
	if b.race && strings.HasPrefix(line, "==================") {
		b.done = true
		return true
	}
	// Right after the message line, the runtime prints the further lines
	// of a multi-line panic value or error (indented by a tab), re-panics
	// ("\tpanic: ...") and the signal of a fault.
	if len(b.lines) == 0 && !b.race && (strings.HasPrefix(line, "\t") || strings.HasPrefix(line, "[signal ")) {
		b.msg = append(b.msg, strings.TrimSpace(line))
		return true
	}
	if len(b.lines) < maxCrashLines {
		b.lines = append(b.lines, line)
	}
	return true
}

// crash makes the Crash: message, the first frames, and the raw text that
// KnownCrashes match.
func (b *crashBlock) crash() Crash {
	c := Crash{Kind: b.kind}
	var raw []string
	var frames []string
	if b.race {
		// "Write at 0x... by goroutine 8:" then "  func()" / "      file:line"
		// pairs; a blank line; "Previous read at ...:" and its frames; ...
		var heads []string
		first := true
		for i, l := range b.lines {
			t := strings.TrimSpace(l)
			switch {
			case t == "":
				if len(heads) > 0 {
					first = false
				}
			case !strings.HasPrefix(l, " ") && strings.HasSuffix(t, ":"):
				if len(heads) < 2 && !strings.HasPrefix(t, "Goroutine ") {
					heads = append(heads, strings.TrimSuffix(t, ":"))
				}
			case strings.HasPrefix(l, "  ") && !strings.HasPrefix(l, "    "):
				if first {
					frames = append(frames, frame(t, nextLoc(b.lines, i)))
				}
			}
			raw = append(raw, l)
		}
		c.Message = "WARNING: DATA RACE"
		if len(heads) > 0 {
			c.Message += ": " + strings.Join(heads, "; ")
		}
	} else {
		c.Message = strings.Join(b.msg, " ")
		// The first goroutine is the one that crashed: "goroutine 1
		// [running]:", then function / "\tfile:line +0x.." pairs up to a
		// blank line.
		in := false
		for i, l := range b.lines {
			if !in {
				in = goroutineRE.MatchString(l)
				continue
			}
			if strings.TrimSpace(l) == "" {
				break
			}
			raw = append(raw, l)
			if strings.HasPrefix(l, "\t") || strings.HasPrefix(l, "created by ") {
				continue
			}
			frames = append(frames, frame(l, nextLoc(b.lines, i)))
		}
	}
	c.raw = strings.Join(b.msg, "\n") + "\n" + strings.Join(raw, "\n")
	c.Stack = pickFrames(frames)
	return c
}

// nextLoc is the location line after the function line at i.
func nextLoc(lines []string, i int) string {
	if i+1 < len(lines) {
		l := strings.TrimSpace(lines[i+1])
		if strings.HasPrefix(l, "/") || strings.Contains(l, ".go:") {
			return l
		}
	}
	return ""
}

// frame renders "pkg.(*T).f(0xc000, ...)" at "/src/x/file.go:12 +0x1f" as
// "pkg.(*T).f (file.go:12)".
func frame(fn, loc string) string {
	fn = strings.TrimSpace(fn)
	if strings.HasSuffix(fn, ")") { // drop the argument list
		depth := 0
		for i := len(fn) - 1; i >= 0; i-- {
			switch fn[i] {
			case ')':
				depth++
			case '(':
				depth--
			}
			if depth == 0 {
				fn = fn[:i]
				break
			}
		}
	}
	if loc == "" {
		return fn
	}
	loc, _, _ = strings.Cut(loc, " ")
	return fmt.Sprintf("%s (%s)", fn, path.Base(filepath.ToSlash(loc)))
}

// pickFrames keeps the first maxStackFrames frames that are not the Go
// runtime's own (panic, runtime.*), unless there are no others.
func pickFrames(fs []string) []string {
	var own []string
	for _, f := range fs {
		if f == "panic" || strings.HasPrefix(f, "panic (") || strings.HasPrefix(f, "runtime.") || strings.HasPrefix(f, "internal/runtime/") {
			continue
		}
		own = append(own, f)
	}
	if len(own) == 0 {
		own = fs
	}
	if len(own) > maxStackFrames {
		own = own[:maxStackFrames]
	}
	return own
}
