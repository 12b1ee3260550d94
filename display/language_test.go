package display_test

import (
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"strings"
	"testing"

	"kasse/display"
)

// tillTexts reads the till's source (it is a higher room, so the display
// cannot import it) and returns every text it puts in a Screen's Title or
// Message: string constants, literals, and fmt.Sprintf formats.
func tillTexts(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../till/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("the till's sources: %v (%d files)", err, len(files))
	}
	fset := token.NewFileSet()
	var parsed []*ast.File
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, af)
	}
	// Constants are folded by the type checker ("a " + sayX); imports are
	// not needed for that, so errors about them are ignored.
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}}
	conf := types.Config{Error: func(error) {}, Importer: nil}
	conf.Check("till", fset, parsed, info)
	var texts []string
	add := func(e ast.Expr) {
		if call, ok := e.(*ast.CallExpr); ok && len(call.Args) > 0 {
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Sprintf" {
				e = call.Args[0]
			}
		}
		if tv, ok := info.Types[e]; ok && tv.Value != nil && tv.Value.Kind() == constant.String {
			texts = append(texts, constant.StringVal(tv.Value))
		}
	}
	for _, af := range parsed {
		ast.Inspect(af, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.KeyValueExpr:
				if k, ok := n.Key.(*ast.Ident); ok && (k.Name == "Title" || k.Name == "Message") {
					add(n.Value)
					if m, ok := n.Value.(*ast.IndexExpr); ok { // map[kind]string{...}[o.Kind]
						if cl, ok := m.X.(*ast.CompositeLit); ok {
							for _, el := range cl.Elts {
								add(el.(*ast.KeyValueExpr).Value)
							}
						}
					}
				}
			case *ast.GenDecl:
				for _, sp := range n.Specs {
					if vs, ok := sp.(*ast.ValueSpec); ok && n.Tok == token.CONST {
						for i, name := range vs.Names {
							if strings.HasPrefix(name.Name, "say") && i < len(vs.Values) {
								add(vs.Values[i])
							}
						}
					}
				}
			case *ast.CallExpr:
				if f, ok := n.Fun.(*ast.SelectorExpr); ok && f.Sel.Name == "showRefund" && len(n.Args) == 1 {
					add(n.Args[0])
				}
			}
			return true
		})
	}
	return texts
}

// Every text the till shows the shopper is in the catalogue, in all four
// languages.
func TestEveryTillTextIsTranslated(t *testing.T) {
	texts := tillTexts(t)
	if len(texts) < 30 {
		t.Fatalf("found only %d texts in the till; the source reader is broken: %q", len(texts), texts)
	}
	t.Logf("%d texts in the till's screens", len(texts))
	for _, s := range texts {
		if s == "" || strings.HasPrefix(s, "+%s") { // a keyed phone number
			continue
		}
		if !display.Translates(s) {
			t.Errorf("the till shows %q, which the display cannot translate: add it to display/language.go", s)
		}
	}
}
