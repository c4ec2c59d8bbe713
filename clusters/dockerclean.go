package clusters

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"strconv"
	"sync"
	"syscall"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
)

// Every container and network the docker backend creates carries these
// labels, so what a run left behind is found by them: the run, and the
// jetstorm process (pid and host) that owns it. CleanDocker removes what a
// dead owner left; a live owner's are never touched.
const (
	labelRun       = "jetstorm.run"
	labelOwnerPid  = "jetstorm.owner-pid"
	labelOwnerHost = "jetstorm.owner-host"
)

// ownerLabels are the labels of everything run id creates.
func ownerLabels(run string) map[string]string {
	host, _ := os.Hostname()
	return map[string]string{labelRun: run, labelOwnerPid: strconv.Itoa(os.Getpid()), labelOwnerHost: host}
}

var ryukOnce sync.Once

// dockerClient connects to the engine testcontainers finds (DOCKER_HOST,
// the docker context, the default socket). The reaper (ryuk) is turned off
// first: it is an image pulled from a registry, and jetstorm cleans up
// after itself (Close, CleanDocker). testcontainers reads its config once,
// so this must come before any other use of it. Its log lines (one per
// container created) would go to jetstorm's terminal: they are dropped.
func dockerClient(ctx context.Context) (cli *testcontainers.DockerClient, err error) {
	ryukOnce.Do(func() {
		os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
		tclog.SetDefault(tclog.NewNoopLogger())
	})
	// testcontainers panics when the engine DOCKER_HOST names does not
	// answer (seen: tcp://192.0.2.9:2375, nothing there).
	defer func() {
		if p := recover(); p != nil {
			cli, err = nil, fmt.Errorf("no docker engine answers (start one: make docker-engine): %v", p)
		}
	}()
	cli, err = testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, fmt.Errorf("no docker engine answers (start one: make docker-engine): %w", err)
	}
	// When DOCKER_HOST does not answer, testcontainers tries the default
	// socket next; a run the user sent to another engine must not run here.
	if want := os.Getenv("DOCKER_HOST"); want != "" && !sameEngine(want, cli.DaemonHost()) {
		got := cli.DaemonHost()
		cli.Close()
		return nil, fmt.Errorf("the docker engine DOCKER_HOST names (%s) does not answer; jetstorm does not fall back to %s", want, got)
	}
	return cli, nil
}

// sameEngine reports whether two engine addresses name the same engine.
func sameEngine(a, b string) bool {
	ua, erra := url.Parse(a)
	ub, errb := url.Parse(b)
	if erra != nil || errb != nil {
		return a == b
	}
	return ua.Scheme == ub.Scheme && ua.Host == ub.Host && path.Clean("/"+ua.Path) == path.Clean("/"+ub.Path)
}

// DockerAvailable says why the docker backend cannot run here, nil if it can.
func DockerAvailable(ctx context.Context) error {
	cli, err := dockerClient(ctx)
	if err != nil {
		return err
	}
	return cli.Close()
}

// CleanDocker removes the containers and networks of docker runs whose
// owner, a jetstorm on this host, is no longer running (killed before its
// Close). It returns what it removed, one line each.
func CleanDocker(ctx context.Context) ([]string, error) {
	cli, err := dockerClient(ctx)
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	return cleanDead(ctx, cli)
}

func cleanDead(ctx context.Context, cli *testcontainers.DockerClient) ([]string, error) {
	var removed []string
	var errs []error
	f := make(client.Filters).Add("label", labelOwnerPid)
	cs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	for _, c := range cs.Items {
		if ownerAlive(c.Labels) {
			continue
		}
		if _, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
			errs = append(errs, fmt.Errorf("remove container %s: %w", c.ID[:12], err))
			continue
		}
		removed = append(removed, fmt.Sprintf("container %s (%s, run %s, owner pid %s)", c.ID[:12], c.Names, c.Labels[labelRun], c.Labels[labelOwnerPid]))
	}
	// Networks after containers: a network with containers on it cannot go.
	ns, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return removed, errors.Join(append(errs, fmt.Errorf("list networks: %w", err))...)
	}
	for _, n := range ns.Items {
		if ownerAlive(n.Labels) {
			continue
		}
		if _, err := cli.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil {
			errs = append(errs, fmt.Errorf("remove network %s: %w", n.Name, err))
			continue
		}
		removed = append(removed, fmt.Sprintf("network %s (run %s, owner pid %s)", n.Name, n.Labels[labelRun], n.Labels[labelOwnerPid]))
	}
	return removed, errors.Join(errs...)
}

// ownerAlive reports whether the owner in labels may still be running: a
// pid is only checked on its own host (another host's pids mean nothing
// here), and anything unclear counts as alive.
func ownerAlive(labels map[string]string) bool {
	host, _ := os.Hostname()
	if labels[labelOwnerHost] != host {
		return true
	}
	pid, err := strconv.Atoi(labels[labelOwnerPid])
	if err != nil || pid <= 0 {
		return true
	}
	err = syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
