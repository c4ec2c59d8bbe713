package clusters

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"jetstorm/powerfs"
)

// A docker node on powerloss_fs: its container writes its store through
// powerfs (the mount on the host, seen at /node/store inside), a power loss
// throws away what the node wrote and did not fsync, and the restarted node
// sees only what was synced. The unsynced messages are published by the
// node itself with the default sync_interval (2 min: it fsyncs nothing in
// the meantime), so the test fails if the container's store bypasses
// powerfs: nothing would be pending, and nothing lost. The stream is
// created, and the synced ones published, with sync_interval always:
// with the default, the server does not fsync the stream's metadata
// (meta.inf), and after the power loss the stream cannot be recovered.
func TestDockerPowerLoss(t *testing.T) {
	needDocker(t)
	powerfs.NeedInTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	c, _, err := Start(ctx, Config{Backend: "docker", Logf: t.Logf,
		ProcessOptions: ProcessOptions{Dir: dir, Nodes: 1, PowerLossFS: true, SyncInterval: "always"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	n := c.Nodes()[0].(*DockerNode)
	if mp := containerMount(t, n.Pid(), dockerNodeDir+"/store"); !strings.Contains(mp, powerfs.FsName) {
		t.Fatalf("inside the container, %s/store is %q, not the powerfs mount", dockerNodeDir, mp)
	}

	publish := func(what string, k int) {
		t.Helper()
		_, js := dockerJS(t, n)
		for i := range k {
			if _, err := js.Publish(ctx, "s", fmt.Appendf(nil, "%s-%d", what, i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	restart := func(stop func() error) {
		t.Helper()
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if n.Running() {
			t.Fatal("node still running")
		}
		if err := n.Start(ctx); err != nil {
			t.Fatal(err)
		}
		hctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := c.WaitHealthy(hctx); err != nil {
			t.Fatal(err)
		}
	}

	// Synced: with sync_interval always, the node fsyncs every write
	// (the stream's metadata too). Then the default for the next start.
	_, js := dockerJS(t, n)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "s", Subjects: []string{"s"}, Replicas: 1}); err != nil {
		t.Fatal(err)
	}
	publish("synced", 50)
	if err := n.SetSyncInterval(""); err != nil {
		t.Fatal(err)
	}
	restart(func() error { return n.Stop(ctx) })
	publish("unsynced", 50)
	pending, err := n.UnsyncedBytes()
	if err != nil || pending == 0 {
		t.Fatalf("after 50 publishes, %d unsynced bytes (%v); want > 0: does the container's store go through powerfs?", pending, err)
	}
	var lost int64
	restart(func() error { lost, err = n.PowerLoss(); return err })
	if lost < pending {
		t.Errorf("power loss dropped %d bytes, %d were pending before it", lost, pending)
	}
	if mp := containerMount(t, n.Pid(), dockerNodeDir+"/store"); !strings.Contains(mp, powerfs.FsName) {
		t.Fatalf("after the power loss, %s/store is %q in the container, not the powerfs mount", dockerNodeDir, mp)
	}

	_, js = dockerJS(t, n)
	s, err := js.Stream(ctx, "s")
	if err != nil {
		t.Fatalf("stream after the power loss: %v", err)
	}
	st := s.CachedInfo().State
	last, err := s.GetLastMsgForSubject(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d bytes pending, %d lost; after the power loss the stream holds %d messages, last %q", pending, lost, st.Msgs, last.Data)
	if st.Msgs != 50 || string(last.Data) != "synced-49" {
		t.Errorf("after the power loss: %d messages, last %q; want the 50 synced ones only, last synced-49", st.Msgs, last.Data)
	}

	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if ms := mountsUnder(t, dir); len(ms) > 0 {
		t.Errorf("after Close, mounted: %q", ms)
	}
}

// A docker cluster on powerloss_fs that fails to start leaves no mount.
func TestDockerPowerLossStartFails(t *testing.T) {
	needDocker(t)
	powerfs.NeedInTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	// No node can be ready within a millisecond: the containers start,
	// then the start fails and Close cleans up.
	c, _, err := Start(ctx, Config{Backend: "docker", Logf: t.Logf,
		ProcessOptions: ProcessOptions{Dir: dir, Nodes: 2, PowerLossFS: true, StartTimeout: time.Millisecond}})
	if err == nil {
		c.Close(ctx)
		t.Fatal("the cluster started within a millisecond")
	}
	t.Logf("start: %v", err)
	if _, err := os.Stat(filepath.Join(dir, "n1", "n1.keeper.log")); err != nil {
		t.Errorf("no keeper was started: %v", err)
	}
	if ms := mountsUnder(t, dir); len(ms) > 0 {
		t.Errorf("after a failed start, mounted: %q", ms)
	}
}

// containerMount is the mountinfo line of mountpoint in the mount
// namespace of pid (a container's init), "" if nothing is mounted there.
func containerMount(t *testing.T, pid int, mountpoint string) string {
	t.Helper()
	for _, l := range mountinfo(t, fmt.Sprintf("/proc/%d/mountinfo", pid)) {
		if f := strings.Fields(l); len(f) > 4 && f[4] == mountpoint {
			return l
		}
	}
	return ""
}

// mountsUnder lists what is mounted at or under dir, in this process's
// mount namespace.
func mountsUnder(t *testing.T, dir string) []string {
	t.Helper()
	dir, _ = filepath.EvalSymlinks(dir)
	var ms []string
	for _, l := range mountinfo(t, "/proc/self/mountinfo") {
		if f := strings.Fields(l); len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			ms = append(ms, f[4])
		}
	}
	return ms
}

func mountinfo(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}
