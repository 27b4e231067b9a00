package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/socq/socq/engine"
)

// TestTaskChangesFixture derives the task changes of the fixture history:
// incident 2 carries the whole task story (two rule-added tasks, an
// analyst's task, a playbook completion, complete, reopen, delete).
func TestTaskChangesFixture(t *testing.T) {
	db := fixtureDB(t)
	got, err := db.TaskChanges(context.Background(), engine.TaskChangeFilter{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`08:30:12.5 #2 New 9e01 New added by "Phishing triage tasks" "" created by "Phishing triage tasks" completed -`,
		`08:30:12.5 #2 New 9e02 New added by "Phishing triage tasks" "" created by "Phishing triage tasks" completed -`,
		`09:05:00 #2 Active 9e01 New unchanged by "Phishing triage tasks" "" created by "Phishing triage tasks" completed -`,
		`09:05:00 #2 Active 9e02 New unchanged by "Phishing triage tasks" "" created by "Phishing triage tasks" completed -`,
		`09:20:31.1234567 #2 Active 9e01 New unchanged by "Phishing triage tasks" "" created by "Phishing triage tasks" completed -`,
		`09:20:31.1234567 #2 Active 9e02 New unchanged by "Phishing triage tasks" "" created by "Phishing triage tasks" completed -`,
		`09:20:31.1234567 #2 Active 9e03 New added by "Mei Lin" "mei.lin@contoso.com" created by "Mei Lin" completed -`,
		`09:21:02 #2 Active 9e01 New unchanged by "Phishing triage tasks" "" created by "Phishing triage tasks" completed -`,
		`09:21:02 #2 Active 9e02 Completed completed by "Block sender" "" created by "Phishing triage tasks" completed 09:21:02`,
		`09:21:02 #2 Active 9e03 New unchanged by "Mei Lin" "mei.lin@contoso.com" created by "Mei Lin" completed -`,
		`10:02:45.5 #2 Active 9e01 Completed completed by "Mei Lin" "mei.lin@contoso.com" created by "Phishing triage tasks" completed 10:02:45.5`,
		`10:02:45.5 #2 Active 9e02 Completed unchanged by "Block sender" "" created by "Phishing triage tasks" completed 09:21:02`,
		`10:02:45.5 #2 Active 9e03 New unchanged by "Mei Lin" "mei.lin@contoso.com" created by "Mei Lin" completed -`,
		`10:30:00 #2 Active 9e01 New reopened by "Mei Lin" "mei.lin@contoso.com" created by "Phishing triage tasks" completed 10:02:45.5`,
		`10:30:00 #2 Active 9e02 Completed unchanged by "Block sender" "" created by "Phishing triage tasks" completed 09:21:02`,
		`10:30:00 #2 Active 9e03 New unchanged by "Mei Lin" "mei.lin@contoso.com" created by "Mei Lin" completed -`,
		`11:11:11.1111111 #2 Active 9e01 New unchanged by "Mei Lin" "mei.lin@contoso.com" created by "Phishing triage tasks" completed 10:02:45.5`,
		`11:11:11.1111111 #2 Active 9e02 Completed unchanged by "Block sender" "" created by "Phishing triage tasks" completed 09:21:02`,
		`11:11:11.1111111 #2 Active 9e03 Deleted deleted by "Mei Lin" "mei.lin@contoso.com" created by "Mei Lin" completed -`,
		`11:45:00 #2 Active 9e01 New unchanged by "Mei Lin" "mei.lin@contoso.com" created by "Phishing triage tasks" completed 10:02:45.5`,
		`11:45:00 #2 Active 9e02 Completed unchanged by "Block sender" "" created by "Phishing triage tasks" completed 09:21:02`,
	}
	compareLines(t, got, want)
	for _, c := range got {
		if c.IncidentName != "7c2d9e4f-1a3b-4c5d-8e6f-0a1b2c3d4e52" || c.Title != "Phishing: user reported e-mail" ||
			c.Severity != "Medium" || c.Owner == "" && c.Status == "Active" || c.CreatedTimeUTC.IsZero() || c.LastModifiedTimeUTC.IsZero() {
			t.Errorf("incident columns of %+v", c)
		}
	}
	if got[3].Owner != "Mei Lin" || got[0].Owner != "" {
		t.Errorf("Owner = %q then %q, want \"\" (unassigned) then the display name", got[0].Owner, got[3].Owner)
	}
}

func TestTaskChangesFilter(t *testing.T) {
	db := fixtureDB(t)
	ctx := context.Background()
	cases := []struct {
		name   string
		filter engine.TaskChangeFilter
		want   []string
	}{
		{"changes only", engine.TaskChangeFilter{ChangesOnly: true}, []string{
			"08:30:12.5 9e01 added", "08:30:12.5 9e02 added", "09:20:31.1234567 9e03 added", "09:21:02 9e02 completed",
			"10:02:45.5 9e01 completed", "10:30:00 9e01 reopened", "11:11:11.1111111 9e03 deleted"}},
		{"by UPN, any case", engine.TaskChangeFilter{By: "Mei.Lin@contoso.com", ChangesOnly: true}, []string{
			"09:20:31.1234567 9e03 added", "10:02:45.5 9e01 completed", "10:30:00 9e01 reopened", "11:11:11.1111111 9e03 deleted"}},
		{"by name", engine.TaskChangeFilter{By: "block sender", ChangesOnly: true}, []string{"09:21:02 9e02 completed"}},
		{"since keeps derivation over all history", engine.TaskChangeFilter{Since: time.Date(2026, 9, 14, 10, 0, 0, 0, time.UTC), Until: time.Date(2026, 9, 14, 10, 30, 0, 0, time.UTC)}, []string{
			"10:02:45.5 9e01 completed", "10:02:45.5 9e02 unchanged", "10:02:45.5 9e03 unchanged"}},
		{"incident number", engine.TaskChangeFilter{IncidentNumber: 1}, nil},
		{"incident name", engine.TaskChangeFilter{IncidentName: "7c2d9e4f-1a3b-4c5d-8e6f-0a1b2c3d4e52", ChangesOnly: true, By: "nobody"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := db.TaskChanges(ctx, tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for _, c := range got {
				lines = append(lines, fmt.Sprintf("%s %s %s", clock(c.TimeGenerated), c.TaskID[len(c.TaskID)-4:], c.Change))
			}
			if strings.Join(lines, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestTaskChangesEdited covers the changes the fixture lacks: a title edit,
// a description edit, a task whose only row is its deletion, tasks of two
// incidents with the same taskId (each added once, even when first seen
// Completed), and Tasks that is null or not an array.
func TestTaskChangesEdited(t *testing.T) {
	ctx := context.Background()
	db, err := engine.Open(ctx, "", engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	task := func(id, title, desc, status, modified string) string {
		d := ""
		if desc != "" {
			d = `,"description":"` + desc + `"`
		}
		return `{"taskId":"` + id + `","title":"` + title + `"` + d + `,"status":"` + status +
			`","createdTimeUtc":"2026-01-01T00:00:00Z","lastModifiedTimeUtc":"` + modified +
			`","createdBy":{"name":"A","userPrincipalName":"a@x"},"lastModifiedBy":{"name":"B","userPrincipalName":"b@x"}}`
	}
	rows := []struct {
		number int
		name   string
		time   string
		tasks  string
	}{
		{1, "i1", "2026-01-01T00:00:00Z", "[" + task("t1", "One", "", "New", "2026-01-01T00:00:00Z") + "]"},
		{1, "i1", "2026-01-01T01:00:00Z", "[" + task("t1", "One!", "", "New", "2026-01-01T01:00:00Z") + "]"},
		{1, "i1", "2026-01-01T02:00:00Z", "[" + task("t1", "One!", "d", "New", "2026-01-01T02:00:00Z") + "]"},
		{1, "i1", "2026-01-01T03:00:00Z", "[" + task("t1", "One!", "d", "New", "2026-01-01T02:00:00Z") + "," + task("t2", "Two", "", "Deleted", "2026-01-01T03:00:00Z") + "]"},
		{1, "i1", "2026-01-01T04:00:00Z", "null"},
		{2, "i2", "2026-01-01T05:00:00Z", "[" + task("t1", "Other", "", "Completed", "2026-01-01T05:00:00Z") + "]"},
		{2, "i2", "2026-01-01T06:00:00Z", `{"not":"an array"}`},
	}
	for _, r := range rows {
		if _, err := db.Exec(ctx, `INSERT INTO "SecurityIncident" ("IncidentNumber", "IncidentName", "TimeGenerated", "Tasks") VALUES (?, ?, CAST(? AS TIMESTAMP_NS), ?)`,
			r.number, r.name, r.time, r.tasks); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.TaskChanges(ctx, engine.TaskChangeFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, c := range got {
		lines = append(lines, fmt.Sprintf("%s %s %s %s %s", clock(c.TimeGenerated), c.IncidentName, c.TaskID, c.TaskTitle, c.Change))
	}
	want := []string{
		"00:00:00 i1 t1 One added",
		"01:00:00 i1 t1 One! edited",
		"02:00:00 i1 t1 One! edited",
		"03:00:00 i1 t1 One! unchanged",
		"03:00:00 i1 t2 Two deleted",
		"05:00:00 i2 t1 Other added",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// TestTaskChangesSQLRuns runs the exported SELECT the way export does: as a
// plan whose columns are TaskChangeColumns, with no bound parameters.
func TestTaskChangesSQLRuns(t *testing.T) {
	db := fixtureDB(t)
	plan := &engine.Plan{SQL: engine.TaskChangesSQL(), Columns: engine.TaskChangeColumns()}
	n := 0
	err := db.Query(context.Background(), plan, func(row []any) error {
		if len(row) != 18 {
			return fmt.Errorf("row has %d columns", len(row))
		}
		if row[17] == nil || row[16] == nil {
			return fmt.Errorf("row %d: Change or TimeGenerated null: %v", n, row)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 21 {
		t.Errorf("%d rows, want 21", n)
	}
}

func compareLines(t *testing.T, got []engine.TaskChange, want []string) {
	t.Helper()
	var lines []string
	for _, c := range got {
		lines = append(lines, fmt.Sprintf("%s #%d %s %s %s %s by %q %q created by %q completed %s",
			clock(c.TimeGenerated), c.IncidentNumber, c.Status, c.TaskID[len(c.TaskID)-4:], c.TaskStatus, c.Change,
			c.LastModifiedByName, c.LastModifiedByUPN, c.CreatedByName, clock(c.LastCompletedTimeUTC)))
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func clock(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format("15:04:05.9999999")
}
