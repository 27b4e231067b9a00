package main

import (
	"context"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/socq/socq/engine"
	"github.com/socq/socq/incident"
	"github.com/socq/socq/output"
	"github.com/spf13/cobra"
)

type historyOptions struct {
	record recordOptions
	number int64
	by     string
	since  string
}

func newHistoryCmd(ios *ioStreams) *cobra.Command {
	opts := &historyOptions{record: recordOptions{command: "history", ios: ios}}
	cmd := &cobra.Command{
		Use:   "history [INCIDENT] [--by PERSON] [--since 7d]",
		Short: "The change timeline of incidents: who changed what and when, tasks included",
		Long: `Print the change timeline computed from the SecurityIncident snapshot rows:
incident field changes (created, title, description, severity, status, owner,
tags, classification, comments, deleted) and task events (added, completed,
reopened, edited, deleted, with the task's title). It works the same on
ingested Sentinel history and on incidents socq recorded.

With INCIDENT, the timeline of that incident; without, of every incident.
--by keeps the changes of one person or rule (ModifiedBy, or for tasks the
task's lastModifiedBy name or UPN); --since keeps recent ones (7d, 12h, 30m,
2w, or a time like 2026-10-05).`,
		Example: `  socq history 7
  socq history --by mei.lin@contoso.com --since 7d`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				n, err := incidentNumber(args[0])
				if err != nil {
					return err
				}
				opts.number = n
			}
			return runHistory(cmd.Context(), opts, ios)
		},
	}
	dbFlag(cmd, &opts.record.db)
	cmd.Flags().StringVarP(&opts.record.format, "output", "o", "", "output format: table, json or csv (default table on a terminal, csv otherwise)")
	cmd.Flags().StringVar(&opts.by, "by", "", "only changes by this person or rule")
	cmd.Flags().StringVar(&opts.since, "since", "", "only changes since: 7d, 12h, 30m, 2w or a time")
	cmd.RegisterFlagCompletionFunc("by", completeOwners(&opts.record.db))
	return cmd
}

// parseSince reads --since: a span back from now (Nd, Nh, Nm, Nw) or a time.
func parseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	units := map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}
	if u, ok := units[s[len(s)-1]]; ok {
		if n, err := strconv.ParseInt(s[:len(s)-1], 10, 64); err == nil && n >= 0 {
			if n > int64(200*365*24*time.Hour/u) {
				return time.Time{}, failed(exitUsage, "--since %q: more than 200 years back", s)
			}
			return now.Add(-time.Duration(n) * u), nil
		}
	}
	t, err := parseTimeFlag("since", s)
	if err != nil {
		return time.Time{}, failed(exitUsage, "--since %q: want a span like 7d, 12h, 30m, 2w or a time like 2026-10-05", s)
	}
	return t, nil
}

// clockNow is SOCQ_NOW when set (as the recorder uses it), else the time.
func clockNow() time.Time {
	if t, err := time.Parse(time.RFC3339Nano, os.Getenv("SOCQ_NOW")); err == nil {
		return t
	}
	return time.Now()
}

var historyColumns = []engine.Column{
	{Name: "TimeGenerated", Type: engine.DateTime}, {Name: "IncidentNumber", Type: engine.Int},
	{Name: "ModifiedBy", Type: engine.String}, {Name: "Change", Type: engine.String}, {Name: "Detail", Type: engine.String},
	{Name: "taskId", Type: engine.String}, {Name: "Title", Type: engine.String},
}

// historyTableColumns leave out what a person reading a timeline skips.
var historyTableColumns = historyColumns[:5]

type historyJSON struct {
	TimeGenerated  string `json:"TimeGenerated"`
	IncidentNumber int64  `json:"IncidentNumber"`
	Title          string `json:"Title"`
	ModifiedBy     string `json:"ModifiedBy"`
	Change         string `json:"Change"`
	Detail         string `json:"Detail"`
	TaskID         string `json:"taskId,omitempty"`
	TaskTitle      string `json:"TaskTitle,omitempty"`
}

func runHistory(ctx context.Context, opts *historyOptions, ios *ioStreams) error {
	since, err := parseSince(opts.since, clockNow())
	if err != nil {
		return err
	}
	s, err := opts.record.begin(ctx, ios, false)
	if err != nil {
		return err
	}
	defer s.Close()
	events, err := s.rec.History(ctx, incident.HistoryFilter{IncidentNumber: opts.number, By: opts.by, Since: since})
	if err != nil {
		return recordError(err)
	}
	format := s.format
	if format == "json" {
		out := make([]historyJSON, len(events))
		for i, e := range events {
			out[i] = historyJSON{TimeGenerated: output.FormatCell(e.Time), IncidentNumber: e.IncidentNumber, Title: e.IncidentTitle,
				ModifiedBy: e.By, Change: e.Change, Detail: e.Detail, TaskID: e.TaskID, TaskTitle: e.TaskTitle}
		}
		return writeJSON(ios, out)
	}
	cols := historyColumns
	if format == "table" {
		cols = historyTableColumns
	}
	w, err := output.New(ios.out, format, cols)
	if err != nil {
		return failed(exitUsage, "%v", err)
	}
	for _, e := range events {
		row := []any{e.Time, e.IncidentNumber, e.By, e.Change, e.Detail, e.TaskID, e.IncidentTitle}
		if err := w.Row(row[:len(cols)]); err != nil {
			return err
		}
	}
	return w.Close()
}
