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
// dashes (-var or --var), as Go's flag package accepts both. -h and --help print the command's
// usage on stdout, and the command then exits 0 (see helpFlag).
func newFlags(e *env, name, argsUsage, help string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		w := e.stderr
		if e.helpRequested {
			w = e.stdout
		}
		fmt.Fprintf(w, "Usage: pcamflow %s [options] %s\n\n%s\n\nOptions:\n", name, argsUsage, help)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(e.stderr)
	}
	fs.StringVar(&e.workspace, "workspace", e.workspace, "workspace `DIR` holding the cache and run records")
	hf := &helpFlag{e: e}
	fs.Var(hf, "h", "show this help")
	fs.Var(hf, "help", "show this help")
	return fs
}

// helpFlag is the -h/--help option. Go's flag package answers -h itself with flag.ErrHelp, which a
// command cannot tell from a usage error (exit 2); as a declared option it is recorded instead, and
// parseInterspersed prints the usage and stops, and Run exits 0.
type helpFlag struct{ e *env }

func (h *helpFlag) String() string     { return "" }
func (h *helpFlag) IsBoolFlag() bool   { return true }
func (h *helpFlag) Set(v string) error { h.e.helpRequested = v != "false"; return nil }

// parseInterspersed parses options that may appear before and after positional arguments, e.g.
// `pcamflow run pipeline.hcl -j 4`. It returns the positional arguments, or an error already
// reported on the FlagSet's output.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if h, ok := fs.Lookup("h").Value.(*helpFlag); ok && h.e.helpRequested {
			fs.Usage()
			return nil, flag.ErrHelp
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
