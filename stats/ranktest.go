package stats

import (
	"math"
	"slices"
)

// MannWhitney is the two-sided Mann-Whitney U test (Wilcoxon rank-sum) of
// whether samples x and y come from the same distribution, as benchstat
// uses it for Go benchmarks: it compares the ranks, not the values, so one
// wild run moves it no more than any other. It returns the p-value: exact
// (every ordering of the pooled samples counted) when no value appears in
// both samples and there are at most 50 of them; else the normal
// approximation with the tie and continuity corrections. Each sample must
// be independent runs: the per-second windows of one run are
// autocorrelated, not samples. Empty samples give 1.
func MannWhitney(x, y []float64) float64 {
	n1, n2 := len(x), len(y)
	if n1 == 0 || n2 == 0 {
		return 1
	}
	// U counts the pairs in which x is the larger (ties count half).
	var u float64
	ties := false
	for _, a := range x {
		for _, b := range y {
			switch {
			case a > b:
				u++
			case a == b:
				u += 0.5
				ties = true
			}
		}
	}
	if !ties && n1+n2 <= 50 {
		return exactU(n1, n2, int(u))
	}
	return normalU(x, y, u)
}

// exactU is the two-sided p-value of U = u for samples of n1 and n2
// without ties: 2 * min(P(U <= u), P(U >= u)), at most 1. The number of
// orderings with each U comes from f(m, n, u) = f(m-1, n, u-n) + f(m, n-1, u).
func exactU(n1, n2, u int) float64 {
	maxU := n1 * n2
	// f[n][u] for the current m, built up from m = 0.
	f := make([][]float64, n2+1)
	for n := range f {
		f[n] = make([]float64, maxU+1)
		f[n][0] = 1 // m = 0: U is 0
	}
	for m := 1; m <= n1; m++ {
		g := make([][]float64, n2+1)
		for n := 0; n <= n2; n++ {
			g[n] = make([]float64, maxU+1)
			for v := 0; v <= maxU; v++ {
				if n == 0 {
					if v == 0 {
						g[n][v] = 1
					}
					continue
				}
				g[n][v] = g[n-1][v]
				if v >= n {
					g[n][v] += f[n][v-n]
				}
			}
		}
		f = g
	}
	counts := f[n2]
	var total, le, ge float64
	for v, c := range counts {
		total += c
		if v <= u {
			le += c
		}
		if v >= u {
			ge += c
		}
	}
	return math.Min(1, 2*math.Min(le, ge)/total)
}

// normalU is the two-sided p-value of U = u by the normal approximation,
// with the variance corrected for ties and a continuity correction.
func normalU(x, y []float64, u float64) float64 {
	n1, n2 := float64(len(x)), float64(len(y))
	n := n1 + n2
	pooled := slices.Concat(x, y)
	slices.Sort(pooled)
	var tie float64
	for i := 0; i < len(pooled); {
		j := i
		for j < len(pooled) && pooled[j] == pooled[i] {
			j++
		}
		t := float64(j - i)
		tie += t*t*t - t
		i = j
	}
	mean := n1 * n2 / 2
	sd := math.Sqrt(n1 * n2 / 12 * ((n + 1) - tie/(n*(n-1))))
	if sd == 0 {
		return 1
	}
	z := (math.Abs(u-mean) - 0.5) / sd
	if z < 0 {
		return 1
	}
	return math.Min(1, math.Erfc(z/math.Sqrt2))
}

// Median is the median of v (0 for none).
func Median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
