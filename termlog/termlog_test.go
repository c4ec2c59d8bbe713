package termlog

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func record(at time.Duration, level slog.Level, msg string, args ...any) slog.Record {
	r := slog.NewRecord(t0.Add(at), level, msg, 0)
	r.Add(args...)
	return r
}

func TestHandlerFormat(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    slog.Record
		want string
	}{
		{"fault", record(12*time.Second, slog.LevelInfo, "fault", "kind", "kill", "nodes", []string{"n1"}, "for", 5*time.Second),
			"  12.0s  fault kill n1 for 5s\n"},
		{"partition", record(12*time.Second, slog.LevelInfo, "fault", "kind", "partition", "shape", "halves",
			"sides", [][]string{{"n1"}, {"n2", "n3"}}, "nodes", []string{"n1", "n2", "n3"}, "for", 6*time.Second),
			"  12.0s  fault partition halves n1 | n2 n3 for 6s\n"},
		{"healed", record(26100*time.Millisecond, slog.LevelInfo, "healed", "kind", "kill", "nodes", []string{"n1"}),
			"  26.1s  healed kill n1\n"},
		{"warning", record(30*time.Second, slog.LevelWarn, "fault not injected", "kind", "leader", "target", "", "err", errors.New("no leader yet")),
			`  30.0s  WARN fault not injected leader target="" err: no leader yet` + "\n"},
		{"error", record(time.Second, slog.LevelError, "report", "err", "disk full"),
			"   1.0s  ERROR report err: disk full\n"},
		{"progress", record(20*time.Second, slog.LevelInfo, "progress", "elapsed", 20*time.Second, "of", time.Minute, "status", "1234 ok ops, 0 faults active"),
			"  20.0s  progress 20s of 1m0s 1234 ok ops, 0 faults active\n"},
		{"key=value", record(1500*time.Millisecond, slog.LevelInfo, "starting cluster", "nodes", 3, "sync_interval", "2m", "dir", "/tmp/a b"),
			`   1.5s  starting cluster nodes=3 sync_interval=2m dir="/tmp/a b"` + "\n"},
		{"group", record(0, slog.LevelInfo, "run", slog.Group("g", "seed", 7)),
			"   0.0s  run g.seed=7\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			h := NewHandler(&b, &Options{Start: t0})
			if err := h.Handle(context.Background(), tc.r); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("got  %q\nwant %q", b.String(), tc.want)
			}
		})
	}
}

func TestHandlerLevelAndAttrs(t *testing.T) {
	var b bytes.Buffer
	log := slog.New(NewHandler(&b, &Options{Level: slog.LevelWarn, Start: time.Now()})).With("run", 2)
	log.Info("hidden")
	log.Warn("shown")
	if got := b.String(); strings.Contains(got, "hidden") || !strings.HasSuffix(got, "WARN shown run=2\n") {
		t.Errorf("got %q", got)
	}
}

// A log line on a terminal with a bar shown: the bar's line is cleared
// before it and the bar drawn again after it.
func TestScreenClearsBar(t *testing.T) {
	var b bytes.Buffer
	s := NewScreen(&b, true)
	log := slog.New(NewHandler(s, &Options{Start: t0}))
	s.SetStatus("43% |####| 26s/60s")
	b.Reset()
	log.Handler().Handle(context.Background(), record(26100*time.Millisecond, slog.LevelInfo, "healed", "kind", "kill", "nodes", []string{"n1"}))
	want := "\r\033[K  26.1s  healed kill n1\n43% |####| 26s/60s"
	if b.String() != want {
		t.Errorf("got  %q\nwant %q", b.String(), want)
	}
	// Bar removed: lines are written as they are.
	s.SetStatus("")
	b.Reset()
	s.Write([]byte("line\n"))
	if b.String() != "line\n" {
		t.Errorf("after the bar: %q", b.String())
	}
}

// Off a terminal: no status line, no escape code.
func TestScreenNotTerminal(t *testing.T) {
	var b bytes.Buffer
	s := NewScreen(&b, false)
	s.SetStatus("43% |####|")
	s.Write([]byte("line\n"))
	if b.String() != "line\n" || strings.Contains(b.String(), "\033") {
		t.Errorf("got %q", b.String())
	}
	if s.IsTerminal() || ScreenOf(&b).IsTerminal() {
		t.Error("a buffer is not a terminal")
	}
	if ScreenOf(s) != s {
		t.Error("ScreenOf(screen) is not the screen")
	}
}

// Lines and bar redraws from many goroutines never interleave (-race).
func TestScreenConcurrent(t *testing.T) {
	var b bytes.Buffer
	s := NewScreen(&b, true)
	log := slog.New(NewHandler(s, nil))
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(2)
		go func() { defer wg.Done(); s.SetStatus("bar") }()
		go func() { defer wg.Done(); log.Info("event", "i", i) }()
	}
	wg.Wait()
	s.SetStatus("")
	for _, line := range strings.SplitAfter(b.String(), "\n") {
		if strings.Contains(line, "event") && !strings.HasSuffix(line, "\n") {
			t.Errorf("torn line %q", line)
		}
	}
}
