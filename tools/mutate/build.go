// Building the rewritten package through an overlay.

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
)

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
