// The mutation operators: which expressions and statements become sites,
// and what each is rewritten to.

package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"regexp"
	"strconv"
	"strings"
)

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

// opHelper is an operator's helper and the operator it turns into.
type opHelper struct{ helper, to string }

var (
	ordered = map[token.Token]opHelper{
		token.LSS: {"mutantLT", "<="}, token.LEQ: {"mutantLE", "<"},
		token.GTR: {"mutantGT", ">="}, token.GEQ: {"mutantGE", ">"},
	}
	arith = map[token.Token]opHelper{
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

	// addGeneric makes n a call of o's helper instantiated with t, the
	// operands' type, unless this file cannot spell t.
	addGeneric := func(fn string, n *ast.BinaryExpr, t types.Type, o opHelper) {
		tn, ok := typeName(t)
		if !ok {
			return
		}
		add(fn, n.OpPos, off(n.Pos()), off(n.End()), n, n.Op.String()+" → "+o.to,
			func(id int) []piece {
				return []piece{lit(fmt.Sprintf("%s[%s](%d, ", o.helper, tn, id)), span(n.X), sep(n.X, n.Y), span(n.Y), lit(")")}
			})
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
					if t := operandType(info, n); t != nil {
						addGeneric(fn, n, t, ordered[n.Op])
					}
				case token.ADD, token.SUB, token.MUL, token.QUO, token.REM:
					if t := info.Types[n].Type; numeric(t, n.Op == token.REM) {
						addGeneric(fn, n, t, arith[n.Op])
					}
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
