package stats

import (
	"math"
	"testing"
)

// The exact p-values of the two-sided rank test against the tables: 4
// runs a side that do not overlap give 2/70; 3 a side give 2/20, never
// below 0.1 (why the gate wants 4); identical orderings give 1. With
// ties the normal approximation, near the exact value.
func TestMannWhitney(t *testing.T) {
	for _, tt := range []struct {
		name string
		x, y []float64
		want float64
	}{
		{"4v4 apart", []float64{10, 11, 12, 13}, []float64{1, 2, 3, 4}, 2.0 / 70},
		{"4v4 apart, other side", []float64{1, 2, 3, 4}, []float64{10, 11, 12, 13}, 2.0 / 70},
		{"3v3 apart", []float64{10, 11, 12}, []float64{1, 2, 3}, 2.0 / 20},
		{"4v4 interleaved", []float64{1, 3, 5, 7}, []float64{2, 4, 6, 8}, 0.6857142857142857},
		{"5v5 two out of place", []float64{6, 7, 8, 9, 4}, []float64{1, 2, 3, 10, 5}, 56.0 / 252},
		{"empty", nil, []float64{1}, 1},
	} {
		if got := MannWhitney(tt.x, tt.y); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%s: p=%v, want %v", tt.name, got, tt.want)
		}
	}
	// Ties: the approximation, close to the exact 2/70 for a clean split.
	if p := MannWhitney([]float64{10, 10, 12, 13}, []float64{1, 2, 2, 4}); p > 0.05 || p < 0.01 {
		t.Errorf("ties, apart: p=%v", p)
	}
	if p := MannWhitney([]float64{1, 1, 1, 1}, []float64{1, 1, 1, 1}); p != 1 {
		t.Errorf("all equal: p=%v", p)
	}
	if m := Median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median %v", m)
	}
	if m := Median([]float64{5, 1, 3}); m != 3 {
		t.Errorf("median %v", m)
	}
}
