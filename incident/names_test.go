package incident_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/socq/socq/incident"
)

// TestChosenNames: the REST API's PUT names a new incident and a new task
// with a GUID of the caller's; the Recorder keeps it, canonical, and
// refuses anything else.
func TestChosenNames(t *testing.T) {
	ctx := context.Background()
	rec, _ := newRecorder(t)
	inc, err := rec.Create(ctx, mei, incident.NewIncident{Title: "Named", Name: "6F1A7C38-2B1E-4A55-9A41-0C8D1E2F3A4B"})
	if err != nil {
		t.Fatal(err)
	}
	if inc.Name != "6f1a7c38-2b1e-4a55-9a41-0c8d1e2f3a4b" {
		t.Errorf("name %q, want the GUID in canonical form", inc.Name)
	}
	_, task, err := rec.AddTask(ctx, mei, inc.Number, incident.NewTask{Title: "Named task", ID: "11111111-2222-4333-8444-555555555555"})
	if err != nil || task.ID != "11111111-2222-4333-8444-555555555555" {
		t.Fatalf("task %+v, %v", task, err)
	}
	if _, err := rec.Delete(ctx, mei, inc.Number, ""); err != nil {
		t.Fatal(err)
	}
	other, err := rec.Create(ctx, mei, incident.NewIncident{Title: "Other"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		err   func() error
		field string
		msg   string
	}{
		{"name not a GUID", func() error {
			_, err := rec.Create(ctx, mei, incident.NewIncident{Title: "x", Name: "incident-7"})
			return err
		}, "name", `"incident-7" is not a GUID`},
		{"name of a deleted incident", func() error {
			_, err := rec.Create(ctx, mei, incident.NewIncident{Title: "x", Name: inc.Name})
			return err
		}, "name", "is the name of an incident already"},
		{"task id not a GUID", func() error {
			_, _, err := rec.AddTask(ctx, mei, other.Number, incident.NewTask{Title: "x", ID: "task-1"})
			return err
		}, "task id", `"task-1" is not a GUID`},
		{"task id taken", func() error {
			if _, _, err := rec.AddTask(ctx, mei, other.Number, incident.NewTask{Title: "x", ID: "22222222-2222-4333-8444-555555555555"}); err != nil {
				return err
			}
			_, _, err := rec.AddTask(ctx, mei, other.Number, incident.NewTask{Title: "y", ID: "22222222-2222-4333-8444-555555555555"})
			return err
		}, "task id", "has a task 22222222-2222-4333-8444-555555555555 already"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.err()
			var ve *incident.ValidationError
			if !errors.As(err, &ve) || ve.Field != tt.field || !strings.Contains(ve.Msg, tt.msg) {
				t.Errorf("error %v, want %s: …%s…", err, tt.field, tt.msg)
			}
		})
	}
}

func TestGetByName(t *testing.T) {
	ctx := context.Background()
	rec, _ := newRecorder(t)
	inc, err := rec.Create(ctx, mei, incident.NewIncident{Title: "Named", Name: "6f1a7c38-2b1e-4a55-9a41-0c8d1e2f3a4b"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := rec.GetByName(ctx, "6F1A7C38-2B1E-4A55-9A41-0C8D1E2F3A4B")
	if err != nil || got.Number != inc.Number || got.Etag != inc.Etag {
		t.Fatalf("GetByName: %+v, %v", got, err)
	}
	if _, err := rec.GetByName(ctx, "00000000-0000-4000-8000-000000000000"); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("unknown name: %v", err)
	}
	var ve *incident.ValidationError
	if _, err := rec.GetByName(ctx, "nope"); !errors.As(err, &ve) || ve.Field != "name" {
		t.Errorf("not a GUID: %v", err)
	}
	if _, err := rec.Delete(ctx, mei, inc.Number, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := rec.GetByName(ctx, inc.Name); !errors.Is(err, incident.ErrNotFound) || !strings.Contains(err.Error(), "was deleted by") {
		t.Errorf("deleted: %v", err)
	}
}
