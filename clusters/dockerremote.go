package clusters

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// The engine is the one testcontainers finds, as the docker CLI does:
// DOCKER_HOST, else the current docker context, else the default socket
// (and testcontainers' own ~/.testcontainers.properties). It may be on
// another machine (DOCKER_HOST=tcp://host:2376, ssh://host). There, a node
// directory of this machine cannot be bind-mounted: the config is copied
// into the container before every start, the store lives in the
// container's own filesystem (kept across restarts: a container is created
// once), and the log is copied back from the engine. The client and
// monitor ports are published on the engine host's address (the host of
// DOCKER_HOST), which jetstorm must reach. What needs the nodes' network
// namespaces or their stores on this machine cannot run there, and is
// refused (see RemoteEngineRefuses): partitions and slowlinks (kernel
// rules in the namespaces, or proxies on the run network's gateway),
// power loss (a FUSE store on this machine) and the store faults.

// dockerEngine is where the containers run, as jetstorm reaches them.
type dockerEngine struct {
	daemon string     // the engine's address (DOCKER_HOST form)
	remote bool       // on another machine
	dial   string     // the host to dial published ports at
	bind   netip.Addr // the host address ports are published on
}

// engineAt is the engine at daemon (a DOCKER_HOST value).
func engineAt(daemon string) dockerEngine {
	loopback := netip.MustParseAddr("127.0.0.1")
	e := dockerEngine{daemon: daemon, remote: dockerHostRemote(daemon), dial: "127.0.0.1", bind: loopback}
	if !e.remote {
		return e
	}
	u, _ := url.Parse(daemon) // dockerHostRemote parsed it
	e.dial = u.Hostname()
	// On the address jetstorm reaches the engine at, when that is one;
	// a name may resolve to any of the host's addresses: all of them.
	if ip, err := netip.ParseAddr(e.dial); err == nil {
		e.bind = ip.Unmap()
	} else {
		e.bind = netip.IPv4Unspecified()
	}
	return e
}

// url is a URL of scheme for a port published by this engine.
func (e dockerEngine) url(scheme string, port int) string {
	return fmt.Sprintf("%s://%s", scheme, net.JoinHostPort(e.dial, fmt.Sprint(port)))
}

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

// RemoteEngineRefuses is why a cluster on the engine at daemon cannot have
// opts (a *SpecError), nil when the engine is on this machine or can.
// On a remote engine jetstorm can reach the nodes only through their
// published ports and the engine's API.
func RemoteEngineRefuses(daemon string, linkProxies, powerLoss, storeFaults bool) error {
	if !dockerHostRemote(daemon) {
		return nil
	}
	var no []string
	if linkProxies {
		no = append(no, "partition and slowlink (they cut the route links with kernel rules in the nodes' network namespaces, or proxy them on the run network's gateway, both on the engine's machine)")
	}
	if powerLoss {
		no = append(no, "powerloss (each store is a FUSE filesystem mounted on the machine jetstorm runs on)")
	}
	if storeFaults {
		no = append(no, "bitflip, truncate and rollback (they write the stores from the machine jetstorm runs on)")
	}
	if len(no) == 0 {
		return nil
	}
	return &SpecError{fmt.Errorf("the docker engine at %s is on another machine, where these cannot run: %s; "+
		"run them on an engine on this machine (unset DOCKER_HOST, or docker context use default)", daemon, strings.Join(no, "; "))}
}

// DockerEngine is the address of the engine the docker backend would use
// (DOCKER_HOST form), "" when none answers (starting the cluster says so).
func DockerEngine(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cli, err := dockerClient(ctx)
	if err != nil {
		return ""
	}
	defer cli.Close()
	return cli.DaemonHost()
}

// copyIn writes the file at local into container id as dst (an absolute
// path), making its directory world-writable: the node, whatever user
// its image runs as, makes its store beside it.
func copyIn(ctx context.Context, cli *testcontainers.DockerClient, id, local, dst string) error {
	b, err := os.ReadFile(local)
	if err != nil {
		return err
	}
	dir, name := strings.TrimPrefix(dst[:strings.LastIndex(dst, "/")], "/"), dst[strings.LastIndex(dst, "/")+1:]
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Now()
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir + "/", Mode: 0o777, ModTime: now}); err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: dir + "/" + name, Mode: 0o644, Size: int64(len(b)), ModTime: now}); err != nil {
		return err
	}
	if _, err := tw.Write(b); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if _, err := cli.CopyToContainer(ctx, id, client.CopyToContainerOptions{DestinationPath: "/", Content: &buf}); err != nil {
		return fmt.Errorf("copy %s into the container: %w", local, err)
	}
	return nil
}
