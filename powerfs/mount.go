package powerfs

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// FsName is the source shown for powerfs mounts in /proc/self/mountinfo.
const FsName = "jetstorm-powerfs"

// cacheTimeout is the kernel's entry and attribute cache timeout. All
// changes go through the mount, so the kernel caches stay right; the timeout
// only bounds staleness after DropUnsynced.
const cacheTimeout = 100 * time.Millisecond

// Options configure a mount.
type Options struct {
	Debug bool // log every FUSE request (go-fuse debug output on stderr)

	// Writeback emulates the Linux kernel's dirty-page writeback. 0 (the
	// default) never writes unsynced data back: only fsync persists, and a
	// power cut loses everything unsynced (the worst case, like LazyFS).
	// When > 0, a flusher wakes every min(5s, Writeback/2) (at most every
	// 10 ms) and writes the pending state of every inode dirty for at
	// least Writeback to the backing file, without fsync (it reaches the
	// real page cache, which survives our power cut). 30s is Linux's
	// default (dirty_expire_centisecs 3000, dirty_writeback_centisecs 500).
	Writeback time.Duration
}

// Stats are counters of a mount.
type Stats struct {
	PendingBytes int64 `json:"pending_bytes"` // memory held by unsynced pages (4 KiB per dirty page)
	PendingFiles int   `json:"pending_files"` // files with unsynced data or size changes
	Fsyncs       int64 `json:"fsyncs"`        // fsync and fdatasync calls on files
	Writes       int64 `json:"writes"`        // write requests
	BytesWritten int64 `json:"bytes_written"` // bytes in write requests
	Writebacks   int64 `json:"writebacks"`    // inodes written back by the flusher (Options.Writeback)
}

// Mount is a mounted powerfs.
type Mount struct {
	backing, mountpoint string
	srv                 *fuse.Server

	mu     sync.Mutex
	states map[uint64]*fileState

	pendingBytes, pendingFiles   atomic.Int64
	fsyncs, writes, bytesWritten atomic.Int64
	writebacks                   atomic.Int64

	// applies counts the applications of pending state to backing files
	// (fileState.apply), each counted once it has changed the file, so
	// that a stat of a backing file can tell whether one may have landed
	// in the middle of it (see statPending).
	applies atomic.Uint64

	unmountMu      sync.Mutex // guards the fields below
	unmounted      bool
	wbStop, wbDone chan struct{} // flusher goroutine, nil if none
}

// New mounts a powerfs over mountpoint that passes through to backing
// (both are created if missing). It returns once the mount is ready.
func New(backing, mountpoint string, o Options) (*Mount, error) {
	if o.Writeback < 0 {
		return nil, fmt.Errorf("powerfs: negative Writeback %v", o.Writeback)
	}
	if err := Available(); err != nil {
		return nil, err
	}
	var err error
	if backing, err = canonical(backing); err != nil {
		return nil, err
	}
	if mountpoint, err = canonical(mountpoint); err != nil {
		return nil, err
	}
	if backing == mountpoint {
		return nil, fmt.Errorf("powerfs: backing and mount point are the same directory %s", backing)
	}
	if err := os.MkdirAll(backing, 0o755); err != nil {
		return nil, fmt.Errorf("powerfs: %w", err)
	}
	if mounted, _ := isMounted(mountpoint); mounted {
		var st unix.Stat_t
		if err := unix.Stat(mountpoint, &st); err == nil {
			return nil, fmt.Errorf("powerfs: %s is already a mount point", mountpoint)
		}
		// A stale mount of a dead server (ENOTCONN): clear it.
		if err := ForceUnmount(mountpoint); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(mountpoint, 0o755); err != nil {
		return nil, fmt.Errorf("powerfs: %w", err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(backing, &st); err != nil {
		return nil, fmt.Errorf("powerfs: %w", err)
	}
	m := &Mount{backing: backing, mountpoint: mountpoint, states: make(map[uint64]*fileState)}
	r := &fs.LoopbackRoot{Path: backing, Dev: uint64(st.Dev), NewNode: m.newNode}
	r.RootNode = m.newNode(r, nil, "", &st)

	timeout, negTimeout := cacheTimeout, cacheTimeout
	opts := &fs.Options{
		EntryTimeout:    &timeout,
		AttrTimeout:     &timeout,
		NegativeTimeout: &negTimeout,
		MountOptions: fuse.MountOptions{
			DirectMount:       true,
			DirectMountStrict: true, // there is no fusermount to fall back to
			FsName:            FsName,
			Name:              "powerfs",
			AllowOther:        true,
			Debug:             o.Debug,
			// No writeback cache, no passthrough (our handles have no
			// PassthroughFd), and every file is opened FOPEN_DIRECT_IO:
			// the kernel page cache never holds file data, all reads and
			// writes reach us. But a direct-I/O file may still be mapped
			// (Linux 6.6+): BoltDB, NATS Streaming's Raft log, maps its
			// file to read it (mmap of a direct-I/O file is ENODEV
			// otherwise); its pages are filled by reads that reach us.
			ExtraCapabilities: fuse.CAP_DIRECT_IO_ALLOW_MMAP,
		},
	}
	srv, err := fuse.NewServer(fs.NewNodeFS(r.RootNode, opts), mountpoint, &opts.MountOptions)
	if err != nil {
		return nil, fmt.Errorf("powerfs: mount %s: %w", mountpoint, err)
	}
	m.srv = srv
	go srv.Serve()
	if err := srv.WaitMount(); err != nil {
		_ = ForceUnmount(mountpoint)
		return nil, fmt.Errorf("powerfs: mount %s: %w", mountpoint, err)
	}
	if o.Writeback > 0 {
		m.startWriteback(o.Writeback)
	}
	return m, nil
}

// Mountpoint returns the absolute mount point.
func (m *Mount) Mountpoint() string { return m.mountpoint }

// Backing returns the absolute backing directory.
func (m *Mount) Backing() string { return m.backing }

// Unmount unmounts. It does not sync: pending writes are lost unless SyncAll
// was called first. It first stops the writeback flusher (Options.Writeback),
// so nothing is written back after DropUnsynced+Unmount. If the mount stays
// busy for ~5 s it is lazily detached (MNT_DETACH). Calling it again is a
// no-op.
func (m *Mount) Unmount() error {
	m.unmountMu.Lock()
	defer m.unmountMu.Unlock()
	if m.unmounted {
		return nil
	}
	m.stopWriteback()
	detached := false
	deadline := time.Now().Add(5 * time.Second)
	delay := 5 * time.Millisecond
	for {
		err := syscall.Unmount(m.mountpoint, 0)
		if err == nil || err == syscall.EINVAL || err == syscall.ENOENT {
			break // unmounted (EINVAL: no longer a mount point)
		}
		if err != syscall.EBUSY || time.Now().After(deadline) {
			if err := syscall.Unmount(m.mountpoint, syscall.MNT_DETACH); err != nil && err != syscall.EINVAL {
				return fmt.Errorf("powerfs: unmount %s: %w", m.mountpoint, err)
			}
			detached = true
			break
		}
		time.Sleep(delay)
		delay = min(2*delay, 200*time.Millisecond)
	}
	m.unmounted = true
	// Wait for the serve loops to end. After a lazy detach they run until
	// the last open file is closed, so do not wait for long.
	done := make(chan struct{})
	go func() { m.srv.Wait(); close(done) }()
	wait := 5 * time.Second
	if detached {
		wait = 100 * time.Millisecond
	}
	select {
	case <-done:
	case <-time.After(wait):
	}
	return nil
}

// DropUnsynced throws away every pending write, as a power cut would.
func (m *Mount) DropUnsynced() {
	var notify []func()
	m.mu.Lock()
	for k, s := range m.states {
		s.mu.Lock()
		if s.dirty {
			s.clean()
			if s.notify != nil {
				notify = append(notify, s.notify)
			}
		}
		s.mu.Unlock()
		if s.opens == 0 {
			delete(m.states, k)
		}
	}
	m.mu.Unlock()
	// The kernel may cache the old size for a moment: invalidate it.
	for _, f := range notify {
		f()
	}
}

// SyncAll applies and fsyncs every pending write (a clean shutdown).
func (m *Mount) SyncAll() error {
	m.mu.Lock()
	var dirty []*fileState
	for k, s := range m.states {
		s.mu.Lock()
		if s.dirty {
			dirty = append(dirty, s)
		} else if s.opens == 0 {
			delete(m.states, k)
		}
		s.mu.Unlock()
	}
	m.mu.Unlock()
	var errs []error
	for _, s := range dirty {
		s.mu.Lock()
		if s.dirty {
			e := s.apply()
			if e == 0 {
				e = errno(unix.Fsync(s.fd))
			}
			if e == 0 {
				s.clean()
			} else {
				errs = append(errs, fmt.Errorf("inode %d: %w", s.key, e))
			}
		}
		s.mu.Unlock()
	}
	if len(errs) > 0 {
		return fmt.Errorf("powerfs: sync: %w", errors.Join(errs...))
	}
	return nil
}

// Stats returns the mount's counters.
func (m *Mount) Stats() Stats {
	return Stats{
		PendingBytes: m.pendingBytes.Load(),
		PendingFiles: int(m.pendingFiles.Load()),
		Fsyncs:       m.fsyncs.Load(),
		Writes:       m.writes.Load(),
		BytesWritten: m.bytesWritten.Load(),
		Writebacks:   m.writebacks.Load(),
	}
}

// acquire returns the state for key, creating it, and pins it (opens++).
func (m *Mount) acquire(key uint64) *fileState {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.states[key]
	if s == nil {
		s = &fileState{m: m, key: key, fd: -1}
		m.states[key] = s
	}
	s.opens++
	return s
}

// release unpins s. A clean unpinned state is forgotten; so is the pending
// state of a file that was unlinked while open, once its last handle closes.
func (m *Mount) release(s *fileState) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s.opens--
	if s.opens > 0 {
		return
	}
	s.mu.Lock()
	if s.orphaned() {
		s.clean()
	}
	if !s.dirty && m.states[s.key] == s {
		delete(m.states, s.key)
	}
	s.mu.Unlock()
}

// peek returns the state for key, if any.
func (m *Mount) peek(key uint64) *fileState {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.states[key]
}

// forgetIfOrphaned drops the pending state of an inode whose last name was
// just removed, unless it is still open (then release does it).
func (m *Mount) forgetIfOrphaned(key uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.states[key]
	if s == nil || s.opens > 0 {
		return
	}
	s.mu.Lock()
	if s.orphaned() {
		s.clean()
	}
	if !s.dirty {
		delete(m.states, key)
	}
	s.mu.Unlock()
}
