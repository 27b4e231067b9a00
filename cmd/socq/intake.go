package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/socq/socq/engine"
	"github.com/socq/socq/incident"
	"github.com/socq/socq/intake"
	"github.com/spf13/cobra"
)

type intakeMailOptions struct {
	record   recordOptions // --db, --as
	mailbox  []string
	mbox     []string
	files    []string
	severity string
	owner    string
	tags     []string
	dryRun   bool
}

type intakeFormOptions struct {
	record recordOptions // --db, --as
	file   string
	maps   []string
	form   string
	dryRun bool
}

func newIntakeCmd(ios *ioStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "intake mail|form",
		Short: "Create incidents from a shared mailbox or from form submissions",
		Long: `Turn requests into incidents, as Sentinel's "incident from email" and
"incident from form" automation templates do: every message or form response
becomes an incident through the same recording code as 'socq incident create'
(same validation, same snapshot rows, same automation rules).

A message or response already imported (same Message-ID, same form response
id) is skipped, so running an intake again is safe. Each incident created is
printed; what could not be imported is reported on stderr as FILE: reason
(FILE:LINE for mbox messages and form rows), and the exit code is then 1.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return failed(exitUsage, "say what to read: socq intake mail … or socq intake form …")
		},
	}
	cmd.AddCommand(newIntakeMailCmd(ios), newIntakeFormCmd(ios))
	return cmd
}

func newIntakeMailCmd(ios *ioStreams) *cobra.Command {
	opts := &intakeMailOptions{record: recordOptions{command: "intake mail", ios: ios}}
	cmd := &cobra.Command{
		Use:   "mail [--mailbox DIR | --mbox FILE | FILE.eml... | -] [--severity S] [--tag T]... [--owner O] [--dry-run]",
		Short: "Create an incident for each email message",
		Long: `Create an incident for each message of a Maildir (--mailbox: cur/ and new/),
an mbox file (--mbox), .eml files, or standard input ('-').

Title: the Subject, decoded (RFC 2047), or "(no subject) from SENDER".
Description: the plain-text body (or the HTML body as text), cut to 5,000
characters with a marker when longer, then the attachments by name and size
(they are not stored). Tags: from-mail and from:ADDRESS, plus --tag.
AdditionalData.socqSource keeps the sender, Message-ID, date and attachments;
AdditionalData.socqExternalId the Message-ID that makes a re-run skip it.
A message whose headers cannot be read is reported as FILE: reason.`,
		Example: `  socq intake mail --mailbox ~/Maildir/soc-requests --tag phishing-report
  socq intake mail --mbox requests.mbox --dry-run
  socq intake mail --severity high --owner mei.lin@contoso.com message.eml
  fetchmail ... --mda 'socq intake mail -'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.files = args
			if len(opts.files) == 0 && len(opts.mailbox) == 0 && len(opts.mbox) == 0 {
				return failed(exitUsage, "give messages to read: --mailbox DIR, --mbox FILE, FILE.eml… or - for standard input")
			}
			return runIntakeMail(cmd.Context(), opts, ios)
		},
	}
	intakeFlags(cmd, &opts.record)
	cmd.Flags().StringArrayVar(&opts.mailbox, "mailbox", nil, "read a Maildir directory (its cur/ and new/ messages; repeatable)")
	cmd.Flags().StringArrayVar(&opts.mbox, "mbox", nil, "read an mbox file (repeatable)")
	cmd.Flags().StringVar(&opts.severity, "severity", "", "severity of the incidents: High, Medium, Low or Informational (default Medium)")
	cmd.Flags().StringVar(&opts.owner, "owner", "", "assign the incidents to this person (UPN, email or name)")
	cmd.Flags().StringArrayVar(&opts.tags, "tag", nil, "add this tag to every incident (repeatable)")
	cmd.Flags().BoolVar(&opts.dryRun, "dry-run", false, "print what would be created; record nothing")
	cmd.RegisterFlagCompletionFunc("tag", completeTags(&opts.record.db))
	cmd.RegisterFlagCompletionFunc("owner", completeOwners(&opts.record.db))
	cmd.RegisterFlagCompletionFunc("severity", cobra.FixedCompletions(incident.Severities, cobra.ShellCompDirectiveNoFileComp))
	cmd.RegisterFlagCompletionFunc("mailbox", cobra.FixedCompletions(nil, cobra.ShellCompDirectiveFilterDirs))
	return cmd
}

func newIntakeFormCmd(ios *ioStreams) *cobra.Command {
	opts := &intakeFormOptions{record: recordOptions{command: "intake form", ios: ios}}
	cmd := &cobra.Command{
		Use:   "form FILE.csv|FILE.json [--map FIELD=COLUMN,...] [--form NAME] [--dry-run]",
		Short: "Create an incident for each response of a form export",
		Long: `Create an incident for each row of a CSV form export, or each object of a
JSON one, with the values validated exactly as 'socq incident create' does
(severity in any case; an empty severity is Medium).

--map names the columns: title=COL,description=COL,severity=COL,owner=COL,
tags=COL,id=COL (tags: separated by commas or semicolons). Unmapped fields are
looked for under common names (Title, Subject; Description, Details;
Severity; Owner, Assigned To; Tags, Labels; ID, Response ID). Without a
description column the other answers, "Question: answer" a line, are the
description. A response already imported is skipped: by its id when there is an
id column (give --form NAME when two forms' ids could be the same), else by
its values, so the same export read again creates nothing.

CSV: a header row; comma, semicolon or tab separated; quoted fields may span
lines (a row is reported by the line it starts on); a byte order mark and
Excel's Windows-1252 text are read. JSON: an array of objects, one object a
line, or {"value": [...]}. Rows that cannot be read or are refused are
reported as FILE:LINE: reason; the others are created; the exit code is 1.`,
		Example: `  socq intake form responses.csv --map title=Summary,severity=Urgency,id=ID
  socq intake form --form phishing-report --dry-run export.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.file = args[0]
			return runIntakeForm(cmd.Context(), opts, ios)
		},
	}
	intakeFlags(cmd, &opts.record)
	cmd.Flags().StringArrayVar(&opts.maps, "map", nil, "FIELD=COLUMN pairs, comma separated (fields: "+strings.Join(intake.FormFields, ", ")+")")
	cmd.Flags().StringVar(&opts.form, "form", "", "name of the form, kept with its response ids so two forms' ids do not collide")
	cmd.Flags().BoolVar(&opts.dryRun, "dry-run", false, "print what would be created; record nothing")
	return cmd
}

// intakeFlags adds --db and --as, as the recording commands have them.
func intakeFlags(cmd *cobra.Command, o *recordOptions) {
	dbFlag(cmd, &o.db)
	cmd.Flags().StringVar(&o.as, "as", "", "the person acting: UPN, email or name (default $SOCQ_USER, else your OS user name)")
	cmd.RegisterFlagCompletionFunc("as", completeOwners(&o.db))
}

// openIntake opens the database and a Recorder as the recording commands
// do. A dry run against a database that does not exist yet previews in
// memory and creates no file.
func openIntake(ctx context.Context, o *recordOptions, dryRun bool, ios *ioStreams) (*intake.Importer, func(), error) {
	by, err := o.actor()
	if err != nil {
		return nil, nil, err
	}
	path, err := resolveDB(o.db)
	if err != nil {
		return nil, nil, failed(exitUsage, "%v", err)
	}
	var rec *incident.Recorder
	var db *engine.DB
	if _, statErr := os.Stat(path); dryRun && errors.Is(statErr, fs.ErrNotExist) {
		db, err = engine.Open(ctx, "", engine.Options{})
		if err != nil {
			return nil, nil, failed(exitFailed, "%v", err)
		}
		rec = incident.NewRecorder(db, incident.Options{})
	} else if rec, db, err = o.openRecorder(ctx, false); err != nil {
		return nil, nil, err
	}
	im := &intake.Importer{Recorder: rec, By: by, DryRun: dryRun, Out: ios.out, Err: ios.err}
	return im, func() { db.Close() }, nil
}

func runIntakeMail(ctx context.Context, opts *intakeMailOptions, ios *ioStreams) error {
	// Every source must exist before anything is recorded.
	for _, f := range append(append([]string{}, opts.files...), opts.mbox...) {
		if f == "-" {
			continue
		}
		st, err := os.Stat(f)
		if err != nil {
			return intakeFileError(err)
		}
		if st.IsDir() {
			return failed(exitUsage, "%s is a directory: give a Maildir with --mailbox %s", f, f)
		}
	}
	var maildirs [][]string
	for _, dir := range opts.mailbox {
		files, err := intake.MaildirFiles(dir)
		if errors.Is(err, intake.ErrNotMaildir) {
			return failed(exitUsage, "--mailbox %v", err)
		}
		if err != nil {
			return intakeFileError(err)
		}
		maildirs = append(maildirs, files)
	}
	im, done, err := openIntake(ctx, &opts.record, opts.dryRun, ios)
	if err != nil {
		return err
	}
	defer done()
	mo := intake.MailOptions{Severity: opts.severity, Owner: opts.owner, Tags: opts.tags}
	if err := checkIntakeFlags(ctx, im, incident.NewIncident{Title: "flags", Severity: mo.Severity, Owner: mo.Owner, Tags: mo.Tags}); err != nil {
		return err
	}
	err = func() error {
		for _, f := range opts.files {
			var raw *intake.RawMessage
			if f == "-" {
				data, err := io.ReadAll(ios.in)
				if err != nil {
					return fmt.Errorf("read standard input: %w", err)
				}
				raw = &intake.RawMessage{Place: "<stdin>", Data: data}
			} else if raw, err = intake.ReadMessageFile(f); err != nil {
				im.Reject(f, err.Error())
				continue
			}
			if err := im.Mail(ctx, raw, mo); err != nil {
				return err
			}
		}
		for _, files := range maildirs {
			for _, f := range files {
				raw, err := intake.ReadMessageFile(f)
				if err != nil {
					im.Reject(f, err.Error())
					continue
				}
				if err := im.Mail(ctx, raw, mo); err != nil {
					return err
				}
			}
		}
		for _, path := range opts.mbox {
			if err := intakeMbox(ctx, im, path, mo, ios); err != nil {
				return err
			}
		}
		return nil
	}()
	return finishIntake(im, err, ios)
}

func intakeMbox(ctx context.Context, im *intake.Importer, path string, mo intake.MailOptions, ios *ioStreams) error {
	var r io.Reader = ios.in
	name := "<stdin>"
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			im.Reject(path, err.Error())
			return nil
		}
		defer f.Close()
		r, name = f, path
	}
	mr := intake.NewMboxReader(r, name)
	for {
		raw, err := mr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			var perr *intake.PlaceError
			if errors.As(err, &perr) {
				im.Reject(perr.Place, perr.Err.Error())
			} else {
				im.Reject(name, err.Error())
			}
			return nil
		}
		if err := im.Mail(ctx, raw, mo); err != nil {
			return err
		}
	}
}

// checkIntakeFlags validates the values every incident gets from flags
// (severity, owner, tags) once, through the Recorder, so a bad flag is a
// usage error rather than every message rejected.
func checkIntakeFlags(ctx context.Context, im *intake.Importer, in incident.NewIncident) error {
	_, err := im.Recorder.Preview(ctx, im.By, in)
	var v *incident.ValidationError
	if errors.As(err, &v) {
		return failed(exitUsage, "--%s: %s", strings.ReplaceAll(v.Field, "person acting (--as)", "as"), v.Msg)
	}
	if err != nil {
		return failed(exitFailed, "%v", err)
	}
	return nil
}

func runIntakeForm(ctx context.Context, opts *intakeFormOptions, ios *ioStreams) error {
	m, err := intake.ParseMapping(opts.maps)
	if err != nil {
		return failed(exitUsage, "%v", err)
	}
	var r io.Reader = ios.in
	name := "<stdin>"
	if opts.file != "-" {
		f, err := os.Open(opts.file)
		if err != nil {
			return intakeFileError(err)
		}
		defer f.Close()
		r, name = f, opts.file
	}
	form, err := intake.ReadForm(r, m)
	var me *intake.MappingError
	if errors.As(err, &me) {
		return failed(exitUsage, "%s: %v", name, err)
	}
	if err != nil {
		return failed(exitFailed, "%s: %v", name, err)
	}
	im, done, err := openIntake(ctx, &opts.record, opts.dryRun, ios)
	if err != nil {
		return err
	}
	defer done()
	if err := checkIntakeFlags(ctx, im, incident.NewIncident{Title: "flags"}); err != nil {
		return err
	}
	return finishIntake(im, im.Form(ctx, name, form, strings.TrimSpace(opts.form)), ios)
}

// finishIntake prints the summary and maps the outcome to an exit code:
// 1 when anything was rejected or the intake stopped on an error.
func finishIntake(im *intake.Importer, err error, ios *ioStreams) error {
	summary := im.Summary.String()
	if im.DryRun {
		summary = "dry run, nothing recorded: would have " + summary
	}
	fmt.Fprintln(ios.out, summary)
	if err != nil {
		return failed(exitFailed, "intake stopped: %v", err)
	}
	if im.Rejected > 0 {
		return &exitError{code: exitFailed, err: fmt.Errorf("%d rejected", im.Rejected), printed: true}
	}
	return nil
}

// intakeFileError: a missing file or directory is "not found" (exit 3).
func intakeFileError(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return failed(exitNotFound, "%v", err)
	}
	return failed(exitFailed, "%v", err)
}
