package main

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/socq/socq/check"
	"github.com/socq/socq/engine"
	"github.com/socq/socq/examples"
	"github.com/socq/socq/gen"
	"github.com/socq/socq/ingest"
	"github.com/socq/socq/output"
	"github.com/spf13/cobra"
)

// demoHistory is the built-in sample: a fixed seed, so every run and every
// machine shows the same incidents, numbered so that 405211, the incident
// of Microsoft's audit article, is one of them.
var demoHistory = gen.Options{Incidents: 40, Seed: 2026, Days: 21, FirstNumber: 405200}

// demoQuery is an audit query the demo runs, with what it shows. A query
// whose result is too wide for a terminal names the columns to print in
// brief; it still runs as written.
type demoQuery struct {
	title, kql string
	brief      []string
}

// briefRows is how many rows a brief result prints.
const briefRows = 5

var demoQueries = []demoQuery{
	{title: "Microsoft's audit query 1 (verbatim): every snapshot row that carries tasks",
		kql:   "SecurityIncident\n| where array_length( Tasks) > 0",
		brief: []string{"IncidentNumber", "Title", "LastModifiedTime", "Tasks"}},
	{title: "Microsoft's audit query 2 (verbatim): the task history of one incident",
		kql: "SecurityIncident\n| where array_length( Tasks) > 0\n| where IncidentNumber == \"405211\"\n| sort by LastModifiedTime desc \n| project IncidentName, Title, LastModifiedTime, Tasks"},
	{title: "Microsoft's audit query 3 (verbatim): tasks still open on closed incidents",
		kql: "SecurityIncident\n| summarize arg_max(TimeGenerated, *) by IncidentNumber\n| where Status == 'Closed'\n| mv-expand Tasks\n| evaluate bag_unpack(Tasks)\n| summarize arg_max(lastModifiedTimeUtc, *) by taskId\n| where status !in ('Completed', 'Deleted')\n| project TaskTitle = ['title'], TaskStatus = ['status'], createdTimeUtc, lastModifiedTimeUtc = column_ifexists(\"lastModifiedTimeUtc\", datetime(null)), TaskCreator = ['createdBy'].name, lastModifiedBy, IncidentNumber, IncidentOwner = Owner.userPrincipalName\n| sort by lastModifiedTimeUtc desc"},
	{title: "The task changes of incident 405211: each task in the snapshot that changed it",
		kql: "SecurityIncident\n| where IncidentNumber == 405211\n| mv-expand Task = Tasks\n| where todatetime(Task.lastModifiedTimeUtc) == LastModifiedTime\n| project TimeGenerated, Task = tostring(Task.title), Status = tostring(Task.status), ChangedBy = tostring(Task.lastModifiedBy.name), CreatedBy = tostring(Task.createdBy.name)"},
	{title: "Who creates tasks: automation rules and playbooks, or analysts",
		kql: "SecurityIncident\n| mv-expand Task = Tasks\n| summarize arg_max(TimeGenerated, Task) by TaskId = tostring(Task.taskId)\n| summarize Tasks = count() by CreatedBy = tostring(Task.createdBy.name)\n| sort by Tasks desc, CreatedBy asc"},
	{title: "Deleted tasks: who created them and who deleted them",
		kql: "SecurityIncident\n| mv-expand Task = Tasks\n| where Task.status == \"Deleted\"\n| project TimeGenerated, IncidentNumber, Task = tostring(Task.title), CreatedBy = tostring(Task.createdBy.name), DeletedBy = tostring(Task.lastModifiedBy.name)"},
}

func newDemoCmd(ios *ioStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Load a built-in sample history into memory and run audit queries on it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), ios)
		},
	}
}

func runDemo(ctx context.Context, ios *ioStreams) error {
	var history bytes.Buffer
	if err := gen.Write(&history, demoHistory); err != nil {
		return failed(exitFailed, "generate the sample history: %v", err)
	}
	db, err := engine.Open(ctx, "", engine.Options{})
	if err != nil {
		return failed(exitFailed, "%v", err)
	}
	defer db.Close()
	report, err := ingest.Reader(ctx, db, "sample history", &history)
	if err != nil {
		return failed(exitFailed, "load the sample history: %v", err)
	}
	fmt.Fprintf(ios.out, "Loaded the built-in sample history: %d snapshot rows of %d incidents (in memory).\n",
		report.Files[0].Added, demoHistory.Incidents)
	fmt.Fprintln(ios.out, "Each query below runs as written; copy it into 'socq query' or Sentinel's Logs page.")
	for _, q := range demoQueries {
		fmt.Fprintf(ios.out, "\n## %s\n\n%s\n\n", q.title, q.kql)
		text, parsed, err := parseKQL(q.kql, nil, time.Now().UTC())
		if err != nil {
			return queryError(ios, err)
		}
		plan, err := compileKQL(ctx, text, parsed, db, true)
		if err != nil {
			return queryError(ios, err)
		}
		if q.brief != nil {
			err = printBrief(ctx, db, plan, q.brief, ios)
		} else {
			err = printQuery(ctx, db, plan, "table", ios)
		}
		if err != nil {
			return err
		}
	}
	return demoChecks(ctx, db, ios)
}

// printBrief runs a plan and prints how many rows it gave and the first
// briefRows of them, in the named columns only.
func printBrief(ctx context.Context, db *engine.DB, plan *engine.Plan, names []string, ios *ioStreams) error {
	var idx []int
	var cols []engine.Column
	for _, name := range names {
		i := slices.IndexFunc(plan.Columns, func(c engine.Column) bool { return c.Name == name })
		if i < 0 {
			return fmt.Errorf("the demo shows column %s, which the query does not return", name)
		}
		idx, cols = append(idx, i), append(cols, plan.Columns[i])
	}
	var table bytes.Buffer
	tw, err := output.New(&table, "table", cols)
	if err != nil {
		return err
	}
	rows := 0
	err = db.Query(ctx, plan, func(vals []any) error {
		if rows++; rows > briefRows {
			return nil
		}
		picked := make([]any, len(idx))
		for i, j := range idx {
			picked[i] = vals[j]
		}
		return tw.Row(picked)
	})
	if err != nil {
		return resultError(ctx, err)
	}
	if err := tw.Close(); err != nil {
		return err
	}
	fmt.Fprintf(ios.out, "%d rows, %d columns each; here the first %d rows and %d of the columns ('socq query' prints them all):\n",
		rows, len(plan.Columns), min(rows, briefRows), len(names))
	_, err = ios.out.Write(table.Bytes())
	return err
}

// demoChecks runs the example SOC metric gates on the sample history, over
// the sample's whole period.
func demoChecks(ctx context.Context, db *engine.DB, ios *ioStreams) error {
	f, err := check.Load(examples.SOCMetricsPath, examples.SOCMetrics)
	if err != nil {
		return failed(exitFailed, "the example checks: %v", err)
	}
	start := demoHistory.Start
	if start.IsZero() {
		start = gen.DefaultStart
	}
	period := start.Format("2006-01-02") + ".." + start.AddDate(0, 0, demoHistory.Days).Format("2006-01-02")
	fmt.Fprintf(ios.out, "\n## SOC metric gates: %s\n\n", examples.SOCMetricsPath)
	fmt.Fprintf(ios.out, "Mean and median time to triage and to close, closed incidents with open tasks, the share\n"+
		"of tasks created by automation, old open High incidents and unowned ones, as CI gates:\n\n"+
		"  socq check --param TimeRange=%s %s\n\n", period, examples.SOCMetricsPath)
	rep, err := check.Run(ctx, f, dbRunner{db}, map[string]string{"TimeRange": period})
	if err != nil {
		return err
	}
	if err := check.WriteText(ios.out, rep); err != nil {
		return err
	}
	_, err = fmt.Fprintln(ios.out, "\nsocq check exits 0 when every check passes (warnings allowed), 1 when one fails, 4 when one cannot run;\n--junit FILE writes JUnit XML, and in GitHub Actions it annotates the checks file.")
	return err
}
