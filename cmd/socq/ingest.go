package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/socq/socq/ingest"
	"github.com/spf13/cobra"
)

type ingestOptions struct {
	db          string
	rejects     string
	memoryLimit string
	files       []string
}

func newIngestCmd(ios *ioStreams) *cobra.Command {
	opts := &ingestOptions{}
	cmd := &cobra.Command{
		Use:   "ingest [--db FILE] [--rejects FILE] FILE... | -",
		Short: "Load SecurityIncident history (NDJSON, JSON array, Log Analytics API JSON or CSV)",
		Long: `Load SecurityIncident history exported from Log Analytics or Microsoft Sentinel.

The format is detected from the content: NDJSON, a JSON array of objects, the
Log Analytics query API response ({"tables": [...]}) or CSV with a header row.
'-' reads standard input. Loading the same rows again adds nothing. Rows that
cannot be read are reported as FILE:LINE: reason, written to the rejects file,
and the exit code is 1; the file's good rows are still loaded.`,
		Example: `  socq ingest --db history.duckdb export.ndjson
  az monitor log-analytics query ... | socq ingest -`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.files = args
			return runIngest(cmd.Context(), opts, ios)
		},
	}
	dbFlag(cmd, &opts.db)
	memoryLimitFlag(cmd, &opts.memoryLimit, ingest.MemoryLimit)
	cmd.Flags().StringVar(&opts.rejects, "rejects", "", "write rejected rows here (default: next to the database, FILE.rejects.ndjson)")
	return cmd
}

// maxShownRejects is how many rejected rows are listed on stderr.
const maxShownRejects = 20

func runIngest(ctx context.Context, opts *ingestOptions, ios *ioStreams) error {
	path, err := resolveDB(opts.db)
	if err != nil {
		return failed(exitUsage, "%v", err)
	}
	report, err := ingest.Files(ctx, path, opts.files, ingest.Options{
		RejectsPath: opts.rejects, Stdin: ios.in, Database: ios.dbOptions("ingest", opts.memoryLimit),
	})
	if report != nil {
		printIngestReport(ios, report)
	}
	if err != nil {
		return ingestError(err)
	}
	if len(report.Rejects) > 0 {
		return &exitError{code: exitFailed, err: fmt.Errorf("%d rows rejected", len(report.Rejects)), printed: true}
	}
	return nil
}

func printIngestReport(ios *ioStreams, r *ingest.Report) {
	for _, w := range r.Warnings {
		fmt.Fprintln(ios.err, "warning: "+w)
	}
	for i, rej := range r.Rejects {
		if i == maxShownRejects {
			fmt.Fprintf(ios.err, "... and %d more rejected rows\n", len(r.Rejects)-maxShownRejects)
			break
		}
		fmt.Fprintf(ios.err, "%s:%d: %s\n", rej.File, rej.Line, rej.Reason)
	}
	if len(r.Rejects) > 0 && r.RejectsPath != "" {
		fmt.Fprintf(ios.err, "all %d rejected rows are in %s\n", len(r.Rejects), r.RejectsPath)
	}
	for _, f := range r.Files {
		fmt.Fprintf(ios.out, "%s: %s, read %d, added %d, already present %d, rejected %d\n",
			f.Name, f.Format, f.Read, f.Added, f.AlreadyPresent, f.Rejected)
	}
}

// ingestError maps a failed ingest to its exit code: a missing file is
// "not found", anything else a failure.
func ingestError(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return failed(exitNotFound, "%v", err)
	}
	return failed(exitFailed, "%v", err)
}
