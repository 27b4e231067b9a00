// Package intake turns requests into incidents, as Sentinel's "create an
// incident from a shared mailbox / a form submission" automation templates
// do, without a workflow engine: each email message (a .eml file, a Maildir
// or an mbox) or form response (CSV or JSON export) becomes an incident
// through incident.Recorder.Create, so it gets the same validation, the
// same snapshot rows and the same automation rules as any other.
//
// The parts:
//
//	ParseMessage(raw)            an email → Message (decoded subject, sender,
//	                             Message-ID, readable body, attachments)
//	Message.NewIncident          → incident.NewIncident (tags from-mail and
//	                             from:<address>; AdditionalData.socqSource)
//	MaildirFiles, MboxReader     where messages come from
//	ReadForm(r, mapping)         a form export → Submissions and rejected rows
//	Importer.Add                 creates (or, dry run, previews) one incident;
//	                             an already imported Message-ID or form id is
//	                             skipped (incident.DuplicateError)
package intake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/socq/socq/incident"
)

// Summary counts what an intake did.
type Summary struct {
	Created  int // created, or would be created in a dry run
	Skipped  int // already imported (same Message-ID or form id)
	Rejected int // could not be read, or refused by the Recorder
}

// Importer records incidents through a Recorder and reports each one: a
// line on Out for each incident created (or that would be) and each skipped,
// a line "PLACE: reason" on Err for each rejected.
type Importer struct {
	Recorder *incident.Recorder
	By       string // the person running the intake
	DryRun   bool   // preview only: validate and run the rules, record nothing
	Out, Err io.Writer

	Summary
	seen  map[string]seenID // external ids met in this run
	known map[string]int64  // external ids recorded before the run, read once
}

type seenID struct {
	place  string
	number int64
}

// Add creates the incident in read at place. Only a failure that stops
// the intake (the database, an interrupt) is returned; a refused incident
// is reported and counted.
func (im *Importer) Add(ctx context.Context, place string, in incident.NewIncident) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if im.seen == nil {
		im.seen = map[string]seenID{}
	}
	if id := in.ExternalID; id != "" {
		// Most of a mailbox read again was imported before: skip those
		// without a transaction each. Create still checks, atomically,
		// for what was recorded since.
		if im.known == nil {
			known, err := im.Recorder.ExternalIDs(ctx, "")
			if err != nil {
				return err
			}
			im.known = known
		}
		if number, ok := im.known[id]; ok {
			im.Skipped++
			fmt.Fprintf(im.Out, "skipped %s: already imported as incident %d (%s)\n", place, number, id)
			return nil
		}
		if s, ok := im.seen[id]; ok {
			im.Skipped++
			if im.DryRun {
				fmt.Fprintf(im.Out, "skipped %s: %s (already read from %s)\n", place, id, s.place)
			} else {
				fmt.Fprintf(im.Out, "skipped %s: already imported as incident %d (%s, from %s)\n", place, s.number, id, s.place)
			}
			return nil
		}
	}
	create := im.Recorder.Create
	if im.DryRun {
		create = im.Recorder.Preview
	}
	inc, err := create(ctx, im.By, in)
	var dup *incident.DuplicateError
	var invalid *incident.ValidationError
	switch {
	case errors.As(err, &dup):
		im.Skipped++
		fmt.Fprintf(im.Out, "skipped %s: already imported as incident %d (%s)\n", place, dup.Number, dup.ExternalID)
		return nil
	case errors.As(err, &invalid):
		im.Reject(place, err.Error())
		return nil
	case err != nil:
		return fmt.Errorf("%s: %w", place, err)
	}
	number := inc.Number
	verb := "created"
	if im.DryRun {
		// A preview allocates nothing: the incidents this run would create
		// before this one take the numbers after the database's last.
		number += int64(im.Created)
		verb = "would create"
	}
	im.Created++
	if in.ExternalID != "" {
		im.seen[in.ExternalID] = seenID{place: place, number: number}
	}
	fmt.Fprintf(im.Out, "%s incident %d from %s: %q (%s)\n", verb, number, place, inc.Title, details(inc))
	return nil
}

// Reject reports and counts an item that did not become an incident.
func (im *Importer) Reject(place, reason string) {
	im.Rejected++
	fmt.Fprintf(im.Err, "%s: %s\n", place, reason)
}

// details is an incident's severity, owner, tags and tasks, in one line.
func details(inc *incident.Incident) string {
	parts := []string{inc.Severity}
	if o := inc.Owner.String(); o != "" {
		parts = append(parts, "owner "+o)
	}
	if tags := inc.TagNames(); len(tags) > 0 {
		parts = append(parts, "tags "+strings.Join(tags, ", "))
	}
	if len(inc.Tasks) > 0 {
		titles := make([]string, len(inc.Tasks))
		for i, t := range inc.Tasks {
			titles[i] = fmt.Sprintf("%q", t.Title)
		}
		parts = append(parts, "tasks "+strings.Join(titles, ", "))
	}
	return strings.Join(parts, "; ")
}

// String is the summary line.
func (s Summary) String() string {
	return fmt.Sprintf("created %d, skipped as already imported %d, rejected %d", s.Created, s.Skipped, s.Rejected)
}

// Mail reads one message and adds its incident.
func (im *Importer) Mail(ctx context.Context, raw *RawMessage, opts MailOptions) error {
	m, err := ParseMessage(raw.Data)
	if err != nil {
		var me *MalformedError
		if errors.As(err, &me) {
			im.Reject(raw.Place, me.Reason)
			return nil
		}
		return err
	}
	return im.Add(ctx, raw.Place, m.NewIncident(raw.Place, opts))
}

// Form adds the incidents of a form export read from file, reporting its
// unreadable rows as FILE:LINE.
func (im *Importer) Form(ctx context.Context, file string, f *Form, formName string) error {
	// Rows in file order, rejected ones among them.
	ri := 0
	for _, s := range f.Submissions {
		for ; ri < len(f.Rejects) && f.Rejects[ri].Line < s.Line; ri++ {
			im.Reject(fmt.Sprintf("%s:%d", file, f.Rejects[ri].Line), f.Rejects[ri].Reason)
		}
		place := fmt.Sprintf("%s:%d", file, s.Line)
		if err := im.Add(ctx, place, s.NewIncident(formName, file)); err != nil {
			return err
		}
	}
	for ; ri < len(f.Rejects); ri++ {
		im.Reject(fmt.Sprintf("%s:%d", file, f.Rejects[ri].Line), f.Rejects[ri].Reason)
	}
	return nil
}
