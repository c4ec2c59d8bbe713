// Loading: the package parsed and type-checked, its sites found.

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

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
