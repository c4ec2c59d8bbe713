package clusters

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"time"
)

// The engine is the one testcontainers finds, as the docker CLI does:
// DOCKER_HOST, else the current docker context, else the default socket
// (and testcontainers' own ~/.testcontainers.properties). It may be on
// another machine (DOCKER_HOST=tcp://host:2376, ssh://host). The docker
// backend refuses such an engine, for now: a node's directory (config,
// log, store) is a directory of this machine bind-mounted into its
// container, and its client and monitor ports are published on the engine
// host's 127.0.0.1. Even with those solved (config copied in, log read
// back, ports published on an address jetstorm reaches), partitions,
// power loss and the store faults could not work there: they need the
// nodes' network namespaces and stores on the machine jetstorm runs on.

// dockerHostRemote reports whether an engine address (a DOCKER_HOST value)
// is on another machine: not a unix socket or named pipe, and not a
// loopback host.
func dockerHostRemote(host string) bool {
	u, err := url.Parse(host)
	if err != nil || u.Scheme == "" {
		return false // a bare socket path
	}
	switch u.Scheme {
	case "unix", "npipe":
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return false
	}
	ip := net.ParseIP(h)
	return ip == nil || !(ip.IsLoopback() || ip.IsUnspecified()) // 0.0.0.0 dials this machine
}

// remoteEngineError is the refusal of the engine at host, nil when it is
// on this machine.
func remoteEngineError(host string) error {
	if !dockerHostRemote(host) {
		return nil
	}
	return &SpecError{fmt.Errorf("the docker engine at %s is on another machine, and the docker backend needs one on this machine for now: "+
		"it bind-mounts the node directories from here and publishes ports on the engine's 127.0.0.1; "+
		"partitions, power loss and store faults (bitflip, truncate, rollback) could not run there anyway, as they need the nodes' network namespaces and stores here "+
		"(unset DOCKER_HOST, or pick a local context with docker context use)", host)}
}

// DockerEngineLocal says why the docker backend refuses the engine it
// would use (a *SpecError), nil when that engine is on this machine or
// when none answers (starting the cluster says so then).
func DockerEngineLocal(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cli, err := dockerClient(ctx)
	if err != nil {
		return nil
	}
	defer cli.Close()
	return remoteEngineError(cli.DaemonHost())
}
