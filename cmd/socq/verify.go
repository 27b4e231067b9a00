package main

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/socq/socq/engine"
	"github.com/socq/socq/verify"
	"github.com/spf13/cobra"
)

type verifyOptions struct {
	db string
}

func newVerifyCmd(ios *ioStreams) *cobra.Command {
	opts := &verifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify [--db FILE]",
		Short: "Check a database: schema, snapshot rows, incident numbers, deleted tasks",
		Long: `Check that a socq database holds what socq promises:

  schema            the schema version and SecurityIncident's columns are this socq's
  rows              every snapshot row has IncidentName, TimeGenerated, IncidentNumber
                    and LastModifiedTime; dynamic columns hold JSON of their shape
                    (Owner and AdditionalData objects, Tasks, Labels, Comments,
                    AlertIds, BookmarkIds and RelatedAnalyticRuleIds arrays); every
                    task item is an object with a taskId and a status New, Completed
                    or Deleted
  incident numbers  one IncidentName per IncidentNumber, and one number per name
  deleted tasks     no task is listed after the snapshot that deleted it

Findings are printed as CHECK: what, where. The exit code is 0 when there are
none, 1 when there are, 3 when there is no database.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runVerify(cmd.Context(), opts, ios)
		},
	}
	dbFlag(cmd, &opts.db)
	return cmd
}

func runVerify(ctx context.Context, opts *verifyOptions, ios *ioStreams) error {
	path, err := resolveDB(opts.db)
	if err != nil {
		return failed(exitUsage, "%v", err)
	}
	dbOpts := ios.dbOptions("verify", "")
	dbOpts.ReadOnly = true
	db, err := engine.Open(ctx, path, dbOpts)
	var schemaErr *engine.SchemaVersionError
	switch {
	case errors.Is(err, engine.ErrNoDatabase):
		return failed(exitNotFound, "no database at %s", path)
	case errors.As(err, &schemaErr):
		fmt.Fprintf(ios.out, "schema: %v\n", err)
		return &exitError{code: exitFailed, err: errors.New("1 finding"), printed: true}
	case err != nil:
		return failed(exitFailed, "%v", err)
	}
	defer db.Close()
	rep, err := verify.Run(ctx, db)
	if err != nil {
		return failed(exitFailed, "verify %s: %v", path, err)
	}
	for _, f := range rep.Findings {
		fmt.Fprintln(ios.out, f)
	}
	checks := make([]string, 0, len(rep.Truncated))
	for c := range rep.Truncated {
		checks = append(checks, c)
	}
	sort.Strings(checks)
	total := len(rep.Findings)
	for _, c := range checks {
		fmt.Fprintf(ios.out, "%s: ... and %d more\n", c, rep.Truncated[c])
		total += rep.Truncated[c]
	}
	if total > 0 {
		fmt.Fprintf(ios.err, "%s: %d findings\n", path, total)
		return &exitError{code: exitFailed, err: fmt.Errorf("%d findings", total), printed: true}
	}
	fmt.Fprintf(ios.out, "%s: ok (schema version %d, %d snapshot rows of %d incidents)\n", path, rep.SchemaVersion, rep.Rows, rep.Incidents)
	return nil
}
