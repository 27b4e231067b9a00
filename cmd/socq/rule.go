package main

import (
	"context"
	"strings"

	"github.com/socq/socq/engine"
	"github.com/socq/socq/incident"
	"github.com/socq/socq/output"
	"github.com/spf13/cobra"
)

type ruleAddOptions struct {
	rule         incident.Rule
	tasks        []string
	descriptions []string
}

func newRuleCmd(ios *ioStreams) *cobra.Command {
	ropts := &recordOptions{command: "rule", ios: ios}
	cmd := &cobra.Command{
		Use:   "rule",
		Short: "Automation rules: add tasks, tags, an owner or a severity when incidents are created or updated",
		Long: `Automation rules run, in order, when an incident is created or updated (task
changes do not trigger them). The condition is a KQL predicate over the
incident's columns, compiled like 'SecurityIncident | where <condition>'. A
rule's changes are a snapshot row of their own with ModifiedBy
"Automation rule - NAME"; tasks it adds have the rule as createdBy; tags it
adds are AutoAssigned. Changes made by rules never trigger rules.`,
	}
	recordFlags(cmd, ropts)
	opts := &ruleAddOptions{}
	add := &cobra.Command{
		Use:   "add --name NAME --on created|updated --if 'KQL condition' [actions]",
		Short: "Add an automation rule",
		Example: `  socq rule add --name "High severity triage" --on created --if 'Severity == "High"' \
      --add-task "Isolate the host" --add-task "Notify the CISO" --task-description "" --task-description "by phone"
  socq rule add --name "Phishing tag" --on created --if 'Title has "phish"' --add-tag Phishing --set-owner mei.lin@contoso.com`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(opts.descriptions) > len(opts.tasks) {
				return failed(exitUsage, "%d --task-description for %d --add-task: give one description per task, in order", len(opts.descriptions), len(opts.tasks))
			}
			opts.rule.AddTasks = nil
			for i, t := range opts.tasks {
				nt := incident.NewTask{Title: t}
				if i < len(opts.descriptions) {
					nt.Description = opts.descriptions[i]
				}
				opts.rule.AddTasks = append(opts.rule.AddTasks, nt)
			}
			return runRuleAdd(cmd.Context(), ropts, opts, ios)
		},
	}
	f := add.Flags()
	f.StringVar(&opts.rule.Name, "name", "", "rule name (required, unique)")
	f.StringVar(&opts.rule.Trigger, "on", "", "created or updated (required)")
	f.StringVar(&opts.rule.Condition, "if", "", "KQL predicate over the incident's columns, e.g. 'Severity == \"High\"' (required)")
	f.StringArrayVar(&opts.tasks, "add-task", nil, "add a task with this title (repeatable)")
	f.StringArrayVar(&opts.descriptions, "task-description", nil, "description of the --add-task at the same position (repeatable)")
	f.StringVar(&opts.rule.SetOwner, "set-owner", "", "assign the incident to (UPN, email or name)")
	f.StringArrayVar(&opts.rule.AddTags, "add-tag", nil, "add a tag (AutoAssigned; repeatable)")
	f.StringVar(&opts.rule.SetSeverity, "set-severity", "", "set the severity")
	f.IntVar(&opts.rule.Order, "order", 0, "run order, 1..1000 (default: after the last rule)")
	add.MarkFlagRequired("name")
	add.MarkFlagRequired("on")
	add.MarkFlagRequired("if")
	add.RegisterFlagCompletionFunc("on", cobra.FixedCompletions([]string{incident.TriggerCreated, incident.TriggerUpdated}, cobra.ShellCompDirectiveNoFileComp))
	add.RegisterFlagCompletionFunc("add-tag", completeTags(&ropts.db))
	add.RegisterFlagCompletionFunc("set-owner", completeOwners(&ropts.db))
	add.RegisterFlagCompletionFunc("set-severity", cobra.FixedCompletions(incident.Severities, cobra.ShellCompDirectiveNoFileComp))

	list := &cobra.Command{
		Use:   "list",
		Short: "List the automation rules in the order they run",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRuleList(cmd.Context(), ropts, ios)
		},
	}
	enable := func(use string, enabled bool) *cobra.Command {
		return &cobra.Command{
			Use:               use + " NAME",
			Short:             strings.ToUpper(use[:1]) + use[1:] + " an automation rule",
			Args:              cobra.ExactArgs(1),
			ValidArgsFunction: completeRules(&ropts.db),
			RunE: func(cmd *cobra.Command, args []string) error {
				return runRuleChange(cmd.Context(), ropts, ios, func(ctx context.Context, s *recording) (*incident.Rule, error) {
					return s.rec.SetRuleEnabled(ctx, args[0], enabled)
				})
			},
		}
	}
	del := &cobra.Command{
		Use:               "delete NAME",
		Short:             "Delete an automation rule (the changes it made stay recorded)",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeRules(&ropts.db),
		RunE: func(cmd *cobra.Command, args []string) error {
			rec, db, err := ropts.openRecorder(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer db.Close()
			if err := rec.DeleteRule(cmd.Context(), args[0]); err != nil {
				return recordError(err)
			}
			_, err = ios.err.Write([]byte("deleted rule " + args[0] + "\n"))
			return err
		},
	}
	cmd.AddCommand(add, list, enable("enable", true), enable("disable", false), del)
	return cmd
}

func runRuleAdd(ctx context.Context, ropts *recordOptions, opts *ruleAddOptions, ios *ioStreams) error {
	return runRuleChange(ctx, ropts, ios, func(ctx context.Context, s *recording) (*incident.Rule, error) {
		return s.rec.AddRule(ctx, s.by, opts.rule)
	})
}

func runRuleChange(ctx context.Context, ropts *recordOptions, ios *ioStreams, fn func(context.Context, *recording) (*incident.Rule, error)) error {
	s, err := ropts.begin(ctx, ios, true)
	if err != nil {
		return err
	}
	defer s.Close()
	rule, err := fn(ctx, s)
	if err != nil {
		return recordError(err)
	}
	return printRules(ios, s.format, []incident.Rule{*rule})
}

func runRuleList(ctx context.Context, ropts *recordOptions, ios *ioStreams) error {
	s, err := ropts.begin(ctx, ios, false)
	if err != nil {
		return err
	}
	defer s.Close()
	rules, err := s.rec.Rules(ctx)
	if err != nil {
		return recordError(err)
	}
	return printRules(ios, s.format, rules)
}

var ruleColumns = []engine.Column{
	{Name: "Order", Type: engine.Long}, {Name: "Name", Type: engine.String}, {Name: "On", Type: engine.String},
	{Name: "Condition", Type: engine.String}, {Name: "Actions", Type: engine.String}, {Name: "Enabled", Type: engine.Bool},
	{Name: "CreatedBy", Type: engine.String}, {Name: "CreatedTime", Type: engine.DateTime},
}

// ruleJSON is a rule as -o json prints it.
type ruleJSON struct {
	Order       int      `json:"order"`
	Name        string   `json:"name"`
	On          string   `json:"on"`
	Condition   string   `json:"condition"`
	AddTasks    []taskIn `json:"addTasks"`
	SetOwner    string   `json:"setOwner,omitempty"`
	AddTags     []string `json:"addTags"`
	SetSeverity string   `json:"setSeverity,omitempty"`
	Enabled     bool     `json:"enabled"`
	CreatedBy   string   `json:"createdBy"`
	CreatedTime string   `json:"createdTime"`
}

type taskIn struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

func printRules(ios *ioStreams, format string, rules []incident.Rule) error {
	if format == "json" {
		out := make([]ruleJSON, len(rules))
		for i, r := range rules {
			out[i] = ruleJSON{Order: r.Order, Name: r.Name, On: r.Trigger, Condition: r.Condition, SetOwner: r.SetOwner,
				AddTags: r.AddTags, SetSeverity: r.SetSeverity, Enabled: r.Enabled, CreatedBy: r.CreatedBy,
				CreatedTime: output.FormatCell(r.CreatedTime), AddTasks: []taskIn{}}
			if out[i].AddTags == nil {
				out[i].AddTags = []string{}
			}
			for _, t := range r.AddTasks {
				out[i].AddTasks = append(out[i].AddTasks, taskIn{Title: t.Title, Description: t.Description})
			}
		}
		return writeJSON(ios, out)
	}
	w, err := output.New(ios.out, format, ruleColumns)
	if err != nil {
		return failed(exitUsage, "%v", err)
	}
	for _, r := range rules {
		if err := w.Row([]any{int64(r.Order), r.Name, r.Trigger, r.Condition, ruleActionText(r), r.Enabled, r.CreatedBy, r.CreatedTime}); err != nil {
			return err
		}
	}
	return w.Close()
}

// ruleActionText describes a rule's actions in a line.
func ruleActionText(r incident.Rule) string {
	var parts []string
	for _, t := range r.AddTasks {
		parts = append(parts, "add task "+quoteText(t.Title))
	}
	for _, t := range r.AddTags {
		parts = append(parts, "add tag "+quoteText(t))
	}
	if r.SetOwner != "" {
		parts = append(parts, "set owner "+r.SetOwner)
	}
	if r.SetSeverity != "" {
		parts = append(parts, "set severity "+r.SetSeverity)
	}
	return strings.Join(parts, "; ")
}

func quoteText(s string) string { return `"` + s + `"` }

// completeRules offers the names of the automation rules.
func completeRules(dbFlag *string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return complete(cmd.Context(), *dbFlag, prefix, func(ctx context.Context, rec *incident.Recorder) ([]string, error) {
			rules, err := rec.Rules(ctx)
			names := make([]string, len(rules))
			for i, r := range rules {
				names[i] = r.Name
			}
			return names, err
		})
	}
}
