package scenarios

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"jetstorm/history"
)

// progress shows how a run goes: on a terminal a bar (elapsed / total,
// acked ops, active faults), elsewhere a plain log line every 10 s. It
// returns a function that stops it.
func progress(ctx context.Context, total time.Duration, rec *history.Recorder, w io.Writer, log *slog.Logger) func() {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	status := func() string {
		acked := rec.Count(history.FPublish, history.OK)
		for _, f := range []string{history.FKVPut, history.FKVGet, history.FKVCas} {
			acked += rec.Count(f, history.OK)
		}
		active := rec.Count(history.FFault, history.Invoke) - rec.Count(history.FFault, history.OK) - rec.Count(history.FFault, history.Info)
		return fmt.Sprintf("%d ok ops, %d faults active", acked, active)
	}
	f, isFile := w.(*os.File)
	tty := isFile && term.IsTerminal(int(f.Fd()))
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
		bar := progressbar.NewOptions64(int64(total/time.Second),
			progressbar.OptionSetWriter(w), progressbar.OptionSetWidth(30),
			progressbar.OptionSetPredictTime(false), progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionSetDescription("workload"), progressbar.OptionClearOnFinish())
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				bar.Finish()
				return
			case <-t.C:
				el := min(time.Since(start), total).Round(time.Second)
				bar.Describe(fmt.Sprintf("%s/%s, %s", el, total, status()))
				bar.Set64(min(int64(time.Since(start)/time.Second), int64(total/time.Second)))
			}
		}
	}()
	return func() { cancel(); <-done }
}
