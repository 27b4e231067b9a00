package incident_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/socq/socq/incident"
)

func TestRulesRunInOrderEachSeeingTheLast(t *testing.T) {
	rec, db := newRecorder(t)
	ctx := context.Background()
	rules := []incident.Rule{
		// Added first but ordered second: it sees the severity set by "raise".
		{Name: "triage", Trigger: "created", Order: 20, Condition: `Severity == "High"`, AddTasks: []incident.NewTask{{Title: "Isolate"}, {Title: "Notify", Description: "the CISO"}}},
		{Name: "raise", Trigger: "created", Order: 10, Condition: `Title has "ransomware"`, SetSeverity: "high", SetOwner: jonas},
		{Name: "on update", Trigger: "updated", Condition: `true`, AddTags: []string{"touched"}},
	}
	for _, r := range rules {
		if _, err := rec.AddRule(ctx, mei, r); err != nil {
			t.Fatal(err)
		}
	}
	inc := mustCreate(t, rec, incident.NewIncident{Title: "Ransomware on FS01"})
	if inc.Severity != "High" || inc.Owner.String() != "Jonas Becker" || len(inc.Tasks) != 2 || inc.ModifiedBy != "Automation rule - triage" {
		t.Fatalf("after rules: %s %s %d tasks, by %s", inc.Severity, inc.Owner, len(inc.Tasks), inc.ModifiedBy)
	}
	task := inc.Tasks[1]
	if task.CreatedBy.Name != "triage" || task.CreatedBy.UserPrincipalName != nil || task.Description != "the CISO" {
		t.Errorf("rule task %+v", task)
	}
	rows := kql(t, db, `SecurityIncident | sort by TimeGenerated asc | project ModifiedBy, Severity`)
	var by []string
	for _, r := range rows {
		by = append(by, r["ModifiedBy"].(string))
	}
	if got := strings.Join(by, ", "); got != "mei.lin@contoso.com, Automation rule - raise, Automation rule - triage" {
		t.Errorf("rows by %s", got)
	}
	// Task changes do not trigger rules; an update does, once: the rule's
	// own row does not trigger it again.
	if _, _, err := rec.AddTask(ctx, mei, inc.Number, incident.NewTask{Title: "x"}); err != nil {
		t.Fatal(err)
	}
	got, err := rec.Update(ctx, mei, inc.Number, incident.Change{Status: ptr("Active")})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.TagNames(), ",") != "touched" || got.Labels[0].Type != "AutoAssigned" {
		t.Errorf("labels %+v", got.Labels)
	}
	if n := rowCount(t, db, inc.Number); n != 6 {
		t.Errorf("%d rows, want 6 (create, 2 rules, task, update, 1 rule run)", n)
	}
	// A rule whose actions change nothing writes no row.
	if _, err := rec.Update(ctx, mei, inc.Number, incident.Change{Severity: ptr("Low")}); err != nil {
		t.Fatal(err)
	}
	if n := rowCount(t, db, inc.Number); n != 7 {
		t.Errorf("%d rows, want 7", n)
	}
}

func TestRuleValidation(t *testing.T) {
	rec, _ := newRecorder(t)
	ctx := context.Background()
	ok := incident.Rule{Name: "r", Trigger: "created", Condition: "true", AddTags: []string{"x"}}
	cases := []struct {
		name   string
		change func(*incident.Rule)
		field  string
		msg    string
	}{
		{"no name", func(r *incident.Rule) { r.Name = " " }, "rule name", "required"},
		{"bad trigger", func(r *incident.Rule) { r.Trigger = "closed" }, "rule trigger", "created or updated"},
		{"no condition", func(r *incident.Rule) { r.Condition = "" }, "condition", "required"},
		{"pipe in condition", func(r *incident.Rule) { r.Condition = "true | take 1" }, "condition", "one predicate"},
		{"no action", func(r *incident.Rule) { r.AddTags = nil }, "rule actions", "does nothing"},
		{"bad order", func(r *incident.Rule) { r.Order = 1001 }, "rule order", "1 to 1000"},
		{"bad severity", func(r *incident.Rule) { r.SetSeverity = "urgent" }, "severity", "not one of"},
		{"bad owner", func(r *incident.Rule) { r.SetOwner = "a@b" }, "rule owner", "not an email"},
		{"empty task", func(r *incident.Rule) { r.AddTasks = []incident.NewTask{{Title: " "}} }, "rule task title", "required"},
		{"empty tag", func(r *incident.Rule) { r.AddTags = []string{""} }, "tag", "must not be empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := ok
			r.AddTags = []string{"x"}
			tc.change(&r)
			_, err := rec.AddRule(ctx, mei, r)
			wantInvalid(t, err, tc.field, tc.msg)
		})
	}
	_, err := rec.AddRule(ctx, mei, incident.Rule{Name: "r", Trigger: "created", Condition: `Titel has "x"`, AddTags: []string{"x"}})
	var cerr *incident.ConditionError
	if !errors.As(err, &cerr) || !strings.Contains(err.Error(), "did you mean 'Title'") || !strings.Contains(err.Error(), "^^^^^") {
		t.Errorf("unknown column: %v", err)
	}
	if _, err := rec.SetRuleEnabled(ctx, "nope", false); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("disable unknown rule: %v", err)
	}
}

func TestHistoryOfIngestedIncident(t *testing.T) {
	rec, db := newRecorder(t)
	withFixture(t, db)
	ctx := context.Background()
	events, err := rec.History(ctx, incident.HistoryFilter{By: "Mei Lin"}) // found under her UPN too
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		got = append(got, e.Time.Format("15:04:05")+" #"+itoa(e.IncidentNumber)+" "+e.Change+": "+e.Detail)
	}
	want := []string{
		"09:05:00 #2 status: New → Active",
		"09:05:00 #2 owner: unassigned → Mei Lin",
		"09:20:31 #2 task added: Ask the user whether they clicked the link",
		"10:02:45 #2 task completed: Review the reported message headers",
		"10:30:00 #2 task reopened: Review the reported message headers",
		"11:11:11 #2 task deleted: Ask the user whether they clicked the link",
		"11:45:00 #2 tag added: VIP",
		"07:45:30 #5 created: Medium, New, Mei Lin",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	events, err = rec.History(ctx, incident.HistoryFilter{IncidentNumber: 1})
	if err != nil {
		t.Fatal(err)
	}
	var changes []string
	for _, e := range events {
		changes = append(changes, e.Change)
	}
	if got := strings.Join(changes, ","); got != "created,status,owner,status,classification" {
		t.Errorf("incident 1: %s", got)
	}
}
