package clusters

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// needDocker is NeedDockerInTest (dockerowned.go).
func needDocker(t *testing.T) { t.Helper(); NeedDockerInTest(t) }

// A 3-node docker cluster: healthy, an R3 stream takes a publish, a killed
// node's container stops and its restart (same store) heals the cluster,
// and Close leaves no container or network of the run.
func TestDockerClusterKillRestart(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, version, err := Start(ctx, Config{Backend: "docker", Logf: t.Logf,
		ProcessOptions: ProcessOptions{Dir: t.TempDir(), Nodes: 3, SyncInterval: "always"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if version != ServerVersion {
		t.Errorf("version %q, want %s", version, ServerVersion)
	}
	if l := c.(Network).Link("n1", "n2"); l != nil {
		t.Error("without LinkProxies, a docker cluster must not offer links")
	}
	nc, err := nats.Connect(strings.Join(ClientURLs(c), ","))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "s", Subjects: []string{"s"}, Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "s", []byte("x")); err != nil {
		t.Fatal(err)
	}

	n := c.Nodes()[1]
	url := n.ClientURL()
	pid := n.Pid()
	if pid <= 0 || !alive(pid) {
		t.Fatalf("Pid %d of a running node is not a live host process", pid)
	}
	if err := n.Kill(); err != nil {
		t.Fatal(err)
	}
	if n.Running() || n.Pid() != 0 || alive(pid) {
		t.Fatalf("after Kill: running %v, pid %d, old pid %d alive %v", n.Running(), n.Pid(), pid, alive(pid))
	}
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
	// Workload clients are pinned to a node's URL: it must survive a restart.
	if n.ClientURL() != url {
		t.Errorf("client URL %s after the restart, %s before", n.ClientURL(), url)
	}
	if log, err := os.ReadFile(n.LogPath()); err != nil || strings.Count(string(log), "=== jetstorm: starting n2") != 2 || !strings.Contains(string(log), "Server is ready") {
		t.Errorf("node log %s (err %v) should hold two starts and the server's own lines:\n%s", n.LogPath(), err, log)
	}
	if files, err := n.Store().Files(); err != nil || len(files) == 0 {
		t.Errorf("store of %s on the host: %v, %v", n.Name(), files, err)
	}

	run := c.(*DockerCluster).Run()
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for _, what := range [][]string{{"ps", "-aq"}, {"network", "ls", "-q"}} {
		args := append(what, "--filter", "label="+labelRun+"="+run)
		out, err := exec.Command("docker", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("docker %v: %v: %s", args, err, out)
		}
		if s := strings.TrimSpace(string(out)); s != "" {
			t.Errorf("after Close, docker %s shows: %s", strings.Join(args, " "), s)
		}
	}
}

// The sweep removes a container whose owner pid is dead and keeps one whose
// owner is alive (this test).
func TestDockerCleanDeadOwner(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cli, err := dockerClient(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	bin, err := nodeBinary(ctx, "", t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	image, err := nodeImage(ctx, cli, bin, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	// A dead pid: a process that has exited and been reaped.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	create := func(name, pid string) string {
		labels := ownerLabels("cleantest")
		labels[labelOwnerPid] = pid
		r, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{Name: name, Config: &container.Config{Image: image, Labels: labels}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cli.ContainerRemove(context.Background(), r.ID, client.ContainerRemoveOptions{Force: true}) })
		return r.ID
	}
	run := strconv.FormatUint(uint64(time.Now().UnixNano()), 36)
	deadID := create("jetstorm-cleantest-dead-"+run, strconv.Itoa(dead.Process.Pid))
	liveID := create("jetstorm-cleantest-live-"+run, strconv.Itoa(os.Getpid()))
	removed, err := CleanDocker(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("removed: %q", removed)
	exists := func(id string) bool {
		_, err := cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
		return err == nil
	}
	if exists(deadID) {
		t.Error("the dead owner's container is still there")
	}
	if !exists(liveID) {
		t.Error("the live owner's container was removed")
	}
}
