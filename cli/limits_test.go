package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pcamflow/pcamflow/cli"
)

// TestHostileShapes: validate, plan and fmt refuse a pipeline nested or chained beyond the limits
// with one diagnostic at file:line:col and exit 1, instead of dying with "stack overflow"; fmt
// leaves the file untouched.
func TestHostileShapes(t *testing.T) {
	dir := t.TempDir()
	shapes := map[string]string{
		"parens.hcl": "locals {\n  x = " + strings.Repeat("(", 70000) + "1" + strings.Repeat(")", 70000) + "\n}\n",
		"unary.hcl":  "locals {\n  x = " + strings.Repeat("-", 1000000) + "1\n}\n",
		"sum.hcl":    "locals {\n  x = " + strings.Repeat("1+", 999999) + "1\n}\n",
	}
	want := map[string]string{
		"parens.hcl": ":2:262: error: Expression nested too deeply",
		"unary.hcl":  ":2:10007: error: Expression too long",
		"sum.hcl":    ":2:20008: error: Expression too long",
	}
	for name, src := range shapes {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"validate", path}, {"plan", path}, {"fmt", path}, {"fmt", "-check", path}} {
			var out, errb bytes.Buffer
			code := cli.Run(context.Background(), append([]string{"--workspace", filepath.Join(dir, "ws")}, args...), &out, &errb)
			if code != 1 || !strings.Contains(errb.String(), path+want[name]) {
				t.Errorf("%v: exit %d, stderr %.300q; want exit 1 and %q", args, code, errb.String(), want[name])
			}
			if strings.Contains(errb.String(), "goroutine") || errb.Len() > 2000 {
				t.Errorf("%v: stderr of %d bytes: %.300q", args, errb.Len(), errb.String())
			}
		}
		if b, _ := os.ReadFile(path); string(b) != src {
			t.Errorf("fmt changed %s", name)
		}
	}
}
