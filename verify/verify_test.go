package verify_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/socq/socq/engine"
	"github.com/socq/socq/ingest"
	"github.com/socq/socq/verify"
)

// fixtureDB copies a database holding the fixture history into a new
// directory and returns its path.
func fixtureDB(t *testing.T, base []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "h.duckdb")
	if err := os.WriteFile(path, base, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// incident 1 of the fixture is 3f6a1c2e-7b4d-4e8a-9c05-1d2e3f4a5b61; rows
// added here belong to incident 900, "x".
const insert = `INSERT INTO "SecurityIncident" ("IncidentName", "TimeGenerated", "LastModifiedTime", "IncidentNumber", "Owner", "Tasks", "Labels") VALUES `

// TestVerify breaks a copy of the fixture database in one way per case and
// checks that verify finds exactly that.
func TestVerify(t *testing.T) {
	ctx := context.Background()
	basePath := filepath.Join(t.TempDir(), "base.duckdb")
	if _, err := ingest.Files(ctx, basePath, []string{"../testdata/history/fixture.ndjson"}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	base, err := os.ReadFile(basePath)
	if err != nil {
		t.Fatal(err)
	}
	const at = "2026-10-01T00:00:00Z"
	cases := []struct {
		name   string
		damage []string // SQL run on the database
		want   []string
	}{
		{"clean", nil, nil},
		{"missing required fields", []string{
			insert + `('', TIMESTAMP '2026-10-01 00:00:00', TIMESTAMP '2026-10-01 00:00:00', 900, NULL, NULL, NULL)`,
			insert + `('x', NULL, NULL, NULL, NULL, NULL, NULL)`,
		}, []string{
			"rows: incident 900 () at " + at + ": IncidentName is empty",
			"rows: incident (no number) (x) at (no time): TimeGenerated is not set",
			"rows: incident (no number) (x) at (no time): IncidentNumber is not set",
			"rows: incident (no number) (x) at (no time): LastModifiedTime is not set",
		}},
		{"dynamic columns of the wrong shape", []string{
			insert + `('x', TIMESTAMP '2026-10-01 00:00:00', TIMESTAMP '2026-10-01 00:00:00', 900, '[]', '{"taskId":"t"}', '"Phishing"')`,
			insert + `('x', TIMESTAMP '2026-10-02 00:00:00', TIMESTAMP '2026-10-02 00:00:00', 900, '5', 'true', 'null')`,
		}, []string{
			"rows: incident 900 (x) at " + at + ": Owner is an array, not an object",
			"rows: incident 900 (x) at " + at + ": Tasks is an object, not an array",
			"rows: incident 900 (x) at " + at + ": Labels is a string, not an array",
			"rows: incident 900 (x) at 2026-10-02T00:00:00Z: Owner is a number, not an object",
			"rows: incident 900 (x) at 2026-10-02T00:00:00Z: Tasks is a bool, not an array",
		}},
		{"task items", []string{
			insert + `('x', TIMESTAMP '2026-10-01 00:00:00', TIMESTAMP '2026-10-01 00:00:00', 900, NULL,
				'[1, {"title":"no id","status":"New"}, {"taskId":"t","status":"Done"}, {"taskId":"u"}, {"taskId":"v","status":"Completed"}]', NULL)`,
		}, []string{
			"rows: incident 900 (x) at " + at + ": task 0 is a number, not an object",
			"rows: incident 900 (x) at " + at + ": task 1 has no taskId",
			`rows: incident 900 (x) at ` + at + `: task 2 has status "Done", not one of New, Completed, Deleted`,
			`rows: incident 900 (x) at ` + at + `: task 3 has status null, not one of New, Completed, Deleted`,
		}},
		{"incident numbers", []string{
			insert + `('x', TIMESTAMP '2026-10-01 00:00:00', TIMESTAMP '2026-10-01 00:00:00', 1, NULL, NULL, NULL)`,
			insert + `('x', TIMESTAMP '2026-10-02 00:00:00', TIMESTAMP '2026-10-02 00:00:00', 900, NULL, NULL, NULL)`,
		}, []string{
			"incident numbers: incident 1 has 2 names: 3f6a1c2e-7b4d-4e8a-9c05-1d2e3f4a5b61, x",
			"incident numbers: incident x has 2 numbers: 1, 900",
		}},
		{"a task after its deletion", []string{
			insert + `('x', TIMESTAMP '2026-10-01 00:00:00', TIMESTAMP '2026-10-01 00:00:00', 900, NULL, '[{"taskId":"t","status":"New"}]', NULL)`,
			insert + `('x', TIMESTAMP '2026-10-02 00:00:00', TIMESTAMP '2026-10-02 00:00:00', 900, NULL, '[{"taskId":"t","status":"Deleted"}]', NULL)`,
			insert + `('x', TIMESTAMP '2026-10-03 00:00:00', TIMESTAMP '2026-10-03 00:00:00', 900, NULL, '[]', NULL)`,
			insert + `('x', TIMESTAMP '2026-10-04 00:00:00', TIMESTAMP '2026-10-04 00:00:00', 900, NULL, '[{"taskId":"t","status":"Completed"}]', NULL)`,
		}, []string{
			"deleted tasks: incident 900 (x) at 2026-10-04T00:00:00Z: task t is listed (Completed) after it was deleted at 2026-10-02T00:00:00Z",
		}},
		{"a column missing", []string{`ALTER TABLE "SecurityIncident" DROP COLUMN "Title"`}, []string{
			"schema: column Title is missing",
		}},
		{"a column of another type", []string{`ALTER TABLE "SecurityIncident" ALTER COLUMN "IncidentNumber" TYPE VARCHAR`}, []string{
			"schema: column IncidentNumber is VARCHAR, want INTEGER",
		}},
		{"an extra column", []string{`ALTER TABLE "SecurityIncident" ADD COLUMN "Extra" INTEGER`}, []string{
			"schema: column Extra is not socq's",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := fixtureDB(t, base)
			if len(c.damage) > 0 {
				db, err := engine.Open(ctx, path, engine.Options{Command: "test"})
				if err != nil {
					t.Fatal(err)
				}
				for _, stmt := range c.damage {
					if _, err := db.Exec(ctx, stmt); err != nil {
						t.Fatalf("%s: %v", stmt, err)
					}
				}
				db.Close()
			}
			db, err := engine.Open(ctx, path, engine.Options{ReadOnly: true, Command: "verify"})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			rep, err := verify.Run(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]string, len(rep.Findings))
			for i, f := range rep.Findings {
				got[i] = f.String()
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
			if c.name == "clean" && (rep.Rows != 19 || rep.Incidents != 6 || rep.SchemaVersion != engine.SchemaVersion) {
				t.Errorf("report %+v", rep)
			}
		})
	}
}

func TestVerifyListsAtMostMaxFindings(t *testing.T) {
	ctx := context.Background()
	db, err := engine.Open(ctx, "", engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(ctx, `INSERT INTO "SecurityIncident" ("IncidentName", "TimeGenerated", "LastModifiedTime", "IncidentNumber")
		SELECT '', TIMESTAMP '2026-10-01' + INTERVAL (i) SECOND, TIMESTAMP '2026-10-01', i FROM range(70) t(i)`); err != nil {
		t.Fatal(err)
	}
	rep, err := verify.Run(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != verify.MaxFindings || rep.Truncated["rows"] != 70-verify.MaxFindings {
		t.Errorf("%d findings listed, %v left out; want %d and 20", len(rep.Findings), rep.Truncated, verify.MaxFindings)
	}
}
