package history

import (
	"math"
	"strconv"
	"testing"
)

// Near keeps any number: neighbours as 2-byte offsets, the rest (far
// from the block's base, or past int16) in its map; 0 is unset.
func TestNear(t *testing.T) {
	var n Near[int16]
	want := map[int]uint64{0: 40000, 1: 40001, 2: 40000 - 32767, 3: 40000 + 32767, 4: 40000 + 32768, 5: 40000 - 32768,
		1023: math.MaxUint64, 1024: 7, 5000: 1 << 40, 5001: 1<<40 - 5}
	for i := range 6000 { // in order: a block's base is its first number
		if v, ok := want[i]; ok {
			n.Set(i, v)
		}
	}
	for i := range 6000 {
		if got := n.Get(i); got != want[i] {
			t.Errorf("Get(%d) = %d, want %d", i, got, want[i])
		}
	}
	// Overwrites move an entry between the block and the map.
	n.Set(4, 40001)
	n.Set(1, 1<<50)
	if n.Get(4) != 40001 || n.Get(1) != 1<<50 || len(n.far) != 3 {
		t.Errorf("after overwrites: %d %d, far %v", n.Get(4), n.Get(1), n.far)
	}
}

// Near[int8]: offsets of -127..127 from the base, in blocks of 256.
func TestNear8(t *testing.T) {
	var n Near[int8]
	for i, v := range []uint64{1000, 1127, 873, 1128, 872} {
		n.Set(i, v)
	}
	n.Set(256, 5)
	for i, v := range []uint64{1000, 1127, 873, 1128, 872} {
		if n.Get(i) != v {
			t.Errorf("Get(%d) = %d, want %d", i, n.Get(i), v)
		}
	}
	if n.Get(256) != 5 || n.Get(255) != 0 || n.Get(1000) != 0 || len(n.far) != 2 || len(n.blocks[0]) != 256 {
		t.Errorf("far %v", n.far)
	}
}

// A "P-C" too sparse for the table goes through the map, and stays there:
// it keeps its id however the table grows after.
func TestValueIDsSparseStaysPut(t *testing.T) {
	var v ValueIDs
	sparse := "1-900000"
	v.IDKey("1-0")
	id, key, _ := v.IDKey(sparse)
	if key&OtherKey == 0 {
		t.Fatalf("%s: key %x, want a map's", sparse, key)
	}
	for c := range 1_000_000 / 2 {
		v.IDKey("1-" + strconv.Itoa(c))
	}
	if again, key, isNew := v.IDKey(sparse); isNew || again != id || key&OtherKey == 0 {
		t.Errorf("%s again: id %d (was %d), new %v, key %x", sparse, again, id, isNew, key)
	}
	if got, ok := v.Lookup(sparse); !ok || got != id {
		t.Errorf("Lookup = %d %v", got, ok)
	}
	if names := v.Names([]int32{id, 0}); names[id] != sparse || names[0] != "1-0" {
		t.Errorf("Names = %v", names)
	}
}

// Keys: "P-C" in canonical decimal is P<<32|C, found again by KeyID; any
// other string is an OtherKey; keys never seen are not found.
func TestValueIDsKeys(t *testing.T) {
	var v ValueIDs
	for _, c := range []struct {
		s     string
		key   uint64
		other bool
	}{{"3-5", 3<<32 | 5, false}, {"0-0", 0, false}, {"65535-65535", 65535<<32 | 65535, false}, {"0-999999999", 0, true},
		{"65536-1", 0, true}, {"1-0123", 0, true}, {"1-1234567890", 0, true}, {"1-/", 0, true}, {"1-:", 0, true},
		{"x", 0, true}, {"1", 0, true}, {"--", 0, true}} {
		id, key, _ := v.IDKey(c.s)
		if c.other != (key&OtherKey != 0) || (!c.other && key != c.key) {
			t.Errorf("%q: key %x, want %x (other: %v)", c.s, key, c.key, c.other)
		}
		if got, ok := v.KeyID(key); !ok || got != id {
			t.Errorf("KeyID(%x) = %d %v, want %d", key, got, ok, id)
		}
		if got, ok := v.Lookup(c.s); !ok || got != id {
			t.Errorf("Lookup(%q) = %d %v, want %d", c.s, got, ok, id)
		}
	}
	for _, k := range []uint64{3<<32 | 6, 3<<32 | 256, 4 << 32, 65535 << 32, 3<<32 | 1<<20, OtherKey | 9} {
		if id, ok := v.KeyID(k); ok {
			t.Errorf("KeyID(%x) = %d for a key never seen", k, id)
		}
	}
	v.IDKey("5-0")
	for _, s := range []string{"65536-2", "5-x", "5-"} {
		if id, ok := v.Lookup(s); ok {
			t.Errorf("Lookup(%q) = %d, never seen", s, id)
		}
	}
}

// A block of a process's ids is 2-byte offsets until an id is too far from
// its first (many values seen in between): then it holds int32s, and every
// id in it is still found, by string, key and Names.
func TestValueIDsWideBlock(t *testing.T) {
	var v ValueIDs
	v.IDKey("0-0")
	v.IDKey("0-1")
	for i := range 65_533 { // the next id is 65,535 past the first: the first that does not fit
		v.IDKey("1-" + strconv.Itoa(i))
	}
	id2, _, _ := v.IDKey("0-2")
	v.IDKey("0-3")
	for c, want := range []int32{0, 1, id2, id2 + 1} {
		s := "0-" + strconv.Itoa(c)
		if got, ok := v.Lookup(s); !ok || got != want {
			t.Errorf("Lookup(%q) = %d %v, want %d", s, got, ok, want)
		}
		if got, _ := v.KeyID(uint64(c)); got != want {
			t.Errorf("KeyID(0-%d) = %d, want %d", c, got, want)
		}
		if names := v.Names([]int32{want}); names[want] != s {
			t.Errorf("Names(%d) = %q, want %q", want, names[want], s)
		}
	}
	if v.procs[0][0].wide == nil || v.procs[1][0].wide != nil {
		t.Error("only the block with far ids should be wide")
	}
}
