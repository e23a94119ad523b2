// Package cli implements the pcamflow command line: argument parsing, the commands, and the mapping
// of errors to exit codes (0 success, 1 failure, 2 usage error). cmd/pcamflow only calls Main.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/pcamflow/pcamflow/pipelines"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) int
}

// env is what every command gets: its streams and the global options.
type env struct {
	stdout, stderr io.Writer
	workspace      string
	// helpRequested is set when the command line asks for a command's help (-h, --help).
	helpRequested bool
}

func commands() []command {
	return []command{
		{"validate", "check a pipeline and report every problem", cmdValidate},
		{"fmt", "rewrite pipeline files in canonical format", cmdFmt},
		{"plan", "show which nodes are cached and which will run, and why", cmdPlan},
		{"run", "execute the pipeline's DAG, reusing cached results", cmdRun},
		{"verify", "re-execute cached nodes from scratch and compare outputs bit for bit", cmdVerify},
		{"graph", "print the DAG in Graphviz DOT format", cmdGraph},
		{"status", "show the nodes of the last run", cmdStatus},
		{"gc", "remove unreferenced cache objects and temporary files", cmdGC},
		{"data", "data synth: generate synthetic PCAM; data verify: check official files' MD5", cmdData},
		{"slurm", "slurm render: write the sbatch scripts the pipeline would submit", cmdSlurm},
		{"exec", "execute one node (what a Slurm job runs)", cmdExec},
		{"runs", "list node runs, show one (parameters, metric history), compare several", cmdRuns},
		{"report", "write a run's report: report.html (self-contained) and report.md with pictures", cmdReport},
		{"infer", "predict tumour probabilities for patches with a model checkpoint", cmdInfer},
		{"bundle", "write an offline bundle of a model (bundle verify DIR: check one)", cmdBundle},
		{"version", "print the version", cmdVersion},
	}
}

// Version is the pcamflow version, set at build time with -ldflags "-X ...cli.Version=...".
var Version = "0.1.0-dev"

// Main runs the command line with the process's arguments and returns the exit code.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
}

// Run executes one command line (without the program name) and returns its exit code. A panic (a
// bug in pcamflow) is reported in one line with exit code 1 instead of a Go stack trace; set
// PCAMFLOW_DEBUG=1 to see the trace.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) (code int) {
	if os.Getenv("PCAMFLOW_DEBUG") == "" {
		defer func() {
			if r := recover(); r != nil {
				fmt.Fprintf(stderr, "pcamflow: internal error: %v\nThis is a bug in pcamflow; please report it with the command and pipeline that caused it (PCAMFLOW_DEBUG=1 shows details).\n", r)
				code = exitFailure
			}
		}()
	}
	e := &env{stdout: stdout, stderr: stderr, workspace: ".pcamflow"}
	args, err := e.globalFlags(args)
	if err != nil {
		fmt.Fprintf(stderr, "pcamflow: %v\n", err)
		return exitUsage
	}
	if len(args) == 2 && args[0] == "help" && args[1] != "help" {
		args = []string{args[1], "-h"} // pcamflow help COMMAND
	}
	if len(args) == 0 || args[0] == "help" || isHelp(args[0]) {
		usage(stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			code := c.run(ctx, e, args[1:])
			// Help asked for is not a usage error: a command's flags (helpFlag) or a dispatcher
			// such as `data` printed it.
			if code == exitUsage && (e.helpRequested || len(args) > 1 && isHelp(args[1])) {
				return exitOK
			}
			return code
		}
	}
	names := []string{}
	for _, c := range commands() {
		names = append(names, c.name)
	}
	fmt.Fprintf(stderr, "pcamflow: unknown command %q.%s Run `pcamflow help` for the list.\n", args[0], pipelines.DidYouMean(args[0], names))
	return exitUsage
}

// globalFlags consumes --workspace DIR (also -workspace, --workspace=DIR) before the command name.
func (e *env) globalFlags(args []string) ([]string, error) {
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && !isHelp(args[0]) {
		name, val, hasVal := strings.Cut(strings.TrimLeft(args[0], "-"), "=")
		if name != "workspace" {
			return nil, fmt.Errorf("unknown global option %s (the only global option is --workspace DIR)", args[0])
		}
		if !hasVal {
			if len(args) < 2 {
				return nil, errors.New("--workspace needs a directory")
			}
			val, args = args[1], args[1:]
		}
		e.workspace = val
		args = args[1:]
	}
	return args, nil
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help"
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "pcamflow %s - reproducible, cached ML pipelines for PatchCamelyon\n\n", Version)
	fmt.Fprintln(w, "Usage: pcamflow [--workspace DIR] COMMAND [options] [FILE]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nWith no FILE, commands use pipelines/quickstart.hcl when it exists, else the built-in quickstart.")
	fmt.Fprintln(w, "The workspace (cache, run records, logs) defaults to .pcamflow in the working directory.")
	fmt.Fprintln(w, "Run `pcamflow COMMAND -h` (or `pcamflow help COMMAND`) for a command's options.")
}

func cmdVersion(_ context.Context, e *env, _ []string) int {
	fmt.Fprintf(e.stdout, "pcamflow %s\n", Version)
	return exitOK
}
