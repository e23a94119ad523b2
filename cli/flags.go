package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// listFlag collects a repeatable string option.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// newFlags returns a FlagSet that reports errors on stderr; options may be written with one or two
// dashes (-var or --var), as Go's flag package accepts both.
func newFlags(e *env, name, argsUsage, help string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: pcamflow %s [options] %s\n\n%s\n\nOptions:\n", name, argsUsage, help)
		fs.PrintDefaults()
	}
	fs.StringVar(&e.workspace, "workspace", e.workspace, "workspace `DIR` holding the cache and run records")
	return fs
}

// parseInterspersed parses options that may appear before and after positional arguments, e.g.
// `pcamflow run pipeline.hcl -j 4`. It returns the positional arguments, or an error already
// reported on the FlagSet's output.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// usageError prints a usage problem and returns the usage exit code.
func usageError(w io.Writer, format string, a ...any) int {
	fmt.Fprintf(w, "pcamflow: "+format+"\n", a...)
	return exitUsage
}
