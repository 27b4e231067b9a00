package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/socq/socq/engine"
	"github.com/socq/socq/export"
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
	out     string   // write the result to this file instead of stdout
	query   string
	// timeout cancels the query when it runs longer; 0 means never.
	timeout     time.Duration
	memoryLimit string
}

// defaultQueryTimeout is generous: audit queries over years of history take
// seconds, a runaway cross join would take hours.
const defaultQueryTimeout = 10 * time.Minute

// binaryFormats are the -o formats written through arrow-go.
var binaryFormats = []string{"parquet", "arrow"}

func newQueryCmd(ios *ioStreams) *cobra.Command {
	opts := &queryOptions{}
	cmd := &cobra.Command{
		Use:   "query [--db FILE] [-o FORMAT] [--explain] ('KQL' | -f FILE | -)",
		Short: "Run a KQL query over the incident history",
		Example: `  socq query 'SecurityIncident | where array_length(Tasks) > 0 | project IncidentNumber, Title'
  socq query -o json -f audit.kql
  echo 'SecurityIncident | count' | socq query -
  socq query -o parquet --out tasks.parquet 'SecurityIncident | mv-expand Tasks'
  socq query -o arrow 'SecurityIncident | take 10' | python3 -c 'import pyarrow.ipc,sys; print(pyarrow.ipc.open_stream(sys.stdin.buffer).read_all())'`,
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
	cmd.Flags().StringVarP(&opts.format, "output", "o", "", "output format: "+strings.Join(queryFormats(), ", ")+" (default table on a terminal, csv otherwise; with --out, from its extension)")
	cmd.Flags().StringVar(&opts.out, "out", "", "write the result to FILE (atomically: the file appears when complete) instead of standard output")
	cmd.Flags().StringVarP(&opts.file, "file", "f", "", "read the query from FILE")
	cmd.Flags().BoolVar(&opts.explain, "explain", false, "print the SQL the query compiles to instead of running it")
	cmd.Flags().DurationVar(&opts.timeout, "timeout", defaultQueryTimeout, "cancel the query when it runs longer than this (0: no limit)")
	memoryLimitFlag(cmd, &opts.memoryLimit, "80% of RAM")
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

// queryError prints a KQL error: a parse or compile error with a caret
// under the query, anything else as a message.
func queryError(ios *ioStreams, err error) error {
	var kerr *kqlError
	var perr *parser.Error
	if errors.As(err, &kerr) && errors.As(err, &perr) {
		fmt.Fprint(ios.err, kerr.Detail())
		return &exitError{code: exitFailed, err: err, printed: true}
	}
	return failed(exitFailed, "%v", err)
}

func runQuery(ctx context.Context, opts *queryOptions, ios *ioStreams) error {
	values, err := paramValues(opts.params)
	if err != nil {
		return err
	}
	text, q, err := parseKQL(opts.query, values, time.Now().UTC())
	if err != nil {
		return queryError(ios, err)
	}
	if opts.timeout < 0 {
		return failed(exitUsage, "--timeout %s: want a positive duration, or 0 for no limit", opts.timeout)
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
	runCtx := ctx
	if opts.timeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, opts.timeout)
		defer cancel()
	}
	err = runPlan(runCtx, text, q, db, opts, ios)
	if ctx.Err() == nil && errors.Is(runCtx.Err(), context.DeadlineExceeded) {
		return failed(exitFailed, "query cancelled: it ran longer than --timeout %s (narrow it, e.g. with a time range, or raise --timeout)", opts.timeout)
	}
	return err
}

// runPlan compiles a parsed query and prints (or writes, or explains) it.
func runPlan(ctx context.Context, text string, q *parser.Query, db *engine.DB, opts *queryOptions, ios *ioStreams) error {
	plan, err := compileKQL(ctx, text, q, db, !opts.explain)
	if err != nil {
		return queryError(ios, err)
	}
	defer db.Release(plan) // when the output could not even start
	if opts.explain {
		_, err := fmt.Fprintln(ios.out, plan.SQL+";")
		return err
	}
	if opts.out != "" {
		return writeQueryFile(ctx, db, plan, opts.format, opts.out)
	}
	return printQuery(ctx, db, plan, opts.format, ios)
}

// openForQuery opens the database a user's query runs on: read-only, with
// engine.Open's sandbox (no file, network, environment or extension, the
// configuration locked) and a shared lock.
func openForQuery(ctx context.Context, path string, opts *queryOptions, ios *ioStreams) (*engine.DB, error) {
	dbOpts := ios.dbOptions("query", opts.memoryLimit)
	dbOpts.ReadOnly = true
	return engine.Open(ctx, path, dbOpts)
}

// queryFormats are the names -o accepts.
func queryFormats() []string { return append(slices.Clone(output.Formats), binaryFormats...) }

// formatForFile picks the format of --out FILE when -o is not given: from
// the extension, else csv.
func formatForFile(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".parquet":
		return "parquet"
	case ".arrow", ".arrows", ".ipc":
		return "arrow"
	case ".json":
		return "json"
	case ".ndjson", ".jsonl":
		return "ndjson"
	case ".tsv":
		return "tsv"
	case ".md":
		return "markdown"
	}
	return "csv"
}

// writeQueryFile writes the result of plan to path in format, atomically: a
// failed query leaves a previous file as it was.
func writeQueryFile(ctx context.Context, db *engine.DB, plan *engine.Plan, format, path string) error {
	if format == "" {
		format = formatForFile(path)
	}
	if err := checkFormat(format); err != nil {
		return err
	}
	_, err := export.Atomic(path, false, func(tmp string) (int64, error) {
		return export.WriteFile(tmp, func(w io.Writer) (int64, error) {
			return 0, writeResult(ctx, db, plan, format, w)
		})
	})
	return resultError(ctx, err)
}

func checkFormat(format string) error {
	if slices.Contains(queryFormats(), format) {
		return nil
	}
	return failed(exitUsage, "%v %q (use one of: %s)", output.ErrUnknownFormat, format, strings.Join(queryFormats(), ", "))
}

// resultError maps a failure to run or write a result to its exit code.
func resultError(ctx context.Context, err error) error {
	var ee *exitError
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.As(err, &ee):
		return err
	case strings.Contains(err.Error(), "Out of Memory Error"):
		// DuckDB's advice that follows is SQL settings a KQL user cannot make.
		first, _, _ := strings.Cut(err.Error(), "\n")
		return failed(exitFailed, "the query needs more memory than the memory limit allows: raise --memory-limit or SOCQ_MEMORY_LIMIT, or narrow the query (%s)", strings.TrimSpace(first))
	}
	return failed(exitFailed, "%v", err)
}

// writeResult runs plan and writes its result to w in format.
func writeResult(ctx context.Context, db *engine.DB, plan *engine.Plan, format string, w io.Writer) error {
	switch format {
	case "parquet":
		_, err := export.WriteParquet(ctx, db, plan, w, engine.Zstd)
		return err
	case "arrow":
		_, err := export.WriteArrow(ctx, db, plan, w)
		return err
	}
	ow, err := output.New(w, format, plan.Columns)
	if err != nil {
		return failed(exitUsage, "%v", err)
	}
	if err := db.Query(ctx, plan, ow.Row); err != nil {
		return err
	}
	return ow.Close()
}

// printQuery runs a plan and prints its result in format.
func printQuery(ctx context.Context, db *engine.DB, plan *engine.Plan, format string, ios *ioStreams) error {
	if format == "" {
		format = "csv"
		if ios.outIsTerminal() {
			format = "table"
		}
	}
	if err := checkFormat(format); err != nil {
		return err
	}
	if slices.Contains(binaryFormats, format) && ios.outIsTerminal() {
		return failed(exitUsage, "-o %s is binary: write it to a file with --out FILE, or pipe it to a program", format)
	}
	return resultError(ctx, writeResult(ctx, db, plan, format, ios.out))
}
