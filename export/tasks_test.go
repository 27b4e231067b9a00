package export

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/socq/socq/engine"
	"github.com/socq/socq/gen"
	"github.com/socq/socq/ingest"
)

// demoHistory are socq demo's options (cmd/socq/demo.go): the history the
// README's examples show.
var demoHistory = gen.Options{Incidents: 40, Seed: 2026, Days: 21}

func demoDB(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "demo.duckdb")
	db, err := engine.Open(ctx, path, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var b bytes.Buffer
	if err := gen.Write(&b, demoHistory); err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.Reader(ctx, db, "demo", &b); err != nil {
		t.Fatal(err)
	}
	return path
}

// changeRow is a task change as the export's row should hold it.
func changeRow(c engine.TaskChange) []any {
	tm := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t.Truncate(time.Microsecond)
	}
	return []any{c.IncidentNumber, c.IncidentName, c.Title, c.Status, c.Severity, c.Owner,
		c.TaskID, c.TaskTitle, c.TaskStatus, tm(c.CreatedTimeUTC), tm(c.LastModifiedTimeUTC), tm(c.LastCompletedTimeUTC),
		c.CreatedByName, c.CreatedByUPN, c.LastModifiedByName, c.LastModifiedByUPN, tm(c.TimeGenerated), c.Change}
}

func TestTasksTable(t *testing.T) {
	ctx := context.Background()
	dbPath := demoDB(t)
	db, err := engine.Open(ctx, dbPath, engine.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	changes, err := db.TaskChanges(ctx, engine.TaskChangeFilter{})
	if err != nil {
		t.Fatal(err)
	}
	// Independently of the derivation: one row per task in each snapshot.
	perSnapshot := queryRows(t, ctx, db, compile(t, ctx, db, "SecurityIncident | summarize n = sum(array_length(Tasks))"))[0][0]
	db.Close()
	if int64(len(changes)) != perSnapshot.(int64) || len(changes) == 0 {
		t.Fatalf("%d task changes, %v tasks in all snapshots", len(changes), perSnapshot)
	}
	want := make([][]any, len(changes))
	kinds := map[string]int{}
	for i, c := range changes {
		want[i] = changeRow(c)
		kinds[c.Change]++
	}
	for _, k := range []string{engine.ChangeAdded, engine.ChangeCompleted, engine.ChangeDeleted, engine.ChangeUnchanged} {
		if kinds[k] == 0 {
			t.Errorf("the demo history has no %q task change: %v", k, kinds)
		}
	}
	names := []string{}
	for _, c := range engine.TaskChangeColumns() {
		names = append(names, c.Name)
	}
	dir := t.TempDir()

	out := filepath.Join(dir, "tasks.parquet")
	res, err := Table(ctx, dbPath, engine.ExportTasks, out, Options{})
	if err != nil || res.Rows != int64(len(changes)) {
		t.Fatalf("Table: %+v, %v (want %d rows)", res, err, len(changes))
	}
	tbl := readParquetArrow(t, out)
	gotNames, got := tableRows(tbl)
	if !reflect.DeepEqual(gotNames, names) {
		t.Errorf("names %q, want %q", gotNames, names)
	}
	diffRows(t, "arrow-go", want, got)
	for _, c := range engine.TaskChangeColumns() {
		f, _ := tbl.Schema().FieldsByName(c.Name)
		wantType := map[engine.Type]string{engine.Int: "int32", engine.String: "utf8", engine.DateTime: "timestamp[us, tz=UTC]"}[c.Type]
		if f[0].Type.String() != wantType {
			t.Errorf("%s: %s, want %s", c.Name, f[0].Type, wantType)
		}
	}

	_, got = readParquetDuckDB(t, out, "SELECT * FROM read_parquet("+engine.QuoteString(out)+")")
	diffRows(t, "DuckDB", want, got)
	_, unique := readParquetDuckDB(t, out, `SELECT count(*), count(DISTINCT ("IncidentName", "TimeGenerated", "taskId")) FROM read_parquet(`+engine.QuoteString(out)+")")
	if fmt.Sprint(unique[0][0]) != fmt.Sprint(unique[0][1]) {
		t.Errorf("%v rows but %v distinct (incident, snapshot, task)", unique[0][0], unique[0][1])
	}

	// By month, the same rows.
	months := filepath.Join(dir, "tasks")
	res, err = Table(ctx, dbPath, engine.ExportTasks, months, Options{ByMonth: true})
	if err != nil || res.Rows != int64(len(changes)) || res.Files < 1 {
		t.Fatalf("Table by month: %+v, %v", res, err)
	}
	_, got = readParquetDuckDB(t, months, "SELECT * EXCLUDE (year, month) FROM read_parquet("+
		engine.QuoteString(filepath.Join(months, "*", "*", "*.parquet"))+", hive_partitioning = true)")
	sortRows(want, 16, 1, 6)
	sortRows(got, 16, 1, 6)
	diffRows(t, "DuckDB, by month", want, got)
}
