package powerfs

import (
	"context"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

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
