package powerfs

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestNATSServerPowerCut runs an embedded single-node JetStream server on a
// keeper's mount, publishes acknowledged messages, cuts the power (SIGKILL
// of the keeper), restarts everything and counts the survivors. With
// sync_interval "always" every acknowledged message must survive; with the
// default interval the outcome is only logged (typically the whole stream
// is gone: its meta.inf was never fsynced).
func TestNATSServerPowerCut(t *testing.T) {
	skipUnlessAvailable(t)
	if testing.Short() {
		t.Skip("slow: runs nats-server")
	}
	for _, syncAlways := range []bool{false, true} {
		t.Run(fmt.Sprint("sync_always=", syncAlways), func(t *testing.T) {
			dir := t.TempDir()
			backing, mnt := filepath.Join(dir, "backing"), filepath.Join(dir, "mnt")
			k := startKeeper(t, backing, mnt)
			start := func() *server.Server {
				o := &server.Options{ServerName: "n1", Host: "127.0.0.1", Port: -1, JetStream: true,
					StoreDir: mnt, SyncAlways: syncAlways, NoSigs: true, NoLog: true}
				s, err := server.NewServer(o)
				must(t, err)
				s.Start()
				if !s.ReadyForConnections(10 * time.Second) {
					t.Fatal("nats-server not ready")
				}
				t.Cleanup(s.Shutdown)
				return s
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			s := start()
			nc, err := nats.Connect(s.ClientURL())
			must(t, err)
			js, err := jetstream.New(nc)
			must(t, err)
			_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "EV", Subjects: []string{"ev.>"}, Storage: jetstream.FileStorage})
			must(t, err)
			const n = 1000
			payload := make([]byte, 100)
			for range n {
				_, err := js.Publish(ctx, "ev.a", payload)
				must(t, err)
			}
			t.Logf("before the cut: %s", k.do(t, "stats"))
			nc.Close()

			must(t, k.cmd.Process.Signal(syscall.SIGKILL)) // power cut
			k.wait(t)
			s.Shutdown() // its writes now fail: the mount is dead
			s.WaitForShutdown()
			must(t, ForceUnmount(mnt))
			startKeeper(t, backing, mnt)
			s = start()
			nc, err = nats.Connect(s.ClientURL())
			must(t, err)
			defer nc.Close()
			js, err = jetstream.New(nc)
			must(t, err)
			var survived uint64
			if st, err := js.Stream(ctx, "EV"); err != nil {
				t.Logf("after the cut: stream lookup: %v", err)
			} else {
				info, err := st.Info(ctx)
				must(t, err)
				survived = info.State.Msgs
			}
			t.Logf("after the cut: %d of %d acknowledged messages survived", survived, n)
			if syncAlways && survived != n {
				t.Fatalf("sync_interval always lost acknowledged messages: %d of %d survived", survived, n)
			}
		})
	}
}
