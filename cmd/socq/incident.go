package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/socq/socq/engine"
	"github.com/socq/socq/incident"
	"github.com/socq/socq/output"
	"github.com/spf13/cobra"
)

// recordOptions are the flags every recording command shares.
type recordOptions struct {
	db     string
	format string
	as     string
	// command names the command for the database's lock file ("incident"),
	// ios is where Open says it is waiting for another process.
	command string
	ios     *ioStreams
	// lockWait is engine.Options.LockWait: 0 is the default wait, negative
	// does not wait (shell completion must not hang).
	lockWait time.Duration
}

// recordFlags adds --db, -o and --as to a command group (persistent, so
// every subcommand has them).
func recordFlags(cmd *cobra.Command, opts *recordOptions) {
	cmd.PersistentFlags().StringVar(&opts.db, "db", "", "database file (default $SOCQ_DB or $XDG_DATA_HOME/socq/socq.duckdb)")
	cmd.PersistentFlags().StringVarP(&opts.format, "output", "o", "", "output format: table, json or csv (default table on a terminal, csv otherwise)")
	cmd.PersistentFlags().StringVar(&opts.as, "as", "", "the person acting: UPN, email or name (default $SOCQ_USER, else your OS user name)")
	cmd.RegisterFlagCompletionFunc("as", completeOwners(&opts.db))
}

// actor is who the change is recorded as: --as, $SOCQ_USER, the OS user.
func (o *recordOptions) actor() (string, error) {
	if o.as != "" {
		return o.as, nil
	}
	if env := os.Getenv("SOCQ_USER"); env != "" {
		return env, nil
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username, nil
	}
	if env := os.Getenv("USER"); env != "" {
		return env, nil
	}
	return "", failed(exitUsage, "cannot tell who you are: give --as NAME or set SOCQ_USER")
}

// outputFormat is -o, defaulting to table on a terminal and csv otherwise.
func (o *recordOptions) outputFormat(ios *ioStreams) (string, error) {
	f := o.format
	if f == "" {
		f = "csv"
		if ios.outIsTerminal() {
			f = "table"
		}
	}
	switch f {
	case "table", "json", "csv":
		return f, nil
	}
	return "", failed(exitUsage, "unknown output format %q (use table, json or csv)", f)
}

// recording is a recording command's session: the output format, the
// person acting (for a change) and a Recorder on the open database.
type recording struct {
	rec    *incident.Recorder
	db     *engine.DB
	by     string // "" when the command only reads
	format string
}

// begin checks -o and, for a change, who is acting, then opens the
// database: for writing when change is true, else read-only.
func (o *recordOptions) begin(ctx context.Context, ios *ioStreams, change bool) (*recording, error) {
	format, err := o.outputFormat(ios)
	if err != nil {
		return nil, err
	}
	var by string
	if change {
		if by, err = o.actor(); err != nil {
			return nil, err
		}
	}
	rec, db, err := o.openRecorder(ctx, !change)
	if err != nil {
		return nil, err
	}
	return &recording{rec: rec, db: db, by: by, format: format}, nil
}

// Close closes the session's database.
func (r *recording) Close() error { return r.db.Close() }

// openRecorder opens the database for writing (or reading) and returns a
// Recorder on it. SOCQ_NOW (RFC 3339) fixes the clock, for demos and tests.
func (o *recordOptions) openRecorder(ctx context.Context, readOnly bool) (*incident.Recorder, *engine.DB, error) {
	path, err := resolveDB(o.db)
	if err != nil {
		return nil, nil, failed(exitUsage, "%v", err)
	}
	eopts := o.ios.dbOptions(o.command, "")
	eopts.ReadOnly = readOnly
	eopts.LockWait = o.lockWait
	db, err := engine.Open(ctx, path, eopts)
	if errors.Is(err, engine.ErrNoDatabase) {
		return nil, nil, failed(exitNotFound, "no database at %s: record an incident first (socq incident create) or load history (socq ingest)", path)
	}
	var inUse *engine.InUseError
	if errors.As(err, &inUse) && !readOnly {
		return nil, nil, failed(exitFailed, "%v: nothing was recorded, try again", err)
	}
	if err != nil {
		return nil, nil, failed(exitFailed, "%v", err)
	}
	ropts := incident.Options{}
	if s := os.Getenv("SOCQ_NOW"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			db.Close()
			return nil, nil, failed(exitUsage, "SOCQ_NOW=%q: want an RFC 3339 time like 2026-10-05T09:00:00Z", s)
		}
		ropts.Now = func() time.Time { return t }
	}
	return incident.NewRecorder(db, ropts), db, nil
}

// recordError maps the Recorder's errors to exit codes.
func recordError(err error) error {
	var ee *exitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ee):
		return err
	case errors.Is(err, incident.ErrNotFound):
		return failed(exitNotFound, "%v", err)
	case errors.Is(err, context.Canceled):
		return err
	}
	return failed(exitFailed, "%v", err)
}

// incidentNumber parses an INCIDENT argument.
func incidentNumber(arg string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(arg), "#"), 10, 64)
	if err != nil || n < 1 {
		return 0, failed(exitUsage, "incident %q: give its IncidentNumber, a whole number like 7", arg)
	}
	return n, nil
}

type incidentCreateOptions struct {
	in                          incident.NewIncident
	firstActivity, lastActivity string
}

type incidentUpdateOptions struct {
	number   int64
	change   incident.Change
	unassign bool
}

type incidentDeleteOptions struct {
	number  int64
	yes     bool
	purge   bool
	ifMatch string
}

func newIncidentCmd(ios *ioStreams) *cobra.Command {
	ropts := &recordOptions{command: "incident", ios: ios}
	cmd := &cobra.Command{
		Use:   "incident",
		Short: "Record incidents as Sentinel does: create, update, close, reopen, delete, list, show",
		Long: `Record incidents by hand. Every change appends one full SecurityIncident
snapshot row, exactly as Microsoft Sentinel records it, so 'socq query' and
'socq history' audit recorded and ingested incidents alike.

The person acting is --as, else $SOCQ_USER, else your OS user name.`,
	}
	recordFlags(cmd, ropts)
	cmd.AddCommand(
		newIncidentCreateCmd(ios, ropts),
		newIncidentUpdateCmd(ios, ropts),
		newIncidentCloseCmd(ios, ropts),
		newIncidentReopenCmd(ios, ropts),
		newIncidentDeleteCmd(ios, ropts),
		newIncidentListCmd(ios, ropts),
		newIncidentShowCmd(ios, ropts),
	)
	return cmd
}

func newIncidentCreateCmd(ios *ioStreams, ropts *recordOptions) *cobra.Command {
	opts := &incidentCreateOptions{}
	cmd := &cobra.Command{
		Use:   "create --title T [flags]",
		Short: "Create an incident; prints it with its IncidentNumber, IncidentName and etag",
		Example: `  socq incident create --title "Phishing: CFO mailbox" --severity high --owner mei.lin@contoso.com --tag VIP
  socq incident create --title "Lost laptop" --status closed --classification benign-positive --classification-comment "found"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runIncidentCreate(cmd.Context(), ropts, opts, ios)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.in.Title, "title", "", "title (required)")
	f.StringVar(&opts.in.Description, "description", "", "description, at most 5,000 characters")
	f.StringVar(&opts.in.Severity, "severity", "", "High, Medium, Low or Informational (default Medium)")
	f.StringVar(&opts.in.Status, "status", "", "New, Active or Closed (default New)")
	f.StringVar(&opts.in.Owner, "owner", "", "owner: UPN, email or display name")
	f.StringArrayVar(&opts.in.Tags, "tag", nil, "tag (repeatable)")
	f.StringVar(&opts.in.Classification, "classification", "", "with --status closed: true-positive, benign-positive, false-positive or undetermined")
	f.StringVar(&opts.in.ClassificationReason, "classification-reason", "", "suspicious-activity, suspicious-but-expected, incorrect-alert-logic or inaccurate-data")
	f.StringVar(&opts.in.ClassificationComment, "classification-comment", "", "with --status closed: why")
	f.StringVar(&opts.firstActivity, "first-activity", "", "time of the first activity (RFC 3339, e.g. 2026-10-05T08:00:00Z)")
	f.StringVar(&opts.lastActivity, "last-activity", "", "time of the last activity")
	cmd.MarkFlagRequired("title")
	cmd.RegisterFlagCompletionFunc("tag", completeTags(&ropts.db))
	cmd.RegisterFlagCompletionFunc("owner", completeOwners(&ropts.db))
	cmd.RegisterFlagCompletionFunc("severity", cobra.FixedCompletions(incident.Severities, cobra.ShellCompDirectiveNoFileComp))
	cmd.RegisterFlagCompletionFunc("status", cobra.FixedCompletions(incident.Statuses, cobra.ShellCompDirectiveNoFileComp))
	cmd.RegisterFlagCompletionFunc("classification", cobra.FixedCompletions(classificationShortForms, cobra.ShellCompDirectiveNoFileComp))
	cmd.RegisterFlagCompletionFunc("classification-reason", cobra.FixedCompletions(reasonShortForms, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

var (
	classificationShortForms = []string{"true-positive", "benign-positive", "false-positive", "undetermined"}
	reasonShortForms         = []string{"suspicious-activity", "suspicious-but-expected", "incorrect-alert-logic", "inaccurate-data"}
)

// parseTimeFlag reads a time given on the command line, in UTC.
func parseTimeFlag(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, failed(exitUsage, "--%s %q: want a time like 2026-10-05T08:00:00Z or 2026-10-05", name, s)
}

func runIncidentCreate(ctx context.Context, ropts *recordOptions, opts *incidentCreateOptions, ios *ioStreams) error {
	var err error
	if opts.in.FirstActivity, err = parseTimeFlag("first-activity", opts.firstActivity); err != nil {
		return err
	}
	if opts.in.LastActivity, err = parseTimeFlag("last-activity", opts.lastActivity); err != nil {
		return err
	}
	s, err := ropts.begin(ctx, ios, true)
	if err != nil {
		return err
	}
	defer s.Close()
	inc, err := s.rec.Create(ctx, s.by, opts.in)
	if err != nil {
		return recordError(err)
	}
	return printIncident(ios, s.format, inc)
}

func newIncidentUpdateCmd(ios *ioStreams, ropts *recordOptions) *cobra.Command {
	opts := &incidentUpdateOptions{}
	var title, description, severity, status, owner, class, reason, comment string
	cmd := &cobra.Command{
		Use:   "update INCIDENT [flags]",
		Short: "Change an incident's title, description, severity, status, owner or tags",
		Example: `  socq incident update 7 --status active --owner mei.lin@contoso.com
  socq incident update 7 --add-tag VIP --remove-tag triage --if-match 1f0c…`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := incidentNumber(args[0])
			if err != nil {
				return err
			}
			opts.number = n
			f := cmd.Flags()
			set := func(name string, v string) *string {
				if f.Changed(name) {
					return &v
				}
				return nil
			}
			c := &opts.change
			c.Title, c.Description, c.Severity, c.Status = set("title", title), set("description", description), set("severity", severity), set("status", status)
			c.Owner = set("owner", owner)
			c.Classification, c.ClassificationReason, c.ClassificationComment = set("classification", class), set("classification-reason", reason), set("comment", comment)
			if opts.unassign {
				if c.Owner != nil {
					return failed(exitUsage, "give --owner or --unassign, not both")
				}
				empty := ""
				c.Owner = &empty
			}
			if c.Title == nil && c.Description == nil && c.Severity == nil && c.Status == nil && c.Owner == nil &&
				len(c.AddTags) == 0 && len(c.RemoveTags) == 0 && c.Classification == nil && c.ClassificationReason == nil && c.ClassificationComment == nil {
				return failed(exitUsage, "nothing to update: give --title, --description, --severity, --status, --owner, --unassign, --add-tag or --remove-tag")
			}
			return runIncidentUpdate(cmd.Context(), ropts, opts, ios)
		},
	}
	f := cmd.Flags()
	f.StringVar(&title, "title", "", "new title")
	f.StringVar(&description, "description", "", "new description (\"\" clears it)")
	f.StringVar(&severity, "severity", "", "High, Medium, Low or Informational")
	f.StringVar(&status, "status", "", "New, Active or Closed (closing needs --classification and --comment)")
	f.StringVar(&owner, "owner", "", "assign to: UPN, email or display name")
	f.BoolVar(&opts.unassign, "unassign", false, "remove the owner")
	f.StringArrayVar(&opts.change.AddTags, "add-tag", nil, "add a tag (repeatable)")
	f.StringArrayVar(&opts.change.RemoveTags, "remove-tag", nil, "remove a tag (repeatable)")
	f.StringVar(&class, "classification", "", "with --status closed, or on a closed incident")
	f.StringVar(&reason, "classification-reason", "", "classification reason")
	f.StringVar(&comment, "comment", "", "classification comment")
	f.StringVar(&opts.change.IfMatch, "if-match", "", "refuse the change unless the incident's etag is still this one")
	cmd.RegisterFlagCompletionFunc("add-tag", completeTags(&ropts.db))
	cmd.RegisterFlagCompletionFunc("remove-tag", completeTags(&ropts.db))
	cmd.RegisterFlagCompletionFunc("owner", completeOwners(&ropts.db))
	cmd.RegisterFlagCompletionFunc("severity", cobra.FixedCompletions(incident.Severities, cobra.ShellCompDirectiveNoFileComp))
	cmd.RegisterFlagCompletionFunc("status", cobra.FixedCompletions(incident.Statuses, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func runIncidentUpdate(ctx context.Context, ropts *recordOptions, opts *incidentUpdateOptions, ios *ioStreams) error {
	return recordOne(ctx, ropts, ios, func(rec *incident.Recorder, by string) (*incident.Incident, error) {
		return rec.Update(ctx, by, opts.number, opts.change)
	})
}

// recordOne runs one change and prints the incident it results in.
func recordOne(ctx context.Context, ropts *recordOptions, ios *ioStreams, fn func(*incident.Recorder, string) (*incident.Incident, error)) error {
	s, err := ropts.begin(ctx, ios, true)
	if err != nil {
		return err
	}
	defer s.Close()
	inc, err := fn(s.rec, s.by)
	if err != nil {
		return recordError(err)
	}
	return printIncident(ios, s.format, inc)
}

func newIncidentCloseCmd(ios *ioStreams, ropts *recordOptions) *cobra.Command {
	c := incident.Closing{}
	cmd := &cobra.Command{
		Use:   "close INCIDENT --classification C [--classification-reason R] --comment X",
		Short: "Close an incident with a classification and a comment",
		Long: `Close an incident. The classification and reason pairs are the portal's five
choices: true-positive (suspicious-activity), benign-positive
(suspicious-but-expected), false-positive (incorrect-alert-logic or
inaccurate-data) and undetermined (no reason). The reason is filled in where
only one fits.`,
		Example: `  socq incident close 7 --classification true-positive --comment "confirmed phishing, mailbox cleaned"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := incidentNumber(args[0])
			if err != nil {
				return err
			}
			return recordOne(cmd.Context(), ropts, ios, func(rec *incident.Recorder, by string) (*incident.Incident, error) {
				return rec.Close(cmd.Context(), by, n, c)
			})
		},
	}
	cmd.Flags().StringVar(&c.Classification, "classification", "", "true-positive, benign-positive, false-positive or undetermined")
	cmd.Flags().StringVar(&c.Reason, "classification-reason", "", "suspicious-activity, suspicious-but-expected, incorrect-alert-logic or inaccurate-data")
	cmd.Flags().StringVar(&c.Comment, "comment", "", "why (required)")
	cmd.Flags().StringVar(&c.IfMatch, "if-match", "", "refuse unless the incident's etag is still this one")
	cmd.RegisterFlagCompletionFunc("classification", cobra.FixedCompletions(classificationShortForms, cobra.ShellCompDirectiveNoFileComp))
	cmd.RegisterFlagCompletionFunc("classification-reason", cobra.FixedCompletions(reasonShortForms, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func newIncidentReopenCmd(ios *ioStreams, ropts *recordOptions) *cobra.Command {
	var ifMatch string
	cmd := &cobra.Command{
		Use:   "reopen INCIDENT",
		Short: "Reopen a closed incident (status Active; the classification and ClosedTime are cleared)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := incidentNumber(args[0])
			if err != nil {
				return err
			}
			return recordOne(cmd.Context(), ropts, ios, func(rec *incident.Recorder, by string) (*incident.Incident, error) {
				return rec.Reopen(cmd.Context(), by, n, ifMatch)
			})
		},
	}
	cmd.Flags().StringVar(&ifMatch, "if-match", "", "refuse unless the incident's etag is still this one")
	return cmd
}

func newIncidentDeleteCmd(ios *ioStreams, ropts *recordOptions) *cobra.Command {
	opts := &incidentDeleteOptions{}
	cmd := &cobra.Command{
		Use:   "delete INCIDENT [--yes] [--purge]",
		Short: "Delete an incident: hidden from list, show and rules, its history kept (--purge removes every row)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := incidentNumber(args[0])
			if err != nil {
				return err
			}
			opts.number = n
			return runIncidentDelete(cmd.Context(), ropts, opts, ios)
		},
	}
	cmd.Flags().BoolVarP(&opts.yes, "yes", "y", false, "do not ask for confirmation")
	cmd.Flags().BoolVar(&opts.purge, "purge", false, "remove every snapshot row of the incident: its history is lost")
	cmd.Flags().StringVar(&opts.ifMatch, "if-match", "", "refuse unless the incident's etag is still this one")
	return cmd
}

// confirm asks a yes/no question on a terminal. Off a terminal it refuses
// unless --yes was given, so a script never deletes by accident.
func confirm(ios *ioStreams, yes bool, question string) error {
	if yes {
		return nil
	}
	if !isTerminal(ios.in) || !ios.outIsTerminal() {
		return failed(exitUsage, "%s: not asking off a terminal; add --yes to confirm", strings.TrimSuffix(question, "?"))
	}
	fmt.Fprintf(ios.out, "%s [y/N] ", question)
	line, _ := bufio.NewReader(ios.in).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return failed(exitFailed, "cancelled: nothing was changed")
}

func runIncidentDelete(ctx context.Context, ropts *recordOptions, opts *incidentDeleteOptions, ios *ioStreams) error {
	s, err := ropts.begin(ctx, ios, true)
	if err != nil {
		return err
	}
	defer s.Close()
	rec := s.rec
	if opts.purge {
		if err := confirm(ios, opts.yes, fmt.Sprintf("Purge incident %d and every row of its history?", opts.number)); err != nil {
			return err
		}
		n, err := rec.Purge(ctx, opts.number)
		if err != nil {
			return recordError(err)
		}
		fmt.Fprintf(ios.err, "purged incident %d: %d snapshot rows removed\n", opts.number, n)
		return nil
	}
	inc, err := rec.Get(ctx, opts.number)
	if err != nil {
		return recordError(err)
	}
	if err := confirm(ios, opts.yes, fmt.Sprintf("Delete incident %d %q?", inc.Number, inc.Title)); err != nil {
		return err
	}
	inc, err = rec.Delete(ctx, s.by, opts.number, opts.ifMatch)
	if err != nil {
		return recordError(err)
	}
	fmt.Fprintf(ios.err, "deleted incident %d; its history remains (socq history %d)\n", inc.Number, inc.Number)
	return printIncident(ios, s.format, inc)
}

func newIncidentListCmd(ios *ioStreams, ropts *recordOptions) *cobra.Command {
	f := incident.ListFilter{}
	cmd := &cobra.Command{
		Use:   "list [--status S]... [--severity S]... [--owner O]... [--tag T]... [--all]",
		Short: "List incidents, newest first (default: New and Active, as Sentinel's queue)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runIncidentList(cmd.Context(), ropts, f, ios)
		},
	}
	cmd.Flags().StringSliceVar(&f.Statuses, "status", nil, "only these statuses (repeatable or comma-separated)")
	cmd.Flags().StringSliceVar(&f.Severities, "severity", nil, "only these severities")
	cmd.Flags().StringArrayVar(&f.Owners, "owner", nil, "only incidents owned by (UPN, email or name)")
	cmd.Flags().StringArrayVar(&f.Tags, "tag", nil, "only incidents with this tag")
	cmd.Flags().BoolVar(&f.All, "all", false, "every status, Closed included")
	cmd.RegisterFlagCompletionFunc("tag", completeTags(&ropts.db))
	cmd.RegisterFlagCompletionFunc("owner", completeOwners(&ropts.db))
	cmd.RegisterFlagCompletionFunc("severity", cobra.FixedCompletions(incident.Severities, cobra.ShellCompDirectiveNoFileComp))
	cmd.RegisterFlagCompletionFunc("status", cobra.FixedCompletions(incident.Statuses, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func runIncidentList(ctx context.Context, ropts *recordOptions, f incident.ListFilter, ios *ioStreams) error {
	var err error
	for i, s := range f.Statuses {
		if f.Statuses[i], err = incident.ParseStatus(s); err != nil {
			return failed(exitUsage, "--status: %v", err)
		}
	}
	for i, s := range f.Severities {
		if f.Severities[i], err = incident.ParseSeverity(s); err != nil {
			return failed(exitUsage, "--severity: %v", err)
		}
	}
	s, err := ropts.begin(ctx, ios, false)
	if err != nil {
		return err
	}
	defer s.Close()
	incs, err := s.rec.List(ctx, f)
	if err != nil {
		return recordError(err)
	}
	format := s.format
	if format == "json" {
		return writeJSON(ios, incs)
	}
	cols := incidentColumns
	if format == "table" {
		cols = incidentListColumns
	}
	w, err := output.New(ios.out, format, cols)
	if err != nil {
		return failed(exitUsage, "%v", err)
	}
	for _, inc := range incs {
		if err := w.Row(incidentRow(inc, cols)); err != nil {
			return err
		}
	}
	return w.Close()
}

func newIncidentShowCmd(ios *ioStreams, ropts *recordOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "show INCIDENT",
		Short: "Show an incident's current state, with its tasks and etag",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := incidentNumber(args[0])
			if err != nil {
				return err
			}
			format, err := ropts.outputFormat(ios)
			if err != nil {
				return err
			}
			rec, db, err := ropts.openRecorder(cmd.Context(), true)
			if err != nil {
				return err
			}
			defer db.Close()
			inc, err := rec.Get(cmd.Context(), n)
			if err != nil {
				return recordError(err)
			}
			return printIncident(ios, format, inc)
		},
	}
}

// incidentColumns are the CSV columns of an incident; incidentListColumns
// the shorter set a table of incidents shows.
var (
	incidentColumns = []engine.Column{
		{Name: "IncidentNumber", Type: engine.Int}, {Name: "IncidentName", Type: engine.String}, {Name: "etag", Type: engine.String},
		{Name: "Title", Type: engine.String}, {Name: "Description", Type: engine.String}, {Name: "Severity", Type: engine.String},
		{Name: "Status", Type: engine.String}, {Name: "Owner", Type: engine.String}, {Name: "Tags", Type: engine.String},
		{Name: "Tasks", Type: engine.Long}, {Name: "OpenTasks", Type: engine.Long},
		{Name: "Classification", Type: engine.String}, {Name: "ClassificationReason", Type: engine.String},
		{Name: "ClassificationComment", Type: engine.String}, {Name: "CreatedTime", Type: engine.DateTime},
		{Name: "LastModifiedTime", Type: engine.DateTime}, {Name: "ClosedTime", Type: engine.DateTime}, {Name: "ModifiedBy", Type: engine.String},
	}
	incidentListColumns = []engine.Column{
		{Name: "IncidentNumber", Type: engine.Int}, {Name: "Title", Type: engine.String}, {Name: "Severity", Type: engine.String},
		{Name: "Status", Type: engine.String}, {Name: "Owner", Type: engine.String}, {Name: "Tags", Type: engine.String},
		{Name: "OpenTasks", Type: engine.Long}, {Name: "LastModifiedTime", Type: engine.DateTime}, {Name: "ModifiedBy", Type: engine.String},
	}
)

func incidentRow(inc *incident.Incident, cols []engine.Column) []any {
	t := func(v incident.Time) any {
		if v.IsZero() {
			return nil
		}
		return v.Time
	}
	vals := map[string]any{
		"IncidentNumber": inc.Number, "IncidentName": inc.Name, "etag": inc.Etag, "Title": inc.Title,
		"Description": inc.Description, "Severity": inc.Severity, "Status": inc.Status, "Owner": inc.Owner.String(),
		"Tags": strings.Join(inc.TagNames(), ", "), "Tasks": int64(len(inc.Tasks)), "OpenTasks": int64(inc.OpenTasks()),
		"Classification": inc.Classification, "ClassificationReason": inc.ClassificationReason,
		"ClassificationComment": inc.ClassificationComment, "CreatedTime": t(inc.CreatedTime),
		"LastModifiedTime": t(inc.LastModifiedTime), "ClosedTime": t(inc.ClosedTime), "ModifiedBy": inc.ModifiedBy,
	}
	row := make([]any, len(cols))
	for i, c := range cols {
		row[i] = vals[c.Name]
	}
	return row
}

func writeJSON(ios *ioStreams, v any) error {
	enc := json.NewEncoder(ios.out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printIncident prints one incident: json is the whole object (Sentinel's
// column names and shapes, with etag), csv one row of incidentColumns,
// table a card with the tasks below it.
func printIncident(ios *ioStreams, format string, inc *incident.Incident) error {
	switch format {
	case "json":
		return writeJSON(ios, inc)
	case "csv":
		w, err := output.New(ios.out, "csv", incidentColumns)
		if err != nil {
			return err
		}
		if err := w.Row(incidentRow(inc, incidentColumns)); err != nil {
			return err
		}
		return w.Close()
	}
	tw := tabwriter.NewWriter(ios.out, 0, 4, 2, ' ', 0)
	line := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	line("Incident", fmt.Sprintf("%d  %s", inc.Number, inc.Title))
	line("IncidentName", inc.Name)
	line("etag", inc.Etag)
	line("Severity", inc.Severity)
	line("Status", inc.Status)
	if inc.Status == incident.StatusClosed {
		line("Classification", strings.TrimSpace(inc.Classification+" "+inc.ClassificationReason))
		line("Comment", inc.ClassificationComment)
		line("ClosedTime", output.FormatCell(inc.ClosedTime.Time))
	}
	line("Owner", orDash(ownerText(inc.Owner)))
	line("Tags", orDash(labelText(inc.Labels)))
	if inc.Description != "" {
		line("Description", strings.ReplaceAll(inc.Description, "\n", " "))
	}
	line("Created", output.FormatCell(inc.CreatedTime.Time))
	line("LastModified", output.FormatCell(inc.LastModifiedTime.Time)+" by "+inc.ModifiedBy)
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(inc.Tasks) == 0 {
		_, err := fmt.Fprintln(ios.out, "Tasks: none")
		return err
	}
	fmt.Fprintf(ios.out, "Tasks (%d open of %d):\n", inc.OpenTasks(), len(inc.Tasks))
	return printTasks(ios, "table", inc.Tasks, nil)
}

func ownerText(o incident.Owner) string {
	s := o.String()
	if o.UserPrincipalName != nil && *o.UserPrincipalName != s {
		s += " <" + *o.UserPrincipalName + ">"
	}
	return s
}

func labelText(labels []incident.Label) string {
	parts := make([]string, len(labels))
	for i, l := range labels {
		parts[i] = l.Name
		if l.Type == incident.LabelAutoAssigned {
			parts[i] += " (auto)"
		}
	}
	return strings.Join(parts, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// completeTags offers the tags used in the past two weeks.
func completeTags(dbFlag *string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
		return complete(cmd.Context(), *dbFlag, prefix, func(ctx context.Context, rec *incident.Recorder) ([]string, error) {
			return rec.Tags(ctx, clockNow().Add(-14*24*time.Hour))
		})
	}
}

// completeOwners offers the people incidents were assigned to.
func completeOwners(dbFlag *string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
		return complete(cmd.Context(), *dbFlag, prefix, func(ctx context.Context, rec *incident.Recorder) ([]string, error) {
			return rec.Owners(ctx)
		})
	}
}

func complete(ctx context.Context, dbFlag, prefix string, fn func(context.Context, *incident.Recorder) ([]string, error)) ([]string, cobra.ShellCompDirective) {
	if ctx == nil {
		ctx = context.Background()
	}
	// Completion never waits for the lock and never prints.
	quiet := &ioStreams{in: strings.NewReader(""), out: io.Discard, err: io.Discard}
	ropts := &recordOptions{db: dbFlag, command: "completion", lockWait: -1, ios: quiet}
	rec, db, err := ropts.openRecorder(ctx, true)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer db.Close()
	values, err := fn(ctx, rec)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, v := range values {
		if strings.HasPrefix(strings.ToLower(v), strings.ToLower(prefix)) {
			out = append(out, v)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
