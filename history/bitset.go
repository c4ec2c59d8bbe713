package history

// Bitset is a set of small non-negative ints (value ids: ValueIDs), a bit
// each.
type Bitset []uint64

// Has reports whether i is in the set.
func (b Bitset) Has(i int32) bool {
	w := int(i >> 6)
	return w < len(b) && b[w]&(1<<(uint(i)&63)) != 0
}

// Add puts i in the set.
func (b *Bitset) Add(i int32) {
	w := int(i >> 6)
	if w >= len(*b) {
		*b = append(*b, make([]uint64, w+1-len(*b))...)
	}
	(*b)[w] |= 1 << (uint(i) & 63)
}

// Word is the w-th 64 bits of the set (0 past its end).
func (b Bitset) Word(w int) uint64 {
	if w < len(b) {
		return b[w]
	}
	return 0
}
