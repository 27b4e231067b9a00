package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/socq/socq/check"
	"github.com/socq/socq/engine"
	"github.com/spf13/cobra"
)

type checkOptions struct {
	db      string
	file    string   // the checks file
	junit   string   // write JUnit XML here
	format  string   // text, json, github, markdown
	params  []string // workbook parameters, NAME=VALUE
	schema  bool     // print the checks file's JSON Schema instead
	github  bool     // running in GitHub Actions (GITHUB_ACTIONS=true)
	summary string   // $GITHUB_STEP_SUMMARY: append a Markdown summary here
	// workspace is $GITHUB_WORKSPACE, the checkout that annotation paths
	// are relative to.
	workspace string
}

func newCheckCmd(ios *ioStreams) *cobra.Command {
	opts := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check [--db FILE] CHECKS.yaml [--junit FILE] [--format text|json|github|markdown] [--param NAME=VALUE]",
		Short: "Run SOC metric gates: KQL checks with thresholds, for CI",
		Long: `check runs each check of a YAML checks file (a KQL query and thresholds for
its value, or expect: empty) over the incident history and reports check,
value, threshold and status (pass, warn, fail, error).

Exit codes: 0 every check passed (warnings allowed), 1 a check failed,
2 bad usage or an invalid checks file, 4 a check could not run (a query
error, or the database is missing).

In GitHub Actions (GITHUB_ACTIONS=true) or with --format github it also
writes ::error:: and ::warning:: annotations pointing at the checks file and
appends a Markdown summary to $GITHUB_STEP_SUMMARY.`,
		Example: `  socq check examples/checks/soc-metrics.yaml
  socq check --db history.duckdb checks.yaml --junit checks.xml --param TimeRange=7d
  socq check checks.yaml --format json
  socq check --schema > socq-checks.schema.json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if opts.schema && len(args) == 0 {
				return nil
			}
			if len(args) != 1 {
				return failed(exitUsage, "give one checks file (YAML), e.g. socq check examples/checks/soc-metrics.yaml")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.schema {
				_, err := ios.out.Write(check.Schema())
				return err
			}
			opts.file = args[0]
			opts.github = os.Getenv("GITHUB_ACTIONS") == "true"
			opts.summary = os.Getenv("GITHUB_STEP_SUMMARY")
			opts.workspace = os.Getenv("GITHUB_WORKSPACE")
			return runCheck(cmd.Context(), opts, ios)
		},
	}
	dbFlag(cmd, &opts.db)
	cmd.Flags().StringVar(&opts.junit, "junit", "", "also write the results as JUnit XML to FILE")
	cmd.Flags().StringVar(&opts.format, "format", "text", "output format: "+strings.Join(check.Formats, ", "))
	cmd.Flags().BoolVar(&opts.schema, "schema", false, "print the JSON Schema of checks files (for editors) and exit")
	cmd.Flags().StringArrayVar(&opts.params, "param", nil, "set a workbook parameter {NAME} for every check (repeatable); overrides the file's params, a check's own params override it")
	return cmd
}

func runCheck(ctx context.Context, opts *checkOptions, ios *ioStreams) error {
	if !slices.Contains(check.Formats, opts.format) {
		return failed(exitUsage, "unknown format %q (use one of: %s)", opts.format, strings.Join(check.Formats, ", "))
	}
	values, err := paramValues(opts.params)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(opts.file)
	if errors.Is(err, os.ErrNotExist) {
		return failed(exitUsage, "checks file %s does not exist", opts.file)
	}
	if err != nil {
		return failed(exitUsage, "read checks file: %v", err)
	}
	f, err := check.Load(reportPath(opts), data)
	if err != nil {
		var ferr *check.FileError
		if errors.As(err, &ferr) {
			fmt.Fprintln(ios.err, ferr.Error())
			fmt.Fprintf(ios.err, "socq: invalid checks file %s (%d %s)\n", opts.file, len(ferr.Problems), plural(len(ferr.Problems), "problem", "problems"))
			return &exitError{code: exitUsage, err: err, printed: true}
		}
		return failed(exitUsage, "%v", err)
	}
	path, err := resolveDB(opts.db)
	if err != nil {
		return failed(exitUsage, "%v", err)
	}
	started := time.Now()
	var rep *check.Report
	db, err := engine.Open(ctx, path, engine.Options{ReadOnly: true})
	switch {
	case errors.Is(err, engine.ErrNoDatabase):
		err = fmt.Errorf("no database at %s: load history first with 'socq ingest --db %s FILE'", path, path)
		fmt.Fprintln(ios.err, "socq: "+err.Error())
		rep = check.Errored(f, err)
	case err != nil:
		fmt.Fprintln(ios.err, "socq: "+err.Error())
		rep = check.Errored(f, err)
	default:
		defer db.Close()
		rep, err = check.Run(ctx, f, dbRunner{db}, values)
		if err != nil {
			return err // interrupted
		}
	}
	if err := reportChecks(rep, opts, ios, started); err != nil {
		return err
	}
	switch rep.Worst() {
	case check.Error:
		return &exitError{code: exitCouldNotRun, err: errors.New(rep.Summary()), printed: true}
	case check.Fail:
		return &exitError{code: exitFailed, err: errors.New(rep.Summary()), printed: true}
	}
	return nil
}

// reportChecks prints the report in the chosen format, adds GitHub
// annotations and the step summary when running in GitHub Actions, and
// writes the JUnit file. Failing to write a report is exit code 4: CI would
// be left without it.
func reportChecks(rep *check.Report, opts *checkOptions, ios *ioStreams, started time.Time) error {
	github := opts.format == "github" || opts.github
	if opts.github && opts.format == "text" {
		if err := check.WriteAnnotations(ios.out, rep); err != nil {
			return err
		}
	}
	if err := check.WriteFormat(ios.out, opts.format, rep); err != nil {
		return err
	}
	if github && opts.summary != "" {
		var md bytes.Buffer
		if err := check.WriteMarkdown(&md, rep); err != nil {
			return err
		}
		if err := appendFile(opts.summary, md.Bytes()); err != nil {
			return failed(exitCouldNotRun, "write the GitHub step summary: %v", err)
		}
	}
	if opts.junit != "" {
		var x bytes.Buffer
		if err := check.WriteJUnit(&x, rep, started); err != nil {
			return failed(exitCouldNotRun, "%v", err)
		}
		if err := os.WriteFile(opts.junit, x.Bytes(), 0o644); err != nil {
			return failed(exitCouldNotRun, "write JUnit XML: %v", err)
		}
	}
	return nil
}

// reportPath is how reports name the checks file: as given, except that in
// GitHub Actions it is relative to the checkout, so that annotations land on
// the file whatever the step's working directory.
func reportPath(opts *checkOptions) string {
	if !opts.github && opts.format != "github" || opts.workspace == "" {
		return opts.file
	}
	abs, err := filepath.Abs(opts.file)
	if err != nil {
		return opts.file
	}
	rel, err := filepath.Rel(opts.workspace, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return opts.file
	}
	return filepath.ToSlash(rel)
}

func appendFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// dbRunner runs checks' KQL on socq's database, as 'socq query' runs it.
type dbRunner struct{ db *engine.DB }

func (r dbRunner) Run(ctx context.Context, query string, params map[string]string) (*check.Rows, error) {
	rows := &check.Rows{}
	plan, err := runKQL(ctx, r.db, query, params, func(vals []any) error {
		rows.Values = append(rows.Values, slices.Clone(vals))
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, c := range plan.Columns {
		rows.Columns = append(rows.Columns, c.Name)
	}
	return rows, nil
}

var _ check.Runner = dbRunner{}
