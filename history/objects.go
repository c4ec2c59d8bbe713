package history

import (
	"strconv"
	"strings"
)

// The objects workload's ops (an object store bucket). Each put is named
// like a queue value, "P-C", and writes an object whose content follows
// from that name; its meta carries the name (ObjOpMeta), so every read of
// an object says which put wrote it.
const (
	// FObjPut puts one object: invoke (Value an ObjEntry: the name, the
	// put, the size and SHA-256 of the bytes it writes), then ok, fail or
	// info with the same Value.
	FObjPut = "obj-put"
	// FObjDelete deletes one object: invoke (Value an ObjEntry with only
	// Name and Op), then ok, fail or info.
	FObjDelete = "obj-delete"
	// FObjGet reads one object through the API during the run: invoke
	// (Value the name), then ok with Value an ObjEntry of the bytes read
	// (the put its meta names; Err ErrDigestMismatch's text when the
	// library found the bytes differ from the meta's digest) or the name
	// and ObjAbsent, or info (Value what was read before the error, or
	// the name alone).
	FObjGet = "obj-get"
	// FObjList is the final List: invoke, then ok with Value the objects
	// it shows as "name op" pairs, space-separated, or info.
	FObjList = "obj-list"
)

// The final reads reuse FRead (an ok or info per object name, Value as
// FObjGet's, read from the stream leader after the heal, bracketed by
// FDrain) and FNodeRead (one per object meta a node's own copy holds,
// Value an ObjEntry with Chunks the chunk messages the node holds for it,
// or the name and ObjAbsent for a deleted one; and one ObjGarbage entry,
// bracketed by FNodeDrain).

// ObjOpMeta is the object meta's metadata key naming the put.
const ObjOpMeta = "jetstorm-op"

// ObjAbsent is the Op of a read that found no object (deleted or never
// written); ObjForeign the Op of a meta that names no put.
const (
	ObjAbsent  = "absent"
	ObjForeign = "?"
)

// ObjGarbage is the Name of a node copy's leftover chunks entry: Size the
// bytes, Chunks the messages of chunk subjects no live meta refers to.
const ObjGarbage = "garbage"

// ObjEntry is an object as written or read: "name op size sha256hex
// [chunks]", or "name op" (a delete; a read that found none: op
// ObjAbsent).
type ObjEntry struct {
	Name, Op string
	Size     int64
	SHA      string // hex SHA-256 of the bytes
	Chunks   int    // node copies: chunk messages held; -1 when not given
}

func (e ObjEntry) String() string {
	if e.SHA == "" && e.Size == 0 && e.Chunks < 0 {
		return e.Name + " " + e.Op
	}
	s := e.Name + " " + e.Op + " " + strconv.FormatInt(e.Size, 10) + " " + e.SHA
	if e.Chunks >= 0 {
		s += " " + strconv.Itoa(e.Chunks)
	}
	return s
}

// ParseObjEntry reads an ObjEntry's String.
func ParseObjEntry(s string) (ObjEntry, bool) {
	f := strings.Fields(s)
	e := ObjEntry{Chunks: -1}
	switch len(f) {
	case 2:
	case 4, 5:
		n, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil || n < 0 || (f[3] != "-" && len(f[3]) != 64) {
			return ObjEntry{}, false
		}
		e.Size, e.SHA = n, f[3]
		if len(f) == 5 {
			c, err := strconv.Atoi(f[4])
			if err != nil || c < 0 {
				return ObjEntry{}, false
			}
			e.Chunks = c
		}
	default:
		return ObjEntry{}, false
	}
	e.Name, e.Op = f[0], f[1]
	return e, true
}

// ObjList reads an FObjList Value: name to op.
func ObjList(s string) (map[string]string, bool) {
	f := strings.Fields(s)
	if len(f)%2 != 0 {
		return nil, false
	}
	out := map[string]string{}
	for i := 0; i < len(f); i += 2 {
		out[f[i]] = f[i+1]
	}
	return out, true
}
