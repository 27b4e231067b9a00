package incident_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/socq/socq/incident"
)

// TestRecordedRowsHaveSentinelShape compares the snapshot rows socq writes
// with rows Sentinel wrote (testdata/history/fixture.ndjson): every column
// has the same type, and every dynamic value the same keys with the same
// JSON types, down to the task's createdBy. Null matches any type, as
// Sentinel leaves fields null (an unassigned owner, an automation's email).
func TestRecordedRowsHaveSentinelShape(t *testing.T) {
	rec, db := newRecorder(t)
	withFixture(t, db)
	ctx := context.Background()
	if _, err := rec.AddRule(ctx, mei, incident.Rule{Name: "Phishing triage tasks", Trigger: "created", Condition: `Title has "phishing"`,
		AddTasks: []incident.NewTask{{Title: "Review the reported message headers", Description: "Check SPF, DKIM and DMARC."}, {Title: "Block the sender"}},
		AddTags:  []string{"Phishing"}}); err != nil {
		t.Fatal(err)
	}
	inc, err := rec.Create(ctx, mei, incident.NewIncident{Title: "Phishing: reported mail", Description: "reported", Severity: "Medium"})
	if err != nil {
		t.Fatal(err)
	}
	steps := []func() error{
		func() error {
			_, err := rec.Update(ctx, mei, inc.Number, incident.Change{Status: ptr("Active"), Owner: ptr(mei)})
			return err
		},
		func() error {
			_, _, err := rec.AddTask(ctx, mei, inc.Number, incident.NewTask{Title: "Ask the user"})
			return err
		},
		func() error { _, _, err := rec.CompleteTask(ctx, mei, inc.Number, "2"); return err },
		func() error { _, _, err := rec.CompleteTask(ctx, mei, inc.Number, "1"); return err },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	// Sentinel's row after the same story: incident 2 at 10:02:45.5.
	ref := kql(t, db, `SecurityIncident | where IncidentNumber == 2 and TimeGenerated == datetime(2026-09-14T10:02:45.5Z)`)
	got := kql(t, db, fmt.Sprintf(`SecurityIncident | where IncidentNumber == %d | sort by TimeGenerated desc | take 1`, inc.Number))
	if len(ref) != 1 || len(got) != 1 {
		t.Fatalf("%d reference rows, %d recorded", len(ref), len(got))
	}
	if diffs := compareShape("", ref[0], got[0]); len(diffs) > 0 {
		t.Errorf("recorded row differs in shape from Sentinel's:\n%s", strings.Join(diffs, "\n"))
	}
	// A manual incident as Sentinel records it (incident 5): no alerts.
	manual := kql(t, db, `SecurityIncident | where IncidentNumber == 5`)
	created := kql(t, db, fmt.Sprintf(`SecurityIncident | where IncidentNumber == %d | sort by TimeGenerated asc | take 1`, inc.Number))
	if diffs := compareShape("", manual[0], created[0]); len(diffs) > 0 {
		t.Errorf("recorded creation row differs in shape from Sentinel's manual incident:\n%s", strings.Join(diffs, "\n"))
	}
	for _, col := range []string{"AlertIds", "BookmarkIds", "RelatedAnalyticRuleIds", "Comments"} {
		if !jsonEqual(created[0][col], []any{}) {
			t.Errorf("%s = %v, want []", col, created[0][col])
		}
	}
	if created[0]["FirstModifiedTime"] != nil || got[0]["FirstModifiedTime"] == nil {
		t.Errorf("FirstModifiedTime: %v on creation, %v later; want null, then set (as Sentinel)", created[0]["FirstModifiedTime"], got[0]["FirstModifiedTime"])
	}
}

// compareShape lists where got's shape differs from ref's.
func compareShape(path string, ref, got any) []string {
	if ref == nil || got == nil {
		return nil
	}
	switch r := ref.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, want an object", path, got)}
		}
		var diffs []string
		if rk, gk := keys(r), keys(g); rk != gk {
			diffs = append(diffs, fmt.Sprintf("%s: keys %s, want %s", path, gk, rk))
		}
		for k, rv := range r {
			if gv, ok := g[k]; ok {
				diffs = append(diffs, compareShape(path+"."+k, rv, gv)...)
			}
		}
		return diffs
	case []any:
		g, ok := got.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, want an array", path, got)}
		}
		if len(r) == 0 {
			return nil
		}
		var diffs []string
		// Each recorded element must have the shape of some reference
		// element (Sentinel's tasks differ: with or without description).
		for i, ge := range g {
			var best []string
			for _, re := range r {
				d := compareShape(fmt.Sprintf("%s[%d]", path, i), re, ge)
				if best == nil || len(d) < len(best) {
					best = d
				}
				if len(d) == 0 {
					break
				}
			}
			diffs = append(diffs, best...)
		}
		return diffs
	}
	if fmt.Sprintf("%T", ref) != fmt.Sprintf("%T", got) {
		return []string{fmt.Sprintf("%s: %T, want %T", path, got, ref)}
	}
	return nil
}

// TestCompareShapeSeesDifferences keeps the shape test honest: a missing
// key deep in a task, an extra key, a wrong type are all reported.
func TestCompareShapeSeesDifferences(t *testing.T) {
	ref := map[string]any{"Tasks": []any{map[string]any{"title": "a", "createdBy": map[string]any{"name": "x", "email": nil}}},
		"IncidentNumber": int64(1), "TimeGenerated": time.Now()}
	for name, got := range map[string]map[string]any{
		"missing key": {"Tasks": []any{map[string]any{"title": "b", "createdBy": map[string]any{"name": "y"}}}, "IncidentNumber": int64(2), "TimeGenerated": time.Now()},
		"extra key":   {"Tasks": []any{map[string]any{"title": "b", "status": "New", "createdBy": map[string]any{"name": "y", "email": "e"}}}, "IncidentNumber": int64(2), "TimeGenerated": time.Now()},
		"wrong type":  {"Tasks": []any{map[string]any{"title": 3.0, "createdBy": map[string]any{"name": "y", "email": "e"}}}, "IncidentNumber": int64(2), "TimeGenerated": time.Now()},
		"not a time":  {"Tasks": []any{}, "IncidentNumber": int64(2), "TimeGenerated": "now"},
	} {
		if diffs := compareShape("", ref, got); len(diffs) == 0 {
			t.Errorf("%s: no difference reported", name)
		}
	}
}

func keys(m map[string]any) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}
