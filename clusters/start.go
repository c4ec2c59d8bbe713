package clusters

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Config says which cluster to start: the backend and what it needs.
type Config struct {
	Backend string // "process" (default), "docker" or "external"
	// process and docker backends (docker: LinkProxies are kernel links)
	ProcessOptions
	// Server is the nats-server to run (see ServerBinary); it is resolved
	// here unless ProcessOptions.ServerBinary is already set.
	Server string
	// Servers, when set, is each node's server in node order (process
	// backend; see ServerBinary), resolved here unless
	// ProcessOptions.ServerBinaries is already set.
	Servers []string
	// Image (docker backend only) is a user's image to run instead, as it
	// is: its entrypoint must be nats-server (see dockerServer).
	Image string
	Logf  func(format string, args ...any) // progress of a server build; nil: none
	// external backend: a running cluster's client and monitor URLs.
	URLs, MonitorURLs []string
	Auth              Auth // how to log in to them
	// Healthy bounds the start and the wait for health (default 60s each).
	Healthy time.Duration
}

// Start is the one way a cluster is started (run, bench, cluster): build or
// find the server, start the nodes, wait until every node is healthy, and
// read the server version. On error nothing it started is left running.
func Start(ctx context.Context, cfg Config) (Cluster, string, error) {
	d := cfg.timeout()
	start, ok := Backends[cmp.Or(cfg.Backend, "process")]
	if !ok {
		return nil, "", &SpecError{fmt.Errorf("backend %q is not supported (supported: %s)", cfg.Backend, strings.Join(BackendNames(), ", "))}
	}
	c, err := start(ctx, cfg)
	if err != nil {
		return nil, "", err
	}
	sctx, cancel := context.WithTimeout(ctx, d)
	err = c.WaitHealthy(sctx)
	cancel()
	if err != nil {
		c.Close(context.Background())
		return nil, "", fmt.Errorf("cluster never became healthy: %w", err)
	}
	version, err := Version(ctx, c)
	if err != nil {
		c.Close(context.Background())
		return nil, "", fmt.Errorf("server version: %w", err)
	}
	return c, version, nil
}

// Backends start a cluster of each backend (cluster.backend), bounding the
// start itself by cfg.Healthy (a server build before it is not bounded).
// Adding a backend is its files (Cluster, Node, and for faults Network and
// Node.Store) and one line here.
var Backends = map[string]func(ctx context.Context, cfg Config) (Cluster, error){
	"process":  startProcess,
	"docker":   startDocker,
	"external": startExternal,
}

// timeout bounds a start and the wait for health (default 60s each).
func (cfg Config) timeout() time.Duration {
	if cfg.Healthy > 0 {
		return cfg.Healthy
	}
	return 60 * time.Second
}

// BackendNames lists the backends, sorted.
func BackendNames() []string { return slices.Sorted(maps.Keys(Backends)) }

// startProcess starts the process backend, building the server first when
// cfg names a release.
func startProcess(ctx context.Context, cfg Config) (Cluster, error) {
	o := cfg.ProcessOptions
	bin, err := resolveServer(ctx, cfg, cfg.Logf)
	if err != nil {
		return nil, err
	}
	o.ServerBinary = bin
	if len(cfg.Servers) > 0 && len(o.ServerBinaries) == 0 {
		for _, spec := range cfg.Servers {
			b, err := ServerBinary(ctx, spec, cfg.Logf)
			if err != nil {
				return nil, err
			}
			o.ServerBinaries = append(o.ServerBinaries, b)
		}
	}
	sctx, cancel := context.WithTimeout(ctx, cfg.timeout())
	defer cancel()
	pc, err := StartProcess(sctx, o)
	if err != nil {
		return nil, fmt.Errorf("start cluster: %w", err)
	}
	return pc, nil
}

// resolveServer is the nats-server binary cfg asks for: ServerBinary
// when set, else cfg.Server built or found (see ServerBinary); "" is the
// embedded server.
func resolveServer(ctx context.Context, cfg Config, logf func(string, ...any)) (string, error) {
	if cfg.ServerBinary != "" || cfg.Server == "" {
		return cfg.ServerBinary, nil
	}
	return ServerBinary(ctx, cfg.Server, logf)
}
