// Mutant schemata: each file rewritten with every site a call of a helper
// that does the original unless its mutant is the active one.

package main

import (
	"bytes"
	"sort"
)

// rewrite returns the file's source with every site in keep replaced by its
// schema. Sites nest (a comparison inside an &&); each is rendered with its
// nested sites already rewritten.
func rewrite(f *srcFile, keep map[int]bool) []byte {
	var sites []*site
	for _, s := range f.sites {
		if keep[s.m.id] {
			s.kids = nil
			sites = append(sites, s)
		}
	}
	sort.SliceStable(sites, func(i, j int) bool {
		if sites[i].start != sites[j].start {
			return sites[i].start < sites[j].start
		}
		return sites[i].end > sites[j].end
	})
	var top []*site
	var stack []*site
	for _, s := range sites {
		for len(stack) > 0 && !(stack[len(stack)-1].start <= s.start && s.end <= stack[len(stack)-1].end) {
			stack = stack[:len(stack)-1]
		}
		if len(stack) == 0 {
			top = append(top, s)
		} else {
			p := stack[len(stack)-1]
			p.kids = append(p.kids, s)
		}
		stack = append(stack, s)
	}
	var out bytes.Buffer
	renderSpan(&out, f.src, 0, len(f.src), top)
	return out.Bytes()
}

// renderSpan writes src[a:b] with the sites among kids that lie in it
// rewritten.
func renderSpan(out *bytes.Buffer, src []byte, a, b int, kids []*site) {
	at := a
	for _, k := range kids {
		if k.start < a || k.end > b {
			continue
		}
		out.Write(src[at:k.start])
		renderSite(out, src, k)
		at = k.end
	}
	out.Write(src[at:b])
}

// renderSite writes s's replacement; the spans in it are rewritten with s's
// nested sites.
func renderSite(out *bytes.Buffer, src []byte, s *site) {
	for _, p := range s.pieces {
		if p.end > p.start {
			renderSpan(out, src, p.start, p.end, s.kids)
		} else {
			out.WriteString(p.lit)
		}
	}
}

// helperNames are the names the helpers below declare: the package must not
// declare them itself (loadPackage checks).
var helperNames = []string{"mutantActive", "mutantFlip", "mutantAnd", "mutantOr", "mutantLT", "mutantLE", "mutantGT", "mutantGE",
	"mutantAdd", "mutantSub", "mutantMul", "mutantDiv", "mutantRem", "mutantStep", "mutantNeg", "mutantPick", "mutantNum", "mutantInt"}

const helpers = `package %s

import (
	"cmp"
	"os"
	"strconv"
)

// Written by tools/mutate into a temporary overlay; never part of the tree.

var mutantActive = func() int {
	n, _ := strconv.Atoi(os.Getenv("` + envVar + `"))
	return n
}()

type mutantInt interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr
}

type mutantNum interface{ mutantInt | ~float32 | ~float64 }

func mutantFlip(id int, b bool) bool { return b != (id == mutantActive) }

func mutantAnd(id int, x bool, y func() bool) bool {
	if id == mutantActive {
		return x || y()
	}
	return x && y()
}

func mutantOr(id int, x bool, y func() bool) bool {
	if id == mutantActive {
		return x && y()
	}
	return x || y()
}

func mutantLT[T cmp.Ordered](id int, x, y T) bool {
	if id == mutantActive {
		return x <= y
	}
	return x < y
}

func mutantLE[T cmp.Ordered](id int, x, y T) bool {
	if id == mutantActive {
		return x < y
	}
	return x <= y
}

func mutantGT[T cmp.Ordered](id int, x, y T) bool {
	if id == mutantActive {
		return x >= y
	}
	return x > y
}

func mutantGE[T cmp.Ordered](id int, x, y T) bool {
	if id == mutantActive {
		return x > y
	}
	return x >= y
}

func mutantAdd[T mutantNum](id int, x, y T) T {
	if id == mutantActive {
		return x - y
	}
	return x + y
}

func mutantSub[T mutantNum](id int, x, y T) T {
	if id == mutantActive {
		return x + y
	}
	return x - y
}

func mutantMul[T mutantNum](id int, x, y T) T {
	if id == mutantActive {
		return x / y
	}
	return x * y
}

func mutantDiv[T mutantNum](id int, x, y T) T {
	if id == mutantActive {
		return x * y
	}
	return x / y
}

func mutantRem[T mutantInt](id int, x, y T) T {
	if id == mutantActive {
		return x * y
	}
	return x %% y
}

func mutantStep[T mutantNum](id int) T {
	var one T = 1
	if id == mutantActive {
		return -one
	}
	return one
}

func mutantNeg[T mutantNum](id int, x T) T {
	if id == mutantActive {
		return -x
	}
	return x
}

func mutantPick[T any](id int, x, alt T) T {
	if id == mutantActive {
		return alt
	}
	return x
}
`
