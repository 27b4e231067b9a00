package export

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/socq/socq/engine"
	"github.com/socq/socq/ingest"
)

// Shapes of the nested columns, written out here independently of
// engine.ExportSQL: "s" is a string, "t" a timestamp, a map a struct, a
// one-element slice a list.
var (
	identityShape = map[string]any{"objectId": "s", "email": "s", "name": "s", "userPrincipalName": "s"}
	tableShapes   = map[string]any{
		"Owner": map[string]any{"objectId": "s", "email": "s", "assignedTo": "s", "userPrincipalName": "s", "ownerType": "s"},
		"Tasks": []any{map[string]any{"taskId": "s", "title": "s", "description": "s", "status": "s",
			"createdTimeUtc": "t", "lastModifiedTimeUtc": "t", "lastCompletedTimeUtc": "t",
			"createdBy": identityShape, "lastModifiedBy": identityShape}},
		"Labels":                 []any{map[string]any{"labelName": "s", "labelType": "s"}},
		"Comments":               []any{map[string]any{"message": "s", "createdTimeUtc": "t", "lastModifiedTimeUtc": "t", "author": identityShape}},
		"RelatedAnalyticRuleIds": []any{"s"},
		"AlertIds":               []any{"s"},
		"BookmarkIds":            []any{"s"},
	}
)

// shaped is the value a nested Parquet column should hold for the JSON value v.
func shaped(t *testing.T, v any, shape any) any {
	if v == nil {
		return nil
	}
	switch s := shape.(type) {
	case []any:
		out := []any{}
		for _, e := range v.([]any) {
			out = append(out, shaped(t, e, s[0]))
		}
		return out
	case map[string]any:
		m := v.(map[string]any)
		out := map[string]any{}
		for k, ks := range s {
			out[k] = shaped(t, m[k], ks)
		}
		return out
	case string:
		if s == "t" {
			tm, err := time.Parse(time.RFC3339Nano, v.(string))
			if err != nil {
				t.Fatal(err)
			}
			return tm.UTC().Truncate(time.Microsecond)
		}
		return v.(string)
	}
	t.Fatalf("bad shape %v", shape)
	return nil
}

// expectedTable is what the SecurityIncident export should hold for the
// rows of the KQL query SecurityIncident.
func expectedTable(t *testing.T, cols []engine.Column, rows [][]any) [][]any {
	out := make([][]any, len(rows))
	for i, r := range rows {
		out[i] = make([]any, len(r))
		for c, v := range r {
			switch x := v.(type) {
			case time.Time:
				v = x.Truncate(time.Microsecond)
			case json.RawMessage:
				if shape, ok := tableShapes[cols[c].Name]; ok {
					var j any
					if err := json.Unmarshal(x, &j); err != nil {
						t.Fatal(err)
					}
					v = shaped(t, j, shape)
				} else {
					v = string(x)
				}
			}
			out[i][c] = v
		}
	}
	return out
}

// sortRows orders rows by the string form of the key columns.
func sortRows(rows [][]any, keys ...int) {
	slices.SortFunc(rows, func(a, b []any) int {
		for _, k := range keys {
			if c := strings.Compare(fmt.Sprint(a[k]), fmt.Sprint(b[k])); c != 0 {
				return c
			}
		}
		return 0
	})
}

func TestTableRoundTrip(t *testing.T) {
	ctx := context.Background()
	dbPath := history(t, 25)
	db, err := engine.Open(ctx, dbPath, engine.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	plan := compile(t, ctx, db, "SecurityIncident")
	rows := queryRows(t, ctx, db, plan)
	db.Close()
	want := expectedTable(t, plan.Columns, rows)
	// IncidentName, TimeGenerated, LastModifiedTime: the snapshot key.
	key := []int{2, 1, 16}
	sortRows(want, key...)
	names := make([]string, len(plan.Columns))
	for i, c := range plan.Columns {
		names[i] = c.Name
	}
	dir := t.TempDir()

	t.Run("one file", func(t *testing.T) {
		out := filepath.Join(dir, "incidents.parquet")
		res, err := Table(ctx, dbPath, engine.ExportSecurityIncident, out, Options{})
		if err != nil || res.Rows != int64(len(rows)) || res.Files != 1 {
			t.Fatalf("Table: %+v, %v", res, err)
		}
		tbl := readParquetArrow(t, out)
		gotNames, got := tableRows(tbl)
		if !reflect.DeepEqual(gotNames, names) {
			t.Errorf("names %q, want %q", gotNames, names)
		}
		sortRows(got, key...)
		diffRows(t, "arrow-go", want, got)
		for name, typ := range map[string]string{
			"IncidentNumber": "int32",
			"TimeGenerated":  "timestamp[us, tz=UTC]",
			"Owner":          "struct<objectId: utf8, email: utf8, assignedTo: utf8, userPrincipalName: utf8, ownerType: utf8>",
			"Labels":         "list<element: struct<labelName: utf8, labelType: utf8>, nullable>",
			"AdditionalData": "utf8",
		} {
			f, _ := tbl.Schema().FieldsByName(name)
			if len(f) != 1 || f[0].Type.String() != typ {
				t.Errorf("%s: type %v, want %s", name, f, typ)
			}
		}
		f, _ := tbl.Schema().FieldsByName("Tasks")
		if typ := f[0].Type.String(); !strings.HasPrefix(typ, "list<element: struct<taskId: utf8, title: utf8, description: utf8, status: utf8, createdTimeUtc: timestamp[us, tz=UTC]") ||
			!strings.Contains(typ, "createdBy: struct<objectId: utf8, email: utf8, name: utf8, userPrincipalName: utf8>") {
			t.Errorf("Tasks: type %s", typ)
		}

		_, got = readParquetDuckDB(t, out, "SELECT * FROM read_parquet("+engine.QuoteString(out)+")")
		sortRows(got, key...)
		diffRows(t, "DuckDB", want, got)
	})

	t.Run("by month", func(t *testing.T) {
		out := filepath.Join(dir, "by-month")
		res, err := Table(ctx, dbPath, engine.ExportSecurityIncident, out, Options{ByMonth: true, Compression: engine.Snappy})
		if err != nil || res.Rows != int64(len(rows)) {
			t.Fatalf("Table: %+v, %v", res, err)
		}
		// The history spans August to September 2026 (and the odd rows sit
		// on either side of midnight, 31 August).
		for _, m := range []string{"year=2026/month=08", "year=2026/month=09"} {
			if _, err := os.Stat(filepath.Join(out, m)); err != nil {
				t.Errorf("no partition %s: %v", m, err)
			}
		}
		_, got := readParquetDuckDB(t, out, "SELECT * EXCLUDE (year, month), year, month FROM read_parquet("+
			engine.QuoteString(filepath.Join(out, "*", "*", "*.parquet"))+", hive_partitioning = true)")
		for _, r := range got {
			tm := r[1].(time.Time)
			if fmt.Sprint(r[len(r)-2]) != fmt.Sprintf("%04d", tm.Year()) || fmt.Sprint(r[len(r)-1]) != fmt.Sprintf("%02d", tm.Month()) {
				t.Fatalf("row of %v in partition year=%v month=%v", tm, r[len(r)-2], r[len(r)-1])
			}
		}
		for i := range got {
			got[i] = got[i][:len(got[i])-2]
		}
		sortRows(got, key...)
		diffRows(t, "DuckDB, partitioned", want, got)

		// A second export replaces the first.
		res2, err := Table(ctx, dbPath, engine.ExportSecurityIncident, out, Options{ByMonth: true})
		if err != nil || res2.Rows != res.Rows || res2.Files != res.Files {
			t.Fatalf("second export: %+v, %v", res2, err)
		}
	})

	t.Run("unknown table", func(t *testing.T) {
		_, err := Table(ctx, dbPath, "Incidents", filepath.Join(dir, "x.parquet"), Options{})
		if err == nil || !strings.Contains(err.Error(), `no table "Incidents"`) {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestAtomic checks that a failing export leaves the previous one as it
// was, and no temporary files behind.
func TestAtomic(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := engine.Open(ctx, "", engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cols := []engine.Column{{Name: "TimeGenerated", Type: engine.DateTime}, {Name: "n", Type: engine.Long}}
	good := &engine.Plan{SQL: "SELECT TIMESTAMP_NS '2026-01-01' + to_days(CAST(i % 60 AS INTEGER)) AS t, i AS n FROM range(200000) r(i)", Columns: cols}
	// Fails after several batches have been written.
	bad := &engine.Plan{SQL: "SELECT TIMESTAMP_NS '2026-01-01' AS t, CASE WHEN i < 150000 THEN i ELSE CAST(error('boom') AS BIGINT) END AS n FROM range(200000) r(i)", Columns: cols}

	for _, byMonth := range []bool{false, true} {
		out := filepath.Join(dir, fmt.Sprint("out-", byMonth))
		res, err := Query(ctx, db, good, out, Options{ByMonth: byMonth})
		if err != nil || res.Rows != 200000 {
			t.Fatalf("good export: %+v, %v", res, err)
		}
		before := snapshot(t, out)
		if _, err := Query(ctx, db, bad, out, Options{ByMonth: byMonth}); err == nil || !strings.Contains(err.Error(), "boom") {
			t.Fatalf("bad export: err = %v", err)
		}
		if after := snapshot(t, out); !reflect.DeepEqual(before, after) {
			t.Errorf("by month %v: a failed export changed the previous one", byMonth)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), "socq-tmp") {
			t.Errorf("temporary %s left behind", e.Name())
		}
	}

	// Destinations an export refuses to replace.
	notExport := filepath.Join(dir, "home")
	os.MkdirAll(notExport, 0o755)
	os.WriteFile(filepath.Join(notExport, "thesis.tex"), []byte("x"), 0o644)
	if _, err := Query(ctx, db, good, notExport, Options{ByMonth: true}); !errors.Is(err, ErrNotAnExport) {
		t.Errorf("export over a directory of other files: err = %v", err)
	}
	if _, err := Query(ctx, db, good, notExport, Options{}); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("file export over a directory: err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(notExport, "thesis.tex")); err != nil {
		t.Errorf("the directory was touched: %v", err)
	}
	noTime := &engine.Plan{SQL: "SELECT 1 AS n", Columns: []engine.Column{{Name: "n", Type: engine.Long}}}
	if _, err := Query(ctx, db, noTime, filepath.Join(dir, "p"), Options{ByMonth: true}); err == nil || !strings.Contains(err.Error(), "TimeGenerated") {
		t.Errorf("partition without TimeGenerated: err = %v", err)
	}
	if _, err := Query(ctx, db, good, filepath.Join(dir, "c.parquet"), Options{Compression: "lz9"}); err == nil || !strings.Contains(err.Error(), "unknown compression") {
		t.Errorf("unknown compression: err = %v", err)
	}
}

// snapshot returns the files under path (or path itself) with their contents.
func snapshot(t *testing.T, path string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(path, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		files[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("nothing at %s", path)
	}
	return files
}

// TestShapeMismatch: values that do not fit the documented shapes keep
// what fits, and never fail the export.
func TestShapeMismatch(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.duckdb")
	db, err := engine.Open(ctx, path, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	row := `{"TenantId":"t","TimeGenerated":"2026-09-02T10:00:00Z","IncidentName":"a","Title":"x","IncidentNumber":1,"LastModifiedTime":"2026-09-02T10:00:00Z",` +
		`"Owner":"just text","Labels":{"labelName":"not in a list"},` +
		`"Tasks":[{"taskId":7,"title":{"x":1},"createdTimeUtc":"yesterday","extra":"dropped","createdBy":{"name":"Ann"}}]}`
	if _, err := ingest.Reader(ctx, db, "odd", strings.NewReader(row)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out := filepath.Join(t.TempDir(), "odd.parquet")
	if _, err := Table(ctx, path, engine.ExportSecurityIncident, out, Options{}); err != nil {
		t.Fatal(err)
	}
	_, got := readParquetDuckDB(t, out, `SELECT "Owner".ownerType IS NULL, "Labels" IS NULL, "Tasks"[1].taskId, "Tasks"[1].title, "Tasks"[1].createdTimeUtc IS NULL, "Tasks"[1].createdBy.name FROM read_parquet(`+engine.QuoteString(out)+")")
	want := []any{true, true, "7", `{"x":1}`, true, "Ann"}
	if !reflect.DeepEqual(got[0], want) {
		t.Errorf("got %#v, want %#v", got[0], want)
	}
}
