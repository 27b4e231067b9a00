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
}

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
	path, err := resolveDB(opts.db)
	if err != nil {
		return failed(exitUsage, "%v", err)
	}
	db, err := engine.Open(ctx, path, engine.Options{ReadOnly: true})
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
	plan, err := compileKQL(ctx, text, q, db)
	if err != nil {
		return queryError(ios, err)
	}
	if opts.explain {
		_, err := fmt.Fprintln(ios.out, plan.SQL+";")
		return err
	}
	return printQuery(ctx, db, plan, opts.format, ios)
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
		return failed(exitFailed, "%v", err)
	}
	return w.Close()
}
