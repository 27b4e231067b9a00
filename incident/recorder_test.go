package incident_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/socq/socq/engine"
	"github.com/socq/socq/incident"
)

// clock is a fake clock: each reading is one minute after the last.
type clock struct{ t time.Time }

func (c *clock) now() time.Time {
	c.t = c.t.Add(time.Minute)
	return c.t
}

func newRecorder(t *testing.T) (*incident.Recorder, *engine.DB) {
	t.Helper()
	db, err := engine.Open(context.Background(), "", engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := &clock{t: time.Date(2026, 10, 5, 9, 0, 0, 0, time.UTC)}
	return incident.NewRecorder(db, incident.Options{Now: c.now}), db
}

func ptr[T any](v T) *T { return &v }

const mei = "mei.lin@contoso.com"

func TestSmoke(t *testing.T) {
	ctx := context.Background()
	rec, db := newRecorder(t)
	inc, err := rec.Create(ctx, mei, incident.NewIncident{Title: "  Phishing  ", Severity: "high", Owner: "jonas.becker@contoso.com", Tags: []string{"VIP"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", inc)
	inc, task, err := rec.AddTask(ctx, mei, inc.Number, incident.NewTask{Title: "Call"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := rec.CompleteTask(ctx, mei, inc.Number, "1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := rec.DeleteTask(ctx, mei, inc.Number, task.ID[:6]); err != nil {
		t.Fatal(err)
	}
	if _, err := rec.Close(ctx, mei, inc.Number, incident.Closing{Classification: "false-positive"}); err == nil {
		t.Fatal("closed without reason")
	} else {
		t.Log(err)
	}
	inc, err = rec.Close(ctx, mei, inc.Number, incident.Closing{Classification: "true-positive", Comment: "ok"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = rec.Update(ctx, mei, inc.Number, incident.Change{Severity: ptr("low"), IfMatch: "abc"})
	var stale *incident.StaleError
	if !errors.As(err, &stale) {
		t.Fatal(err)
	}
	t.Log(err)
	changes, err := db.TaskChanges(ctx, engine.TaskChangeFilter{ChangesOnly: true})
	t.Logf("%+v %v", changes, err)
}

func TestRuleSmoke(t *testing.T) {
	ctx := context.Background()
	rec, db := newRecorder(t)
	if _, err := rec.AddRule(ctx, mei, incident.Rule{Name: "High triage", Trigger: "created", Condition: `Severity == "High"`,
		AddTasks: []incident.NewTask{{Title: "Isolate"}, {Title: "Notify", Description: "the CISO"}}, AddTags: []string{"triage"}}); err != nil {
		t.Fatal(err)
	}
	_, err := rec.AddRule(ctx, mei, incident.Rule{Name: "bad", Trigger: "created", Condition: `Severty == "High"`, AddTags: []string{"x"}})
	t.Log(err)
	inc, err := rec.Create(ctx, mei, incident.NewIncident{Title: "A", Severity: "High"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s %v %v", inc.ModifiedBy, inc.Tasks, inc.Labels)
	low, err := rec.Create(ctx, mei, incident.NewIncident{Title: "B"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s %v %v", low.ModifiedBy, low.Tasks, low.Labels)
	changes, err := db.TaskChanges(ctx, engine.TaskChangeFilter{ChangesOnly: true})
	t.Logf("%+v %v", changes, err)
}
