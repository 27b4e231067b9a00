package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/socq/socq/engine"
	"github.com/socq/socq/output"
	"github.com/socq/socq/parser"
	"github.com/spf13/cobra"
)

type queryOptions struct {
	db      string
	format  string
	file    string
	explain bool
	params  []string // workbook parameters, NAME=VALUE
	query   string
	// timeout cancels the query when it runs longer; 0 means never.
	timeout     time.Duration
	memoryLimit string
}

// defaultQueryTimeout is generous: audit queries over years of history take
// seconds, a runaway cross join would take hours.
const defaultQueryTimeout = 10 * time.Minute

func newQueryCmd(ios *ioStreams) *cobra.Command {
	opts := &queryOptions{}
	cmd := &cobra.Command{
		Use:   "query [--db FILE] [-o FORMAT] [--explain] ('KQL' | -f FILE | -)",
		Short: "Run a KQL query over the incident history",
		Example: `  socq query 'SecurityIncident | where array_length(Tasks) > 0 | project IncidentNumber, Title'
  socq query -o json -f audit.kql
  echo 'SecurityIncident | count' | socq query -`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			text, err := queryText(ios, opts.file, args)
			if err != nil {
				return err
			}
			opts.query = text
			return runQuery(cmd.Context(), opts, ios)
		},
	}
	dbFlag(cmd, &opts.db)
	cmd.Flags().StringVarP(&opts.format, "output", "o", "", "output format: "+strings.Join(output.Formats, ", ")+" (default table on a terminal, csv otherwise)")
	cmd.Flags().StringVarP(&opts.file, "file", "f", "", "read the query from FILE")
	cmd.Flags().BoolVar(&opts.explain, "explain", false, "print the SQL the query compiles to instead of running it")
	cmd.Flags().DurationVar(&opts.timeout, "timeout", defaultQueryTimeout, "cancel the query when it runs longer than this (0: no limit)")
	memoryLimitFlag(cmd, &opts.memoryLimit)
	cmd.Flags().StringArrayVar(&opts.params, "param", nil, "set a workbook parameter {NAME} (repeatable); TimeRange takes a timespan (default "+parser.DefaultTimeRange+") or START..END")
	return cmd
}

// queryText takes the query from -f FILE, from '-' (stdin) or the argument.
func queryText(ios *ioStreams, file string, args []string) (string, error) {
	switch {
	case file != "" && len(args) > 0:
		return "", failed(exitUsage, "give the query either as an argument or with -f, not both")
	case file != "":
		b, err := os.ReadFile(file)
		if errors.Is(err, os.ErrNotExist) {
			return "", failed(exitNotFound, "query file %s does not exist", file)
		}
		if err != nil {
			return "", failed(exitFailed, "read query file: %v", err)
		}
		return string(b), nil
	case len(args) == 0:
		return "", failed(exitUsage, "no query: give it as an argument, with -f FILE, or '-' to read stdin")
	case args[0] == "-":
		b, err := io.ReadAll(ios.in)
		if err != nil {
			return "", failed(exitFailed, "read query from stdin: %v", err)
		}
		return string(b), nil
	}
	return args[0], nil
}

// parseQuery parses KQL, printing a caret error on failure.
func parseQuery(ios *ioStreams, text string) (*parser.Query, error) {
	q, err := parser.Parse(text)
	if err != nil {
		return nil, queryError(ios, text, err)
	}
	return q, nil
}

// compileQuery compiles a parsed query. db, when not nil, answers the
// questions about the data some operators need (bag_unpack's columns).
func compileQuery(ctx context.Context, ios *ioStreams, text string, q *parser.Query, db *engine.DB) (*engine.Plan, error) {
	opts := engine.CompileOptions{}
	if db != nil {
		opts.Probe = db.Probe(ctx)
	}
	plan, err := engine.Compile(q, engine.DefaultCatalog(), opts)
	if err != nil {
		return nil, queryError(ios, text, err)
	}
	return plan, nil
}

// queryError prints a parse or compile error with a caret under the query.
func queryError(ios *ioStreams, text string, err error) error {
	var perr *parser.Error
	if errors.As(err, &perr) {
		fmt.Fprint(ios.err, perr.Render(text))
		return &exitError{code: exitFailed, err: err, printed: true}
	}
	return failed(exitFailed, "%v", err)
}

func runQuery(ctx context.Context, opts *queryOptions, ios *ioStreams) error {
	values := map[string]string{}
	for _, p := range opts.params {
		name, value, ok := strings.Cut(p, "=")
		if !ok || name == "" {
			return failed(exitUsage, "--param %q: want NAME=VALUE", p)
		}
		values[name] = value
	}
	text, err := parser.SubstituteParameters(opts.query, values, time.Now().UTC())
	if err != nil {
		return queryError(ios, opts.query, err)
	}
	opts.query = text
	q, err := parseQuery(ios, opts.query)
	if err != nil {
		return err
	}
	path, err := resolveDB(opts.db)
	if err != nil {
		return failed(exitUsage, "%v", err)
	}
	db, err := openForQuery(ctx, path, opts, ios)
	switch {
	case errors.Is(err, engine.ErrNoDatabase) && opts.explain:
		db = nil // --explain compiles without data where it can
	case errors.Is(err, engine.ErrNoDatabase):
		return failed(exitNotFound, "no database at %s: load history first with 'socq ingest --db %s FILE'", path, path)
	case err != nil:
		return failed(exitFailed, "%v", err)
	default:
		defer db.Close()
	}
	if opts.timeout < 0 {
		return failed(exitUsage, "--timeout %s: want a positive duration, or 0 for no limit", opts.timeout)
	}
	runCtx := ctx
	if opts.timeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, opts.timeout)
		defer cancel()
	}
	plan, err := compileQuery(runCtx, ios, opts.query, q, db)
	if err == nil && !opts.explain {
		err = printQuery(runCtx, db, plan, opts.format, ios)
	}
	if ctx.Err() == nil && errors.Is(runCtx.Err(), context.DeadlineExceeded) {
		return failed(exitFailed, "query cancelled: it ran longer than --timeout %s (narrow it, e.g. with a time range, or raise --timeout)", opts.timeout)
	}
	if err != nil || !opts.explain {
		return err
	}
	_, err = fmt.Fprintln(ios.out, plan.SQL+";")
	return err
}

// openForQuery opens the database a user's query runs on: read-only, with
// engine.Open's sandbox (no file, network, environment or extension, the
// configuration locked) and a shared lock.
func openForQuery(ctx context.Context, path string, opts *queryOptions, ios *ioStreams) (*engine.DB, error) {
	dbOpts := ios.dbOptions("query", opts.memoryLimit)
	dbOpts.ReadOnly = true
	return engine.Open(ctx, path, dbOpts)
}

// printQuery runs a plan and prints its result in format.
func printQuery(ctx context.Context, db *engine.DB, plan *engine.Plan, format string, ios *ioStreams) error {
	if format == "" {
		format = "csv"
		if ios.outIsTerminal() {
			format = "table"
		}
	}
	w, err := output.New(ios.out, format, plan.Columns)
	if err != nil {
		return failed(exitUsage, "%v", err)
	}
	if err := db.Query(ctx, plan, w.Row); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if msg := err.Error(); strings.Contains(msg, "Out of Memory Error") {
			// DuckDB's advice that follows is SQL settings a KQL user cannot make.
			first, _, _ := strings.Cut(msg, "\n")
			return failed(exitFailed, "the query needs more memory than the memory limit allows: raise --memory-limit or SOCQ_MEMORY_LIMIT, or narrow the query (%s)", strings.TrimSpace(first))
		}
		return failed(exitFailed, "%v", err)
	}
	return w.Close()
}
