// Package archtest holds the import rules of OpenKMS as a test: which
// internal package may import which. It keeps the layering of
// docs/ARCHITECTURE.md true. Test files are exempt (tests may wire concrete
// backends).
package archtest

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/openkms/openkms/"

// allowed lists, for every non-test package, the internal packages it may
// import. A package missing from this table fails the test, so adding a
// package means deciding where it sits.
var allowed = map[string][]string{
	"internal/arn":                     {},
	"internal/principal":               {},
	"internal/kmserr":                  {},
	"internal/config":                  {},
	"internal/storage":                 {},
	"internal/storage/boltstore":       {"internal/storage"},
	"internal/storage/pgstore":         {"internal/storage"},
	"internal/policy":                  {},
	"internal/storage/storagetest":     {"internal/storage"},
	"internal/rootkey":                 {},
	"internal/backup":                  {"internal/rootkey", "internal/storage"},
	"internal/metrics":                 {"internal/audit", "internal/storage"},
	"internal/usage":                   {"internal/storage"},
	"internal/loadgen":                 {},
	"internal/loadgen/cmd/barehandler": {},
	"internal/quota":                   {},
	"internal/audit":                   {"internal/principal", "internal/rootkey"},
	"internal/audit/audittest":         {"internal/audit"},
	"internal/mldsa":                   {},
	"internal/keymaterial":             {"internal/mldsa"},
	"internal/hsm":                     {},
	"internal/hsm/hsmtest":             {"internal/hsm"},
	"internal/rootkey/pkcs11root":      {"internal/hsm", "internal/rootkey", "internal/rootkey/fileroot"},
	"internal/rootkey/fileroot":        {"internal/rootkey"},
	"internal/rootkey/rootkeytest":     {"internal/rootkey"},
	"internal/ciphertext":              {},
	"internal/auth/sigv4":              {"internal/kmserr", "internal/principal"},
	"internal/identity":                {"internal/arn", "internal/auth/sigv4", "internal/policy", "internal/principal", "internal/rootkey", "internal/storage"},
	"internal/keywrap":                 {},
	"internal/iamapi":                  {"internal/arn", "internal/audit", "internal/auth/sigv4", "internal/identity", "internal/kmserr", "internal/policy", "internal/principal"},
	"internal/kms":                     {"internal/arn", "internal/usage", "internal/ciphertext", "internal/keymaterial", "internal/keywrap", "internal/kmserr", "internal/policy", "internal/principal", "internal/rootkey", "internal/storage"},
	"internal/api":                     {"internal/audit", "internal/quota", "internal/metrics", "internal/usage", "internal/auth/sigv4", "internal/kms", "internal/kmserr"},
	"internal/server":                  {"internal/api", "internal/audit", "internal/quota", "internal/metrics", "internal/usage", "internal/kmserr", "internal/backup", "internal/principal", "internal/iamapi", "internal/auth/sigv4", "internal/config", "internal/hsm", "internal/rootkey/pkcs11root", "internal/identity", "internal/kms", "internal/rootkey", "internal/rootkey/fileroot", "internal/storage", "internal/storage/boltstore", "internal/storage/pgstore"},
	"internal/server/servertest":       {"internal/config", "internal/identity", "internal/server"},
	"cmd/openkms":                      {"internal/audit", "internal/loadgen", "internal/kms", "internal/backup", "internal/config", "internal/iamapi", "internal/rootkey/pkcs11root", "internal/hsm", "internal/rootkey", "internal/server"},
}

func TestImportRules(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	imports := map[string]map[string]bool{}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		if imports[rel] == nil {
			imports[rel] = map[string]bool{}
		}
		for _, imp := range f.Imports {
			p := strings.Trim(imp.Path.Value, `"`)
			if strings.HasPrefix(p, module) {
				imports[rel][strings.TrimPrefix(p, module)] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var pkgs []string
	for p := range imports {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	for _, pkg := range pkgs {
		ok, known := allowed[pkg]
		if !known {
			t.Errorf("package %s is not in the import rules: add it to allowed in %s", pkg, "internal/archtest/deps_test.go")
			continue
		}
		for imp := range imports[pkg] {
			found := false
			for _, a := range ok {
				if a == imp {
					found = true
				}
			}
			if !found {
				t.Errorf("%s imports %s, which the layering does not allow", pkg, imp)
			}
		}
	}
}
