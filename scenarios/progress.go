package scenarios

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"jetstorm/history"
	"jetstorm/termlog"
)

// progress shows how a run goes: on a terminal a bar (elapsed / total,
// acked ops, active faults), elsewhere a plain log line every 10 s. It
// returns a function that stops it. work names the history functions
// whose ok ops count as done. The bar is the status line of w's
// termlog.Screen: log lines written through the same Screen (give the
// logger w) clear it and it is drawn again below them.
func progress(ctx context.Context, total time.Duration, rec *history.Recorder, work []string, w io.Writer, log *slog.Logger) func() {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	status := func() string {
		var acked int64
		for _, f := range work { // the kind's work ops (Kind.Progress)
			acked += rec.Count(f, history.OK)
		}
		active := rec.Count(history.FFault, history.Invoke) - rec.Count(history.FFault, history.OK) - rec.Count(history.FFault, history.Info)
		return fmt.Sprintf("%d ok ops, %d faults active", acked, active)
	}
	screen := termlog.ScreenOf(w)
	tty := screen.IsTerminal()
	go func() {
		defer close(done)
		start := time.Now()
		if !tty {
			t := time.NewTicker(10 * time.Second)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					log.Info("progress", "elapsed", time.Since(start).Round(time.Second), "of", total, "status", status())
				}
			}
		}
		// The bar only renders (bar.String()); the Screen draws it.
		bar := progressbar.NewOptions64(int64(total/time.Second),
			progressbar.OptionSetWriter(io.Discard), progressbar.OptionSetWidth(30),
			progressbar.OptionSetPredictTime(false), progressbar.OptionSetDescription("workload"))
		defer screen.SetStatus("")
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				el := min(time.Since(start), total).Round(time.Second)
				bar.Describe(fmt.Sprintf("%s/%s, %s", el, total, status()))
				bar.Set64(min(int64(time.Since(start)/time.Second), int64(total/time.Second)))
				screen.SetStatus(strings.TrimRight(strings.TrimLeft(bar.String(), "\r"), " "))
			}
		}
	}()
	return func() { cancel(); <-done }
}
