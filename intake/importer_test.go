package intake_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/socq/socq/engine"
	"github.com/socq/socq/incident"
	"github.com/socq/socq/intake"
)

const analyst = "mei.lin@contoso.com"

func newImporter(t *testing.T, dryRun bool) (*intake.Importer, *incident.Recorder, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	db, err := engine.Open(context.Background(), "", engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	rec := incident.NewRecorder(db, incident.Options{Now: func() time.Time { at = at.Add(time.Second); return at }})
	var out, errs bytes.Buffer
	return &intake.Importer{Recorder: rec, By: analyst, DryRun: dryRun, Out: &out, Err: &errs}, rec, &out, &errs
}

func mailFiles(t *testing.T, names ...string) []*intake.RawMessage {
	t.Helper()
	var out []*intake.RawMessage
	for _, n := range names {
		raw, err := intake.ReadMessageFile(filepath.Join("../testdata/intake", n))
		if err != nil {
			t.Fatal(err)
		}
		raw.Place = n
		out = append(out, raw)
	}
	return out
}

// TestMailIntakeRunsRules: intake-created incidents go through Create, so
// automation rules run on them: a rule adds "Reply to reporter" to every
// incident tagged from-mail, and its change is recorded as the rule's.
func TestMailIntakeRunsRules(t *testing.T) {
	ctx := context.Background()
	im, rec, out, errs := newImporter(t, false)
	if _, err := rec.AddRule(ctx, analyst, incident.Rule{Name: "Mail triage", Trigger: incident.TriggerCreated,
		Condition: `Labels has "from-mail"`, AddTasks: []incident.NewTask{{Title: "Reply to reporter"}}}); err != nil {
		t.Fatal(err)
	}
	for _, raw := range mailFiles(t, "alternative-qp.eml", "malformed-header.eml", "no-subject.eml") {
		if err := im.Mail(ctx, raw, intake.MailOptions{Severity: "low", Tags: []string{"phishing-report"}}); err != nil {
			t.Fatal(err)
		}
	}
	if im.Summary != (intake.Summary{Created: 2, Rejected: 1}) {
		t.Errorf("summary %+v", im.Summary)
	}
	if got := errs.String(); got != "malformed-header.eml: malformed header line: X-Mailer this line has no colon\n" {
		t.Errorf("stderr %q", got)
	}
	if !strings.Contains(out.String(), `created incident 1 from alternative-qp.eml: "Suspicious sign-in prompt on my laptop" (Low; tags from-mail, from:jonas.becker@contoso.com, phishing-report; tasks "Reply to reporter")`) {
		t.Errorf("stdout %s", out)
	}
	all, err := rec.List(ctx, incident.ListFilter{All: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 {
		t.Fatalf("%d incidents", len(all))
	}
	for _, inc := range all {
		if len(inc.Tasks) != 1 || inc.Tasks[0].Title != "Reply to reporter" || inc.Tasks[0].CreatedBy.Name != "Mail triage" {
			t.Errorf("incident %d tasks %+v", inc.Number, inc.Tasks)
		}
		if inc.ModifiedBy != incident.RuleModifiedBy("Mail triage") || inc.Severity != "Low" {
			t.Errorf("incident %d modified by %q severity %s", inc.Number, inc.ModifiedBy, inc.Severity)
		}
	}
	nosub := all[0] // newest first
	if nosub.Title != "(no subject) from amir.haddad@contoso.com" {
		t.Errorf("title %q", nosub.Title)
	}
	var ad struct {
		ExternalID string         `json:"socqExternalId"`
		Source     map[string]any `json:"socqSource"`
	}
	if err := json.Unmarshal(nosub.AdditionalData(), &ad); err != nil {
		t.Fatal(err)
	}
	if ad.ExternalID != "mail:<nosubject-77@contoso.com>" || ad.Source["messageId"] != "<nosubject-77@contoso.com>" ||
		ad.Source["from"] != "amir.haddad@contoso.com" || ad.Source["kind"] != "mail" {
		t.Errorf("AdditionalData %s", nosub.AdditionalData())
	}

	// Running again skips what was imported and creates nothing.
	im2 := &intake.Importer{Recorder: rec, By: analyst, Out: out, Err: errs}
	out.Reset()
	for _, raw := range mailFiles(t, "alternative-qp.eml", "no-subject.eml") {
		if err := im2.Mail(ctx, raw, intake.MailOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if im2.Summary != (intake.Summary{Skipped: 2}) {
		t.Errorf("re-run summary %+v", im2.Summary)
	}
	if !strings.Contains(out.String(), "skipped no-subject.eml: already imported as incident 2 (mail:<nosubject-77@contoso.com>)") {
		t.Errorf("re-run stdout %s", out)
	}
}

// TestDryRunRecordsNothing: a dry run validates, runs the rules and
// numbers the incidents it would create, and writes no row.
func TestDryRunRecordsNothing(t *testing.T) {
	ctx := context.Background()
	im, rec, out, _ := newImporter(t, true)
	if _, err := rec.AddRule(ctx, analyst, incident.Rule{Name: "Mail triage", Trigger: incident.TriggerCreated,
		Condition: `Labels has "from-mail"`, AddTasks: []incident.NewTask{{Title: "Reply to reporter"}}}); err != nil {
		t.Fatal(err)
	}
	raws := mailFiles(t, "subject-utf8.eml", "subject-latin1.eml", "subject-utf8.eml")
	for _, raw := range raws {
		if err := im.Mail(ctx, raw, intake.MailOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	want := `would create incident 1 from subject-utf8.eml: "Verdächtige Anmeldung – Konto gesperrt 🔒" (Medium; tags from-mail, from:zoe.mueller@contoso.com; tasks "Reply to reporter")
would create incident 2 from subject-latin1.eml: "Problème de sécurité : clé USB trouvée" (Medium; tags from-mail, from:renee.lefevre@contoso.fr; tasks "Reply to reporter")
skipped subject-utf8.eml: mail:<b7c1e2d4-utf8@contoso.com> (already read from subject-utf8.eml)
`
	if out.String() != want {
		t.Errorf("stdout\n%s\nwant\n%s", out, want)
	}
	if im.Summary != (intake.Summary{Created: 2, Skipped: 1}) {
		t.Errorf("summary %+v", im.Summary)
	}
	all, err := rec.List(ctx, incident.ListFilter{All: true})
	if err != nil || len(all) != 0 {
		t.Fatalf("dry run recorded %d incidents (%v)", len(all), err)
	}
}

// TestFormIntake: rows validated by the Recorder exactly as incident
// create does; bad rows reported FILE:LINE and skipped; an id imported
// before skipped.
func TestFormIntake(t *testing.T) {
	ctx := context.Background()
	im, rec, out, errs := newImporter(t, false)
	data, err := os.ReadFile("../testdata/intake/responses.csv")
	if err != nil {
		t.Fatal(err)
	}
	form, err := intake.ReadForm(bytes.NewReader(data), intake.Mapping{"description": "What happened?"})
	if err != nil {
		t.Fatal(err)
	}
	if err := im.Form(ctx, "responses.csv", form, ""); err != nil {
		t.Fatal(err)
	}
	if im.Summary != (intake.Summary{Created: 3, Rejected: 2}) {
		t.Errorf("summary %+v", im.Summary)
	}
	wantErr := `responses.csv:5: severity: "urgent" is not one of High, Medium, Low, Informational
responses.csv:6: title: is required and must not be empty
`
	if errs.String() != wantErr {
		t.Errorf("stderr\n%s\nwant\n%s", errs, wantErr)
	}
	inc, err := rec.Get(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Severity "high" stored in its canonical spelling.
	if inc.Title != "Lost laptop" || inc.Severity != "High" || inc.Description != "Left it in a taxi.\nThe taxi company has it now." ||
		strings.Join(inc.TagNames(), ",") != "from-form,device,lost" {
		t.Errorf("incident 1: %+v", inc)
	}

	im2 := &intake.Importer{Recorder: rec, By: analyst, Out: out, Err: errs}
	if err := im2.Form(ctx, "responses.csv", form, ""); err != nil {
		t.Fatal(err)
	}
	if im2.Summary != (intake.Summary{Skipped: 3, Rejected: 2}) {
		t.Errorf("re-run summary %+v", im2.Summary)
	}
	// The same ids from another form are other responses.
	im3 := &intake.Importer{Recorder: rec, By: analyst, Out: out, Err: errs}
	if err := im3.Form(ctx, "responses.csv", form, "other-form"); err != nil {
		t.Fatal(err)
	}
	if im3.Created != 3 {
		t.Errorf("--form other-form created %d", im3.Created)
	}
}

// TestFormRowRefusedByRecorder: the owner of a row is checked by the
// Recorder, not by intake.
func TestFormRowRefusedByRecorder(t *testing.T) {
	ctx := context.Background()
	im, _, _, errs := newImporter(t, false)
	form, err := intake.ReadForm(strings.NewReader("title,owner,tags\nA,not an@address,\nB,,\"a\nb\"\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := im.Form(ctx, "f.csv", form, ""); err != nil {
		t.Fatal(err)
	}
	if im.Rejected != 1 || im.Created != 1 || !strings.HasPrefix(errs.String(), "f.csv:2: owner: ") {
		t.Errorf("summary %+v stderr %q", im.Summary, errs)
	}
}

// TestConcurrentIntake: a message another intake recorded after this one
// started is still skipped (the Recorder checks in its transaction).
func TestConcurrentIntake(t *testing.T) {
	ctx := context.Background()
	first, rec, out, errs := newImporter(t, false)
	raws := mailFiles(t, "no-subject.eml", "subject-utf8.eml")
	if err := first.Mail(ctx, raws[0], intake.MailOptions{}); err != nil {
		t.Fatal(err)
	}
	second := &intake.Importer{Recorder: rec, By: "jonas.becker@contoso.com", Out: &bytes.Buffer{}, Err: &bytes.Buffer{}}
	if err := second.Mail(ctx, raws[1], intake.MailOptions{}); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := first.Mail(ctx, raws[1], intake.MailOptions{}); err != nil {
		t.Fatal(err)
	}
	if first.Summary != (intake.Summary{Created: 1, Skipped: 1}) || second.Created != 1 || errs.Len() != 0 {
		t.Errorf("first %+v second %+v stderr %q", first.Summary, second.Summary, errs)
	}
	if got := out.String(); got != "skipped subject-utf8.eml: already imported as incident 2 (mail:<b7c1e2d4-utf8@contoso.com>)\n" {
		t.Errorf("stdout %q", got)
	}
}

// TestFormWithoutIDColumn: without an id column the same export read
// again is still skipped, row by row, by the rows' values.
func TestFormWithoutIDColumn(t *testing.T) {
	ctx := context.Background()
	im, rec, out, _ := newImporter(t, false)
	csv := "Timestamp,Title,Severity\n2026-12-01 09:00,Lost badge,low\n2026-12-01 09:05,Lost badge,low\n"
	read := func(data string) *intake.Form {
		f, err := intake.ReadForm(strings.NewReader(data), nil)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	if err := im.Form(ctx, "a.csv", read(csv), ""); err != nil {
		t.Fatal(err)
	}
	again := &intake.Importer{Recorder: rec, By: analyst, Out: out, Err: out}
	if err := again.Form(ctx, "a.csv", read(csv+"2026-12-02 10:00,Tailgating,high\n"), ""); err != nil {
		t.Fatal(err)
	}
	if im.Created != 2 || again.Summary != (intake.Summary{Created: 1, Skipped: 2}) {
		t.Errorf("first %+v, again %+v\n%s", im.Summary, again.Summary, out)
	}
}
