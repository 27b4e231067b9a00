package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/socq/socq/engine"
	"github.com/socq/socq/export"
	"github.com/spf13/cobra"
)

type exportOptions struct {
	db          string
	out         string
	query       string
	file        string
	table       string
	partition   string
	compression string
	params      []string // workbook parameters, NAME=VALUE
}

func newExportCmd(ios *ioStreams) *cobra.Command {
	opts := &exportOptions{}
	cmd := &cobra.Command{
		Use:   "export [--db FILE] --out PATH [--query 'KQL' | -f FILE] [--table SecurityIncident|tasks] [--partition month] [--compression zstd|snappy|none]",
		Short: "Write incident history or a KQL result as Parquet for notebooks",
		Long: `Write incident history or a KQL result as Parquet, for pandas, polars, DuckDB
or Spark.

--table SecurityIncident (the default) writes every snapshot row with typed
columns: datetimes as UTC timestamps (microseconds), IncidentNumber as int32,
and Owner, Tasks, Labels, Comments and the id lists as nested Parquet types.
AdditionalData, whose shape varies, is JSON text. --table tasks writes the task
audit table: one row per task per change. --query writes the result of a KQL
query, column names as in KQL, dynamic values as JSON text.

--partition month writes a directory of hive-style year=YYYY/month=MM
partitions by TimeGenerated. The export is written to a temporary path next to
PATH and renamed into place when complete: a failed export leaves the previous
one as it was.`,
		Example: `  socq export --out incidents.parquet
  socq export --table tasks --partition month --out tasks/
  socq export --query 'SecurityIncident | summarize arg_max(TimeGenerated, *) by IncidentNumber' --out current.parquet`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("table") && (opts.query != "" || opts.file != "") {
				return failed(exitUsage, "give either --table or a query (--query, -f), not both")
			}
			if opts.query != "" && opts.file != "" {
				return failed(exitUsage, "give the query either with --query or with -f, not both")
			}
			if opts.file != "" {
				text, err := queryText(ios, opts.file, nil)
				if err != nil {
					return err
				}
				opts.query = text
			}
			return runExport(cmd.Context(), opts, ios)
		},
	}
	dbFlag(cmd, &opts.db)
	cmd.Flags().StringVar(&opts.out, "out", "", "write to this file, or directory with --partition (required)")
	cmd.Flags().StringVar(&opts.query, "query", "", "export the result of this KQL query")
	cmd.Flags().StringVarP(&opts.file, "file", "f", "", "read the KQL query from FILE")
	cmd.Flags().StringVar(&opts.table, "table", engine.ExportSecurityIncident, "table to export: SecurityIncident or tasks")
	cmd.Flags().StringVar(&opts.partition, "partition", "", "month: write year=YYYY/month=MM directories by TimeGenerated")
	cmd.Flags().StringVar(&opts.compression, "compression", string(engine.Zstd), "Parquet compression: zstd, snappy or none")
	cmd.Flags().StringArrayVar(&opts.params, "param", nil, "set a workbook parameter {NAME} of the query (repeatable), as in socq query")
	return cmd
}

func runExport(ctx context.Context, opts *exportOptions, ios *ioStreams) error {
	if opts.out == "" {
		return failed(exitUsage, "--out PATH is required")
	}
	eopts := export.Options{}
	switch opts.partition {
	case "":
	case "month":
		eopts.ByMonth = true
	default:
		return failed(exitUsage, "--partition %q: only month is supported", opts.partition)
	}
	c, err := engine.ParseCompression(opts.compression)
	if err != nil {
		return failed(exitUsage, "--compression: %v", err)
	}
	eopts.Compression = c
	if opts.query == "" && opts.table != engine.ExportSecurityIncident && opts.table != engine.ExportTasks {
		return failed(exitUsage, "--table %q: use %s or %s", opts.table, engine.ExportSecurityIncident, engine.ExportTasks)
	}
	path, err := resolveDB(opts.db)
	if err != nil {
		return failed(exitUsage, "%v", err)
	}
	var res export.Result
	if opts.query != "" {
		res, err = exportQuery(ctx, path, opts.query, opts.params, opts.out, eopts, ios)
	} else {
		res, err = export.Table(ctx, path, opts.table, opts.out, eopts)
	}
	if errors.Is(err, engine.ErrNoDatabase) {
		return failed(exitNotFound, "no database at %s: load history first with 'socq ingest --db %s FILE'", path, path)
	}
	if err != nil {
		return resultError(ctx, err)
	}
	fmt.Fprintf(ios.out, "wrote %d rows to %s (%d %s)\n", res.Rows, res.Path, res.Files, plural(res.Files, "file", "files"))
	return nil
}

// exportQuery compiles a KQL query, its workbook parameters filled in from
// params, and exports its result.
func exportQuery(ctx context.Context, dbPath, text string, params []string, out string, opts export.Options, ios *ioStreams) (export.Result, error) {
	values, err := paramValues(params)
	if err != nil {
		return export.Result{}, err
	}
	subst, q, err := parseKQL(text, values, time.Now().UTC())
	if err != nil {
		return export.Result{}, queryError(ios, err)
	}
	dbOpts := ios.dbOptions("export", "")
	dbOpts.ReadOnly = true
	db, err := engine.Open(ctx, dbPath, dbOpts)
	if err != nil {
		return export.Result{}, err
	}
	defer db.Close()
	plan, err := compileKQL(ctx, subst, q, db, true)
	if err != nil {
		return export.Result{}, queryError(ios, err)
	}
	defer db.Release(plan) // when the output could not even start
	return export.Query(ctx, db, plan, out, opts)
}
