package powerfs

import (
	"syscall"

	"github.com/hanwen/go-fuse/v2/fuse"
)

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
