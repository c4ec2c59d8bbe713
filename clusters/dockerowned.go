package clusters

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

// DockerOwned lists the containers and networks that the jetstorm process
// pid (on this host) owns, one line each: what a test checks is gone after
// that process ended or `jetstorm clean` ran.
func DockerOwned(ctx context.Context, pid int) ([]string, error) {
	cli, err := dockerClient(ctx)
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	host, _ := os.Hostname()
	f := make(client.Filters).Add("label", labelOwnerPid+"="+strconv.Itoa(pid)).Add("label", labelOwnerHost+"="+host)
	cs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	var out []string
	for _, c := range cs.Items {
		out = append(out, fmt.Sprintf("container %s %v (%s)", c.ID[:12], c.Names, c.State))
	}
	ns, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return out, fmt.Errorf("list networks: %w", err)
	}
	for _, n := range ns.Items {
		out = append(out, "network "+n.Name)
	}
	return out, nil
}

// NeedDockerInTest skips t when no docker engine answers, unless
// JETSTORM_REQUIRE_DOCKER=1 (a machine that has one, as in CI): then it
// fails, because a test that skips there cannot fail.
func NeedDockerInTest(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts docker containers; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := DockerAvailable(ctx); err != nil {
		if os.Getenv("JETSTORM_REQUIRE_DOCKER") == "1" {
			t.Fatalf("JETSTORM_REQUIRE_DOCKER=1, but: %v", err)
		}
		t.Skipf("no docker engine (make docker-engine starts one; JETSTORM_REQUIRE_DOCKER=1 makes this a failure): %v", err)
	}
}
