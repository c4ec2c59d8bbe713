package history

import "strconv"

// ValueIDs numbers distinct values densely (0, 1, ...) in the order they
// are first seen, and gives each back (Value). The workloads' values are
// "P-C", process P's C-th value: those are found by index and kept as
// numbers (12 bytes each, no hashing, no string), any other value through
// a map. The zero value is ready.
type ValueIDs struct {
	procs  [][]int32 // [P][C] -> id + 1; 0: not seen
	other  map[string]int32
	rev    []uint64 // id -> P<<32 | C, or otherBit | index into others
	others []string
	n      int32
}

const otherBit = 1 << 63

// ID is s's id, and whether s was new.
func (v *ValueIDs) ID(s string) (int32, bool) {
	if p, c, ok := splitValue(s); ok && p < 1<<16 && (p >= len(v.procs) || c < 2*len(v.procs[p])+1<<16) {
		for p >= len(v.procs) {
			v.procs = append(v.procs, nil)
		}
		row := v.procs[p]
		if c >= len(row) {
			row = append(row, make([]int32, c+1-len(row))...)
			v.procs[p] = row
		}
		if row[c] > 0 {
			return row[c] - 1, false
		}
		v.n++
		row[c] = v.n
		v.rev = append(v.rev, uint64(p)<<32|uint64(c))
		return v.n - 1, true
	}
	if id, ok := v.other[s]; ok {
		return id, false
	}
	if v.other == nil {
		v.other = map[string]int32{}
	}
	v.n++
	v.other[s] = v.n - 1
	v.rev = append(v.rev, otherBit|uint64(len(v.others)))
	v.others = append(v.others, s)
	return v.n - 1, true
}

// Value is the value of id (an id ID gave).
func (v *ValueIDs) Value(id int32) string {
	r := v.rev[id]
	if r&otherBit != 0 {
		return v.others[r&^otherBit]
	}
	return strconv.FormatUint(r>>32, 10) + "-" + strconv.FormatUint(r&(1<<32-1), 10)
}

// Lookup is s's id, false when s was never seen.
func (v *ValueIDs) Lookup(s string) (int32, bool) {
	if p, c, ok := splitValue(s); ok && p < len(v.procs) && c < len(v.procs[p]) && v.procs[p][c] > 0 {
		return v.procs[p][c] - 1, true
	}
	id, ok := v.other[s]
	return id, ok
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
