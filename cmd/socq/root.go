package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"

	"github.com/socq/socq/engine"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// Exit codes, as documented in the README.
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitNotFound    = 3
	exitCouldNotRun = 4 // socq check: a check could not run
	exitInterrupted = 130
)

// exitError carries the exit code a failure maps to. Its message has already
// been printed when printed is true (e.g. a rendered query error).
type exitError struct {
	code    int
	err     error
	printed bool
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func failed(code int, format string, args ...any) error {
	return &exitError{code: code, err: fmt.Errorf(format, args...)}
}

// ioStreams is the one place that knows where input and output go and
// whether they are terminals; commands never look at os.Stdout themselves.
type ioStreams struct {
	in       io.Reader
	out, err io.Writer
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// outIsTerminal reports whether results go to a person's terminal.
func (s *ioStreams) outIsTerminal() bool { return isTerminal(s.out) }

// dbOptions are the engine options a command opens its database with: the
// lock file names the command, and while another process holds the
// database one "waiting for ..." line goes to stderr when it is a terminal
// (never in CI). memoryLimit is --memory-limit ("" for $SOCQ_MEMORY_LIMIT).
func (s *ioStreams) dbOptions(command, memoryLimit string) engine.Options {
	opts := engine.Options{Command: command, MemoryLimit: memoryLimit}
	if isTerminal(s.err) && os.Getenv("CI") != "true" {
		opts.Waiting = s.err
	}
	return opts
}

// memoryLimitFlag adds --memory-limit; def is the limit without the flag
// and $SOCQ_MEMORY_LIMIT, as help text.
func memoryLimitFlag(cmd *cobra.Command, limit *string, def string) {
	cmd.Flags().StringVar(limit, "memory-limit", "", "the most memory DuckDB may use, e.g. 2GB or 512MiB (default $SOCQ_MEMORY_LIMIT, else "+def+")")
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ios := &ioStreams{in: stdin, out: stdout, err: stderr}
	root := newRootCmd(ios)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "socq: interrupted")
		return exitInterrupted
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if !ee.printed {
			fmt.Fprintln(stderr, "socq: "+ee.Error())
		}
		return ee.code
	}
	// Anything cobra itself rejects (unknown flag or command) is usage.
	fmt.Fprintln(stderr, "socq: "+err.Error())
	fmt.Fprintln(stderr, "Run 'socq --help' for usage.")
	return exitUsage
}

func newRootCmd(ios *ioStreams) *cobra.Command {
	root := &cobra.Command{
		Use:   "socq",
		Short: "Query and audit Microsoft Sentinel incident history with KQL",
		Long: `socq loads Microsoft Sentinel SecurityIncident history (one snapshot row per
change to an incident, tasks included) into an embedded DuckDB file and answers
KQL queries over it.

Try it without any setup:  socq demo`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version(),
	}
	// One command a line, so adding one is a one-line change.
	root.AddCommand(
		newIngestCmd(ios),
		newQueryCmd(ios),
		newDemoCmd(ios),
		newExportCmd(ios),
		newPullCmd(ios),
		newCheckCmd(ios),
		newServeCmd(ios),
		newIncidentCmd(ios),
		newTaskCmd(ios),
		newHistoryCmd(ios),
		newRuleCmd(ios),
		newIntakeCmd(ios),
		newVerifyCmd(ios),
		newGenCmd(ios),
	)
	return root
}

// version is the module version socq was built from ("(devel)" from a
// checkout), with the VCS revision when the build recorded one.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
	}
	return v
}

// dbFlag adds --db and resolves the database path: --db, then $SOCQ_DB,
// then $XDG_DATA_HOME/socq/socq.duckdb.
func dbFlag(cmd *cobra.Command, path *string) {
	cmd.Flags().StringVar(path, "db", "", "database file (default $SOCQ_DB or $XDG_DATA_HOME/socq/socq.duckdb)")
}

func resolveDB(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if env := os.Getenv("SOCQ_DB"); env != "" {
		return env, nil
	}
	data := os.Getenv("XDG_DATA_HOME")
	if data == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("cannot find a place for the database: set --db or SOCQ_DB (%w)", err)
		}
		data = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(data, "socq", "socq.duckdb"), nil
}
