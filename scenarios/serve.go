package scenarios

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"jetstorm/clusters"
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
	Backend      string // process (default) or docker
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
	c, version, err := clusters.Start(ctx, clusters.Config{
		Backend: o.Backend, Server: o.Server, Image: o.Image, Logf: logf,
		ProcessOptions: clusters.ProcessOptions{Dir: o.Dir, Nodes: o.Nodes, SyncInterval: si.ConfString(), LinkProxies: o.LinkProxies},
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
	fmt.Fprintf(w, "NATS_URL=%s\nCtrl-C to stop.\n", strings.Join(urls, ","))
	<-ctx.Done()
	return nil
}

// ServerVersion is the nats-server version compiled into jetstorm.
const ServerVersion = clusters.ServerVersion
