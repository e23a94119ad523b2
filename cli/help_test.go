package cli_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/pcamflow/pcamflow/cli"
)

// TestHelpExitsZero: -h, --help and -help on every command, and `pcamflow help COMMAND`, print
// the command's usage and exit 0; an unknown option is still a usage error (exit 2).
func TestHelpExitsZero(t *testing.T) {
	names := cli.CommandNames()
	if len(names) < 10 {
		t.Fatalf("only %d commands", len(names))
	}
	subcommands := [][]string{{"data", "synth"}, {"data", "verify"}, {"slurm", "render"}, {"runs", "ls"}, {"runs", "show"}, {"runs", "compare"}}
	var lines [][]string
	for _, n := range names {
		lines = append(lines, []string{n})
	}
	lines = append(lines, subcommands...)
	for _, cmd := range lines {
		for _, h := range []string{"-h", "--help", "-help"} {
			args := append(append([]string{}, cmd...), h)
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				var out, errb bytes.Buffer
				if code := cli.Run(context.Background(), args, &out, &errb); code != 0 {
					t.Fatalf("exit %d, want 0; stderr: %s", code, errb.String())
				}
				if out.Len()+errb.Len() == 0 {
					t.Fatal("printed nothing")
				}
			})
		}
	}
	for _, n := range names {
		var out, errb bytes.Buffer
		if code := cli.Run(context.Background(), []string{"help", n}, &out, &errb); code != 0 || out.Len()+errb.Len() == 0 {
			t.Errorf("help %s: exit %d, %d bytes", n, code, out.Len()+errb.Len())
		}
	}
	var out, errb bytes.Buffer
	if code := cli.Run(context.Background(), []string{"plan", "--bogus"}, &out, &errb); code != 2 {
		t.Errorf("plan --bogus: exit %d, want 2", code)
	}
	out.Reset()
	if code := cli.Run(context.Background(), []string{"run", "-h"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "Usage: pcamflow run") {
		t.Errorf("run -h: exit %d, stdout %q", code, out.String())
	}
}
