package clusters

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// containerLog copies what a nats-server container writes to stdout and
// stderr (the engine keeps it, with a timestamp per line) into the node log
// on the host, as it is written: a follower streams it while the container
// runs and polls while it is stopped. Each line is copied once: the cursor
// is the timestamp of the last line copied, and a read starts there.
// That needs strictly increasing timestamps within one container, which
// the engine's nanosecond clock gives. sync copies what is left at once:
// Kill and Stop call it, so a restart's start line follows the previous
// run's last lines, as with the process backend.
type containerLog struct {
	cli  *testcontainers.DockerClient
	id   string
	path string // the node log on the host

	mu   sync.Mutex
	last time.Time // the timestamp of the last line copied

	cancel context.CancelFunc
	done   chan struct{}
}

// followPoll is how often the follower looks whether a stopped container
// runs again.
const followPoll = 100 * time.Millisecond

// followLog starts copying container id's output into path.
func followLog(cli *testcontainers.DockerClient, id, path string) *containerLog {
	ctx, cancel := context.WithCancel(context.Background())
	l := &containerLog{cli: cli, id: id, path: path, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		for {
			// Returns when the container stops, at once when it is not running.
			l.copy(ctx, true)
			select {
			case <-ctx.Done():
				return
			case <-time.After(followPoll):
			}
		}
	}()
	return l
}

// sync copies every line the engine has that is not copied yet.
func (l *containerLog) sync(ctx context.Context) error { return l.copy(ctx, false) }

// close stops the follower, then syncs: the log holds every line the
// container wrote until now.
func (l *containerLog) close(ctx context.Context) error {
	l.cancel()
	<-l.done
	return l.sync(ctx)
}

// copy reads the container's output from the cursor on (following it while
// the container runs, when follow) and appends the lines not copied yet.
func (l *containerLog) copy(ctx context.Context, follow bool) error {
	l.mu.Lock()
	since := l.last
	l.mu.Unlock()
	opts := client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Timestamps: true, Follow: follow}
	if !since.IsZero() {
		// Since is inclusive: the last line copied comes again, and is skipped.
		opts.Since = fmt.Sprintf("%d.%09d", since.Unix(), since.Nanosecond())
	}
	rc, err := l.cli.ContainerLogs(ctx, l.id, opts)
	if err != nil {
		return fmt.Errorf("read the log of container %.12s: %w", l.id, err)
	}
	defer rc.Close()
	// The stream multiplexes stdout and stderr (no TTY): both go to the one
	// log, as a process node's do.
	pr, pw := io.Pipe()
	go func() { _, err := stdcopy.StdCopy(pw, pw, rc); pw.CloseWithError(err) }()
	defer pr.Close()
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		ts, line, ok := strings.Cut(sc.Text(), " ")
		t, err := time.Parse(time.RFC3339Nano, ts)
		if !ok || err != nil {
			continue // not a line of the engine's format
		}
		l.mu.Lock()
		if t.After(l.last) {
			_, err = fmt.Fprintln(f, line)
			l.last = t
		}
		l.mu.Unlock()
		if err != nil {
			return err
		}
	}
	return sc.Err()
}
