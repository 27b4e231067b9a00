package incident_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/socq/socq/incident"
)

// Each test here fails if the rule it names is removed from the Recorder.

func TestTitleRequiredTrimmedUnlimited(t *testing.T) {
	rec, _ := newRecorder(t)
	ctx := context.Background()
	for _, title := range []string{"", "   ", "\t\n"} {
		_, err := rec.Create(ctx, mei, incident.NewIncident{Title: title})
		wantInvalid(t, err, "title", "required")
	}
	inc := mustCreate(t, rec, incident.NewIncident{Title: "  Phishing  "})
	if inc.Title != "Phishing" {
		t.Errorf("title %q, want trimmed", inc.Title)
	}
	long := strings.Repeat("x", 20000)
	if inc := mustCreate(t, rec, incident.NewIncident{Title: long}); inc.Title != long {
		t.Error("a long title was cut")
	}
	_, err := rec.Update(ctx, mei, inc.Number, incident.Change{Title: ptr(" ")})
	wantInvalid(t, err, "title", "required")
}

func TestDescriptionAtMost5000Characters(t *testing.T) {
	rec, _ := newRecorder(t)
	ctx := context.Background()
	mustCreate(t, rec, incident.NewIncident{Title: "a", Description: strings.Repeat("é", 5000)}) // characters, not bytes
	_, err := rec.Create(ctx, mei, incident.NewIncident{Title: "a", Description: strings.Repeat("x", 5001)})
	wantInvalid(t, err, "description", "5001 characters")
	_, err = rec.Update(ctx, mei, 1, incident.Change{Description: ptr(strings.Repeat("x", 5001))})
	wantInvalid(t, err, "description", "at most 5000")
}

func TestSeverityAndStatusCanonicalWithDefaults(t *testing.T) {
	rec, _ := newRecorder(t)
	ctx := context.Background()
	inc := mustCreate(t, rec, incident.NewIncident{Title: "a"})
	if inc.Severity != "Medium" || inc.Status != "New" {
		t.Errorf("defaults %s/%s, want Medium/New", inc.Severity, inc.Status)
	}
	for in, want := range map[string]string{"high": "High", "LOW": "Low", "informational": "Informational", " Medium ": "Medium"} {
		if got := mustCreate(t, rec, incident.NewIncident{Title: "a", Severity: in}); got.Severity != want {
			t.Errorf("severity %q stored as %q, want %q", in, got.Severity, want)
		}
	}
	for in, want := range map[string]string{"active": "Active", "NEW": "New"} {
		if got := mustCreate(t, rec, incident.NewIncident{Title: "a", Status: in}); got.Status != want {
			t.Errorf("status %q stored as %q, want %q", in, got.Status, want)
		}
	}
	_, err := rec.Create(ctx, mei, incident.NewIncident{Title: "a", Severity: "Critical"})
	wantInvalid(t, err, "severity", "High, Medium, Low, Informational")
	_, err = rec.Create(ctx, mei, incident.NewIncident{Title: "a", Status: "Resolved"})
	wantInvalid(t, err, "status", "New, Active, Closed")
	_, err = rec.Update(ctx, mei, inc.Number, incident.Change{Severity: ptr("urgent")})
	wantInvalid(t, err, "severity", "not one of")
}

func TestClosingNeedsClassificationAndComment(t *testing.T) {
	rec, db := newRecorder(t)
	ctx := context.Background()
	inc := mustCreate(t, rec, incident.NewIncident{Title: "a"})
	_, err := rec.Close(ctx, mei, inc.Number, incident.Closing{Comment: "done"})
	wantInvalid(t, err, "classification", "needs a classification")
	_, err = rec.Close(ctx, mei, inc.Number, incident.Closing{Classification: "true-positive"})
	wantInvalid(t, err, "comment", "needs a comment")
	_, err = rec.Update(ctx, mei, inc.Number, incident.Change{Status: ptr("closed")})
	wantInvalid(t, err, "classification", "needs a classification")
	_, err = rec.Create(ctx, mei, incident.NewIncident{Title: "b", Status: "Closed"})
	wantInvalid(t, err, "classification", "needs a classification")
	_, err = rec.Create(ctx, mei, incident.NewIncident{Title: "b", Status: "Closed", Classification: "benign-positive"})
	wantInvalid(t, err, "comment", "needs a comment")
	if n := rowCount(t, db, inc.Number); n != 1 {
		t.Errorf("refused closes wrote rows: %d rows", n)
	}
	closed := mustCreate(t, rec, incident.NewIncident{Title: "b", Status: "closed", Classification: "benign-positive", ClassificationComment: "expected"})
	if closed.Classification != "BenignPositive" || closed.ClassificationReason != "SuspiciousButExpected" || closed.ClosedTime.IsZero() {
		t.Errorf("created closed: %+v", closed)
	}
}

func TestClassificationPairsAndShortForms(t *testing.T) {
	cases := []struct{ class, reason, wantClass, wantReason, err string }{
		{"TruePositive", "SuspiciousActivity", "TruePositive", "SuspiciousActivity", ""},
		{"true-positive", "", "TruePositive", "SuspiciousActivity", ""},
		{"benign-positive", "", "BenignPositive", "SuspiciousButExpected", ""},
		{"BENIGN_POSITIVE", "suspicious-but-expected", "BenignPositive", "SuspiciousButExpected", ""},
		{"false-positive", "incorrect-alert-logic", "FalsePositive", "IncorrectAlertLogic", ""},
		{"FalsePositive", "inaccurate data", "FalsePositive", "InaccurateData", ""},
		{"undetermined", "", "Undetermined", "", ""},
		{"false-positive", "", "", "", "needs a reason: IncorrectAlertLogic or InaccurateData"},
		{"true-positive", "inaccurate-data", "", "", "TruePositive goes with SuspiciousActivity, not InaccurateData"},
		{"benign-positive", "suspicious-activity", "", "", "BenignPositive goes with SuspiciousButExpected"},
		{"undetermined", "suspicious-activity", "", "", "Undetermined takes no reason"},
		{"malicious", "", "", "", "not one of TruePositive"},
		{"true-positive", "because", "", "", "not one of SuspiciousActivity"},
	}
	for _, tc := range cases {
		t.Run(tc.class+"+"+tc.reason, func(t *testing.T) {
			rec, _ := newRecorder(t)
			inc := mustCreate(t, rec, incident.NewIncident{Title: "a"})
			got, err := rec.Close(context.Background(), mei, inc.Number, incident.Closing{Classification: tc.class, Reason: tc.reason, Comment: "c"})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Classification != tc.wantClass || got.ClassificationReason != tc.wantReason || got.Status != "Closed" {
				t.Errorf("got %s/%s %s", got.Classification, got.ClassificationReason, got.Status)
			}
		})
	}
}

func TestClassificationOnlyWhenClosed(t *testing.T) {
	rec, _ := newRecorder(t)
	_, err := rec.Create(context.Background(), mei, incident.NewIncident{Title: "a", Classification: "true-positive", ClassificationComment: "x"})
	wantInvalid(t, err, "classification", "when closing")
	inc := mustCreate(t, rec, incident.NewIncident{Title: "a"})
	_, err = rec.Update(context.Background(), mei, inc.Number, incident.Change{Classification: ptr("true-positive")})
	wantInvalid(t, err, "classification", "when closing")
}

func TestReopenClearsClassificationAndClosedTime(t *testing.T) {
	rec, _ := newRecorder(t)
	ctx := context.Background()
	inc := mustCreate(t, rec, incident.NewIncident{Title: "a"})
	if _, err := rec.Reopen(ctx, mei, inc.Number, ""); err == nil {
		t.Error("reopened an incident that is not closed")
	}
	if _, err := rec.Close(ctx, mei, inc.Number, incident.Closing{Classification: "undetermined", Comment: "x"}); err != nil {
		t.Fatal(err)
	}
	got, err := rec.Reopen(ctx, mei, inc.Number, "")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "Active" || got.Classification != "" || got.ClassificationReason != "" || got.ClassificationComment != "" || !got.ClosedTime.IsZero() {
		t.Errorf("reopened: %+v", got)
	}
}

func TestOwnerShape(t *testing.T) {
	rec, db := newRecorder(t)
	ctx := context.Background()
	for _, bad := range []string{"a@b", "@contoso.com", "mei lin@contoso.com", "a@@contoso.com", "mei@contoso.", "x@.com", "a,b@contoso.com"} {
		_, err := rec.Create(ctx, mei, incident.NewIncident{Title: "a", Owner: bad})
		wantInvalid(t, err, "owner", "not an email address or UPN")
	}
	inc := mustCreate(t, rec, incident.NewIncident{Title: "a", Owner: "Mei.Lin@contoso.com"})
	o := inc.Owner
	if o.UserPrincipalName == nil || *o.UserPrincipalName != "Mei.Lin@contoso.com" || o.Email == nil || o.AssignedTo == nil ||
		*o.AssignedTo != "Mei Lin" || o.ObjectID == nil || len(*o.ObjectID) != 36 || o.OwnerType != "User" {
		t.Errorf("owner from a UPN: %+v", o)
	}
	byName := mustCreate(t, rec, incident.NewIncident{Title: "a", Owner: "Tier 2 on call"})
	if byName.Owner.AssignedTo == nil || *byName.Owner.AssignedTo != "Tier 2 on call" || byName.Owner.UserPrincipalName != nil {
		t.Errorf("owner from a name: %+v", byName.Owner)
	}
	// The stored Owner has Sentinel's keys, null when unassigned.
	got, err := rec.Update(ctx, mei, inc.Number, incident.Change{Owner: ptr("")})
	if err != nil {
		t.Fatal(err)
	}
	if got.Owner.Assigned() || got.Owner.OwnerType != "Unknown" {
		t.Errorf("unassigned owner: %+v", got.Owner)
	}
	rows := kql(t, db, `SecurityIncident | where IncidentNumber == 1 | project Owner`)
	if o := rows[0]["Owner"].(map[string]any); o["userPrincipalName"] != "Mei.Lin@contoso.com" || o["assignedTo"] != "Mei Lin" {
		t.Errorf("stored Owner %v", o)
	}
	if o := rows[len(rows)-1]["Owner"].(map[string]any); o["userPrincipalName"] != nil || o["objectId"] != nil || o["ownerType"] != "Unknown" {
		t.Errorf("stored unassigned Owner %v", o)
	}
}

func TestTagsBecomeUserLabels(t *testing.T) {
	rec, db := newRecorder(t)
	ctx := context.Background()
	_, err := rec.Create(ctx, mei, incident.NewIncident{Title: "a", Tags: []string{" "}})
	wantInvalid(t, err, "tag", "must not be empty")
	inc := mustCreate(t, rec, incident.NewIncident{Title: "a", Tags: []string{" VIP ", "vip", "Phishing"}})
	if len(inc.Labels) != 2 || inc.Labels[0] != (incident.Label{Name: "VIP", Type: "User"}) || inc.Labels[1].Name != "Phishing" {
		t.Errorf("labels %+v, want VIP and Phishing (duplicates folded)", inc.Labels)
	}
	got, err := rec.Update(ctx, mei, inc.Number, incident.Change{RemoveTags: []string{"vip"}, AddTags: []string{"CEO"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.TagNames(), ",") != "Phishing,CEO" {
		t.Errorf("tags %v", got.TagNames())
	}
	_, err = rec.Update(ctx, mei, inc.Number, incident.Change{RemoveTags: []string{"nope"}})
	wantInvalid(t, err, "tag", `has no tag "nope"`)
	rows := kql(t, db, `SecurityIncident | where IncidentNumber == 1 | project Labels`)
	want := []any{map[string]any{"labelName": "Phishing", "labelType": "User"}, map[string]any{"labelName": "CEO", "labelType": "User"}}
	if got := rows[len(rows)-1]["Labels"]; !jsonEqual(got, want) {
		t.Errorf("stored Labels %v", got)
	}
}

func TestTaskRules(t *testing.T) {
	rec, db := newRecorder(t)
	ctx := context.Background()
	inc := mustCreate(t, rec, incident.NewIncident{Title: "a"})
	_, _, err := rec.AddTask(ctx, mei, inc.Number, incident.NewTask{Title: "  "})
	wantInvalid(t, err, "task title", "required")
	_, task, err := rec.AddTask(ctx, mei, inc.Number, incident.NewTask{Title: " Call the user ", Description: "now"})
	if err != nil {
		t.Fatal(err)
	}
	if task.Title != "Call the user" || task.Status != "New" || !task.LastCompletedTimeUTC.IsZero() || task.CreatedBy.Name != "Mei Lin" {
		t.Errorf("added %+v", task)
	}
	if _, _, err := rec.ReopenTask(ctx, mei, inc.Number, task.ID); err == nil {
		t.Error("reopened a task that is not completed")
	}
	_, done, err := rec.CompleteTask(ctx, jonas, inc.Number, "1")
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != "Completed" || done.LastCompletedTimeUTC.IsZero() || done.LastModifiedBy.Name != "Jonas Becker" || done.CreatedBy.Name != "Mei Lin" {
		t.Errorf("completed %+v", done)
	}
	_, _, err = rec.CompleteTask(ctx, mei, inc.Number, task.ID)
	wantInvalid(t, err, "task", "already completed")
	_, reopened, err := rec.ReopenTask(ctx, mei, inc.Number, task.ID[:8])
	if err != nil {
		t.Fatal(err)
	}
	if reopened.Status != "New" || reopened.LastCompletedTimeUTC != done.LastCompletedTimeUTC {
		t.Errorf("reopened %+v: status New, lastCompletedTimeUtc kept", reopened)
	}
	after, deleted, err := rec.DeleteTask(ctx, mei, inc.Number, task.ID)
	if err != nil {
		t.Fatal(err)
	}
	if deleted.Status != "Deleted" || len(after.Tasks) != 0 {
		t.Errorf("deleted %+v, tasks left %v", deleted, after.Tasks)
	}
	// The Deleted state is in exactly one row, and the next row has no task.
	if _, err := rec.Update(ctx, mei, inc.Number, incident.Change{Severity: ptr("High")}); err != nil {
		t.Fatal(err)
	}
	rows := kql(t, db, `SecurityIncident | where IncidentNumber == 1 | sort by TimeGenerated asc | project Tasks`)
	var statuses []string
	for _, r := range rows {
		var s []string
		for _, tk := range r["Tasks"].([]any) {
			s = append(s, tk.(map[string]any)["status"].(string))
		}
		statuses = append(statuses, strings.Join(s, "+"))
	}
	if got := strings.Join(statuses, " "); got != " New Completed New Deleted " {
		t.Errorf("task status per row %q, want the Deleted state once, then no task", got)
	}
	if _, _, err := rec.CompleteTask(ctx, mei, inc.Number, task.ID); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("completing a deleted task: %v, want not found", err)
	}
}

func TestTaskReference(t *testing.T) {
	rec, _ := newRecorder(t)
	ctx := context.Background()
	inc := mustCreate(t, rec, incident.NewIncident{Title: "a"})
	if _, _, err := rec.CompleteTask(ctx, mei, inc.Number, "1"); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("no tasks: %v", err)
	}
	var ids []string
	for _, title := range []string{"one", "two", "three"} {
		_, task, err := rec.AddTask(ctx, mei, inc.Number, incident.NewTask{Title: title})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, task.ID)
	}
	_, task, err := rec.EditTask(ctx, mei, inc.Number, "2", incident.TaskEdit{Title: ptr("zwei")})
	if err != nil || task.ID != ids[1] || task.Title != "zwei" {
		t.Errorf("by position: %+v %v", task, err)
	}
	_, task, err = rec.EditTask(ctx, mei, inc.Number, strings.ToUpper(ids[2]), incident.TaskEdit{Description: ptr("d")})
	if err != nil || task.ID != ids[2] || task.Description != "d" {
		t.Errorf("by id, any case: %+v %v", task, err)
	}
	// Positions beyond the last are not found, never read as a prefix of
	// an id that happens to start with that digit; prefixes need 4 characters.
	for _, ref := range []string{"4", "9", "12", ids[0][:3], ids[1][:3]} {
		if n, err := strconv.Atoi(ref); err == nil && n >= 1 && n <= 3 {
			continue // a random id starting "002" is read as position 2, rightly
		}
		if _, _, err := rec.CompleteTask(ctx, mei, inc.Number, ref); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("ref %q: %v, want not found", ref, err)
		}
	}
	// An id whose first 4 characters no other id shares (ids are random).
	unique := ids[0]
	for _, id := range ids {
		n := 0
		for _, other := range ids {
			if strings.EqualFold(other[:4], id[:4]) {
				n++
			}
		}
		if n == 1 {
			unique = id
			break
		}
	}
	_, task, err = rec.CompleteTask(ctx, mei, inc.Number, unique[:4])
	if err != nil || task.ID != unique {
		t.Errorf("4-character prefix: %+v %v", task, err)
	}
	if _, _, err := rec.CompleteTask(ctx, mei, inc.Number, "zzz"); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
	if _, _, err := rec.CompleteTask(ctx, mei, 99, "1"); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("unknown incident: %v", err)
	}
}

func TestManualIncidentShape(t *testing.T) {
	rec, db := newRecorder(t)
	withFixture(t, db)
	inc := mustCreate(t, rec, incident.NewIncident{Title: "a"})
	if inc.Number != 7 || inc.ProviderIncidentID != "7" || inc.ProviderName != "Azure Sentinel" {
		t.Errorf("number %d, provider %s %q: want 7 after the fixture's 6", inc.Number, inc.ProviderName, inc.ProviderIncidentID)
	}
	row := kql(t, db, `SecurityIncident | where IncidentNumber == 7`)[0]
	if !jsonEqual(row["AlertIds"], []any{}) || !jsonEqual(row["BookmarkIds"], []any{}) || row["TenantId"] != "5e0c7a2d-8b14-4f3e-9d61-2c7f0a9b4e18" ||
		!strings.HasSuffix(row["IncidentUrl"].(string), "/Incidents/"+inc.Name) || row["SourceSystem"] != "Azure" || row["Type"] != "SecurityIncident" {
		t.Errorf("row %v", row)
	}
}

func TestIncidentNumbersAtomic(t *testing.T) {
	rec, _ := newRecorder(t)
	var wg sync.WaitGroup
	numbers := make(chan int64, 10)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			inc, err := rec.Create(context.Background(), mei, incident.NewIncident{Title: "a"})
			if err != nil {
				t.Error(err)
				return
			}
			numbers <- inc.Number
		}()
	}
	wg.Wait()
	close(numbers)
	seen := map[int64]bool{}
	for n := range numbers {
		if seen[n] {
			t.Errorf("number %d given twice", n)
		}
		seen[n] = true
	}
	if len(seen) != 10 || !seen[1] || !seen[10] {
		t.Errorf("numbers %v, want 1..10", seen)
	}
	// A purged incident's number is not given again.
	if _, err := rec.Purge(context.Background(), 10); err != nil {
		t.Fatal(err)
	}
	if inc := mustCreate(t, rec, incident.NewIncident{Title: "b"}); inc.Number != 11 {
		t.Errorf("after purging 10: number %d, want 11", inc.Number)
	}
}

func TestConcurrentUpdatesAreNotLost(t *testing.T) {
	rec, _ := newRecorder(t)
	inc := mustCreate(t, rec, incident.NewIncident{Title: "a"})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := rec.Update(context.Background(), mei, inc.Number, incident.Change{AddTags: []string{"t" + itoa(int64(i))}}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, err := rec.Get(context.Background(), inc.Number)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Labels) != 8 {
		t.Errorf("tags %v: a concurrent change was lost", got.TagNames())
	}
}

func TestListDefaultsToNewAndActive(t *testing.T) {
	rec, _ := newRecorder(t)
	ctx := context.Background()
	mustCreate(t, rec, incident.NewIncident{Title: "new"})
	mustCreate(t, rec, incident.NewIncident{Title: "active", Status: "Active", Severity: "High", Owner: jonas, Tags: []string{"VIP"}})
	mustCreate(t, rec, incident.NewIncident{Title: "closed", Status: "Closed", Classification: "undetermined", ClassificationComment: "x"})
	titles := func(f incident.ListFilter) string {
		incs, err := rec.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, i := range incs {
			s = append(s, i.Title)
		}
		return strings.Join(s, ",")
	}
	for _, tc := range []struct {
		f    incident.ListFilter
		want string
	}{
		{incident.ListFilter{}, "active,new"},
		{incident.ListFilter{All: true}, "closed,active,new"},
		{incident.ListFilter{Statuses: []string{"Closed"}}, "closed"},
		{incident.ListFilter{Severities: []string{"high"}}, "active"},
		{incident.ListFilter{Owners: []string{"Jonas Becker"}}, "active"},
		{incident.ListFilter{Tags: []string{"vip"}}, "active"},
	} {
		if got := titles(tc.f); got != tc.want {
			t.Errorf("List(%+v) = %s, want %s", tc.f, got, tc.want)
		}
	}
}

// TestListPage: choose sees every listed incident in its latest state,
// newest first, and gets back whole (tasks included) exactly the entries it
// picked, in its order.
func TestListPage(t *testing.T) {
	rec, _ := newRecorder(t)
	ctx := context.Background()
	for _, title := range []string{"one", "two", "three"} {
		mustCreate(t, rec, incident.NewIncident{Title: title})
	}
	if _, err := rec.Update(ctx, mei, 2, incident.Change{Title: ptr("two, renamed"), Owner: ptr(jonas)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := rec.AddTask(ctx, mei, 1, incident.NewTask{Title: "call the user"}); err != nil {
		t.Fatal(err)
	}
	var seen []string
	page, err := rec.ListPage(ctx, incident.ListFilter{}, func(entries []incident.ListEntry) []incident.ListEntry {
		for _, e := range entries {
			upn := ""
			if e.Owner.UserPrincipalName != nil {
				upn = *e.Owner.UserPrincipalName
			}
			seen = append(seen, fmt.Sprintf("%d %s %s", e.Number, e.Title, upn))
		}
		return []incident.ListEntry{entries[2], entries[1]}
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "3 three |2 two, renamed " + jonas + "|1 one "; strings.Join(seen, "|") != want {
		t.Errorf("choose saw %q, want %q", strings.Join(seen, "|"), want)
	}
	if len(page) != 2 || page[0].Number != 1 || page[1].Number != 2 || len(page[0].Tasks) != 1 || page[1].Title != "two, renamed" {
		t.Errorf("page: %+v", page)
	}
}

func TestDeleteKeepsHistoryAndHides(t *testing.T) {
	rec, db := newRecorder(t)
	ctx := context.Background()
	inc := mustCreate(t, rec, incident.NewIncident{Title: "a", Severity: "High"})
	if _, err := rec.AddRule(ctx, mei, incident.Rule{Name: "tag", Trigger: "updated", Condition: "true", AddTags: []string{"seen"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := rec.Delete(ctx, jonas, inc.Number, ""); err != nil {
		t.Fatal(err)
	}
	if n := rowCount(t, db, inc.Number); n != 2 {
		t.Errorf("%d rows after delete, want 2 (the deletion is a row; no rule ran)", n)
	}
	if _, err := rec.Get(ctx, inc.Number); !errors.Is(err, incident.ErrNotFound) || !strings.Contains(err.Error(), "deleted by jonas.becker@contoso.com") {
		t.Errorf("Get after delete: %v", err)
	}
	if incs, _ := rec.List(ctx, incident.ListFilter{All: true}); len(incs) != 0 {
		t.Errorf("List shows a deleted incident")
	}
	if _, err := rec.Update(ctx, mei, inc.Number, incident.Change{Severity: ptr("Low")}); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("update after delete: %v", err)
	}
	events, err := rec.History(ctx, incident.HistoryFilter{IncidentNumber: inc.Number})
	if err != nil {
		t.Fatal(err)
	}
	if last := events[len(events)-1]; last.Change != incident.EventDeleted || last.By != jonas {
		t.Errorf("history ends with %+v, want the deletion by Jonas", last)
	}
	if n, err := rec.Purge(ctx, inc.Number); err != nil || n != 2 {
		t.Errorf("purge: %d, %v", n, err)
	}
	if _, err := rec.History(ctx, incident.HistoryFilter{IncidentNumber: inc.Number}); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("history after purge: %v", err)
	}
	if _, err := rec.Purge(ctx, inc.Number); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("purge twice: %v", err)
	}
}

func TestOneRowPerChange(t *testing.T) {
	rec, db := newRecorder(t)
	ctx := context.Background()
	inc := mustCreate(t, rec, incident.NewIncident{Title: "a"})
	steps := []func() error{
		func() error {
			_, err := rec.Update(ctx, mei, inc.Number, incident.Change{Status: ptr("Active"), Owner: ptr(mei)})
			return err
		},
		func() error { _, _, err := rec.AddTask(ctx, mei, inc.Number, incident.NewTask{Title: "t"}); return err },
		func() error { _, _, err := rec.CompleteTask(ctx, mei, inc.Number, "1"); return err },
		func() error {
			_, err := rec.Update(ctx, mei, inc.Number, incident.Change{Status: ptr("Active")})
			return err
		}, // no change: no row
	}
	want := []int{2, 3, 4, 4}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatal(err)
		}
		if n := rowCount(t, db, inc.Number); n != want[i] {
			t.Errorf("after step %d: %d rows, want %d", i+1, n, want[i])
		}
	}
}

func TestStaleEtag(t *testing.T) {
	rec, _ := newRecorder(t)
	ctx := context.Background()
	inc := mustCreate(t, rec, incident.NewIncident{Title: "a"})
	first := inc.Etag
	next, err := rec.Update(ctx, jonas, inc.Number, incident.Change{Severity: ptr("High"), IfMatch: `"` + first + `"`})
	if err != nil {
		t.Fatalf("current etag (quoted) refused: %v", err)
	}
	if next.Etag == first {
		t.Error("etag did not change")
	}
	_, err = rec.Update(ctx, mei, inc.Number, incident.Change{Severity: ptr("Low"), IfMatch: first})
	var stale *incident.StaleError
	if !errors.As(err, &stale) {
		t.Fatalf("err = %v, want a stale etag error", err)
	}
	if !strings.Contains(err.Error(), "changed by jonas.becker@contoso.com at 2026-10-05T09:02:00Z") {
		t.Errorf("message %q does not say who changed it and when", err)
	}
	if got, _ := rec.Get(ctx, inc.Number); got.Severity != "High" {
		t.Errorf("a stale update was applied: %s", got.Severity)
	}
}

func TestPersonActing(t *testing.T) {
	rec, db := newRecorder(t)
	withFixture(t, db)
	inc := mustCreate(t, rec, incident.NewIncident{Title: "a", Owner: "Jonas Becker"})
	// A person known from the ingested history keeps their objectId and UPN.
	if o := inc.Owner; o.ObjectID == nil || *o.ObjectID != "0c9e8d7f-6a5b-4c3d-9e2f-1a0b9c8d7e6f" || *o.UserPrincipalName != jonas {
		t.Errorf("owner %+v, want Jonas from the fixture", o)
	}
	if inc.ModifiedBy != mei {
		t.Errorf("ModifiedBy %q, want the UPN", inc.ModifiedBy)
	}
	_, err := rec.Create(context.Background(), "bad@", incident.NewIncident{Title: "a"})
	wantInvalid(t, err, "person acting (--as)", "not an email address")
}

func TestActivityTimes(t *testing.T) {
	rec, _ := newRecorder(t)
	first := time.Date(2026, 10, 5, 7, 0, 0, 0, time.UTC)
	_, err := rec.Create(context.Background(), mei, incident.NewIncident{Title: "a", FirstActivity: first, LastActivity: first.Add(-time.Minute)})
	wantInvalid(t, err, "last activity", "before the first activity")
	inc := mustCreate(t, rec, incident.NewIncident{Title: "a", FirstActivity: first, LastActivity: first.Add(time.Hour)})
	if !inc.FirstActivityTime.Equal(first) || !inc.LastActivityTime.Equal(first.Add(time.Hour)) {
		t.Errorf("activity %v..%v", inc.FirstActivityTime, inc.LastActivityTime)
	}
	if plain := mustCreate(t, rec, incident.NewIncident{Title: "b"}); !plain.FirstActivityTime.IsZero() {
		t.Error("activity time invented")
	}
}
