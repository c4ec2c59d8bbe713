package history

import "testing"

// Chunked keeps every pushed element, in order, across block boundaries.
func TestChunked(t *testing.T) {
	var c Chunked[int]
	n := 3<<chunkBits + 5
	for i := range n {
		c.Push(i * 7)
	}
	if c.Len() != n {
		t.Fatalf("Len %d, want %d", c.Len(), n)
	}
	for _, i := range []int{0, 1, 1<<chunkBits - 1, 1 << chunkBits, 2<<chunkBits + 3, n - 1} {
		if got := *c.At(i); got != i*7 {
			t.Errorf("At(%d) = %d, want %d", i, got, i*7)
		}
	}
}
