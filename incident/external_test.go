package incident_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/socq/socq/incident"
)

func TestExternalID(t *testing.T) {
	ctx := context.Background()
	rec, _ := newRecorder(t)
	in := incident.NewIncident{Title: "Suspicious mail", ExternalID: "mail:<a1@contoso.com>",
		Source: map[string]any{"kind": "mail", "from": "ana@contoso.com"}}
	first, err := rec.Create(ctx, mei, in)
	if err != nil {
		t.Fatal(err)
	}
	var ad struct {
		AlertsCount *int           `json:"alertsCount"`
		ExternalID  string         `json:"socqExternalId"`
		Source      map[string]any `json:"socqSource"`
	}
	if err := json.Unmarshal(first.AdditionalData(), &ad); err != nil {
		t.Fatal(err)
	}
	if ad.AlertsCount == nil || ad.ExternalID != in.ExternalID || ad.Source["from"] != "ana@contoso.com" {
		t.Errorf("AdditionalData = %s", first.AdditionalData())
	}
	// Read back from the row, not just the value Create returned.
	got, err := rec.Get(ctx, first.Number)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.AdditionalData()) == "" || !json.Valid(got.AdditionalData()) {
		t.Errorf("stored AdditionalData = %q", got.AdditionalData())
	}

	_, err = rec.Create(ctx, mei, in)
	var dup *incident.DuplicateError
	if !errors.As(err, &dup) || dup.Number != first.Number || dup.ExternalID != in.ExternalID {
		t.Fatalf("second create: %v, want a DuplicateError naming incident %d", err, first.Number)
	}
	// A deleted incident still holds its external id: intake must not
	// bring back what someone deleted.
	if _, err := rec.Delete(ctx, mei, first.Number, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := rec.Create(ctx, mei, in); !errors.As(err, &dup) {
		t.Fatalf("create after delete: %v, want a DuplicateError", err)
	}
	other, err := rec.Create(ctx, mei, incident.NewIncident{Title: "Other", ExternalID: "form:17"})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := rec.ExternalIDs(ctx, "mail:")
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || ids[in.ExternalID] != first.Number {
		t.Errorf("ExternalIDs(mail:) = %v", ids)
	}
	ids, err = rec.ExternalIDs(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 || ids["form:17"] != other.Number {
		t.Errorf("ExternalIDs() = %v", ids)
	}
	if _, err := rec.Create(ctx, mei, incident.NewIncident{Title: "x", ExternalID: "a\nb"}); err == nil {
		t.Error("an external id with a line break was accepted")
	}
}

func TestPreview(t *testing.T) {
	ctx := context.Background()
	rec, _ := newRecorder(t)
	if _, err := rec.AddRule(ctx, mei, incident.Rule{Name: "Mail triage", Trigger: "created", Condition: `Labels has "from-mail"`,
		AddTasks: []incident.NewTask{{Title: "Reply to reporter"}}}); err != nil {
		t.Fatal(err)
	}
	in := incident.NewIncident{Title: "Phish?", Tags: []string{"from-mail"}, ExternalID: "mail:<p@x.org>"}
	p, err := rec.Preview(ctx, mei, in)
	if err != nil {
		t.Fatal(err)
	}
	if p.Number != 1 || len(p.Tasks) != 1 || p.Tasks[0].Title != "Reply to reporter" {
		t.Errorf("preview = #%d tasks %v, want #1 with the rule's task", p.Number, p.Tasks)
	}
	all, err := rec.List(ctx, incident.ListFilter{All: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 0 {
		t.Fatalf("preview recorded %d incidents", len(all))
	}
	if _, err := rec.Preview(ctx, mei, incident.NewIncident{Title: " ", Severity: "High"}); err == nil {
		t.Error("preview accepted an empty title")
	}
	created, err := rec.Create(ctx, mei, in)
	if err != nil {
		t.Fatal(err)
	}
	if created.Number != 1 {
		t.Errorf("create after preview got number %d, want 1 (a preview allocates nothing)", created.Number)
	}
	var dup *incident.DuplicateError
	if _, err := rec.Preview(ctx, mei, in); !errors.As(err, &dup) {
		t.Errorf("preview of a recorded external id: %v, want a DuplicateError", err)
	}
}
