package powerfs

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// node is a loopback node whose regular-file data goes through the
// mount's pending state. Metadata operations are inherited from
// fs.LoopbackNode and hit the backing directory at once.
type node struct {
	fs.LoopbackNode
	m *Mount
}

func (m *Mount) newNode(r *fs.LoopbackRoot, parent *fs.Inode, name string, st *syscall.Stat_t) fs.InodeEmbedder {
	return &node{LoopbackNode: fs.LoopbackNode{RootData: r}, m: m}
}

func (n *node) key() uint64 { return n.StableAttr().Ino }

func (n *node) isReg() bool { return n.StableAttr().Mode&syscall.S_IFMT == syscall.S_IFREG }

func (n *node) backingPath() string {
	return filepath.Join(n.RootData.Path, n.Path(n.Root()))
}

// acquire returns the state of this inode, pinned until m.release.
func (n *node) acquire() *fileState {
	s := n.m.acquire(n.key())
	ino := n.EmbeddedInode()
	s.mu.Lock()
	s.notify = func() { ino.NotifyContent(0, 0) }
	s.mu.Unlock()
	return s
}

// statPending makes attributes read from a backing file consistent with
// its pending state.
//
// stat fills in the caller's reply from the backing file and returns the
// state key of the inode it found (ok false: not a regular file, nothing
// to overlay). If that inode is dirty, fix then overlays its pending size
// and times (s.mu held).
//
// The stat and the look at the state cannot be one atomic step, and an
// application of the state to the backing file (fsync through any handle,
// an O_SYNC write, SyncAll, the writeback flusher) may land in between:
// the stat then shows the backing file from before it, yet the state is
// clean, so the old size would be returned as the current one. The kernel
// takes it (it only discards attributes that race with its own writes and
// truncations), and since it places every O_APPEND write at the size it
// caches, the next append overwrites data already written. So if any
// application has finished since the stat began (m.applies moved), the
// inode is stat'ed again by restat, which refills the reply, with its state
// locked: no application of it can interleave then. If restat finds
// another inode (a rename replaced the name meanwhile), it all starts over.
func (m *Mount) statPending(stat, restat func() (key uint64, ok bool, e syscall.Errno), fix func(s *fileState)) syscall.Errno {
	for {
		seq := m.applies.Load()
		key, ok, e := stat()
		if e != 0 || !ok {
			return e
		}
		if s := m.peek(key); s != nil {
			s.mu.Lock()
			dirty := s.dirty
			if dirty {
				fix(s) // right whatever the stat saw: size and times are the state's
			}
			s.mu.Unlock()
			if dirty {
				return 0
			}
		}
		if m.applies.Load() == seq {
			return 0 // nothing changed the backing file since the stat
		}
		stat = restat
		s := m.acquire(key)
		s.mu.Lock()
		key2, ok, e := stat()
		if e == 0 && ok && key2 == key && s.dirty {
			fix(s)
		}
		s.mu.Unlock()
		m.release(s)
		if e != 0 || !ok || key2 == key {
			return e
		}
	}
}

// overlay replaces the size (and times) in a with the pending ones. s.mu
// is held and s is dirty.
func (s *fileState) overlay(a *fuse.Attr) {
	a.Size = uint64(s.size)
	a.Blocks = (a.Size + 511) / 512
	if sec, nsec := uint64(s.mtime.Unix()), uint32(s.mtime.Nanosecond()); sec > a.Mtime || (sec == a.Mtime && nsec > a.Mtimensec) {
		a.Mtime, a.Mtimensec = sec, nsec
		a.Ctime, a.Ctimensec = sec, nsec
	}
}

func (s *fileState) overlayStatx(x *fuse.Statx) {
	var a fuse.Attr
	a.Size, a.Blocks, a.Mtime, a.Mtimensec = x.Size, x.Blocks, x.Mtime.Sec, x.Mtime.Nsec
	s.overlay(&a)
	x.Size, x.Blocks = a.Size, a.Blocks
	if a.Mtime != x.Mtime.Sec || a.Mtimensec != x.Mtime.Nsec {
		x.Mtime.Sec, x.Mtime.Nsec = a.Mtime, a.Mtimensec
		x.Ctime.Sec, x.Ctime.Nsec = a.Mtime, a.Mtimensec
	}
}

func childKey(ch *fs.Inode) (uint64, bool) {
	if ch == nil || ch.StableAttr().Mode&syscall.S_IFMT != syscall.S_IFREG {
		return 0, false
	}
	return ch.StableAttr().Ino, true
}

var _ = (fs.NodeLookuper)((*node)(nil))

func (n *node) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	var ch *fs.Inode
	lookup := func() (uint64, bool, syscall.Errno) {
		var e syscall.Errno
		ch, e = n.LoopbackNode.Lookup(ctx, name, out)
		k, ok := childKey(ch)
		return k, ok && e == 0, e
	}
	if e := n.m.statPending(lookup, lookup, func(s *fileState) { s.overlay(&out.Attr) }); e != 0 {
		return nil, e
	}
	return ch, 0
}

var _ = (fs.NodeLinker)((*node)(nil))

func (n *node) Link(ctx context.Context, target fs.InodeEmbedder, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	var ch *fs.Inode
	link := func() (uint64, bool, syscall.Errno) {
		var e syscall.Errno
		ch, e = n.LoopbackNode.Link(ctx, target, name, out)
		k, ok := childKey(ch)
		return k, ok && e == 0, e
	}
	restat := func() (uint64, bool, syscall.Errno) { // as a GETATTR of the target would
		var a fuse.AttrOut
		tn, ok := target.(*node)
		if !ok {
			return 0, false, syscall.EIO
		}
		if e := tn.LoopbackNode.Getattr(ctx, nil, &a); e != 0 {
			return 0, false, e
		}
		out.Attr = a.Attr
		return tn.key(), tn.isReg(), 0
	}
	if e := n.m.statPending(link, restat, func(s *fileState) { s.overlay(&out.Attr) }); e != 0 {
		return nil, e
	}
	return ch, 0
}

var _ = (fs.NodeGetattrer)((*node)(nil))

func (n *node) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	var base fs.FileHandle
	if h, ok := f.(*handle); ok && h != nil {
		base = h.lf
	}
	stat := func() (uint64, bool, syscall.Errno) {
		return n.key(), n.isReg(), n.LoopbackNode.Getattr(ctx, base, out)
	}
	return n.m.statPending(stat, stat, func(s *fileState) { s.overlay(&out.Attr) })
}

var _ = (fs.NodeStatxer)((*node)(nil))

func (n *node) Statx(ctx context.Context, f fs.FileHandle, flags uint32, mask uint32, out *fuse.StatxOut) syscall.Errno {
	var base fs.FileHandle
	if h, ok := f.(*handle); ok && h != nil {
		base = h.lf
	}
	stat := func() (uint64, bool, syscall.Errno) {
		return n.key(), n.isReg(), n.LoopbackNode.Statx(ctx, base, flags, mask, out)
	}
	return n.m.statPending(stat, stat, func(s *fileState) { s.overlayStatx(&out.Statx) })
}

var _ = (fs.NodeSetattrer)((*node)(nil))

// Setattr applies a size change to the pending state and everything else
// (mode, owner, times) to the backing file at once.
func (n *node) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	h, _ := f.(*handle)
	if sz, ok := in.GetSize(); ok && n.isReg() {
		if e := n.truncate(h, int64(sz)); e != 0 {
			return e
		}
		in.Valid &^= fuse.FATTR_SIZE
	}
	var base fs.FileHandle
	if h != nil {
		base = h.lf
	}
	setattr := func() (uint64, bool, syscall.Errno) {
		return n.key(), n.isReg(), n.LoopbackNode.Setattr(ctx, base, in, out)
	}
	restat := func() (uint64, bool, syscall.Errno) {
		return n.key(), n.isReg(), n.LoopbackNode.Getattr(ctx, base, out)
	}
	return n.m.statPending(setattr, restat, func(s *fileState) { s.overlay(&out.Attr) })
}

// truncate records a pending size change, through handle h if not nil.
func (n *node) truncate(h *handle, size int64) syscall.Errno {
	var s *fileState
	if h != nil {
		s = h.s
	} else {
		s = n.acquire()
		defer n.m.release(s)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.dirty {
		fd, closeFd, e := n.rwFd(h)
		if e != 0 {
			return e
		}
		e = s.makeDirty(fd)
		if closeFd {
			unix.Close(fd)
		}
		if e != 0 {
			return e
		}
	}
	s.truncate(size)
	return 0
}

// rwFd returns a read-write fd of the backing inode: the handle's own if it
// is read-write, else a new one (the caller closes it if closeFd).
func (n *node) rwFd(h *handle) (fd int, closeFd bool, e syscall.Errno) {
	if h != nil && h.rw {
		return h.fd, false, 0
	}
	p := n.backingPath()
	if h != nil {
		// Works even if the file was unlinked meanwhile.
		p = fmt.Sprintf("/proc/self/fd/%d", h.fd)
	}
	fd, err := unix.Open(p, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, false, errno(err)
	}
	return fd, true, 0
}

// openFlags turns the kernel's open flags into the ones used on the
// backing file: never truncate there (it is a pending data change), no
// O_DIRECT (our buffers are not aligned), no O_SYNC (handled by us), and
// write-only becomes read-write (pending pages are filled from the file).
func openFlags(flags uint32) (backing uint32, trunc, sync bool) {
	trunc = flags&syscall.O_TRUNC != 0
	sync = flags&(syscall.O_SYNC|syscall.O_DSYNC) != 0
	backing = flags &^ (syscall.O_TRUNC | syscall.O_DIRECT | syscall.O_SYNC | syscall.O_DSYNC)
	if backing&syscall.O_ACCMODE == syscall.O_WRONLY {
		backing = backing&^syscall.O_ACCMODE | syscall.O_RDWR
	}
	return backing, trunc, sync
}

// wrap turns a loopback file handle into one of ours.
func (n *node) wrap(fh fs.FileHandle, flags uint32, trunc, sync bool) (*handle, syscall.Errno) {
	lf, ok := fh.(*fs.LoopbackFile)
	if !ok {
		if r, ok := fh.(fs.FileReleaser); ok {
			r.Release(context.Background())
		}
		return nil, syscall.EIO
	}
	fd, ok := lf.PassthroughFd()
	if !ok {
		lf.Release(context.Background())
		return nil, syscall.EBADF
	}
	h := &handle{n: n, m: n.m, lf: lf, fd: fd, sync: sync}
	if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); err == nil {
		h.rw = fl&unix.O_ACCMODE == unix.O_RDWR
	}
	h.s = n.acquire()
	if trunc {
		if e := n.truncate(h, 0); e != 0 {
			h.Release(context.Background())
			return nil, e
		}
	}
	return h, 0
}

var _ = (fs.NodeOpener)((*node)(nil))

func (n *node) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if !n.isReg() {
		return n.LoopbackNode.Open(ctx, flags)
	}
	bflags, trunc, sync := openFlags(flags)
	fh, _, e := n.LoopbackNode.Open(ctx, bflags)
	if e != 0 && bflags&syscall.O_ACCMODE != flags&syscall.O_ACCMODE {
		fh, _, e = n.LoopbackNode.Open(ctx, bflags&^syscall.O_ACCMODE|flags&syscall.O_ACCMODE)
	}
	if e != 0 {
		return nil, 0, e
	}
	h, e := n.wrap(fh, flags, trunc, sync)
	if e != 0 {
		return nil, 0, e
	}
	return h, fuse.FOPEN_DIRECT_IO, 0
}

var _ = (fs.NodeCreater)((*node)(nil))

func (n *node) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	bflags, trunc, sync := openFlags(flags)
	var ch *fs.Inode
	var fh fs.FileHandle
	create := func() (uint64, bool, syscall.Errno) {
		var e syscall.Errno
		ch, fh, _, e = n.LoopbackNode.Create(ctx, name, bflags, mode, out)
		k, ok := childKey(ch)
		return k, ok && e == 0, e
	}
	restat := func() (uint64, bool, syscall.Errno) { // fstat of the new handle
		var a fuse.AttrOut
		lf, ok := fh.(*fs.LoopbackFile)
		if !ok {
			return 0, false, syscall.EIO
		}
		if e := lf.Getattr(ctx, &a); e != 0 {
			return 0, false, e
		}
		out.Attr = a.Attr
		k, ok := childKey(ch)
		return k, ok, 0
	}
	e := n.m.statPending(create, restat, func(s *fileState) { s.overlay(&out.Attr) })
	var cn *node
	if e == 0 {
		var ok bool
		if cn, ok = ch.Operations().(*node); !ok {
			e = syscall.EIO
		}
	}
	if e != 0 {
		if r, ok := fh.(fs.FileReleaser); ok {
			r.Release(ctx)
		}
		return nil, nil, 0, e
	}
	trunc = trunc && out.Attr.Size > 0 // O_CREAT|O_TRUNC on an existing file
	h, e := cn.wrap(fh, flags, trunc, sync)
	if e != 0 {
		return nil, nil, 0, e
	}
	if trunc {
		out.Attr.Size, out.Attr.Blocks = 0, 0
	}
	return ch, h, fuse.FOPEN_DIRECT_IO, 0
}

var _ = (fs.NodeTmpfiler)((*node)(nil))

// Tmpfile (O_TMPFILE) is not supported: its data would bypass the pending state.
func (n *node) Tmpfile(ctx context.Context, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, syscall.EOPNOTSUPP
}

var _ = (fs.NodeCopyFileRanger)((*node)(nil))

// CopyFileRange returns ENOSYS so that the kernel falls back to reads and
// writes through this filesystem.
func (n *node) CopyFileRange(ctx context.Context, fhIn fs.FileHandle, offIn uint64, out *fs.Inode, fhOut fs.FileHandle, offOut uint64, len uint64, flags uint64) (uint32, syscall.Errno) {
	return 0, syscall.ENOSYS
}

var _ = (fs.NodeUnlinker)((*node)(nil))

func (n *node) Unlink(ctx context.Context, name string) syscall.Errno {
	k, isReg := childKey(n.GetChild(name))
	e := n.LoopbackNode.Unlink(ctx, name)
	if e == 0 && isReg {
		n.m.forgetIfOrphaned(k)
	}
	return e
}

var _ = (fs.NodeRenamer)((*node)(nil))

func (n *node) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	k, isReg := childKey(newParent.EmbeddedInode().GetChild(newName))
	e := n.LoopbackNode.Rename(ctx, name, newParent, newName, flags)
	if e == 0 && isReg && flags&unix.RENAME_EXCHANGE == 0 {
		n.m.forgetIfOrphaned(k) // the replaced file
	}
	return e
}

// handle is an open regular file.
type handle struct {
	m    *Mount
	n    *node
	s    *fileState
	lf   *fs.LoopbackFile
	fd   int  // lf's fd
	rw   bool // fd is O_RDWR
	sync bool // opened O_SYNC/O_DSYNC: every write is synced
}

var (
	_ = (fs.FileReader)((*handle)(nil))
	_ = (fs.FileWriter)((*handle)(nil))
	_ = (fs.FileWritever)((*handle)(nil))
	_ = (fs.FileFsyncer)((*handle)(nil))
	_ = (fs.FileFlusher)((*handle)(nil))
	_ = (fs.FileReleaser)((*handle)(nil))
	_ = (fs.FileAllocater)((*handle)(nil))
)

func (h *handle) Read(ctx context.Context, buf []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	s := h.s
	s.mu.Lock()
	if s.dirty {
		n, e := s.read(buf, off)
		s.mu.Unlock()
		if e != 0 {
			return nil, e
		}
		return fuse.ReadResultData(buf[:n]), 0
	}
	s.mu.Unlock()
	n, e := preadFull(h.fd, buf, off)
	if e != 0 {
		return nil, e
	}
	return fuse.ReadResultData(buf[:n]), 0
}

// dirty makes the state dirty; s.mu must be held.
func (h *handle) dirty() syscall.Errno {
	if h.s.dirty {
		return 0
	}
	fd, closeFd, e := h.n.rwFd(h)
	if e != 0 {
		return e
	}
	e = h.s.makeDirty(fd)
	if closeFd {
		unix.Close(fd)
	}
	return e
}

func (h *handle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	return h.Writev(ctx, [][]byte{data}, off)
}

func (h *handle) Writev(ctx context.Context, data [][]byte, off int64) (uint32, syscall.Errno) {
	s := h.s
	total := 0
	s.mu.Lock()
	e := h.dirty()
	for _, d := range data {
		if e != 0 {
			break
		}
		e = s.write(d, off+int64(total))
		total += len(d)
	}
	if e == 0 && h.sync {
		e = s.sync()
	}
	s.mu.Unlock()
	if e != 0 {
		return 0, e
	}
	h.m.writes.Add(1)
	h.m.bytesWritten.Add(int64(total))
	if h.sync {
		if err := unix.Fdatasync(h.fd); err != nil {
			return 0, errno(err)
		}
	}
	return uint32(total), 0
}

// Fsync (fsync and fdatasync alike) applies the inode's pending writes to
// the backing file and fsyncs it.
func (h *handle) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	h.m.fsyncs.Add(1)
	s := h.s
	s.mu.Lock()
	e := s.sync()
	s.mu.Unlock()
	if e != 0 {
		return e
	}
	var err error
	if flags&1 != 0 { // FUSE_FSYNC_FDATASYNC
		err = unix.Fdatasync(h.fd)
	} else {
		err = unix.Fsync(h.fd)
	}
	return errno(err)
}

// Flush (called on every close) makes nothing durable, as on Linux.
func (h *handle) Flush(ctx context.Context) syscall.Errno { return 0 }

func (h *handle) Release(ctx context.Context) syscall.Errno {
	e := h.lf.Release(ctx)
	h.m.release(h.s)
	return e
}

// Allocate: plain fallocate grows the pending size; FALLOC_FL_KEEP_SIZE is
// accepted and does nothing (preallocation carries no data); other modes
// (punch hole, zero range, ...) are not supported.
func (h *handle) Allocate(ctx context.Context, off uint64, size uint64, mode uint32) syscall.Errno {
	switch mode {
	case 0:
	case unix.FALLOC_FL_KEEP_SIZE:
		return 0
	default:
		return syscall.EOPNOTSUPP
	}
	s := h.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := h.dirty(); e != 0 {
		return e
	}
	if end := int64(off + size); end > s.size {
		s.truncate(end)
	}
	s.mtime = time.Now()
	return 0
}
