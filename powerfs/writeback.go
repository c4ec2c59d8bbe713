package powerfs

import "time"

// Linux's flusher: every dirty_writeback_centisecs (default 500, 5 s) it
// wakes and writes back the inodes dirtied more than dirty_expire_centisecs
// (default 3000, 30 s) ago. Options.Writeback is the expiry; the wake-up
// interval follows from it.
const (
	maxWritebackInterval = 5 * time.Second       // dirty_writeback_centisecs
	minWritebackInterval = 10 * time.Millisecond // floor for tiny test values
)

// writebackInterval is how often the flusher wakes for expiry d:
// min(5s, d/2), but not more often than every 10 ms.
func writebackInterval(d time.Duration) time.Duration {
	return max(minWritebackInterval, min(maxWritebackInterval, d/2))
}

// startWriteback starts the flusher goroutine (expire > 0).
func (m *Mount) startWriteback(expire time.Duration) {
	stop, done := make(chan struct{}), make(chan struct{})
	m.wbStop, m.wbDone = stop, done
	go m.flusher(expire, stop, done)
}

// stopWriteback stops the flusher and waits for it (any inode it is writing
// back is finished first). Called with unmountMu held; idempotent.
func (m *Mount) stopWriteback() {
	if m.wbStop == nil {
		return
	}
	close(m.wbStop)
	<-m.wbDone
	m.wbStop, m.wbDone = nil, nil
}

func (m *Mount) flusher(expire time.Duration, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(writebackInterval(expire))
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			m.writebackExpired(expire, stop)
		}
	}
}

// writebackExpired applies the pending state of every inode that has been
// dirty for at least expire to its backing file, without fsync: the data
// reaches the real kernel's page cache, which survives our power cut (the
// death of this process). The states become clean, as after fsync. It
// stops early once stop is closed and returns the number of inodes written
// back. A failed apply leaves the state dirty; the next round retries.
//
// Locking is that of SyncAll: collect under m.mu (then s.mu), apply under
// s.mu alone, re-checking, so concurrent writes, reads and fsyncs of the
// same inode simply serialize with the writeback. A state may be cleaned
// and forgotten meanwhile; applying a clean state is a no-op.
func (m *Mount) writebackExpired(expire time.Duration, stop <-chan struct{}) int {
	expired := func(s *fileState) bool { // s.mu held
		return s.dirty && time.Since(s.dirtySince) >= expire
	}
	m.mu.Lock()
	var due []*fileState
	for k, s := range m.states {
		if !s.mu.TryLock() {
			// Busy (a write, or a long fsync): check it below, without
			// holding m.mu, which would stall every open meanwhile.
			due = append(due, s)
			continue
		}
		if expired(s) {
			due = append(due, s)
		} else if !s.dirty && s.opens == 0 {
			delete(m.states, k)
		}
		s.mu.Unlock()
	}
	m.mu.Unlock()

	var cleaned []*fileState
apply:
	for _, s := range due {
		select {
		case <-stop:
			break apply
		default:
		}
		s.mu.Lock()
		if expired(s) && s.apply() == 0 {
			s.clean()
			cleaned = append(cleaned, s)
		}
		s.mu.Unlock()
	}
	if len(cleaned) == 0 {
		return 0
	}
	m.writebacks.Add(int64(len(cleaned)))

	// Forget the states that nobody holds any more (as release does).
	m.mu.Lock()
	for _, s := range cleaned {
		if s.opens > 0 {
			continue
		}
		s.mu.Lock()
		if !s.dirty && m.states[s.key] == s {
			delete(m.states, s.key)
		}
		s.mu.Unlock()
	}
	m.mu.Unlock()
	return len(cleaned)
}
