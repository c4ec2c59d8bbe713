package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testPkg = `package p

type Verdict string

const (
	Valid   Verdict = "valid"
	Invalid Verdict = "invalid"
	Unknown Verdict = "unknown"
)

const limit = 10 * 2 // constant: not mutated

func Judge(n int) Verdict {
	if n < 0 {
		return Unknown
	}
	if n > 10 &&
		n%2 == 0 {
		return Invalid
	}
	return Valid
}

func Sum(xs []int) int {
	total := 0
	for _, x := range xs {
		total += x
	}
	if len(xs) > 3 {
		total++
	}
	return total
}

type T int

// The rewrite spells T, a variable here: it does not compile, and the
// mutant is dropped.
func Shadow(a, b T) bool {
	T := 1
	_ = T
	return a < b
}
`

const testPkgTest = `package p

import "testing"

func TestJudge(t *testing.T) {
	for n, want := range map[int]Verdict{-1: Unknown, 0: Valid, 10: Valid, 11: Valid, 12: Invalid} {
		if got := Judge(n); got != want {
			t.Errorf("Judge(%d) = %s, want %s", n, got, want)
		}
	}
}

func TestSum(t *testing.T) {
	if Sum([]int{1, 2, 3, 4, 5}) != 16 || Sum([]int{1}) != 1 {
		t.Fatal()
	}
}
`

// A module with a small package: its mutants are found, the rewritten
// package builds (after dropping what cannot), the tests kill all but the
// boundary nobody tests, and the equivalence list excuses that one.
func TestMutateModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module")
	}
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/m\n\ngo 1.22\n")
	write("p/p.go", testPkg)
	write("p/p_test.go", testPkgTest)
	write("p/MUTANTS.md", "# equivalent\n\n"+
		"- `p.go` `Sum` `len(xs) > 3` `> -> >=`: nobody cares about three\n"+
		"- `p.go:12` `Judge` `n > 99` `> → >=`: gone\n")
	t.Chdir(dir)

	var out bytes.Buffer
	code, err := run(context.Background(), options{pkg: "./p", jobs: 2, out: &out, list: true})
	if err != nil || code != 0 {
		t.Fatalf("list: %d %v\n%s", code, err, out.String())
	}
	for _, want := range []string{
		"p.go:14:7 Judge: `n < 0` < → <=",
		"p.go:15:10 Judge: `return Unknown` Unknown → Valid",
		"p.go:17:12 Judge: `n > 10 && n%2 == 0` && → ||",
		"p.go:18:4 Judge: `n%2` % → *",
		"p.go:18:7 Judge: `n%2 == 0` == → !=",
		"p.go:27:9 Sum: `total += x` += → -=",
		"p.go:30:8 Sum: `total++` ++ → --",
		"p.go:42:11 Shadow: `a < b` < → <=",
		"12 mutants",
	} {
		if !strings.Contains(out.String(), want+"\n") {
			t.Errorf("list lacks %q:\n%s", want, out.String())
		}
	}

	out.Reset()
	code, err = run(context.Background(), options{pkg: "./p", jobs: 2, out: &out})
	if err != nil || code != 0 {
		t.Fatalf("run: %d %v\n%s", code, err, out.String())
	}
	for _, want := range []string{
		"not mutated (the rewritten code did not compile): p.go:42:11 Shadow: `a < b` < → <=",
		"stale equivalence entry (no such mutant): MUTANTS.md:4: `p.go` `Judge` `n > 99` `> → >=`",
		"mutants: 11, killed 10, survived 0 (equivalent 1, timed out 0)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	// The source tree is untouched.
	if b, _ := os.ReadFile(filepath.Join(dir, "p/p.go")); string(b) != testPkg {
		t.Fatal("p.go changed")
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "p")); len(ents) != 3 {
		t.Fatalf("p holds %d files", len(ents))
	}

	// Without the list, the boundary survives: exit status 1.
	out.Reset()
	code, err = run(context.Background(), options{pkg: "./p", equiv: filepath.Join(dir, "none.md"), jobs: 2, out: &out})
	if err != nil || code != 1 {
		t.Fatalf("run: %d %v\n%s", code, err, out.String())
	}
	for _, want := range []string{
		"SURVIVED p.go:29:13 Sum: `len(xs) > 3` > → >=",
		"  - `p.go` `Sum` `len(xs) > 3` `> → >=` (line 29, col 13)",
		"mutants: 11, killed 10, survived 1 (equivalent 0, timed out 0)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestReadEquiv(t *testing.T) {
	p := filepath.Join(t.TempDir(), "M.md")
	os.WriteFile(p, []byte("text `a` `b` `c` `d`\n* `x.go:3` `F` `a  <  b` `< -> <=`: why\n"), 0o644)
	es, err := readEquiv(p)
	if err != nil || len(es) != 1 {
		t.Fatalf("%v %+v", err, es)
	}
	if e := es[0]; e.file != "x.go" || e.fn != "F" || e.mutation != "< → <=" || e.expr != "a < b" || e.reason != "why" || e.line != 2 {
		t.Fatalf("%+v", e)
	}
	os.WriteFile(p, []byte("- `x.go` `F` `a < b` `< → <=`\n"), 0o644)
	if _, err := readEquiv(p); err == nil {
		t.Fatal("an entry without a reason was accepted")
	}
}
