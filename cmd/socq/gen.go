package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/socq/socq/gen"
	"github.com/spf13/cobra"
)

type genOptions struct {
	incidents int
	seed      int64
	days      int
	first     int
	out       string
	format    string
}

func newGenCmd(ios *ioStreams) *cobra.Command {
	opts := &genOptions{}
	formats := make([]string, len(gen.Formats))
	for i, f := range gen.Formats {
		formats[i] = string(f)
	}
	cmd := &cobra.Command{
		Use:   "gen --incidents N [--seed S] [--days D] [--first-number K] [--out FILE] [-o ndjson|json|csv]",
		Short: "Generate a realistic SecurityIncident history to try socq without real data",
		Long: `Generate a realistic Microsoft Sentinel SecurityIncident history in the shape
of a Log Analytics export: incidents arriving over D days with a daily and
weekly rhythm, several snapshot rows per incident (assignment, status changes,
comments, labels, tasks added by automation rules, playbooks and analysts,
completed, reopened and deleted, closing with a classification).

The same options always write the same bytes. Load the result with
'socq ingest'.`,
		Example: `  socq gen --incidents 500 --out history.ndjson && socq ingest --db h.duckdb history.ndjson
  socq gen --incidents 100 --seed 7 -o csv > history.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("incidents") {
				return failed(exitUsage, "--incidents is required: how many incidents to generate")
			}
			return runGen(cmd.Context(), opts, ios)
		},
	}
	cmd.Flags().IntVar(&opts.incidents, "incidents", 0, "number of incidents (at least 1)")
	cmd.Flags().Int64Var(&opts.seed, "seed", 1, "random seed: the same seed gives the same history")
	cmd.Flags().IntVar(&opts.days, "days", gen.DefaultDays, "length of the period in days, starting "+gen.DefaultStart.Format("2006-01-02"))
	cmd.Flags().IntVar(&opts.first, "first-number", 1, "IncidentNumber of the first incident (the incidents are the same whatever their numbers)")
	cmd.Flags().StringVar(&opts.out, "out", "", "write to FILE instead of standard output")
	cmd.Flags().StringVarP(&opts.format, "output", "o", string(gen.NDJSON), "format: "+strings.Join(formats, ", "))
	return cmd
}

func runGen(ctx context.Context, opts *genOptions, ios *ioStreams) error {
	if opts.incidents < 1 {
		return failed(exitUsage, "--incidents %d: want at least 1", opts.incidents)
	}
	if opts.days < 1 {
		return failed(exitUsage, "--days %d: want at least 1", opts.days)
	}
	if max := math.MaxInt32 - opts.incidents; opts.first < 1 || opts.first > max {
		return failed(exitUsage, "--first-number %d: want a number from 1 to %d (IncidentNumber is a 32-bit integer)", opts.first, max)
	}
	format, err := gen.ParseFormat(opts.format)
	if err != nil {
		return failed(exitUsage, "-o %s: want one of ndjson, json, csv", opts.format)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	genOpts := gen.Options{Incidents: opts.incidents, Seed: opts.seed, Days: opts.days, FirstNumber: opts.first}
	if opts.out == "" {
		if err := gen.WriteFormat(ios.out, genOpts, format); err != nil {
			return failed(exitFailed, "%v", err)
		}
		return nil
	}
	f, err := os.Create(opts.out)
	if err != nil {
		return failed(exitFailed, "%v", err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	werr := gen.WriteFormat(&ctxWriter{ctx: ctx, w: bw}, genOpts, format)
	if werr == nil {
		werr = bw.Flush()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(opts.out)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return failed(exitFailed, "write %s: %v", opts.out, werr)
	}
	fmt.Fprintf(ios.out, "%s: %d incidents over %d days (seed %d), %s\n", opts.out, opts.incidents, opts.days, opts.seed, format)
	return nil
}

// ctxWriter stops a long write when ctx is cancelled (Ctrl-C).
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c *ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
