// Command mutate is jetstorm's mutation tester (make mutate): it makes small
// deliberate bugs ("mutants") in one package and reports those its tests do
// not notice.
//
//	go run ./tools/mutate [-pkg ./checker] [-equiv checker/MUTANTS.md] [-j N] [-v]
//
// Mutants, one per site, in the package's non-test .go files:
//
//	a < b → a <= b, a <= b → a < b, a > b → a >= b, a >= b → a > b
//	a == b ↔ a != b, !x → x, a && b ↔ a || b
//	a + b ↔ a - b, a * b → a / b, a / b → a * b, a % b → a * b (numbers)
//	x++ ↔ x--, x += e ↔ x -= e (numbers)
//	Valid → Unknown, Invalid → Unknown, Unknown → Valid (the package's
//	Verdict constants where a function returns, assigns or fills them in)
//
// Constant expressions are left alone. All mutants live in one build (mutant
// schemata): every site becomes a call such as mutantLT(17, a, b), which
// does a < b unless the test binary runs with JETSTORM_MUTANT=17. The
// rewritten files and the helpers go to a temporary directory and into the
// build through `go test -overlay`, so the source tree is never written, and
// an interrupt leaves nothing behind but that directory, which is removed.
// The package is built once; then the test binary runs once per mutant, its
// fast tests first and its slow ones (0.25 s or more in the unmutated run)
// only if the fast ones pass, each run with -test.failfast and a timeout. A
// mutant is killed when a test fails (or times out), survived when all pass.
// A site whose rewrite does not compile (say, its type cannot be spelled in
// that file) is reported and left out, and the rest is built again.
//
// A survivor is a failure unless the equivalence list (-equiv) says that
// mutant changes nothing observable. Each entry is a list item that starts
// with four backquoted fields, then the reason:
//
//   - `queue.go` `AnalyzeQueue` `len(s.MalformedExamples) < 10` `< → <=`: why
//
// the file (base name; a ":line" suffix is ignored), the enclosing function
// as the tool prints it, the mutated expression or statement as the tool
// prints it (whitespace collapsed, cut at 100 characters), and the mutation
// ("->" may stand for "→"; "#2", "#3" number the same expression and
// mutation met again in one function, in source order). Entries match by
// these, not by line, so they survive edits elsewhere in the file. Entries
// that match no mutant, or a killed one, are reported as stale.
//
// Exit status: 0 when every mutant is killed or listed as equivalent, 1 when
// a mutant survives, 2 when the tool could not do its job, 130 when
// interrupted. The last line is the summary:
//
//	mutants: N, killed K, survived S (equivalent E, timed out T)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// envVar selects the active mutant in the test binary (0: none).
const envVar = "JETSTORM_MUTANT"

func main() {
	pkg := flag.String("pkg", "./checker", "package to mutate (a directory in this module)")
	equiv := flag.String("equiv", "", "equivalent-mutant list (default: MUTANTS.md in the package directory)")
	jobs := flag.Int("j", runtime.NumCPU(), "test binaries run at once")
	slow := flag.Duration("slow", 250*time.Millisecond, "tests at least this long in the unmutated run run only after the fast ones pass")
	timeout := flag.Duration("timeout", 0, "per test run (default: 10× the unmutated run, at least 30 s)")
	verbose := flag.Bool("v", false, "print every mutant's outcome")
	list := flag.Bool("list", false, "list the mutants and exit")
	only := flag.String("only", "", "run only mutants whose id (file:line:col) or description matches this regexp")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code, err := run(ctx, options{pkg: *pkg, equiv: *equiv, jobs: max(*jobs, 1), slow: *slow, timeout: *timeout,
		verbose: *verbose, list: *list, only: *only, out: os.Stdout})
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
	}
	os.Exit(code)
}

type options struct {
	pkg, equiv string
	jobs       int
	slow       time.Duration
	timeout    time.Duration
	verbose    bool
	list       bool
	only       string
	out        io.Writer
}

// status is a mutant's outcome.
type status int

const (
	notRun status = iota
	killed
	timedOut
	survived
)

// mutant is one site and its mutation.
type mutant struct {
	id       int
	file     string // base name
	line     int
	col      int
	fn       string // enclosing function
	expr     string // the mutated expression or statement, whitespace collapsed
	mutation string // e.g. "< → <="
	status   status
	dropped  bool // its rewrite did not compile: not run
	equiv    *equivEntry
	failed   string // first failing test, for -v
}

func (m *mutant) pos() string { return fmt.Sprintf("%s:%d:%d", m.file, m.line, m.col) }

func (m *mutant) String() string {
	return fmt.Sprintf("%s %s: `%s` %s", m.pos(), m.fn, m.expr, m.mutation)
}

func run(ctx context.Context, o options) (int, error) {
	root, err := moduleRoot()
	if err != nil {
		return 2, err
	}
	pkgDir, err := filepath.Abs(o.pkg)
	if err != nil {
		return 2, err
	}
	rel, err := filepath.Rel(root, pkgDir)
	if err != nil || strings.HasPrefix(rel, "..") {
		return 2, fmt.Errorf("%s is not inside the module at %s", o.pkg, root)
	}
	pattern := "./" + filepath.ToSlash(rel)
	if o.equiv == "" {
		o.equiv = filepath.Join(pkgDir, "MUTANTS.md")
	}
	if o.slow <= 0 {
		o.slow = 250 * time.Millisecond
	}
	entries, err := readEquiv(o.equiv)
	if err != nil {
		return 2, err
	}

	start := time.Now()
	files, err := loadPackage(ctx, root, pattern, pkgDir)
	if err != nil {
		return 2, err
	}
	var muts []*mutant
	for _, f := range files {
		muts = append(muts, f.muts...)
	}
	for _, m := range muts {
		m.equiv = matchEquiv(entries, m)
	}
	if o.list {
		for _, m := range muts {
			fmt.Fprintln(o.out, m)
		}
		fmt.Fprintf(o.out, "%d mutants\n", len(muts))
		return 0, nil
	}

	tmp, err := os.MkdirTemp("", "jetstorm-mutate-")
	if err != nil {
		return 2, err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "pkg.test")
	dropped, err := build(ctx, root, pattern, pkgDir, tmp, bin, files)
	if err != nil {
		return 2, err
	}
	for _, m := range dropped {
		fmt.Fprintf(o.out, "not mutated (the rewritten code did not compile): %s\n", m)
	}
	fmt.Fprintf(o.out, "mutate: %d mutants in %s, built in %v\n", len(muts), pattern, time.Since(start).Round(100*time.Millisecond))

	// The unmutated run: it must pass, and it tells slow tests from fast.
	t0 := time.Now()
	out, err := testRun(ctx, pkgDir, bin, 0, 10*time.Minute, "-test.v")
	if err != nil {
		return 2, fmt.Errorf("the tests fail without any mutant:\n%s", tail(out, 40))
	}
	base := time.Since(t0)
	slowTests := slowTests(out, o.slow)
	limit := o.timeout
	if limit <= 0 {
		limit = max(30*time.Second, 10*base)
	}
	fmt.Fprintf(o.out, "mutate: unmutated run %v; slow tests run last: %s\n", base.Round(10*time.Millisecond), strings.Join(slowTests, ", "))

	var onlyRE *regexp.Regexp
	if o.only != "" {
		if onlyRE, err = regexp.Compile(o.only); err != nil {
			return 2, err
		}
	}
	todo := make(chan *mutant)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	total := 0
	selected := func(m *mutant) bool { return !m.dropped && (onlyRE == nil || onlyRE.MatchString(m.String())) }
	for _, m := range muts {
		if selected(m) {
			total++
		}
	}
	for range o.jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range todo {
				m.status, m.failed = testMutant(ctx, pkgDir, bin, m.id, slowTests, limit)
				mu.Lock()
				done++
				if (m.status == survived && m.equiv == nil) || o.verbose {
					word := map[status]string{killed: "killed", timedOut: "timed out", survived: "SURVIVED", notRun: "not run"}[m.status]
					if m.status == survived && m.equiv != nil {
						word = "survived (equivalent)"
					}
					extra := ""
					if o.verbose && m.failed != "" {
						extra = " by " + m.failed
					}
					fmt.Fprintf(o.out, "[%d/%d] %s %s%s\n", done, total, word, m, extra)
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, m := range muts {
		if !selected(m) {
			continue
		}
		select {
		case todo <- m:
		case <-ctx.Done():
			break feed
		}
	}
	close(todo)
	wg.Wait()
	if ctx.Err() != nil {
		fmt.Fprintln(o.out, "mutate: interrupted")
		return 130, nil
	}

	return report(o, muts, entries, onlyRE != nil, start), nil
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside a Go module")
	}
	return filepath.Dir(gomod), nil
}
