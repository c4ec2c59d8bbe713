// Package termlog is jetstorm's terminal: log lines for people and a status
// line (the progress bar) sharing stderr. It is its own package because
// both the runner (scenarios: the bar) and the CLI (cmd/jetstorm: the
// logger and --log-format) write to the same Screen.
package termlog

import (
	"io"
	"os"
	"sync"

	"golang.org/x/term"
)

// clearLine moves to the start of the line and erases it.
const clearLine = "\r\033[K"

// Screen is an output stream shared by log lines (Write) and one status
// line (SetStatus). On a terminal, a log line first clears the status line
// and the status line is drawn again after it, so a line never lands on
// top of the bar. Off a terminal there is no status line and no escape
// code: Write writes. One mutex orders every write; a Screen is safe for
// concurrent use.
type Screen struct {
	mu     sync.Mutex
	w      io.Writer
	tty    bool
	status string // the status line shown; "" when none
}

// NewScreen returns a Screen writing to w; tty says whether w is a
// terminal (and so whether a status line is shown).
func NewScreen(w io.Writer, tty bool) *Screen { return &Screen{w: w, tty: tty} }

// ScreenOf returns w itself if it is a Screen, else a new Screen on w, a
// terminal if w is an *os.File on one.
func ScreenOf(w io.Writer) *Screen {
	if s, ok := w.(*Screen); ok {
		return s
	}
	return NewScreen(w, IsTerminal(w))
}

// IsTerminal reports whether w is an *os.File on a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// IsTerminal reports whether the Screen shows a status line.
func (s *Screen) IsTerminal() bool { return s.tty }

// Write writes p (whole lines, e.g. one log record) above the status line.
func (s *Screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status == "" {
		return s.w.Write(p)
	}
	if _, err := io.WriteString(s.w, clearLine); err != nil {
		return 0, err
	}
	n, err := s.w.Write(p)
	if err != nil {
		return n, err
	}
	_, err = io.WriteString(s.w, s.status)
	return n, err
}

// SetStatus shows line (one line, no newline) as the status line, in place
// of the previous one; "" removes it. Off a terminal it does nothing.
func (s *Screen) SetStatus(line string) {
	if !s.tty {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if line == "" && s.status == "" {
		return
	}
	s.status = line
	io.WriteString(s.w, clearLine+line)
}
