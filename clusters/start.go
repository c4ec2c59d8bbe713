package clusters

import (
	"context"
	"fmt"
	"time"
)

// Config says which cluster to start: the backend and what it needs.
type Config struct {
	Backend string // "process" (default) or "external"
	// process backend
	ProcessOptions
	// Server is the nats-server to run (see ServerBinary); it is resolved
	// here unless ProcessOptions.ServerBinary is already set.
	Server string
	Logf   func(format string, args ...any) // progress of a server build; nil: none
	// external backend: a running cluster's client and monitor URLs.
	URLs, MonitorURLs []string
	// Healthy bounds the start and the wait for health (default 60s each).
	Healthy time.Duration
}

// Start is the one way a cluster is started (run, bench, cluster): build or
// find the server, start the nodes, wait until every node is healthy, and
// read the server version. On error nothing it started is left running.
func Start(ctx context.Context, cfg Config) (Cluster, string, error) {
	d := cfg.Healthy
	if d <= 0 {
		d = 60 * time.Second
	}
	var c Cluster
	switch cfg.Backend {
	case "external":
		ec, err := NewExternal(cfg.URLs, cfg.MonitorURLs)
		if err != nil {
			return nil, "", err
		}
		c = ec
	case "", "process":
		o := cfg.ProcessOptions
		if o.ServerBinary == "" && cfg.Server != "" {
			logf := cfg.Logf
			if logf == nil {
				logf = func(string, ...any) {}
			}
			bin, err := ServerBinary(ctx, cfg.Server, logf)
			if err != nil {
				return nil, "", err
			}
			o.ServerBinary = bin
		}
		sctx, cancel := context.WithTimeout(ctx, d)
		pc, err := StartProcess(sctx, o)
		cancel()
		if err != nil {
			return nil, "", fmt.Errorf("start cluster: %w", err)
		}
		c = pc
	default:
		return nil, "", &SpecError{fmt.Errorf("backend %q is not supported (supported: process, external)", cfg.Backend)}
	}
	sctx, cancel := context.WithTimeout(ctx, d)
	err := c.WaitHealthy(sctx)
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
