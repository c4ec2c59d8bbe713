package history

import "strconv"

// ValueIDs numbers distinct values densely (0, 1, ...) in the order they
// are first seen. The workloads' values are "P-C", process P's C-th value:
// those are found by index and cost about 2.4 bytes each (no hashing, no
// string; see idBlock), any other value goes through a map. It keeps no id -> value table (that
// would double its size): Names finds the values of the few ids a result
// names in one scan. The zero value is ready.
type ValueIDs struct {
	procs   [][]idBlock      // [P][C>>idBits], entry C&idMask -> id + 1; 0: not seen
	other   map[string]int32 // value -> index into others
	others  []string         // the values that are not "P-C", in order of first sight
	otherID []int32          // others' ids
	n       int32
}

const (
	idBits = 6
	idMask = 1<<idBits - 1
	// OtherKey marks a Key of a value that is not "P-C": the rest is its
	// index among those, in order of first sight.
	OtherKey = 1 << 63
)

// idBlock holds the ids of 64 consecutive counters of one process. A
// process's values are seen in counter order, so their ids grow, and 64 of
// them span 64 times the processes publishing at once: each is kept as a
// uint16 offset from the first id put (2 bytes, where an int32 takes 4),
// until one does not fit; then the block holds int32s.
type idBlock struct {
	base   int32 // the first id + 1 put in it
	narrow *[1 << idBits]uint16
	wide   *[1 << idBits]int32
}

// get is entry j: id + 1, 0 when not seen.
func (b *idBlock) get(j int) int32 {
	switch {
	case b.wide != nil:
		return b.wide[j]
	case b.narrow == nil || b.narrow[j] == 0:
		return 0
	}
	return b.base + int32(b.narrow[j]) - 1
}

// set makes entry j id1 (id + 1, > 0).
func (b *idBlock) set(j int, id1 int32) {
	if b.wide == nil {
		if b.narrow == nil {
			b.narrow, b.base = new([1 << idBits]uint16), id1
		}
		if d := id1 - b.base; d >= 0 && d < 1<<16-1 {
			b.narrow[j] = uint16(d + 1)
			return
		}
		wide := new([1 << idBits]int32)
		for k := range b.narrow {
			wide[k] = b.get(k)
		}
		b.wide, b.narrow = wide, nil
	}
	b.wide[j] = id1
}

// IDKey is s's id, its key (P<<32 | C for "P-C", else OtherKey | its
// index among the other values: the keys of a process's values, taken in
// turn, are consecutive) and whether s was new.
func (v *ValueIDs) IDKey(s string) (int32, uint64, bool) {
	if i, ok := v.other[s]; ok { // (a "P-C" too sparse for procs goes here)
		return v.otherID[i], OtherKey | uint64(i), false
	}
	// A row grows to twice its length and 65,536 more at most: a process's
	// counters come one by one, and a stray huge one goes to the map.
	if p, c, ok := splitValue(s); ok && p < 1<<16 && c < 2*v.rowLen(p)<<idBits+1<<16 {
		for p >= len(v.procs) {
			v.procs = append(v.procs, nil)
		}
		for c>>idBits >= len(v.procs[p]) {
			v.procs[p] = append(v.procs[p], idBlock{})
		}
		blk := &v.procs[p][c>>idBits]
		key := uint64(p)<<32 | uint64(c)
		if id := blk.get(c & idMask); id > 0 {
			return id - 1, key, false
		}
		v.n++
		blk.set(c&idMask, v.n)
		return v.n - 1, key, true
	}
	if v.other == nil {
		v.other = map[string]int32{}
	}
	v.n++
	v.other[s] = int32(len(v.others))
	v.others = append(v.others, s)
	v.otherID = append(v.otherID, v.n-1)
	return v.n - 1, OtherKey | uint64(len(v.others)-1), true
}

func (v *ValueIDs) rowLen(p int) int {
	if p < len(v.procs) {
		return len(v.procs[p])
	}
	return 0
}

// KeyID is the id of the value with key k, false when it was never seen.
func (v *ValueIDs) KeyID(k uint64) (int32, bool) {
	if k&OtherKey != 0 {
		i := int(k &^ OtherKey)
		if i < len(v.otherID) {
			return v.otherID[i], true
		}
		return 0, false
	}
	p, c := int(k>>32), int(k&(1<<32-1))
	if p < len(v.procs) && c>>idBits < len(v.procs[p]) {
		if id := v.procs[p][c>>idBits].get(c & idMask); id > 0 {
			return id - 1, true
		}
	}
	return 0, false
}

// Names are the values of ids (ids ID gave): one scan of every value.
func (v *ValueIDs) Names(ids []int32) map[int32]string {
	var want Bitset
	for _, id := range ids {
		want.Add(id)
	}
	names := make(map[int32]string, len(ids))
	for i, id := range v.otherID {
		if want.Has(id) {
			names[id] = v.others[i]
		}
	}
	for p, row := range v.procs {
		for b := range row {
			for j := range 1 << idBits {
				if id := row[b].get(j); id > 0 && want.Has(id-1) {
					names[id-1] = strconv.Itoa(p) + "-" + strconv.Itoa(b<<idBits|j)
				}
			}
		}
	}
	return names
}

// Lookup is s's id, false when s was never seen.
func (v *ValueIDs) Lookup(s string) (int32, bool) {
	if i, ok := v.other[s]; ok {
		return v.otherID[i], true
	}
	if p, c, ok := splitValue(s); ok && p < 1<<16 {
		return v.KeyID(uint64(p)<<32 | uint64(c))
	}
	return 0, false
}

// Len is how many distinct values were seen.
func (v *ValueIDs) Len() int { return int(v.n) }

// splitValue reads "P-C", both in canonical decimal (no sign, no leading
// zero), so that such a string has exactly one (P, C) and a (P, C) one
// string.
func splitValue(s string) (p, c int, ok bool) {
	i := 0
	for i < len(s) && s[i] != '-' {
		i++
	}
	if i == len(s) {
		return 0, 0, false
	}
	p, ok1 := canonical(s[:i])
	c, ok2 := canonical(s[i+1:])
	return p, c, ok1 && ok2
}

func canonical(s string) (int, bool) {
	if s == "" || len(s) > 9 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}
