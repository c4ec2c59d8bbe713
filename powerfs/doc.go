// Package powerfs is a FUSE filesystem that simulates power loss: a
// pass-through (go-fuse loopback) to a backing directory, except that file
// data written but not yet fsynced lives only in this process's memory
// (unless the optional writeback emulation, below, has written it back).
// Kill the process (SIGKILL) and the unsynced data is gone, as in a power
// cut; `kill -9` of the application alone loses nothing, because the kernel
// page cache survives it.
//
// Semantics:
//
//   - Data changes to a regular file (write, truncate/ftruncate/O_TRUNC,
//     plain fallocate) are kept per inode as pending state: dirty 4 KiB pages
//     plus a pending size. The backing file is not touched.
//   - fsync or fdatasync on any open handle of the inode applies the pending
//     state in order (truncation, then pages with pwritev, then the final
//     size) and fsyncs the backing file. Files opened O_SYNC/O_DSYNC sync
//     every write. close/flush persist nothing, as on Linux.
//   - Reads overlay the pending state on the backing file (read-your-writes);
//     stat/fstat/statx report the pending size and mtime, and never the
//     backing file's from before an fsync or writeback that raced with
//     them (the kernel places O_APPEND writes at the size it last got).
//   - Metadata operations (create, mkdir, rename, unlink, rmdir, symlink,
//     link, chmod, chown, utimes, xattrs) hit the backing directory at once:
//     metadata is durable immediately, only file data is volatile. After a
//     power cut a file created but never fsynced exists with its last synced
//     content, empty if never synced (the classic zero-length file).
//   - Pending state belongs to the inode, not the path: it follows renames
//     and hard links; unlinking the last name discards it (once the last
//     open handle is closed).
//   - The kernel caches no file data for reads and writes (every open is
//     FOPEN_DIRECT_IO, no writeback cache, no passthrough); entry and
//     attribute caches time out after 100 ms. A file may still be mapped
//     (CAP_DIRECT_IO_ALLOW_MMAP, Linux 6.6+: BoltDB maps its file); the
//     mapping's pages are filled by reads that reach powerfs, and a
//     power loss is a new mount, so none of them outlives it.
//   - Not supported: O_TMPFILE (EOPNOTSUPP), fallocate modes other than 0
//     and KEEP_SIZE. copy_file_range falls back to read+write.
//
// Two durability models, chosen by Options.Writeback:
//
//   - 0 (the default): nothing unsynced survives a power cut, the worst
//     case (like Jepsen's LazyFS). Pending data is held without limit: a
//     server that never fsyncs keeps all it writes in memory
//     (Stats.PendingBytes), and a file written once and never fsynced
//     comes back empty.
//   - > 0, e.g. 30s (Linux's dirty_expire_centisecs default): emulates the
//     kernel's dirty-page writeback. A flusher wakes every
//     min(5s, Writeback/2) (at most every 10 ms) and applies the pending
//     state of every inode dirty for at least Writeback to the backing
//     file, without fsync (it reaches the real page cache, which survives
//     the death of this process); the inode is then clean, as after fsync.
//     A power cut loses at most about Writeback + 5 s of writes.
//     Stats.Writebacks counts the inodes written back.
//
// Power loss in-process: DropUnsynced, Unmount, New. Across processes:
// KeeperMain runs the mount in a small child; SIGKILL it, ForceUnmount the
// stale mount, start a new keeper.
package powerfs
