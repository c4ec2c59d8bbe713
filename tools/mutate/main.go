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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
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

	var n, nKilled, nSurvived, nEquiv, nTimeout int
	var survivors []*mutant
	for _, m := range muts {
		switch m.status {
		case notRun:
			continue
		case killed:
			nKilled++
		case timedOut:
			nKilled++
			nTimeout++
		case survived:
			if m.equiv != nil {
				nEquiv++
			} else {
				nSurvived++
				survivors = append(survivors, m)
			}
		}
		n++
	}
	for _, e := range entries {
		used, usedKilled := false, false
		for _, m := range muts {
			if m.equiv == e {
				used = true
				usedKilled = usedKilled || m.status == killed || m.status == timedOut
			}
		}
		switch {
		case !used && onlyRE == nil:
			fmt.Fprintf(o.out, "stale equivalence entry (no such mutant): %s:%d: %s\n", filepath.Base(o.equiv), e.line, e.key())
		case usedKilled:
			fmt.Fprintf(o.out, "stale equivalence entry (its mutant is killed now): %s:%d: %s\n", filepath.Base(o.equiv), e.line, e.key())
		}
	}
	if len(survivors) > 0 {
		fmt.Fprintf(o.out, "\n%d surviving %s (kill with a test, or list in %s with the reason it is equivalent):\n",
			len(survivors), plural(len(survivors), "mutant", "mutants"), filepath.Base(o.equiv))
		for _, m := range survivors {
			fmt.Fprintf(o.out, "  - `%s` `%s` `%s` `%s` (line %d, col %d)\n", m.file, m.fn, m.expr, m.mutation, m.line, m.col)
		}
	}
	fmt.Fprintf(o.out, "mutate: %v\n", time.Since(start).Round(time.Second))
	fmt.Fprintf(o.out, "mutants: %d, killed %d, survived %d (equivalent %d, timed out %d)\n", n, nKilled, nSurvived, nEquiv, nTimeout)
	if nSurvived > 0 {
		return 1, nil
	}
	return 0, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
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

// --- loading and finding sites ---

// srcFile is one non-test file of the package, its sites and mutants.
type srcFile struct {
	path  string // absolute
	name  string // base name
	src   []byte
	sites []*site
	muts  []*mutant
}

type listPkg struct {
	ImportPath string
	Name       string
	Dir        string
	Export     string
	GoFiles    []string
	Error      *struct{ Err string }
}

// loadPackage parses and type-checks the package (its imports from the
// export data `go list -export` builds) and finds its mutation sites.
func loadPackage(ctx context.Context, root, pattern, pkgDir string) ([]*srcFile, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-e", "-export", "-deps", "-json=ImportPath,Name,Dir,Export,GoFiles,Error", pattern)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %v\n%s", err, stderr.String())
	}
	exports := map[string]string{}
	var target *listPkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listPkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list output: %w", err)
		}
		if p.Error != nil {
			return nil, fmt.Errorf("go list: %s: %s", p.ImportPath, p.Error.Err)
		}
		exports[p.ImportPath] = p.Export
		if p.Dir == pkgDir {
			target = &p
		}
	}
	if target == nil {
		return nil, fmt.Errorf("go list did not list %s", pattern)
	}

	fset := token.NewFileSet()
	var files []*srcFile
	var asts []*ast.File
	for _, name := range target.GoFiles {
		path := filepath.Join(pkgDir, name)
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		files = append(files, &srcFile{path: path, name: name, src: src})
		asts = append(asts, f)
	}
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		e := exports[path]
		if e == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(e)
	})
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}, Uses: map[*ast.Ident]types.Object{}}
	tpkg, err := (&types.Config{Importer: imp}).Check(target.ImportPath, fset, asts, info)
	if err != nil {
		return nil, fmt.Errorf("type-check %s: %w", pattern, err)
	}
	for _, name := range helperNames {
		if tpkg.Scope().Lookup(name) != nil {
			return nil, fmt.Errorf("%s declares %s, a name the mutant helpers need", pattern, name)
		}
	}
	next := 0
	for i, f := range files {
		findSites(fset, asts[i], f, tpkg, info, &next)
		// The same expression and mutation twice in one function: the
		// second is "#2", and so on, in source order.
		seen := map[string]int{}
		for _, s := range f.sites {
			k := s.m.fn + "\x00" + s.m.expr + "\x00" + s.m.mutation
			if seen[k]++; seen[k] > 1 {
				s.m.mutation += fmt.Sprintf(" #%d", seen[k])
			}
			f.muts = append(f.muts, s.m)
		}
	}
	return files, nil
}

// piece is part of a site's replacement text: a literal, or the (rewritten)
// source between two offsets.
type piece struct {
	lit        string
	start, end int // a span when lit is "" and end > start
}

// site is one mutation site: the source span it replaces, and what with.
type site struct {
	start, end int
	pieces     []piece
	m          *mutant
	kids       []*site
}

var helperNames = []string{"mutantActive", "mutantFlip", "mutantAnd", "mutantOr", "mutantLT", "mutantLE", "mutantGT", "mutantGE",
	"mutantAdd", "mutantSub", "mutantMul", "mutantDiv", "mutantRem", "mutantStep", "mutantNeg", "mutantPick", "mutantNum", "mutantInt"}

var (
	ordered = map[token.Token]struct{ helper, to string }{
		token.LSS: {"mutantLT", "<="}, token.LEQ: {"mutantLE", "<"},
		token.GTR: {"mutantGT", ">="}, token.GEQ: {"mutantGE", ">"},
	}
	arith = map[token.Token]struct{ helper, to string }{
		token.ADD: {"mutantAdd", "-"}, token.SUB: {"mutantSub", "+"},
		token.MUL: {"mutantMul", "/"}, token.QUO: {"mutantDiv", "*"}, token.REM: {"mutantRem", "*"},
	}
	verdictMutation = map[string]string{"Valid": "Unknown", "Invalid": "Unknown", "Unknown": "Valid"}
)

func findSites(fset *token.FileSet, f *ast.File, sf *srcFile, pkg *types.Package, info *types.Info, next *int) {
	tf := fset.File(f.Pos())
	off := func(p token.Pos) int { return tf.Offset(p) }
	text := func(n ast.Node) string { return collapse(string(sf.src[off(n.Pos()):off(n.End())])) }
	// Local names of imported packages, to spell types in explicit
	// instantiations.
	imports := map[string]string{}
	for _, is := range f.Imports {
		path, _ := strconv.Unquote(is.Path.Value)
		name := ""
		if is.Name != nil {
			name = is.Name.Name
		} else if p := importedPkg(pkg, path); p != nil {
			name = p.Name()
		}
		imports[path] = name
	}
	typeName := func(t types.Type) (string, bool) {
		ok := true
		s := types.TypeString(t, func(p *types.Package) string {
			if p == pkg {
				return ""
			}
			name := imports[p.Path()]
			if name == "" || name == "_" || name == "." {
				ok = false
			}
			return name
		})
		return s, ok
	}
	numeric := func(t types.Type, intOnly bool) bool {
		b, ok := t.Underlying().(*types.Basic)
		if !ok {
			return false
		}
		if intOnly {
			return b.Info()&types.IsInteger != 0
		}
		return b.Info()&(types.IsInteger|types.IsFloat) != 0
	}
	isBool := func(e ast.Expr) bool {
		tv, ok := info.Types[e]
		if !ok || tv.Value != nil {
			return false
		}
		return types.Identical(tv.Type, types.Typ[types.Bool]) || types.Identical(tv.Type, types.Typ[types.UntypedBool])
	}
	constant := func(e ast.Expr) bool {
		tv, ok := info.Types[e]
		return !ok || tv.Value != nil
	}
	verdicts := map[types.Object]string{}
	for name := range verdictMutation {
		if obj, ok := pkg.Scope().Lookup(name).(*types.Const); ok {
			verdicts[obj] = name
		}
	}

	add := func(fn string, opPos token.Pos, start, end int, node ast.Node, mutation string, pieces func(id int) []piece) {
		*next++
		p := fset.Position(opPos)
		sf.sites = append(sf.sites, &site{start: start, end: end, pieces: pieces(*next), m: &mutant{
			id: *next, file: sf.name, line: p.Line, col: p.Column, fn: fn, expr: truncate(text(node)), mutation: mutation,
		}})
	}
	span := func(n ast.Node) piece { return piece{start: off(n.Pos()), end: off(n.End())} }
	lit := func(s string) piece { return piece{lit: s} }
	// sep is the text between two operands: a comma, then the newlines of
	// the dropped operator region, so that lines keep their numbers.
	sep := func(a, b ast.Node) piece {
		return lit(", " + strings.Repeat("\n", bytes.Count(sf.src[off(a.End()):off(b.Pos())], []byte("\n"))))
	}

	for _, decl := range f.Decls {
		fn := ""
		switch d := decl.(type) {
		case *ast.FuncDecl:
			fn = d.Name.Name
			if d.Recv != nil && len(d.Recv.List) > 0 {
				fn = "(" + recvString(d.Recv.List[0].Type) + ")." + fn
			}
		case *ast.GenDecl:
			if d.Tok != token.VAR {
				continue // constants, types, imports
			}
			fn = "var"
		}
		var stack []ast.Node
		ast.Inspect(decl, func(n ast.Node) bool {
			if n == nil {
				stack = stack[:len(stack)-1]
				return true
			}
			var parent ast.Node
			if len(stack) > 0 {
				parent = stack[len(stack)-1]
			}
			stack = append(stack, n)
			switch n := n.(type) {
			case *ast.ArrayType:
				stack = stack[:len(stack)-1]
				return false // lengths are constants
			case *ast.BinaryExpr:
				if constant(n) {
					return true
				}
				switch n.Op {
				case token.EQL, token.NEQ:
					to := map[token.Token]string{token.EQL: "!=", token.NEQ: "=="}[n.Op]
					add(fn, n.OpPos, off(n.Pos()), off(n.End()), n, n.Op.String()+" → "+to,
						func(id int) []piece { return []piece{lit(fmt.Sprintf("mutantFlip(%d, ", id)), span(n), lit(")")} })
				case token.LAND, token.LOR:
					if !isBool(n) {
						return true
					}
					helper, to := "mutantAnd", "||"
					if n.Op == token.LOR {
						helper, to = "mutantOr", "&&"
					}
					add(fn, n.OpPos, off(n.Pos()), off(n.End()), n, n.Op.String()+" → "+to,
						func(id int) []piece {
							return []piece{lit(fmt.Sprintf("%s(%d, ", helper, id)), span(n.X), sep(n.X, n.Y),
								lit("func() bool { return "), span(n.Y), lit(" })")}
						})
				case token.LSS, token.LEQ, token.GTR, token.GEQ:
					t := operandType(info, n)
					if t == nil {
						return true
					}
					tn, ok := typeName(t)
					if !ok {
						return true
					}
					o := ordered[n.Op]
					add(fn, n.OpPos, off(n.Pos()), off(n.End()), n, n.Op.String()+" → "+o.to,
						func(id int) []piece {
							return []piece{lit(fmt.Sprintf("%s[%s](%d, ", o.helper, tn, id)), span(n.X), sep(n.X, n.Y), span(n.Y), lit(")")}
						})
				case token.ADD, token.SUB, token.MUL, token.QUO, token.REM:
					t := info.Types[n].Type
					if !numeric(t, n.Op == token.REM) {
						return true
					}
					tn, ok := typeName(t)
					if !ok {
						return true
					}
					o := arith[n.Op]
					add(fn, n.OpPos, off(n.Pos()), off(n.End()), n, n.Op.String()+" → "+o.to,
						func(id int) []piece {
							return []piece{lit(fmt.Sprintf("%s[%s](%d, ", o.helper, tn, id)), span(n.X), sep(n.X, n.Y), span(n.Y), lit(")")}
						})
				}
			case *ast.UnaryExpr:
				if n.Op == token.NOT && isBool(n) {
					add(fn, n.OpPos, off(n.Pos()), off(n.End()), n, "! → (removed)",
						func(id int) []piece { return []piece{lit(fmt.Sprintf("mutantFlip(%d, ", id)), span(n), lit(")")} })
				}
			case *ast.IncDecStmt:
				t := info.Types[n.X].Type
				if t == nil || !numeric(t, false) {
					return true
				}
				tn, ok := typeName(t)
				if !ok {
					return true
				}
				op, to := "+=", "--"
				if n.Tok == token.DEC {
					op, to = "-=", "++"
				}
				add(fn, n.TokPos, off(n.Pos()), off(n.End()), n, n.Tok.String()+" → "+to,
					func(id int) []piece {
						return []piece{span(n.X), lit(fmt.Sprintf(" %s mutantStep[%s](%d)", op, tn, id))}
					})
			case *ast.AssignStmt:
				if (n.Tok != token.ADD_ASSIGN && n.Tok != token.SUB_ASSIGN) || len(n.Lhs) != 1 || len(n.Rhs) != 1 {
					return true
				}
				t := info.Types[n.Lhs[0]].Type
				if t == nil || !numeric(t, false) {
					return true
				}
				tn, ok := typeName(t)
				if !ok {
					return true
				}
				to := map[token.Token]string{token.ADD_ASSIGN: "-=", token.SUB_ASSIGN: "+="}[n.Tok]
				add(fn, n.TokPos, off(n.Pos()), off(n.End()), n, n.Tok.String()+" → "+to,
					func(id int) []piece {
						return []piece{span(n.Lhs[0]), lit(fmt.Sprintf(" %s mutantNeg[%s](%d, ", n.Tok, tn, id)), span(n.Rhs[0]), lit(")")}
					})
			case *ast.Ident:
				name, ok := verdicts[info.Uses[n]]
				if !ok {
					return true
				}
				// Where a verdict is produced: returned, assigned, or a field
				// or variable initialised with it. Not where one is tested.
				var ctxNode ast.Node
				switch p := parent.(type) {
				case *ast.ReturnStmt, *ast.AssignStmt, *ast.ValueSpec:
					ctxNode = p
				case *ast.KeyValueExpr:
					if p.Value == n {
						ctxNode = p
					}
				case *ast.CompositeLit:
					ctxNode = p
				}
				if ctxNode == nil {
					return true
				}
				to := verdictMutation[name]
				add(fn, n.Pos(), off(n.Pos()), off(n.End()), ctxNode, name+" → "+to,
					func(id int) []piece { return []piece{lit(fmt.Sprintf("mutantPick(%d, %s, %s)", id, name, to))} })
			}
			return true
		})
	}
}

// operandType is the type of a comparison's operands: that of a typed one.
func operandType(info *types.Info, n *ast.BinaryExpr) types.Type {
	for _, e := range []ast.Expr{n.X, n.Y} {
		if tv, ok := info.Types[e]; ok {
			if b, ok := tv.Type.(*types.Basic); ok && b.Info()&types.IsUntyped != 0 {
				continue
			}
			return tv.Type
		}
	}
	return nil
}

func importedPkg(pkg *types.Package, path string) *types.Package {
	for _, p := range pkg.Imports() {
		if p.Path() == path {
			return p
		}
	}
	return nil
}

func recvString(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.StarExpr:
		return "*" + recvString(t.X)
	case *ast.Ident:
		return t.Name
	case *ast.IndexExpr:
		return recvString(t.X)
	case *ast.IndexListExpr:
		return recvString(t.X)
	}
	return "?"
}

var spaces = regexp.MustCompile(`\s+`)

func collapse(s string) string { return strings.TrimSpace(spaces.ReplaceAllString(s, " ")) }

func truncate(s string) string {
	const maxRunes = 100
	if r := []rune(s); len(r) > maxRunes {
		return string(r[:maxRunes]) + "…"
	}
	return s
}

// --- rewriting ---

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

var compileErr = regexp.MustCompile(`(?m)^(?:\./|.*/)?([^/\s:]+\.go):(\d+):\d+: `)

// build writes the rewritten files and the helpers to tmp, and builds the
// test binary through an overlay. A site whose rewrite does not compile is
// dropped (all sites of the offending line) and the build retried; the
// dropped mutants are returned.
func build(ctx context.Context, root, pattern, pkgDir, tmp, bin string, files []*srcFile) ([]*mutant, error) {
	keep := map[int]bool{}
	byName := map[string]*srcFile{}
	pkgName := ""
	for _, f := range files {
		byName[f.name] = f
		for _, s := range f.sites {
			keep[s.m.id] = true
		}
		if pkgName == "" {
			pf, err := parser.ParseFile(token.NewFileSet(), f.path, f.src, parser.PackageClauseOnly)
			if err != nil {
				return nil, err
			}
			pkgName = pf.Name.Name
		}
	}
	const helperFile = "zz_mutant_helpers.go"
	if _, err := os.Stat(filepath.Join(pkgDir, helperFile)); err == nil {
		return nil, fmt.Errorf("%s exists in %s", helperFile, pkgDir)
	}
	var dropped []*mutant
	for attempt := 0; ; attempt++ {
		overlay := map[string]string{}
		for _, f := range files {
			p := filepath.Join(tmp, f.name)
			if err := os.WriteFile(p, rewrite(f, keep), 0o644); err != nil {
				return nil, err
			}
			overlay[f.path] = p
		}
		hp := filepath.Join(tmp, helperFile)
		if err := os.WriteFile(hp, fmt.Appendf(nil, helpers, pkgName), 0o644); err != nil {
			return nil, err
		}
		overlay[filepath.Join(pkgDir, helperFile)] = hp
		b, _ := json.Marshal(map[string]any{"Replace": overlay})
		ov := filepath.Join(tmp, "overlay.json")
		if err := os.WriteFile(ov, b, 0o644); err != nil {
			return nil, err
		}
		cmd := exec.CommandContext(ctx, "go", "test", "-c", "-vet=off", "-overlay", ov, "-o", bin, pattern)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err == nil {
			return dropped, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// Drop the sites on the lines the compiler complains about.
		n := 0
		for _, sm := range compileErr.FindAllStringSubmatch(string(out), -1) {
			f := byName[sm[1]]
			line, _ := strconv.Atoi(sm[2])
			if f == nil {
				continue
			}
			for _, s := range f.sites {
				if keep[s.m.id] && s.m.line == line {
					delete(keep, s.m.id)
					s.m.dropped = true
					dropped = append(dropped, s.m)
					n++
				}
			}
		}
		if n == 0 || attempt >= 20 {
			return nil, fmt.Errorf("building the mutated package failed:\n%s", tail(out, 40))
		}
	}
}

// --- running ---

// testRun runs the test binary in the package directory with mutant id
// active; err is non-nil when a test failed or timed out.
func testRun(ctx context.Context, dir, bin string, id int, limit time.Duration, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, limit+30*time.Second)
	defer cancel()
	args = append([]string{"-test.count=1", "-test.timeout=" + limit.String()}, args...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", envVar, id))
	cmd.WaitDelay = 5 * time.Second
	return cmd.CombinedOutput()
}

// testMutant runs the fast tests, then the slow ones, with mutant id.
func testMutant(ctx context.Context, dir, bin string, id int, slow []string, limit time.Duration) (status, string) {
	phases := [][]string{{"-test.failfast"}}
	if len(slow) > 0 {
		re := "^(" + strings.Join(slow, "|") + ")$"
		phases = [][]string{{"-test.failfast", "-test.skip", re}, {"-test.failfast", "-test.run", re}}
	}
	for _, args := range phases {
		out, err := testRun(ctx, dir, bin, id, limit, args...)
		if ctx.Err() != nil {
			return notRun, ""
		}
		if err != nil {
			if bytes.Contains(out, []byte("panic: test timed out")) || errors.Is(err, context.DeadlineExceeded) {
				return timedOut, "timeout"
			}
			return killed, firstFailure(out)
		}
	}
	return survived, ""
}

var failLine = regexp.MustCompile(`(?m)^\s*--- FAIL: (\S+)`)

func firstFailure(out []byte) string {
	all := failLine.FindAllSubmatch(out, -1)
	if len(all) == 0 {
		if bytes.Contains(out, []byte("panic:")) {
			return "a panic"
		}
		return "a failure"
	}
	return string(all[len(all)-1][1]) // the innermost comes first; the top-level test last
}

var passLine = regexp.MustCompile(`(?m)^--- PASS: (\S+) \(([0-9.]+)s\)`)

// slowTests lists the top-level tests of a -test.v run that took at least
// min.
func slowTests(out []byte, min time.Duration) []string {
	var slow []string
	for _, m := range passLine.FindAllSubmatch(out, -1) {
		s, _ := strconv.ParseFloat(string(m[2]), 64)
		if time.Duration(s*float64(time.Second)) >= min {
			slow = append(slow, regexp.QuoteMeta(string(m[1])))
		}
	}
	return slow
}

func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// --- the equivalence list ---

type equivEntry struct {
	line                     int
	file, fn, expr, mutation string
	reason                   string
}

func (e *equivEntry) key() string {
	return fmt.Sprintf("`%s` `%s` `%s` `%s`", e.file, e.fn, e.expr, e.mutation)
}

var equivLine = regexp.MustCompile("^\\s*[-*]\\s+`([^`]+)`\\s+`([^`]+)`\\s+`([^`]+)`\\s+`([^`]+)`\\s*:?\\s*(.*)$")

// readEquiv parses the equivalence list; a missing file is an empty list.
func readEquiv(path string) ([]*equivEntry, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var entries []*equivEntry
	for i, line := range strings.Split(string(b), "\n") {
		m := equivLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		file, _, _ := strings.Cut(m[1], ":")
		e := &equivEntry{line: i + 1, file: filepath.Base(file), fn: m[2], expr: collapse(m[3]), mutation: normMutation(m[4]), reason: m[5]}
		if strings.TrimSpace(e.reason) == "" {
			return nil, fmt.Errorf("%s:%d: an equivalent mutant needs a reason", path, i+1)
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// normMutation accepts "->" for "→".
func normMutation(s string) string {
	return collapse(strings.ReplaceAll(s, "->", "→"))
}

func matchEquiv(entries []*equivEntry, m *mutant) *equivEntry {
	for _, e := range entries {
		if e.file == m.file && e.fn == m.fn && e.expr == m.expr && e.mutation == normMutation(m.mutation) {
			return e
		}
	}
	return nil
}
