package scenarios

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"jetstorm/history"
	"jetstorm/termlog"
)

// lockedBuffer is a bytes.Buffer safe to read while the bar writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// On a (fake) terminal the bar is the Screen's status line: a log line
// through the same Screen clears it first, the bar is drawn again after,
// and it is gone when progress stops.
func TestProgressBarAndLogLines(t *testing.T) {
	var out lockedBuffer
	screen := termlog.NewScreen(&out, true)
	log := slog.New(termlog.NewHandler(screen, nil))
	rec := history.NewRecorder(&bytes.Buffer{}, false)
	stop := progress(context.Background(), 10*time.Second, rec, queueKind.Progress, screen, log)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "faults active") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	log.Info("healed", "kind", "kill", "nodes", []string{"n1"})
	stop()
	s := out.String()
	i := strings.Index(s, "healed kill n1\n")
	if i < 0 || !strings.Contains(s[:i], "|") {
		t.Fatalf("no bar before the line: %q", s)
	}
	// What is between the last clear-line and the event is its time ("   0.6s  ").
	if k := strings.LastIndex(s[:i], "\r\033[K"); k < 0 || strings.Contains(s[k:i], "|") || !strings.HasSuffix(s[:i], "s  ") {
		t.Errorf("the bar's line is not cleared before the log line: %q", s)
	}
	after := s[i+len("healed kill n1\n"):]
	if !strings.Contains(after, "faults active") || !strings.HasSuffix(after, "\r\033[K") {
		t.Errorf("the bar is not drawn again after the line, then cleared: %q", after)
	}
}
