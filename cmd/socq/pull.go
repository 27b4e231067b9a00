package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/socq/socq/engine"
	"github.com/socq/socq/ingest"
	"github.com/socq/socq/pull"
	"github.com/spf13/cobra"
)

type pullOptions struct {
	db        string
	workspace string
	since     string
	from, to  string
	endpoint  string
	rejects   string
	// client, when set, replaces the Azure client (tests use a fake API).
	client pull.Querier
}

func newPullCmd(ios *ioStreams) *cobra.Command {
	opts := &pullOptions{}
	cmd := &cobra.Command{
		Use:   "pull --workspace ID [--since 30d | --from TIME [--to TIME]] [--db FILE]",
		Short: "Load SecurityIncident history straight from a Log Analytics (Sentinel) workspace",
		Long: `Read the SecurityIncident table of a Log Analytics workspace through the Azure
Monitor query API and load it as socq ingest would (same deduplication, same
rejects).

Credentials come from azidentity's DefaultAzureCredential: AZURE_CLIENT_ID /
AZURE_TENANT_ID / AZURE_CLIENT_SECRET (or a certificate), workload identity,
managed identity, then the Azure CLI's 'az login'. The identity needs read
access to the workspace (e.g. the Log Analytics Reader role).

Pulls are incremental: socq remembers the newest TimeGenerated it loaded from
each workspace and next time asks only for rows from an hour before it (rows
arrive late; repeats are dropped). The first pull reads --since (default 30d).
Large ranges are read in day-long slices (shorter when the API truncates a
result), throttling and transient errors are retried with backoff, and an
interrupted pull resumes where it stopped.`,
		Example: `  socq pull --workspace 0b9e8b1c-5d7e-4f3a-9c2b-1a2b3c4d5e6f
  socq pull --workspace $WS --since 90d --db history.duckdb
  socq pull --workspace $WS --from 2026-01-01 --to 2026-02-01`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("since") && (opts.from != "" || opts.to != "") {
				return failed(exitUsage, "give either --since or --from/--to, not both")
			}
			return runPull(cmd.Context(), opts, ios)
		},
	}
	dbFlag(cmd, &opts.db)
	cmd.Flags().StringVar(&opts.workspace, "workspace", "", "Log Analytics workspace ID (a GUID; required)")
	cmd.Flags().StringVar(&opts.since, "since", "30d", "on the first pull of a workspace, read this far back (e.g. 30d, 12h)")
	cmd.Flags().StringVar(&opts.from, "from", "", "read rows from this time (RFC 3339 or YYYY-MM-DD, UTC) instead of resuming")
	cmd.Flags().StringVar(&opts.to, "to", "", "read rows before this time (default now)")
	cmd.Flags().StringVar(&opts.endpoint, "endpoint", "", "Log Analytics API endpoint for other clouds (default https://api.loganalytics.io/v1)")
	cmd.Flags().StringVar(&opts.rejects, "rejects", "", "write rejected rows here (default: next to the database, FILE.rejects.ndjson)")
	return cmd
}

// parseSpan reads a span like 30d, 12h, 90m or 1.5h.
func parseSpan(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseFloat(n, 64)
		if err != nil || days <= 0 {
			return 0, fmt.Errorf("%q is not a span like 30d or 12h", s)
		}
		return time.Duration(days * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a span like 30d or 12h", s)
	}
	return d, nil
}

// parseTime reads a UTC time given as RFC 3339 or a date.
func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time (use RFC 3339, e.g. 2026-09-14T10:00:00Z, or a date 2026-09-14)", s)
}

func runPull(ctx context.Context, opts *pullOptions, ios *ioStreams) error {
	if opts.workspace == "" {
		return failed(exitUsage, "--workspace ID is required (the workspace ID is on the Log Analytics workspace's Overview page)")
	}
	popts := pull.Options{Workspace: opts.workspace}
	var err error
	if popts.Since, err = parseSpan(opts.since); err != nil {
		return failed(exitUsage, "--since: %v", err)
	}
	if opts.from != "" {
		if popts.From, err = parseTime(opts.from); err != nil {
			return failed(exitUsage, "--from: %v", err)
		}
	}
	if opts.to != "" {
		if popts.To, err = parseTime(opts.to); err != nil {
			return failed(exitUsage, "--to: %v", err)
		}
		if opts.from == "" {
			return failed(exitUsage, "--to needs --from")
		}
	}
	if !popts.From.IsZero() && !popts.To.IsZero() && !popts.From.Before(popts.To) {
		return failed(exitUsage, "--from %s is not before --to %s", opts.from, opts.to)
	}
	path, err := resolveDB(opts.db)
	if err != nil {
		return failed(exitUsage, "%v", err)
	}
	client := opts.client
	if client == nil {
		c, err := pull.NewClient(nil, pull.ClientOptions{Endpoint: opts.endpoint})
		if err != nil {
			return failed(exitFailed, "%v", err)
		}
		client = c
	}
	db, err := engine.Open(ctx, path, ios.dbOptions("pull", ""))
	if err != nil {
		return failed(exitFailed, "%v", err)
	}
	defer db.Close()
	bar := newProgressBar(ios)
	popts.Progress = bar.update
	res, err := pull.Pull(ctx, db, client, popts)
	bar.done()
	if res != nil && (err == nil || res.Queries > 0) {
		printPullReport(ios, opts.workspace, res)
		if rerr := writePullRejects(path, opts.rejects, res.Rejects, ios); rerr != nil && err == nil {
			err = rerr
		}
	}
	if err != nil {
		return resultError(ctx, err)
	}
	if len(res.Rejects) > 0 {
		return &exitError{code: exitFailed, err: fmt.Errorf("%d rows rejected", len(res.Rejects)), printed: true}
	}
	return nil
}

func printPullReport(ios *ioStreams, workspace string, r *pull.Result) {
	rep := &ingest.Report{Rejects: r.Rejects, Warnings: r.Warnings}
	printIngestReport(ios, rep)
	if r.From.IsZero() || !r.From.Before(r.To) {
		fmt.Fprintf(ios.out, "workspace %s: nothing to pull\n", workspace)
		return
	}
	fmt.Fprintf(ios.out, "workspace %s, %s .. %s: %d queries, read %d, added %d, already present %d, rejected %d\n",
		workspace, r.From.Format(time.RFC3339), r.To.Format(time.RFC3339), r.Queries, r.Read, r.Added, r.AlreadyPresent, len(r.Rejects))
}

// writePullRejects writes the rejected rows where socq ingest would.
func writePullRejects(dbPath, path string, rejects []ingest.Reject, ios *ioStreams) error {
	if len(rejects) == 0 {
		return nil
	}
	if path == "" {
		path = dbPath + ".rejects.ndjson"
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write rejects: %w", err)
	}
	werr := (&ingest.Report{Rejects: rejects}).WriteRejects(f)
	if err := errors.Join(werr, f.Close()); err != nil {
		return fmt.Errorf("write rejects to %s: %w", path, err)
	}
	fmt.Fprintf(ios.err, "all %d rejected rows are in %s\n", len(rejects), path)
	return nil
}

// progressBar draws a pull's progress on stderr, only when stderr is a
// terminal and not in CI.
type progressBar struct {
	w     io.Writer
	drawn bool
}

func newProgressBar(ios *ioStreams) *progressBar {
	if !isTerminal(ios.err) || os.Getenv("CI") == "true" {
		return &progressBar{}
	}
	return &progressBar{w: ios.err}
}

func (b *progressBar) update(p pull.Progress) {
	if b.w == nil {
		return
	}
	frac := 1.0
	if total := p.To.Sub(p.From); total > 0 {
		frac = float64(p.Done.Sub(p.From)) / float64(total)
	}
	const width = 30
	n := int(frac * width)
	fmt.Fprintf(b.w, "\r[%s%s] %3.0f%%  up to %s  %d rows", strings.Repeat("#", n), strings.Repeat(".", width-n), frac*100, p.Done.Format("2006-01-02 15:04"), p.Rows)
	b.drawn = true
}

func (b *progressBar) done() {
	if b.drawn {
		fmt.Fprintln(b.w)
	}
}
