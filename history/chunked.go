package history

// Chunked is an append-only slice kept in fixed blocks, so that growing it
// to millions of elements never copies them (a plain slice copies all of
// them at every growth, and at that size the copies dominate a check).
type Chunked[T any] struct {
	blocks [][]T
	n      int
}

const chunkBits = 14

// Push appends v.
func (c *Chunked[T]) Push(v T) {
	if c.n>>chunkBits == len(c.blocks) {
		c.blocks = append(c.blocks, make([]T, 1<<chunkBits))
	}
	c.blocks[c.n>>chunkBits][c.n&(1<<chunkBits-1)] = v
	c.n++
}

// At is element i (i < Len).
func (c *Chunked[T]) At(i int) *T { return &c.blocks[i>>chunkBits][i&(1<<chunkBits-1)] }

// Len is how many elements were pushed.
func (c *Chunked[T]) Len() int { return c.n }
