package layout

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// lower are the rooms that must not import upward; upper the rooms above.
var (
	lower = []string{"kasse/store", "kasse/printer", "kasse/display", "kasse/device", "kasse/money", "kasse/vippsid", "kasse/clock"}
	upper = []string{"kasse/till", "kasse/payment", "kasse/cmd"}
)

func within(pkg, room string) bool { return pkg == room || strings.HasPrefix(pkg, room+"/") }

// TestLowerRoomsDoNotImportUpward reads every package's imports (tests
// included) with go list and fails on an import that runs back up.
func TestLowerRoomsDoNotImportUpward(t *testing.T) {
	cmd := exec.Command("go", "list", "-json", "kasse/...")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(out)
	checked := 0
	for {
		var p struct {
			ImportPath                         string
			Imports, TestImports, XTestImports []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		for _, low := range lower {
			if !within(p.ImportPath, low) {
				continue
			}
			checked++
			for _, imp := range append(append(p.Imports, p.TestImports...), p.XTestImports...) {
				for _, up := range upper {
					if within(imp, up) {
						t.Errorf("%s imports %s: a lower room must not import %s", p.ImportPath, imp, up)
					}
				}
			}
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if checked < len(lower) {
		t.Fatalf("checked %d packages, want at least one per lower room (%v)", checked, lower)
	}
}
