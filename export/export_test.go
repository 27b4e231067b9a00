package export

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/socq/socq/engine"
	"github.com/socq/socq/gen"
	"github.com/socq/socq/ingest"
	"github.com/socq/socq/parser"
)

// oddRows are snapshot rows the generated history lacks: unicode, nulls of
// every kind, a task without lastCompletedTimeUtc, sub-microsecond digits,
// a dynamic column of an unexpected shape.
var oddRows = []string{
	`{"TenantId":"t","TimeGenerated":"2026-08-31T23:59:59.9999999Z","IncidentName":"odd-1","Title":"Phishing — 日本語 🚨 \"quoted\"","Severity":"High","Status":"New","IncidentNumber":9001,` +
		`"Owner":null,"Tasks":null,"Labels":[],"Comments":null,"AdditionalData":{"alertsCount":1,"nested":{"x":[1,2]}},"LastModifiedTime":"2026-08-31T23:59:59.9999999Z"}`,
	`{"TenantId":"t","TimeGenerated":"2026-09-01T00:00:00.0000001Z","IncidentName":"odd-1","Title":"Phishing — 日本語 🚨 \"quoted\"","Severity":"High","Status":"Active","IncidentNumber":9001,` +
		`"Owner":{"objectId":null,"email":"zoë@example.com","assignedTo":"Zoë Ångström","userPrincipalName":"zoë@example.com","ownerType":"User"},` +
		`"Tasks":[{"taskId":"t1","title":"Überprüfen ✓","status":"New","createdTimeUtc":"2026-09-01T00:00:00.0000001Z","lastModifiedTimeUtc":"2026-09-01T00:00:00.1234567Z",` +
		`"createdBy":{"objectId":"o","email":null,"name":"Automation rule","userPrincipalName":null},"lastModifiedBy":{"objectId":"o","name":"Automation rule"}},` +
		`{"taskId":"t2","title":"","description":"desc","status":"Completed","createdTimeUtc":"2026-09-01T00:00:00Z","lastModifiedTimeUtc":"2026-09-01T00:00:00Z","lastCompletedTimeUtc":"2026-09-01T00:00:00.5Z"}],` +
		`"Labels":[{"labelName":"ラベル","labelType":"User"}],"AdditionalData":"not an object","LastModifiedTime":"2026-09-01T00:00:00.0000001Z"}`,
}

// history builds a database file holding gen's history plus oddRows.
func history(t testing.TB, incidents int) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.duckdb")
	db, err := engine.Open(ctx, path, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var b bytes.Buffer
	if err := gen.Write(&b, gen.Options{Incidents: incidents, Seed: 7, Days: 40, Start: time.Date(2026, 8, 15, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	b.WriteString(strings.Join(oddRows, "\n") + "\n")
	rep, err := ingest.Reader(ctx, db, "history", &b)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rejects) > 0 {
		t.Fatalf("rejects: %v", rep.Rejects)
	}
	return path
}

func compile(t testing.TB, ctx context.Context, db *engine.DB, kql string) *engine.Plan {
	t.Helper()
	q, err := parser.Parse(kql)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := engine.Compile(q, engine.DefaultCatalog(), engine.CompileOptions{Probe: db.Probe(ctx)})
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// queryRows runs plan and returns its rows, copied.
func queryRows(t testing.TB, ctx context.Context, db *engine.DB, plan *engine.Plan) [][]any {
	t.Helper()
	var rows [][]any
	err := db.Query(ctx, plan, func(vals []any) error {
		rows = append(rows, append([]any(nil), vals...))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// arrowValue is the Go value of element i of arr: nested lists and structs
// become []any and map[string]any, as DuckDB's driver returns them.
func arrowValue(arr arrow.Array, i int) any {
	if arr.IsNull(i) {
		return nil
	}
	switch a := arr.(type) {
	case *array.String:
		return a.Value(i)
	case *array.Int32:
		return int64(a.Value(i))
	case *array.Int64:
		return a.Value(i)
	case *array.Float64:
		return a.Value(i)
	case *array.Boolean:
		return a.Value(i)
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		return a.Value(i).ToTime(unit).UTC()
	case *array.Duration:
		return time.Duration(a.Value(i)) * a.DataType().(*arrow.DurationType).Unit.Multiplier()
	case *array.List:
		start, end := a.ValueOffsets(i)
		out := []any{}
		for j := start; j < end; j++ {
			out = append(out, arrowValue(a.ListValues(), int(j)))
		}
		return out
	case *array.Struct:
		st := a.DataType().(*arrow.StructType)
		out := map[string]any{}
		for f := range st.Fields() {
			out[st.Field(f).Name] = arrowValue(a.Field(f), i)
		}
		return out
	}
	panic(fmt.Sprintf("no test conversion for %T", arr))
}

// tableRows returns the rows of an Arrow table as Go values.
func tableRows(tbl arrow.Table) (names []string, rows [][]any) {
	for i := 0; i < int(tbl.NumCols()); i++ {
		names = append(names, tbl.Schema().Field(i).Name)
	}
	tr := array.NewTableReader(tbl, 0)
	defer tr.Release()
	for tr.Next() {
		rec := tr.RecordBatch()
		for r := 0; r < int(rec.NumRows()); r++ {
			row := make([]any, rec.NumCols())
			for c := range row {
				row[c] = arrowValue(rec.Column(c), r)
			}
			rows = append(rows, row)
		}
	}
	return names, rows
}

// readParquetArrow reads a Parquet file with arrow-go.
func readParquetArrow(t testing.TB, path string) arrow.Table {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tbl, err := pqarrow.ReadTable(context.Background(), f, parquet.NewReaderProperties(memory.DefaultAllocator), pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatalf("arrow-go cannot read %s: %v", path, err)
	}
	return tbl
}

// readParquetDuckDB reads Parquet files (a file, or a directory's hive
// partitions) with DuckDB's read_parquet, through engine, in an in-memory
// database allowed to read only there.
func readParquetDuckDB(t testing.TB, path string, sql string) (names []string, rows [][]any) {
	t.Helper()
	ctx := context.Background()
	opts := engine.Options{ReadPaths: []string{path}}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		opts = engine.Options{WriteDir: path}
	}
	db, err := engine.Open(ctx, "", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err = db.Probe(ctx)(sql)
	if err != nil {
		t.Fatalf("DuckDB cannot read %s: %v", path, err)
	}
	return nil, rows
}

// normalize makes values comparable across readers: integers as int64,
// times in UTC.
func normalize(v any) any {
	switch x := v.(type) {
	case int32:
		return int64(x)
	case int16:
		return int64(x)
	case int8:
		return int64(x)
	case time.Time:
		return x.UTC()
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	case json.RawMessage:
		return string(x)
	}
	return v
}

func diffRows(t *testing.T, what string, want, got [][]any) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%s: %d rows, want %d", what, len(got), len(want))
	}
	bad := 0
	for i := range want {
		for c := range want[i] {
			w, g := normalize(want[i][c]), normalize(got[i][c])
			if !reflect.DeepEqual(w, g) {
				t.Errorf("%s row %d column %d:\n got %#v\nwant %#v", what, i, c, g, w)
				if bad++; bad > 5 {
					t.FailNow()
				}
			}
		}
	}
}

// resultQuery is a KQL result with every KQL type, case-colliding names,
// nulls, unicode and sub-microsecond datetimes.
const resultQuery = `SecurityIncident
| mv-expand Task = Tasks
| extend title = tostring(Task.title), Open = Task.status == "New", Took = todatetime(Task.lastModifiedTimeUtc) - todatetime(Task.createdTimeUtc)
| project TimeGenerated, IncidentNumber, Title, title, Task, Open, Took, Billed = _BilledSize, Big = tolong(IncidentNumber) * 1000000000, Nothing = int(null)
| order by TimeGenerated asc, IncidentNumber asc, title asc`

// expectedResult is what an Arrow or Parquet reader should give back for
// the rows engine returned: datetimes and timespans at microseconds.
func expectedResult(rows [][]any) [][]any {
	out := make([][]any, len(rows))
	for i, r := range rows {
		out[i] = make([]any, len(r))
		for c, v := range r {
			switch x := v.(type) {
			case time.Time:
				v = x.Truncate(time.Microsecond)
			case time.Duration:
				v = x.Truncate(time.Microsecond)
			}
			out[i][c] = v
		}
	}
	return out
}

func TestQueryRoundTrip(t *testing.T) {
	ctx := context.Background()
	dbPath := history(t, 25)
	db, err := engine.Open(ctx, dbPath, engine.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	plan := compile(t, ctx, db, resultQuery)
	rows := queryRows(t, ctx, db, plan)
	if len(rows) < 50 {
		t.Fatalf("only %d rows: the test needs a bigger history", len(rows))
	}
	want := expectedResult(rows)
	wantNames := []string{"TimeGenerated", "IncidentNumber", "Title", "title", "Task", "Open", "Took", "Billed", "Big", "Nothing"}
	dir := t.TempDir()

	t.Run("arrow", func(t *testing.T) {
		var b bytes.Buffer
		n, err := WriteArrow(ctx, db, plan, &b)
		if err != nil || n != int64(len(rows)) {
			t.Fatalf("WriteArrow: %d rows, %v", n, err)
		}
		schema, names, got := readIPC(t, &b)
		if !reflect.DeepEqual(names, wantNames) {
			t.Errorf("names %q, want %q", names, wantNames)
		}
		checkSchema(t, schema, "duration[us]")
		diffRows(t, "arrow", want, got)
	})

	t.Run("parquet", func(t *testing.T) {
		path := filepath.Join(dir, "result.parquet")
		res, err := Query(ctx, db, plan, path, Options{Compression: engine.Snappy})
		if err != nil || res.Rows != int64(len(rows)) || res.Files != 1 {
			t.Fatalf("Query: %+v, %v", res, err)
		}
		tbl := readParquetArrow(t, path)
		names, got := tableRows(tbl)
		if !reflect.DeepEqual(names, wantNames) {
			t.Errorf("names %q, want %q", names, wantNames)
		}
		checkSchema(t, tbl.Schema(), "int64")
		wantMicros := expectedResult(rows)
		for _, r := range wantMicros {
			if d, ok := r[6].(time.Duration); ok {
				r[6] = d.Microseconds()
			}
		}
		diffRows(t, "parquet via arrow-go", wantMicros, got)

		_, got = readParquetDuckDB(t, path, "SELECT * FROM read_parquet("+engine.QuoteString(path)+")")
		diffRows(t, "parquet via DuckDB", wantMicros, got)
		_, types := readParquetDuckDB(t, path, "SELECT name, logical_type FROM parquet_schema("+engine.QuoteString(path)+") WHERE name = 'TimeGenerated'")
		if len(types) != 1 || !strings.Contains(fmt.Sprint(types[0][1]), "isAdjustedToUTC=1") || !strings.Contains(fmt.Sprint(types[0][1]), "MICROS") {
			t.Errorf("TimeGenerated's Parquet type is %v, want a UTC timestamp in microseconds", types)
		}
	})

	t.Run("parquet by month", func(t *testing.T) {
		out := filepath.Join(dir, "by-month")
		res, err := Query(ctx, db, plan, out, Options{ByMonth: true, Compression: engine.Uncompressed})
		if err != nil || res.Rows != int64(len(rows)) {
			t.Fatalf("Query: %+v, %v", res, err)
		}
		months := map[string]bool{}
		for _, r := range rows {
			tm := r[0].(time.Time)
			months[fmt.Sprintf("year=%04d/month=%02d", tm.Year(), tm.Month())] = true
		}
		var files []string
		filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(out, p)
				files = append(files, rel)
			}
			return err
		})
		var wantFiles []string
		for m := range months {
			wantFiles = append(wantFiles, filepath.Join(m, "data_0.parquet"))
		}
		sort.Strings(wantFiles)
		if !reflect.DeepEqual(files, wantFiles) || res.Files != len(wantFiles) {
			t.Fatalf("files %q (%d), want %q", files, res.Files, wantFiles)
		}
		// Read back in order, hive columns year and month added by DuckDB.
		_, got := readParquetDuckDB(t, out, "SELECT * EXCLUDE (year, month) FROM read_parquet("+
			engine.QuoteString(filepath.Join(out, "*", "*", "*.parquet"))+", hive_partitioning = true) ORDER BY TimeGenerated, IncidentNumber, title")
		wantDuck := expectedResult(rows)
		for _, r := range wantDuck {
			if d, ok := r[6].(time.Duration); ok {
				r[6] = d.Microseconds()
			}
		}
		diffRows(t, "partitioned parquet via DuckDB", wantDuck, got)
	})
}

// checkSchema checks the Arrow types of resultQuery's columns.
func checkSchema(t *testing.T, s *arrow.Schema, timespan string) {
	t.Helper()
	want := []string{"timestamp[us, tz=UTC]", "int32", "utf8", "utf8", "utf8", "bool", timespan, "float64", "int64", "int32"}
	for i, w := range want {
		if got := s.Field(i).Type.String(); got != w {
			t.Errorf("column %s: type %s, want %s", s.Field(i).Name, got, w)
		}
	}
	if v, _ := s.Field(4).Metadata.GetValue(KQLTypeKey); v != "dynamic" {
		t.Errorf("Task metadata %s = %q, want dynamic", KQLTypeKey, v)
	}
}

// readIPC reads an Arrow IPC stream back into its schema, column names and rows.
func readIPC(t *testing.T, b *bytes.Buffer) (*arrow.Schema, []string, [][]any) {
	t.Helper()
	r, err := ipc.NewReader(b)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	var recs []arrow.RecordBatch
	for r.Next() {
		rec := r.RecordBatch()
		rec.Retain()
		recs = append(recs, rec)
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	names, rows := tableRows(array.NewTableFromRecords(r.Schema(), recs))
	return r.Schema(), names, rows
}
