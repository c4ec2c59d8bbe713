package powerfs

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

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
