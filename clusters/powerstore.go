package clusters

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"
)

// powerStore is a node's store dir served through powerfs (powerloss_fs),
// the same for every backend that has it: a keeper mounts the backing dir
// (dir/store.disk, the store as it is on disk) at the store dir
// (dir/store), where the node reads and writes. The node must only run
// while the store is mounted: mount before every start of the node, cut
// (the power loss) or unmount only once it is stopped. A nil *powerStore
// is a node without powerloss_fs: mount and unmount do nothing.
type powerStore struct {
	exe, node, dir string // dir: the node directory
	writeback      time.Duration

	mu     sync.Mutex
	keeper *keeper // nil when not mounted
}

func newPowerStore(exe, node, dir string, writeback time.Duration) *powerStore {
	return &powerStore{exe: exe, node: node, dir: dir, writeback: writeback}
}

func (p *powerStore) mountpoint() string { return filepath.Join(p.dir, "store") }
func (p *powerStore) backing() string    { return backingDir(p.dir) }
func (p *powerStore) logPath() string    { return keeperLogPath(p.dir, p.node) }

// backingDir is where the store of the node in dir really is on disk.
func backingDir(dir string) string { return filepath.Join(dir, "store.disk") }

// keeperLogPath is the keeper's own log: a node log holds only the
// server's output, so a crash found there is the server's.
func keeperLogPath(dir, node string) string { return filepath.Join(dir, node+".keeper.log") }

// mount starts a keeper unless one is serving the store already.
func (p *powerStore) mount(ctx context.Context) error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.keeper != nil && p.keeper.running() {
		return nil
	}
	k, err := startKeeper(ctx, p.exe, p.backing(), p.mountpoint(), p.writeback, p.logPath(), p.node)
	if err != nil {
		return err
	}
	p.keeper = k
	return nil
}

// cut is the power cut: SIGKILL the keeper, so every write the node had
// not fsynced is gone, and detach its dead mount. It returns the bytes of
// unsynced data thrown away.
func (p *powerStore) cut() (int64, error) {
	k := p.take()
	if k == nil {
		return 0, nil
	}
	st, _ := k.stats()
	return st.PendingBytes, k.kill(p.mountpoint())
}

// unmount is a clean shutdown: the keeper syncs what it holds and unmounts.
func (p *powerStore) unmount() error {
	if p == nil {
		return nil
	}
	if k := p.take(); k != nil {
		return k.stop(p.mountpoint())
	}
	return nil
}

func (p *powerStore) take() *keeper {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := p.keeper
	p.keeper = nil
	return k
}

// unsynced is how much written data the node has not fsynced yet.
func (p *powerStore) unsynced(node string) (int64, error) {
	var k *keeper
	if p != nil {
		p.mu.Lock()
		k = p.keeper
		p.mu.Unlock()
	}
	if k == nil {
		return 0, fmt.Errorf("%s has no powerfs keeper", node)
	}
	st, err := k.stats()
	return st.PendingBytes, err
}

// powerLoss is a node's PowerLoss, for every backend: kill the node (it
// must be stopped before its store goes), then cut the store.
func powerLoss(name string, p *powerStore, kill func() error) (int64, error) {
	if p == nil {
		return 0, fmt.Errorf("power loss of %s: the cluster runs without powerloss_fs", name)
	}
	if err := kill(); err != nil {
		return 0, err
	}
	return p.cut()
}
