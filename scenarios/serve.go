package scenarios

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"jetstorm/clusters"
	"jetstorm/history"
	"jetstorm/powerfs"
	"jetstorm/termlog"
	"jetstorm/units"
)

// ServeOptions are the settings of `jetstorm cluster`.
type ServeOptions struct {
	Dir          string // configs, logs and stores
	Nodes        int
	SyncInterval string // "always", a duration, or "" (server default)
	Server       string // as cluster.server
	Image        string // as cluster.image (docker)
	LinkProxies  bool
	PowerLossFS  bool   // store dirs through powerfs (powerloss faults)
	ClientLinks  bool   // a proxy between each node and its clients (process backend)
	Backend      string // process (default) or docker
	// Control, when set, is the HOST:PORT of the fault API (control.go);
	// ControlRemote allows a non-loopback one; ControlExec allows exec
	// faults through it (the caller's commands, run here).
	Control       string
	ControlRemote bool
	ControlExec   bool
}

// Serve starts a local cluster on the same start path as a run, prints
// its URLs on w, and keeps it up until ctx ends (then kills it). Bad
// options are a *ConfigError.
func Serve(ctx context.Context, o ServeOptions, w io.Writer, logf func(string, ...any)) error {
	if o.Nodes < 1 || o.Nodes > 9 {
		return &ConfigError{fmt.Errorf("--nodes must be 1..9, got %d", o.Nodes)}
	}
	si, err := units.ParseSyncInterval(o.SyncInterval)
	if err != nil {
		return &ConfigError{fmt.Errorf("--sync-interval: %w", err)}
	}
	if _, err := clusters.ServerSpecKind(o.Server); err != nil {
		return &ConfigError{fmt.Errorf("--server: %w", err)}
	}
	if o.Backend != "" && o.Backend != "process" && o.Backend != "docker" {
		return &ConfigError{fmt.Errorf("--backend must be process or docker, got %q", o.Backend)}
	}
	if o.Image != "" && o.Backend != "docker" {
		return &ConfigError{fmt.Errorf("--image is for --backend docker")}
	}
	if o.ClientLinks && o.Backend == "docker" {
		return &ConfigError{fmt.Errorf("--client-links is for --backend process")}
	}
	if o.PowerLossFS {
		if err := powerfs.Available(); err != nil {
			return &ConfigError{fmt.Errorf("--powerfs: the power-loss filesystem cannot run here: %w", err)}
		}
	}
	if o.Control != "" {
		if err := checkControlAddr(o.Control, o.ControlRemote); err != nil {
			return &ConfigError{err}
		}
	}
	c, version, err := clusters.Start(ctx, clusters.Config{
		Backend: o.Backend, Server: o.Server, Image: o.Image, Logf: logf,
		ProcessOptions: clusters.ProcessOptions{
			Dir: o.Dir, Nodes: o.Nodes, SyncInterval: si.ConfString(), LinkProxies: o.LinkProxies,
			PowerLossFS: o.PowerLossFS, Writeback: 30 * time.Second, ClientLinks: o.ClientLinks,
			// With the API every fault is on offer: a slowlink on docker
			// needs proxied links, a membership change the system user.
			DelayLinks: o.Control != "" && o.LinkProxies, SystemUser: o.Control != "",
		},
	})
	if err != nil {
		var se *clusters.SpecError
		if errors.As(err, &se) {
			return &ConfigError{err}
		}
		return err
	}
	defer c.Close(context.Background())
	var mon []string
	for _, n := range c.Nodes() {
		mon = append(mon, n.MonitorURL())
	}
	plural := "s"
	if o.Nodes == 1 {
		plural = ""
	}
	urls := clusters.ClientURLs(c)
	fmt.Fprintf(w, "cluster up (nats-server %s, %d node%s, dir %s)\n", version, o.Nodes, plural, o.Dir)
	fmt.Fprintf(w, "urls: [%s]\nmonitor_urls: [%s]\n", strings.Join(urls, ", "), strings.Join(mon, ", "))
	fmt.Fprintf(w, "NATS_URL=%s\n", strings.Join(urls, ","))
	// Ready for a scenario against it (backend external).
	fmt.Fprintf(w, "scenario: --set 'cluster={backend: external, urls: [%s], monitor_urls: [%s]}'\n", strings.Join(urls, ", "), strings.Join(mon, ", "))
	var controlDone <-chan error
	if o.Control != "" {
		u, done, err := serveControl(ctx, o, c, version)
		if err != nil {
			return err
		}
		controlDone = done
		fmt.Fprintf(w, "control: %s (GET / lists the endpoints; fault history: %s)\n", u, filepath.Join(o.Dir, history.FileName))
	}
	fmt.Fprintf(w, "Ctrl-C to stop.\n")
	<-ctx.Done()
	if controlDone != nil {
		return <-controlDone // every fault healed before the nodes go
	}
	return nil
}

// serveControl starts the fault API of a cluster kept up by Serve.
func serveControl(ctx context.Context, o ServeOptions, c clusters.Cluster, version string) (string, <-chan error, error) {
	path := filepath.Join(o.Dir, history.FileName)
	rec, err := history.Create(path, false)
	if err != nil {
		return "", nil, err
	}
	rec.Record(history.Op{Process: -1, Type: history.OK, F: history.FMeta, Value: history.Meta{
		Scenario: "jetstorm cluster --control", ServerVersion: version, SyncInterval: o.SyncInterval, Nodes: o.Nodes,
		StartedAt: rec.Start().UTC().Format(time.RFC3339Nano),
	}})
	log := slog.New(termlog.NewHandler(termlog.ScreenOf(os.Stderr), nil))
	a := &controlAPI{ctx: ctx, c: c, rec: rec, history: path, dir: o.Dir, log: log, missing: missingFlag(o), execOK: o.ControlExec}
	u, done, err := startControl(ctx, o.Control, o.ControlRemote, a)
	if err != nil {
		rec.Close()
		return "", nil, &ConfigError{err}
	}
	return u, done, nil
}

// ServerVersion is the nats-server version compiled into jetstorm.
const ServerVersion = clusters.ServerVersion
