package powerfs

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"

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

var _ = (fs.NodeCopyFileRanger)((*node)(nil))

// CopyFileRange returns ENOSYS so that the kernel falls back to reads and
// writes through this filesystem.
func (n *node) CopyFileRange(ctx context.Context, fhIn fs.FileHandle, offIn uint64, out *fs.Inode, fhOut fs.FileHandle, offOut uint64, len uint64, flags uint64) (uint32, syscall.Errno) {
	return 0, syscall.ENOSYS
}
