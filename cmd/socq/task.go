package main

import (
	"context"
	"fmt"

	"github.com/socq/socq/engine"
	"github.com/socq/socq/incident"
	"github.com/socq/socq/output"
	"github.com/spf13/cobra"
)

// taskAction is one task command's change: it returns the incident after
// the change and the task it changed.
type taskAction func(rec *incident.Recorder, ctx context.Context, by string, number int64, ref string) (*incident.Incident, *incident.Task, error)

func newTaskCmd(ios *ioStreams) *cobra.Command {
	ropts := &recordOptions{command: "task", ios: ios}
	cmd := &cobra.Command{
		Use:   "task",
		Short: "Record an incident's tasks: add, complete, reopen, edit, delete, list",
		Long: `Record tasks on an incident. Each change appends a SecurityIncident snapshot
row whose Tasks array holds every task's status, creator and last modifier, as
Sentinel records it. TASK is the taskId, a unique prefix of it (4 characters
or more), or the task's 1-based position in 'socq task list'.`,
	}
	recordFlags(cmd, ropts)
	var title, description string
	add := &cobra.Command{
		Use:     "add INCIDENT --title T [--description D]",
		Short:   "Add a task; prints it with its taskId",
		Example: `  socq task add 7 --title "Reset the user's password" --description "and revoke sessions"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTask(cmd.Context(), ropts, ios, args[0], "", func(rec *incident.Recorder, ctx context.Context, by string, n int64, _ string) (*incident.Incident, *incident.Task, error) {
				return rec.AddTask(ctx, by, n, incident.NewTask{Title: title, Description: description})
			})
		},
	}
	add.Flags().StringVar(&title, "title", "", "title (required)")
	add.Flags().StringVar(&description, "description", "", "description")
	add.MarkFlagRequired("title")

	var editTitle, editDescription string
	edit := &cobra.Command{
		Use:   "edit INCIDENT TASK [--title T] [--description D]",
		Short: "Change a task's title or description",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			e := incident.TaskEdit{}
			if cmd.Flags().Changed("title") {
				e.Title = &editTitle
			}
			if cmd.Flags().Changed("description") {
				e.Description = &editDescription
			}
			if e.Title == nil && e.Description == nil {
				return failed(exitUsage, "nothing to edit: give --title or --description")
			}
			return runTask(cmd.Context(), ropts, ios, args[0], args[1], func(rec *incident.Recorder, ctx context.Context, by string, n int64, ref string) (*incident.Incident, *incident.Task, error) {
				return rec.EditTask(ctx, by, n, ref, e)
			})
		},
	}
	edit.Flags().StringVar(&editTitle, "title", "", "new title")
	edit.Flags().StringVar(&editDescription, "description", "", "new description")

	simple := func(use, short string, action taskAction) *cobra.Command {
		return &cobra.Command{
			Use:   use + " INCIDENT TASK",
			Short: short,
			Args:  cobra.ExactArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				return runTask(cmd.Context(), ropts, ios, args[0], args[1], action)
			},
		}
	}
	list := &cobra.Command{
		Use:   "list INCIDENT",
		Short: "List an incident's tasks, numbered by position",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTaskList(cmd.Context(), ropts, ios, args[0])
		},
	}
	cmd.AddCommand(add,
		simple("complete", "Complete a task (status Completed, lastCompletedTimeUtc set)", (*incident.Recorder).CompleteTask),
		simple("reopen", "Reopen a completed task (status New)", (*incident.Recorder).ReopenTask),
		edit,
		simple("delete", "Delete a task (recorded once with status Deleted, then gone)", (*incident.Recorder).DeleteTask),
		list,
	)
	return cmd
}

func runTask(ctx context.Context, ropts *recordOptions, ios *ioStreams, incidentArg, ref string, action taskAction) error {
	n, err := incidentNumber(incidentArg)
	if err != nil {
		return err
	}
	s, err := ropts.begin(ctx, ios, true)
	if err != nil {
		return err
	}
	defer s.Close()
	inc, task, err := action(s.rec, ctx, s.by, n, ref)
	if err != nil {
		return recordError(err)
	}
	format := s.format
	if format == "json" {
		return writeJSON(ios, task)
	}
	var pos any // a deleted task has no position any more
	for i, t := range inc.Tasks {
		if t.ID == task.ID {
			pos = int64(i + 1)
		}
	}
	return printTasks(ios, format, []incident.Task{*task}, []any{pos})
}

func runTaskList(ctx context.Context, ropts *recordOptions, ios *ioStreams, incidentArg string) error {
	n, err := incidentNumber(incidentArg)
	if err != nil {
		return err
	}
	s, err := ropts.begin(ctx, ios, false)
	if err != nil {
		return err
	}
	defer s.Close()
	inc, err := s.rec.Get(ctx, n)
	if err != nil {
		return recordError(err)
	}
	format := s.format
	if format == "json" {
		tasks := inc.Tasks
		if tasks == nil {
			tasks = []incident.Task{}
		}
		return writeJSON(ios, tasks)
	}
	return printTasks(ios, format, inc.Tasks, nil)
}

var taskColumns = []engine.Column{
	{Name: "#", Type: engine.Long}, {Name: "taskId", Type: engine.String}, {Name: "title", Type: engine.String},
	{Name: "status", Type: engine.String}, {Name: "createdBy", Type: engine.String}, {Name: "lastModifiedBy", Type: engine.String},
	{Name: "lastModifiedTimeUtc", Type: engine.DateTime}, {Name: "createdTimeUtc", Type: engine.DateTime},
	{Name: "lastCompletedTimeUtc", Type: engine.DateTime}, {Name: "description", Type: engine.String},
}

// printTasks prints tasks as a table or CSV. The # column is pos[i], or the
// position in tasks when pos is nil.
func printTasks(ios *ioStreams, format string, tasks []incident.Task, pos []any) error {
	cols := taskColumns
	if format == "table" {
		cols = taskColumns[:7] // a person's view: who and when, not every time
	}
	w, err := output.New(ios.out, format, cols)
	if err != nil {
		return failed(exitUsage, "%v", err)
	}
	t := func(v incident.Time) any {
		if v.IsZero() {
			return nil
		}
		return v.Time
	}
	for i, task := range tasks {
		var p any = int64(i + 1)
		if pos != nil {
			p = pos[i]
		}
		row := []any{p, task.ID, task.Title, task.Status, task.CreatedBy.ModifiedBy(), task.LastModifiedBy.ModifiedBy(),
			t(task.LastModifiedTimeUTC), t(task.CreatedTimeUTC), t(task.LastCompletedTimeUTC), task.Description}
		if err := w.Row(row[:len(cols)]); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("print tasks: %w", err)
	}
	return nil
}
