package history

import "unsafe"

// Near is a table of uint64s indexed by small ints (0: unset) for tables
// whose neighbouring entries hold nearby numbers: a value id's stream
// sequence (ids and sequences both follow publish order), a sequence's
// value id, a value's start time. Each entry is an offset of type D from
// its block's base (the first number put in the block): 2 bytes (int16)
// or 1 (int8), where a uint64 takes 8. Numbers too far from their block's
// base go in a map: use int8 only where a block's numbers (1<<nearBits[D]
// neighbours) span well under ±127.
type Near[D int8 | int16] struct {
	blocks [][]D // each 1<<nearBits long; nil: nothing put in it
	bases  []uint64
	far    map[int]uint64
}

// nearBits is log2 of the entries a block holds: 1024 2-byte entries,
// 256 1-byte ones (2 KB or 256 B: a size the allocator has no slack for).
func nearBits[D int8 | int16]() uint {
	if unsafe.Sizeof(D(0)) == 1 {
		return 8
	}
	return 10
}

// nearFar is D's least value: an entry that is unset, or in the far map.
func nearFar[D int8 | int16]() D { return D(-1) << (8*unsafe.Sizeof(D(0)) - 1) }

// Get is entry i (0 when unset).
func (t *Near[D]) Get(i int) uint64 {
	b := i >> nearBits[D]()
	if b >= len(t.blocks) || t.blocks[b] == nil {
		return 0
	}
	d := t.blocks[b][i&(1<<nearBits[D]()-1)]
	if d == nearFar[D]() {
		return t.far[i]
	}
	return t.bases[b] + uint64(int64(d))
}

// Set makes entry i v (v > 0).
func (t *Near[D]) Set(i int, v uint64) {
	bits, far := nearBits[D](), nearFar[D]()
	b := i >> bits
	for b >= len(t.blocks) {
		t.blocks, t.bases = append(t.blocks, nil), append(t.bases, 0)
	}
	if t.blocks[b] == nil {
		blk := make([]D, 1<<bits)
		for j := range blk {
			blk[j] = far
		}
		t.blocks[b], t.bases[b] = blk, v
	}
	blk, j := t.blocks[b], i&(1<<bits-1)
	if off := int64(v - t.bases[b]); off > int64(far) && off <= -int64(far)-1 {
		if blk[j] == far {
			delete(t.far, i)
		}
		blk[j] = D(off)
		return
	}
	blk[j] = far
	if t.far == nil {
		t.far = map[int]uint64{}
	}
	t.far[i] = v
}
