package checker

import "iter"

// chunked is an append-only slice kept in fixed blocks, so that growing it
// to millions of elements never copies them (a plain slice copies all of
// them at every growth, and at that size the copies dominate a check).
type chunked[T any] struct {
	blocks [][]T
	n      int
}

const chunkBits = 14

func (c *chunked[T]) push(v T) {
	if c.n>>chunkBits == len(c.blocks) {
		c.blocks = append(c.blocks, make([]T, 1<<chunkBits))
	}
	c.blocks[c.n>>chunkBits][c.n&(1<<chunkBits-1)] = v
	c.n++
}

// at is element i (i < len).
func (c *chunked[T]) at(i int) *T { return &c.blocks[i>>chunkBits][i&(1<<chunkBits-1)] }

func (c *chunked[T]) len() int { return c.n }

// all yields the elements in order.
func (c *chunked[T]) all() iter.Seq[T] {
	return func(yield func(T) bool) {
		for i := range c.n {
			if !yield(*c.at(i)) {
				return
			}
		}
	}
}
