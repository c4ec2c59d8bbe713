package powerfs

import (
	"slices"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// PageSize is the granularity at which unsynced data is held in memory.
const PageSize = 4096

type page [PageSize]byte

var pagePool = sync.Pool{New: func() any { return new(page) }}

// maxIov bounds the iovecs passed to one pwritev (IOV_MAX is 1024 on Linux).
const maxIov = 512

// fileState is the pending (written but not yet fsynced) state of one
// backing inode. It is keyed by inode, not path, so it follows renames and
// hard links, and it survives the kernel forgetting the FUSE inode.
//
// The logical content of the file is:
//
//	bytes [0, valid)     of the backing file, except where a dirty page covers them,
//	zeros in [valid, size) except where a dirty page covers them,
//	nothing beyond size.
//
// A dirty page is a full image of the logical content of its 4 KiB range;
// its bytes beyond size are zero (invariant). valid <= size and
// valid <= backingSize always hold.
type fileState struct {
	m   *Mount
	key uint64

	// opens counts open handles plus in-flight node operations holding
	// the state. Guarded by m.mu (not mu): it decides map membership.
	opens int

	mu          sync.Mutex
	dirty       bool
	fd          int   // O_RDWR backing fd owned by the state; valid only while dirty
	size        int64 // logical size
	backingSize int64 // size of the backing file when the state became dirty
	valid       int64 // prefix of the backing file that is still part of the content
	mtime       time.Time
	dirtySince  time.Time // when the state last went from clean to dirty; zero while clean
	pages       map[int64]*page
	keys        []int64  // scratch for apply
	iov         [][]byte // scratch for apply
	notify      func()   // invalidates kernel caches for this inode (best effort)
}

// makeDirty starts tracking pending state. src must be a readable and
// writable fd of the backing inode; it is duplicated, not retained.
func (s *fileState) makeDirty(src int) syscall.Errno {
	if s.dirty {
		return 0
	}
	var st unix.Stat_t
	if err := unix.Fstat(src, &st); err != nil {
		return errno(err)
	}
	fd, err := unix.FcntlInt(uintptr(src), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return errno(err)
	}
	s.fd = fd
	s.size, s.backingSize, s.valid = st.Size, st.Size, st.Size
	if s.pages == nil {
		s.pages = make(map[int64]*page)
	}
	s.dirty = true
	s.dirtySince = time.Now()
	s.m.pendingFiles.Add(1)
	return 0
}

// preadFull reads len(b) bytes at off, stopping early at EOF. It returns the
// number of bytes read.
func preadFull(fd int, b []byte, off int64) (int, syscall.Errno) {
	n := 0
	for n < len(b) {
		k, err := unix.Pread(fd, b[n:], off+int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, errno(err)
		}
		if k == 0 {
			break
		}
		n += k
	}
	return n, 0
}

// faultIn creates the dirty page pi. Unless the caller is about to
// overwrite all of it, it is filled with the current logical content.
func (s *fileState) faultIn(pi int64, whole bool) (*page, syscall.Errno) {
	pg := pagePool.Get().(*page)
	if !whole {
		start := pi * PageSize
		k := 0
		if start < s.valid {
			want := min(int64(PageSize), s.valid-start)
			var e syscall.Errno
			k, e = preadFull(s.fd, pg[:want], start)
			if e != 0 {
				pagePool.Put(pg)
				return nil, e
			}
		}
		clear(pg[k:])
	}
	s.pages[pi] = pg
	s.m.pendingBytes.Add(PageSize)
	return pg, 0
}

// write records data at off. s must be dirty.
func (s *fileState) write(data []byte, off int64) syscall.Errno {
	end := off + int64(len(data))
	for len(data) > 0 {
		pi, po := off/PageSize, int(off%PageSize)
		n := min(PageSize-po, len(data))
		pg := s.pages[pi]
		if pg == nil {
			var e syscall.Errno
			if pg, e = s.faultIn(pi, n == PageSize); e != 0 {
				return e
			}
		}
		copy(pg[po:], data[:n])
		data = data[n:]
		off += int64(n)
	}
	if end > s.size {
		s.size = end
	}
	s.mtime = time.Now()
	return 0
}

// truncate records a size change. s must be dirty.
func (s *fileState) truncate(size int64) {
	if size < s.size {
		s.valid = min(s.valid, size)
		for pi, pg := range s.pages {
			if pi*PageSize >= size {
				delete(s.pages, pi)
				pagePool.Put(pg)
				s.m.pendingBytes.Add(-PageSize)
			}
		}
		if r := size % PageSize; r != 0 {
			if pg := s.pages[size/PageSize]; pg != nil {
				clear(pg[r:])
			}
		}
	}
	s.size = size
	s.mtime = time.Now()
}

// read fills dst with the logical content at off (s must be dirty) and
// returns the number of bytes (short at EOF).
func (s *fileState) read(dst []byte, off int64) (int, syscall.Errno) {
	if off >= s.size {
		return 0, 0
	}
	n := int(min(int64(len(dst)), s.size-off))
	dst = dst[:n]
	got := 0
	if off < s.valid {
		var e syscall.Errno
		if got, e = preadFull(s.fd, dst[:min(int64(n), s.valid-off)], off); e != 0 {
			return 0, e
		}
	}
	clear(dst[got:])
	if len(s.pages) == 0 {
		return n, 0
	}
	end := off + int64(n)
	for pi := off / PageSize; pi*PageSize < end; pi++ {
		pg := s.pages[pi]
		if pg == nil {
			continue
		}
		ps := pi * PageSize
		lo, hi := max(ps, off), min(ps+PageSize, end)
		copy(dst[lo-off:hi-off], pg[lo-ps:hi-ps])
	}
	return n, 0
}

// pwritevAll writes all of iov at off, coping with short writes.
func pwritevAll(fd int, iov [][]byte, off int64) syscall.Errno {
	for len(iov) > 0 {
		n, err := unix.Pwritev(fd, iov, off)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return errno(err)
		}
		if n == 0 {
			return syscall.EIO
		}
		off += int64(n)
		for n > 0 {
			if n >= len(iov[0]) {
				n -= len(iov[0])
				iov = iov[1:]
			} else {
				iov[0] = iov[0][n:]
				n = 0
			}
		}
	}
	return 0
}

// apply writes the pending state to the backing file, in order: the
// truncation below the valid prefix, then the dirty pages (ascending,
// coalesced into pwritev calls), then the final size. It does not fsync and
// does not clean the state (see clean); applying twice is harmless, so on
// error the state stays dirty and a later fsync retries.
func (s *fileState) apply() syscall.Errno {
	if !s.dirty {
		return 0
	}
	// Counted after the backing file changed (even on error: it may have
	// changed partly), before s.mu is released.
	defer s.m.applies.Add(1)
	cur := s.backingSize
	if s.valid < s.backingSize {
		if err := unix.Ftruncate(s.fd, s.valid); err != nil {
			return errno(err)
		}
		cur = s.valid
	}
	keys := s.keys[:0]
	for k := range s.pages {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	s.keys = keys

	iov := s.iov[:0]
	var runOff, runLen, next int64
	flush := func() syscall.Errno {
		if len(iov) == 0 {
			return 0
		}
		if e := pwritevAll(s.fd, iov, runOff); e != 0 {
			return e
		}
		cur = max(cur, runOff+runLen)
		clear(iov)
		iov = iov[:0]
		return 0
	}
	for _, k := range keys {
		if len(iov) > 0 && (k != next || len(iov) == maxIov) {
			if e := flush(); e != 0 {
				return e
			}
		}
		if len(iov) == 0 {
			runOff, runLen = k*PageSize, 0
		}
		l := min(int64(PageSize), s.size-k*PageSize) // > 0: pages beyond size are dropped
		iov = append(iov, s.pages[k][:l])
		runLen += l
		next = k + 1
	}
	if e := flush(); e != 0 {
		return e
	}
	s.iov = iov
	if cur != s.size {
		if err := unix.Ftruncate(s.fd, s.size); err != nil {
			return errno(err)
		}
	}
	s.backingSize, s.valid = s.size, s.size
	return 0
}

// clean forgets the pending state (after apply, or to drop it).
func (s *fileState) clean() {
	if !s.dirty {
		return
	}
	for k, pg := range s.pages {
		delete(s.pages, k)
		pagePool.Put(pg)
		s.m.pendingBytes.Add(-PageSize)
	}
	if len(s.keys) > 4096 {
		s.keys = nil
	}
	if cap(s.iov) > maxIov {
		s.iov = nil
	}
	unix.Close(s.fd)
	s.fd = -1
	s.dirty = false
	s.dirtySince = time.Time{}
	s.m.pendingFiles.Add(-1)
}

// sync applies the pending state and cleans it. The caller fsyncs.
func (s *fileState) sync() syscall.Errno {
	if e := s.apply(); e != 0 {
		return e
	}
	s.clean()
	return 0
}

// orphaned reports whether the dirty state belongs to an inode no longer
// linked anywhere (its data can never be seen again once closed).
func (s *fileState) orphaned() bool {
	if !s.dirty {
		return false
	}
	var st unix.Stat_t
	return unix.Fstat(s.fd, &st) == nil && st.Nlink == 0
}

func errno(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	if e, ok := err.(syscall.Errno); ok {
		return e
	}
	return syscall.EIO
}
