package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/socq/socq/engine"
)

// writeFile writes content to a file called name in dir and returns its path.
func writeFile(t testing.TB, dir, name string, content []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func gzipped(content []byte) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(content)
	zw.Close()
	return b.Bytes()
}

// ndjson joins lines into NDJSON content.
func ndjson(lines ...string) []byte { return []byte(strings.Join(lines, "\n") + "\n") }

// dumpDB returns the SecurityIncident table as text, one line per row in a
// stable order, each value as DuckDB prints it ("NULL" for null).
func dumpDB(t testing.TB, db *engine.DB) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	err := db.Tx(ctx, func(tx *engine.Tx) error {
		rows, err := tx.Query(ctx, `SELECT COLUMNS(*)::VARCHAR FROM "SecurityIncident" ORDER BY ALL`)
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			fields := make([]string, len(cols))
			for i, v := range vals {
				fields[i] = cols[i] + "=NULL"
				if v.Valid {
					fields[i] = cols[i] + "=" + v.String
				}
			}
			out = append(out, strings.Join(fields, " | "))
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// dump returns the table of the database file at path (see dumpDB).
func dump(t testing.TB, path string) []string {
	t.Helper()
	db, err := engine.Open(context.Background(), path, engine.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return dumpDB(t, db)
}

// queryDB runs a query with one string result column on the database file.
func queryDB(t testing.TB, path, query string) []string {
	t.Helper()
	db, err := engine.Open(context.Background(), path, engine.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out []string
	err = db.Tx(context.Background(), func(tx *engine.Tx) error {
		rows, err := tx.Query(context.Background(), query)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s sql.NullString
			if err := rows.Scan(&s); err != nil {
				return err
			}
			if !s.Valid {
				s.String = "NULL"
			}
			out = append(out, s.String)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// loadFiles loads files into a new database and returns the report and
// the database's path.
func loadFiles(t testing.TB, opts Options, files ...string) (*Report, string) {
	t.Helper()
	dbPath := filepath.Join(t.TempDir(), "socq.duckdb")
	rep, err := Files(context.Background(), dbPath, files, opts)
	if err != nil {
		t.Fatalf("Files: %v", err)
	}
	return rep, dbPath
}

func rejectStrings(rejects []Reject) []string {
	out := make([]string, len(rejects))
	for i, r := range rejects {
		out[i] = r.String()
	}
	return out
}

func TestFormatsLoadTheSameRows(t *testing.T) {
	rows := sampleHistory(7, 4)
	dir := t.TempDir()
	cases := []struct {
		name    string
		content []byte
		format  Format
	}{
		{"history.ndjson", toNDJSON(rows), NDJSON},
		{"history.json", toJSONArray(rows), JSONArray},
		{"response.json", toAPIResponse(rows), APIResponse},
		{"export.csv", toCSV(rows), CSV},
		{"history.ndjson.gz", gzipped(toNDJSON(rows)), NDJSON},
		{"export.csv.gz", gzipped(toCSV(rows)), CSV},
	}
	var want []string
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, dir, c.name, c.content)
			rep, dbPath := loadFiles(t, Options{}, path)
			wantSummary := []FileSummary{{Name: path, Format: c.format, Read: len(rows), Added: len(rows)}}
			if !slices.Equal(rep.Files, wantSummary) || len(rep.Rejects) > 0 || len(rep.Warnings) > 0 {
				t.Fatalf("report = %+v, want files %+v and nothing else", rep, wantSummary)
			}
			got := dump(t, dbPath)
			if want == nil {
				want = got
			}
			if diff := diffLines(want, got); diff != "" {
				t.Errorf("table differs from the NDJSON load:\n%s", diff)
			}

			// Reader loads the same content into a database without file access.
			db, err := engine.Open(context.Background(), "", engine.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			rrep, err := Reader(context.Background(), db, c.name, bytes.NewReader(c.content))
			if err != nil {
				t.Fatalf("Reader: %v", err)
			}
			if s := rrep.Files[0]; s.Format != c.format || s.Added != len(rows) || s.Read != len(rows) {
				t.Errorf("Reader summary = %+v", s)
			}
			if diff := diffLines(want, dumpDB(t, db)); diff != "" {
				t.Errorf("Reader's table differs from the NDJSON load:\n%s", diff)
			}
		})
	}

	// Spot-check the normalisation on the first snapshot: the creation row
	// of incident 1.
	first := strings.Split(want[0], " | ")
	for _, wantField := range []string{
		// all 7 fraction digits kept (TIMESTAMP_NS)
		"TimeGenerated=" + rows[0]["TimeGenerated"].(time.Time).Format("2006-01-02 15:04:05.9999999"),
		"Owner=" + string(rows[0]["Owner"].(json.RawMessage)),
		"FirstModifiedTime=NULL",
		"ClosedTime=NULL",
		"Classification=",
		"IncidentNumber=1",
		"BookmarkIds=[]",
		"_BilledSize=" + rows[0]["_BilledSize"].(json.Number).String() + ".0", // whole bytes, as a DOUBLE
	} {
		if !slices.Contains(first, wantField) {
			t.Errorf("first row lacks %s:\n%s", wantField, want[0])
		}
	}
}

// TestSampleHistoryIsGenOutput checks that the rows the format tests start
// from are gen's history unchanged: written back as NDJSON they are gen's bytes.
func TestSampleHistoryIsGenOutput(t *testing.T) {
	if got, want := toNDJSON(sampleHistory(7, 4)), genNDJSON(7, 4); !bytes.Equal(got, want) {
		t.Errorf("rows written back differ from gen's output:\n%s\nwant\n%s", got, want)
	}
}

// diffLines describes how got differs from want, or returns "".
func diffLines(want, got []string) string {
	var b strings.Builder
	if len(want) != len(got) {
		fmt.Fprintf(&b, "%d rows, want %d\n", len(got), len(want))
	}
	for i := range min(len(want), len(got)) {
		if want[i] == got[i] {
			continue
		}
		w, g := strings.Split(want[i], " | "), strings.Split(got[i], " | ")
		for j := range min(len(w), len(g)) {
			if w[j] != g[j] {
				fmt.Fprintf(&b, "row %d: got %s\n        want %s\n", i, g[j], w[j])
			}
		}
	}
	return b.String()
}

func TestDetect(t *testing.T) {
	cases := []struct {
		content string
		want    Format
		err     string
	}{
		{`{"TenantId":"t"}` + "\n", NDJSON, ""},
		{"\n\n  {\"IncidentName\":\"a\"}", NDJSON, ""},
		{"\xef\xbb\xbf{\"IncidentName\":\"a\"}", NDJSON, ""},
		{`[{"IncidentName":"a"}]`, JSONArray, ""},
		{"[\n  {\n    \"IncidentName\": \"a\"\n  }\n]", JSONArray, ""},
		{`{"tables":[{"name":"PrimaryResult","columns":[],"rows":[]}]}`, APIResponse, ""},
		{"{\n  \"tables\": [\n", APIResponse, ""},
		{"TenantId,TimeGenerated [UTC],Title\n", CSV, ""},
		{"\xef\xbb\xbfTenantId,Title\n", CSV, ""},
		{"", 0, "empty file"},
		{" \n\t\n", 0, "empty file"},
	}
	for _, c := range cases {
		got, err := detect([]byte(c.content), true)
		if got != c.want || (err == nil) != (c.err == "") || (err != nil && err.Error() != c.err) {
			t.Errorf("detect(%q) = %v, %v; want %v, %q", c.content, got, err, c.want, c.err)
		}
	}
}

func TestDynamicAsValueOrString(t *testing.T) {
	// Each line stores a different form of a value in Tasks; want is the
	// JSON stored.
	cases := []struct {
		tasks string // the JSON text of the Tasks value in the input
		want  string
	}{
		{`[{"taskId":"1","title":"Reset password"}]`, `[{"taskId":"1","title":"Reset password"}]`},
		{`"[{\"taskId\": \"1\", \"title\": \"Reset password\"}]"`, `[{"taskId":"1","title":"Reset password"}]`},
		{`[ {"taskId" : "1",  "title":"Reset password"} ]`, `[{"taskId":"1","title":"Reset password"}]`},
		{`"[]"`, `[]`},
		{`[]`, `[]`},
		{`{"a":"\u00e9"}`, `{"a":"é"}`},
		{`"{\"a\":\"\\u00e9\"}"`, `{"a":"é"}`},
		{`12`, `12`},
		{`"12"`, `12`},
		{`"hello"`, `"hello"`},
		{`"\"hello\""`, `"hello"`},
		{`true`, `true`},
		{`""`, `NULL`},
		{`null`, `NULL`},
		{`"null"`, `NULL`},
	}
	var lines []string
	for i, c := range cases {
		lines = append(lines, fmt.Sprintf(`{"IncidentName":"%d","Tasks":%s}`, i, c.tasks))
	}
	path := writeFile(t, t.TempDir(), "dynamic.ndjson", ndjson(lines...))
	_, dbPath := loadFiles(t, Options{}, path)
	got := queryDB(t, dbPath, `SELECT coalesce("Tasks"::VARCHAR, 'NULL') FROM "SecurityIncident" ORDER BY "IncidentName"::INT`)
	for i, c := range cases {
		if i >= len(got) || got[i] != c.want {
			t.Errorf("Tasks %s stored as %v, want %s", c.tasks, got, c.want)
		}
	}
}

func TestDatetimeForms(t *testing.T) {
	cases := []struct{ in, want string }{
		{"2024-05-01T10:00:00Z", "2024-05-01 10:00:00"},
		{"2024-05-01T10:00:00.123Z", "2024-05-01 10:00:00.123"},
		{"2024-05-01T10:00:00.1234567Z", "2024-05-01 10:00:00.1234567"}, // all of Kusto's ticks
		{"2024-05-01T10:00:00.1234567", "2024-05-01 10:00:00.1234567"},
		{"2024-05-01T10:00:00.5+02:00", "2024-05-01 08:00:00.5"},
		{"2024-05-01T10:00:00-0130", "2024-05-01 11:30:00"},
		{"2024-05-01T10:00:00", "2024-05-01 10:00:00"},
		{"2024-05-01 10:00:00", "2024-05-01 10:00:00"},
		{"5/1/2024, 10:00:00.123 PM", "2024-05-01 22:00:00.123"},
		{"12/31/2024, 1:02:03 AM", "2024-12-31 01:02:03"},
		{"5/1/2024, 12:00:00.000 AM", "2024-05-01 00:00:00"},
		{"Sat, 8 Nov 2014 15:05:02 GMT", "2014-11-08 15:05:02"},
		{"Sat, 18 Nov 14 15:05:02 GMT", "2014-11-18 15:05:02"},
		{"", "NULL"},
	}
	var lines []string
	for i, c := range cases {
		lines = append(lines, fmt.Sprintf(`{"IncidentName":"%d","TimeGenerated":%q}`, i, c.in))
	}
	path := writeFile(t, t.TempDir(), "times.ndjson", ndjson(lines...))
	rep, dbPath := loadFiles(t, Options{}, path)
	if len(rep.Rejects) > 0 {
		t.Fatalf("rejects: %v", rejectStrings(rep.Rejects))
	}
	got := queryDB(t, dbPath, `SELECT coalesce("TimeGenerated"::VARCHAR, 'NULL') FROM "SecurityIncident" ORDER BY "IncidentName"::INT`)
	for i, c := range cases {
		if i >= len(got) || got[i] != c.want {
			t.Errorf("%q stored as %v, want %s", c.in, got, c.want)
		}
	}
}

func TestUnknownColumnsWarnedOnce(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name    string
		content []byte
	}{
		{"objects.ndjson", ndjson(
			`{"IncidentName":"a","Foo":1}`,
			`{"IncidentName":"b","Foo":2,"tenantid":"x"}`,
			`{"IncidentName":"c","Foo":3}`,
		)},
		{"array.json", []byte(`[{"IncidentName":"a","Foo":1},{"IncidentName":"b","Foo":2,"tenantid":"x"}]`)},
		{"export.csv", []byte("IncidentName,Foo,tenantid,Foo\na,1,x,2\nb,2,y,3\n")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, dir, c.name, c.content)
			rep, _ := loadFiles(t, Options{}, path)
			want := []string{
				path + ": unknown column 'Foo' ignored",
				path + ": unknown column 'tenantid' ignored",
			}
			if !slices.Equal(rep.Warnings, want) {
				t.Errorf("warnings = %q, want %q", rep.Warnings, want)
			}
		})
	}
}

func TestUnknownColumnsInAUniformFile(t *testing.T) {
	// Every object has the same keys: the sample finds Foo.
	var lines []string
	for i := range 3 {
		lines = append(lines, fmt.Sprintf(`{"IncidentName":"%d","Foo":1}`, i))
	}
	path := writeFile(t, t.TempDir(), "uniform.ndjson", ndjson(lines...))
	rep, _ := loadFiles(t, Options{}, path)
	if want := []string{path + ": unknown column 'Foo' ignored"}; !slices.Equal(rep.Warnings, want) {
		t.Errorf("warnings = %q, want %q", rep.Warnings, want)
	}
}

func TestMissingColumns(t *testing.T) {
	path := writeFile(t, t.TempDir(), "sparse.ndjson", ndjson(`{"IncidentName":"a","Title":null}`))
	_, dbPath := loadFiles(t, Options{}, path)
	got := dump(t, dbPath)
	want := []string{}
	for _, c := range engine.SecurityIncident().Columns {
		v := "NULL"
		switch {
		case c.Name == "IncidentName":
			v = "a"
		case c.Type == engine.String:
			v = ""
		}
		want = append(want, c.Name+"="+v)
	}
	if len(got) != 1 || got[0] != strings.Join(want, " | ") {
		t.Errorf("row = %q\nwant  %q", got, strings.Join(want, " | "))
	}
}

func TestRejects(t *testing.T) {
	good := func(name string) string {
		return fmt.Sprintf(`{"IncidentName":%q,"TimeGenerated":"2024-05-01T10:00:00Z","IncidentNumber":1}`, name)
	}
	badTime := `{"IncidentName":"t","TimeGenerated":"yesterday","IncidentNumber":2}`
	fraction := `{"IncidentName":"f","IncidentNumber":12.5}`
	text := `{"IncidentName":"x","IncidentNumber":"abc"}`
	huge := `{"IncidentName":"h","IncidentNumber":1099511627776}`
	twoBad := `{"IncidentName":"2","TimeGenerated":"soon","_BilledSize":"lots"}`
	badJSON := `{"IncidentName":"j",`
	notObject := `["IncidentName"]`

	wantReasons := map[string]string{
		badTime:   `TimeGenerated: cannot parse "yesterday" as a datetime`,
		fraction:  `IncidentNumber: cannot parse "12.5" as an int`,
		text:      `IncidentNumber: cannot parse "abc" as an int`,
		huge:      `IncidentNumber: 1099511627776 is out of range for int`,
		twoBad:    `TimeGenerated: cannot parse "soon" as a datetime; _BilledSize: cannot parse "lots" as a real`,
		badJSON:   `invalid JSON at byte 20: unexpected end of JSON input`,
		notObject: `not a JSON object`,
	}
	cases := []struct {
		name  string
		lines []string
	}{
		// DuckDB reads this file itself; Go finds the lines afterwards.
		{"parsed.ndjson", []string{good("a"), "", badTime, fraction, "   ", text, good("b"), huge, twoBad, good("c")}},
		// DuckDB cannot parse this one: Go splits it.
		{"malformed.ndjson", []string{good("a"), badJSON, "", badTime, fraction, notObject, text, good("b"), huge, twoBad, good("c")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), c.name, ndjson(c.lines...))
			rep, dbPath := loadFiles(t, Options{}, path)
			var want []Reject
			goodRows := 0
			for i, line := range c.lines {
				if reason, bad := wantReasons[line]; bad {
					want = append(want, Reject{File: path, Line: i + 1, Reason: reason, Raw: line})
				} else if line != "" && strings.TrimSpace(line) != "" {
					goodRows++
				}
			}
			if !slices.Equal(rep.Rejects, want) {
				t.Errorf("rejects:\n%s\nwant:\n%s", strings.Join(rejectStrings(rep.Rejects), "\n"), strings.Join(rejectStrings(want), "\n"))
			}
			wantSummary := FileSummary{Name: path, Format: NDJSON, Read: goodRows + len(want), Added: goodRows, Rejected: len(want)}
			if rep.Files[0] != wantSummary {
				t.Errorf("summary = %+v, want %+v", rep.Files[0], wantSummary)
			}
			if got := queryDB(t, dbPath, `SELECT "IncidentName" FROM "SecurityIncident" ORDER BY 1`); !slices.Equal(got, []string{"a", "b", "c"}) {
				t.Errorf("loaded %q, want the good rows a, b, c", got)
			}
			// Every reject is in the rejects file, as NDJSON.
			if rep.RejectsPath != dbPath+".rejects.ndjson" {
				t.Errorf("RejectsPath = %q", rep.RejectsPath)
			}
			content, err := os.ReadFile(rep.RejectsPath)
			if err != nil {
				t.Fatal(err)
			}
			var fromFile []Reject
			for _, line := range bytes.Split(bytes.TrimSpace(content), []byte("\n")) {
				var r Reject
				if err := json.Unmarshal(line, &r); err != nil {
					t.Fatalf("rejects file line %q: %v", line, err)
				}
				fromFile = append(fromFile, r)
			}
			if !slices.Equal(fromFile, want) {
				t.Errorf("rejects file holds %v, want %v", fromFile, want)
			}
		})
	}
}

func TestRejectLinesInOtherFormats(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name    string
		content string
		want    []string // FILE:LINE: reason with FILE left out
		raw     string   // the raw text of the first reject
	}{
		{"array.json", "[\n  {\"IncidentName\": \"a\"},\n  {\n    \"IncidentName\": \"b\",\n    \"ClosedTime\": \"never\"\n  },\n  {\"IncidentName\": \"c\"}\n]\n",
			[]string{`:3: ClosedTime: cannot parse "never" as a datetime`},
			"{\n    \"IncidentName\": \"b\",\n    \"ClosedTime\": \"never\"\n  }"},
		{"array-not-objects.json", "[\n  {\"IncidentName\": \"a\"},\n  42\n]",
			[]string{`:3: not a JSON object`}, "42"},
		{"export.csv", "IncidentName,Description,IncidentNumber\na,\"two\nlines\",1\nb,x,one\nc,,3\n",
			[]string{`:4: IncidentNumber: cannot parse "one" as an int`}, "b,x,one"},
		{"short-record.csv", "IncidentName,Description,IncidentNumber\na,\"two\nlines\",1\nb,x\nc,,3\n",
			[]string{`:4: the record has 2 fields, the header has 3`}, "b,x"},
		{"response.json", `{"tables":[{"name":"PrimaryResult","columns":[{"name":"IncidentName","type":"string"},{"name":"IncidentNumber","type":"int"}],"rows":[` +
			"\n[\"a\",1],\n[\"b\",\"x\"],\n[\"c\"]\n]}]}",
			[]string{`:3: IncidentNumber: cannot parse "x" as an int`, `:4: the record has 1 values, the header has 2`}, `["b","x"]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, dir, c.name, []byte(c.content))
			rep, dbPath := loadFiles(t, Options{}, path)
			var want []string
			for _, w := range c.want {
				want = append(want, path+w)
			}
			if got := rejectStrings(rep.Rejects); !slices.Equal(got, want) {
				t.Fatalf("rejects = %q, want %q", got, want)
			}
			if rep.Rejects[0].Raw != c.raw {
				t.Errorf("raw = %q, want %q", rep.Rejects[0].Raw, c.raw)
			}
			names := queryDB(t, dbPath, `SELECT "IncidentName" FROM "SecurityIncident" ORDER BY 1`)
			if len(names) != rep.Files[0].Added || rep.Files[0].Added+len(want) != rep.Files[0].Read {
				t.Errorf("loaded %q; summary %+v", names, rep.Files[0])
			}
		})
	}
}

// TestRejectLinesInALargeFile checks that the record ordinals DuckDB keeps
// while it reads a large file in parallel match the lines Go counts.
func TestRejectLinesInALargeFile(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 50 MB")
	}
	rows := sampleHistory(3, 1750)
	badLines := map[int]bool{3: true, len(rows) / 2: true, len(rows) - 1: true}
	var b bytes.Buffer
	for i, r := range rows {
		if badLines[i+1] {
			r = maps(r)
			r["CreatedTime"] = "not a time"
		}
		writeNDJSON(&b, []row{r}, false)
	}
	path := writeFile(t, t.TempDir(), "large.ndjson", b.Bytes())
	rep, _ := loadFiles(t, Options{}, path)
	var lines []int
	for _, r := range rep.Rejects {
		lines = append(lines, r.Line)
		if !strings.Contains(r.Raw, `"CreatedTime":"not a time"`) {
			t.Errorf("line %d: raw %.80q… is not the rejected record", r.Line, r.Raw)
		}
	}
	want := []int{3, len(rows) / 2, len(rows) - 1}
	if !slices.Equal(lines, want) {
		t.Errorf("reject lines = %v, want %v", lines, want)
	}
	if s := rep.Files[0]; s.Added != len(rows)-3 {
		t.Errorf("summary = %+v", s)
	}
}

func maps(r row) row {
	out := row{}
	for k, v := range r {
		out[k] = v
	}
	return out
}

func TestReingestAddsNothing(t *testing.T) {
	rows := sampleHistory(11, 3)
	dir := t.TempDir()
	nd := writeFile(t, dir, "h.ndjson", toNDJSON(rows))
	csvPath := writeFile(t, dir, "h.csv", toCSV(rows))
	dbPath := filepath.Join(dir, "socq.duckdb")
	ctx := context.Background()
	if _, err := Files(ctx, dbPath, []string{nd}, Options{}); err != nil {
		t.Fatal(err)
	}
	before := dump(t, dbPath)
	rep, err := Files(ctx, dbPath, []string{nd, csvPath}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []FileSummary{
		{Name: nd, Format: NDJSON, Read: len(rows), AlreadyPresent: len(rows)},
		{Name: csvPath, Format: CSV, Read: len(rows), AlreadyPresent: len(rows)},
	}
	if !slices.Equal(rep.Files, want) {
		t.Errorf("files = %+v, want %+v", rep.Files, want)
	}
	if diff := diffLines(before, dump(t, dbPath)); diff != "" {
		t.Errorf("table changed:\n%s", diff)
	}
}

func TestDuplicateKeysInAFile(t *testing.T) {
	row := func(title, modified string) string {
		return fmt.Sprintf(`{"IncidentName":"a","Title":%q,"TimeGenerated":"2024-05-01T10:00:00Z","LastModifiedTime":%s}`, title, modified)
	}
	path := writeFile(t, t.TempDir(), "dups.ndjson", ndjson(
		row("first", `"2024-05-01T10:00:00Z"`),
		row("second", `"2024-05-01T10:00:00Z"`),
		row("no time", `null`),
		row("first", `"2024-05-01T10:00:00Z"`),
		row("no time again", `null`),
	))
	rep, dbPath := loadFiles(t, Options{}, path)
	want := FileSummary{Name: path, Format: NDJSON, Read: 5, Added: 2, AlreadyPresent: 3}
	if rep.Files[0] != want {
		t.Errorf("summary = %+v, want %+v", rep.Files[0], want)
	}
	if got := queryDB(t, dbPath, `SELECT "Title" FROM "SecurityIncident" ORDER BY 1`); !slices.Equal(got, []string{"first", "no time"}) {
		t.Errorf("titles = %q, want the first row of each key", got)
	}
}

func TestFileErrors(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.ndjson", ndjson(`{"IncidentName":"a"}`))
	empty := writeFile(t, dir, "empty.ndjson", nil)
	blank := writeFile(t, dir, "blank.ndjson", []byte("\n  \n"))
	emptyGzip := writeFile(t, dir, "empty.gz", gzipped(nil))
	missing := filepath.Join(dir, "missing.ndjson")
	localTime := writeFile(t, dir, "local.csv", []byte("IncidentName,TimeGenerated [Local Time]\na,5/1/2024\n"))
	notCSV := writeFile(t, dir, "notes.txt", []byte("just some notes\n"))
	badArray := writeFile(t, dir, "bad.json", []byte("[\n{\"IncidentName\":\"a\"},\n{\"IncidentName\" \"b\"}\n]"))
	cases := []struct {
		file    string
		want    string
		notFind bool
	}{
		{empty, empty + ": empty file", false},
		{blank, blank + ": empty file", false},
		{emptyGzip, emptyGzip + ": empty file", false},
		{missing, missing + ": no such file or directory", true},
		{dir, dir + ": is a directory, not a file", false},
		{localTime, localTime + `: column "TimeGenerated" holds local times, which cannot be converted to UTC: export again with times in UTC`, false},
		{notCSV, notCSV + ": not NDJSON, JSON or CSV with a header naming SecurityIncident columns", false},
		{badArray, "ingest " + badArray + ": line 3: invalid JSON: invalid character '\"' after object key", false},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			dbPath := filepath.Join(t.TempDir(), "socq.duckdb")
			_, err := Files(context.Background(), dbPath, []string{good, c.file}, Options{})
			if err == nil || err.Error() != c.want {
				t.Fatalf("err = %v, want %s", err, c.want)
			}
			if c.notFind != errors.Is(err, fs.ErrNotExist) {
				t.Errorf("errors.Is(err, fs.ErrNotExist) = %v", !c.notFind)
			}
		})
	}
	// Input errors are found before anything is loaded.
	dbPath := filepath.Join(dir, "socq.duckdb")
	if _, err := Files(context.Background(), dbPath, []string{good, missing}, Options{}); err == nil {
		t.Fatal("no error")
	}
	if _, err := os.Stat(dbPath); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the database was created: %v", err)
	}
}

func TestStdin(t *testing.T) {
	rows := sampleHistory(5, 2)
	for _, content := range [][]byte{toNDJSON(rows), gzipped(toCSV(rows))} {
		rep, dbPath := loadFiles(t, Options{Stdin: bytes.NewReader(content)}, "-")
		if s := rep.Files[0]; s.Name != "<stdin>" || s.Added != len(rows) {
			t.Errorf("summary = %+v", s)
		}
		if got := dump(t, dbPath); len(got) != len(rows) {
			t.Errorf("%d rows loaded, want %d", len(got), len(rows))
		}
	}
	_, err := Files(context.Background(), "", []string{"-"}, Options{})
	if err == nil || err.Error() != "<stdin>: no standard input to read" {
		t.Errorf("without Stdin: err = %v", err)
	}
}

func TestAPIResponseWithColumnsAfterRows(t *testing.T) {
	content := `{"tables":[{"name":"PrimaryResult","rows":[["a",1],["b",2]],"columns":[{"name":"IncidentName","type":"string"},{"name":"IncidentNumber","type":"int"}]}]}`
	path := writeFile(t, t.TempDir(), "response.json", []byte(content))
	rep, dbPath := loadFiles(t, Options{}, path)
	if s := rep.Files[0]; s.Format != APIResponse || s.Added != 2 {
		t.Errorf("summary = %+v", s)
	}
	if got := queryDB(t, dbPath, `SELECT "IncidentName" || "IncidentNumber" FROM "SecurityIncident" ORDER BY 1`); !slices.Equal(got, []string{"a1", "b2"}) {
		t.Errorf("rows = %q", got)
	}
}

func TestNoRejectsFileForAnInMemoryDatabase(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "bad.ndjson", ndjson(`{"IncidentName":"a","IncidentNumber":"x"}`))
	rep, err := Files(context.Background(), "", []string{path}, Options{})
	if err != nil || len(rep.Rejects) != 1 || rep.RejectsPath != "" {
		t.Errorf("report %+v, err %v: want one reject and no rejects file", rep, err)
	}
	rejects := filepath.Join(dir, "rejects.ndjson")
	rep, err = Files(context.Background(), "", []string{path}, Options{RejectsPath: rejects})
	if err != nil || rep.RejectsPath != rejects {
		t.Fatalf("report %+v, err %v", rep, err)
	}
	if content, _ := os.ReadFile(rejects); !strings.Contains(string(content), `"reason":"IncidentNumber: cannot parse \"x\" as an int"`) {
		t.Errorf("rejects file: %s", content)
	}
}

func TestByteOrderMark(t *testing.T) {
	dir := t.TempDir()
	bom := "\xef\xbb\xbf"
	cases := map[string]string{
		"bom.ndjson": bom + `{"IncidentName":"a","IncidentNumber":1}` + "\n",
		"bom.json":   bom + `[{"IncidentName":"a","IncidentNumber":1}]`,
		"bom-api.json": bom + `{"tables":[{"name":"PrimaryResult","columns":[{"name":"IncidentName","type":"string"},` +
			`{"name":"IncidentNumber","type":"int"}],"rows":[["a",1]]}]}`,
		"bom.csv":        bom + "IncidentName,IncidentNumber\na,1\n",
		"bom-quoted.csv": bom + "\"IncidentName\",\"IncidentNumber\"\n\"a\",\"1\"\n",
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			rep, dbPath := loadFiles(t, Options{}, writeFile(t, dir, name, []byte(content)))
			if s := rep.Files[0]; s.Added != 1 || len(rep.Rejects) > 0 || len(rep.Warnings) > 0 {
				t.Fatalf("summary %+v, rejects %q, warnings %q", s, rejectStrings(rep.Rejects), rep.Warnings)
			}
			if got := queryDB(t, dbPath, `SELECT "IncidentName" || "IncidentNumber" FROM "SecurityIncident"`); !slices.Equal(got, []string{"a1"}) {
				t.Errorf("rows = %q", got)
			}
		})
	}
}

func TestUnusualButValidInputs(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name    string
		content string
		want    FileSummary // Name and Format left out
	}{
		{"empty-array.json", "[]", FileSummary{}},
		{"header-only.csv", "IncidentName,Title\n", FileSummary{}},
		{"empty-objects.ndjson", "{}\n{}\n", FileSummary{Read: 2, Added: 1, AlreadyPresent: 1}},
		{"crlf.csv", "IncidentName,IncidentNumber\r\na,1\r\nb,2\r\n", FileSummary{Read: 2, Added: 2}},
		{"no-final-newline.ndjson", `{"IncidentName":"a"}` + "\n" + `{"IncidentName":"b"}`, FileSummary{Read: 2, Added: 2}},
		{"lax.ndjson", `{"IncidentName":"a",}` + "\n", FileSummary{Read: 1, Added: 1}}, // DuckDB allows a trailing comma
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep, _ := loadFiles(t, Options{}, writeFile(t, dir, c.name, []byte(c.content)))
			got := rep.Files[0]
			got.Name, got.Format = "", 0
			if got != c.want || len(rep.Rejects) > 0 {
				t.Errorf("summary %+v, rejects %q; want %+v", got, rejectStrings(rep.Rejects), c.want)
			}
		})
	}
}

func TestTruncatedInputs(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, content, want string
	}{
		// DuckDB reads these without complaint; Go does not.
		{"truncated.json", `[{"IncidentName":"a"},`, "line 1: invalid JSON: unexpected end of input"},
		{"brace.ndjson", `{`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, dir, c.name, []byte(c.content))
			rep, err := Files(context.Background(), filepath.Join(t.TempDir(), "db"), []string{path}, Options{})
			if c.want != "" {
				if err == nil || !strings.HasSuffix(err.Error(), c.want) {
					t.Errorf("err = %v, want …%s", err, c.want)
				}
				return
			}
			if err != nil || rep.Files[0].Rejected != 1 {
				t.Errorf("err %v, report %+v: want one reject", err, rep)
			}
		})
	}
}

func TestPipe(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "history.fifo")
	if err := mkfifo(fifo); err != nil {
		t.Skip("no named pipes:", err)
	}
	rows := sampleHistory(2, 2)
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		f.Write(toNDJSON(rows))
		f.Close()
	}()
	rep, _ := loadFiles(t, Options{}, fifo)
	if s := rep.Files[0]; s.Added != len(rows) {
		t.Errorf("summary = %+v, want %d rows added", s, len(rows))
	}
}

func TestNumberForms(t *testing.T) {
	cases := []struct {
		value  string // JSON
		number string // IncidentNumber stored, or the reject's reason
	}{
		{`42`, "42"},
		{`"42"`, "42"},
		{`" -7 "`, "-7"},
		{`"+7"`, "7"},
		{`2147483647`, "2147483647"},
		{`2147483648`, "IncidentNumber: 2147483648 is out of range for int"},
		{`12.0`, `IncidentNumber: cannot parse "12.0" as an int`},
		{`1e3`, `IncidentNumber: cannot parse "1000.0" as an int`},
		{`true`, `IncidentNumber: cannot parse "true" as an int`},
		{`[1]`, `IncidentNumber: cannot parse "[1]" as an int`},
		{`""`, "NULL"},
		{`null`, "NULL"},
	}
	var lines []string
	for i, c := range cases {
		lines = append(lines, fmt.Sprintf(`{"IncidentName":"%d","IncidentNumber":%s,"_BilledSize":"1.5e3"}`, i, c.value))
	}
	path := writeFile(t, t.TempDir(), "numbers.ndjson", ndjson(lines...))
	rep, dbPath := loadFiles(t, Options{}, path)
	stored := map[string]string{}
	for _, r := range queryDB(t, dbPath, `SELECT "IncidentName" || '=' || coalesce("IncidentNumber"::VARCHAR, 'NULL') || '=' || "_BilledSize" FROM "SecurityIncident"`) {
		parts := strings.Split(r, "=")
		stored[parts[0]] = parts[1]
		if parts[2] != "1500.0" {
			t.Errorf("_BilledSize stored as %s", parts[2])
		}
	}
	for _, r := range rep.Rejects {
		stored[strconv.Itoa(r.Line-1)] = r.Reason
	}
	for i, c := range cases {
		if got := stored[strconv.Itoa(i)]; got != c.number {
			t.Errorf("IncidentNumber %s: got %q, want %q", c.value, got, c.number)
		}
	}
}

func TestWarnsWhenANumberNamesTwoIncidents(t *testing.T) {
	dir := t.TempDir()
	first := writeFile(t, dir, "a.ndjson", ndjson(
		`{"IncidentName":"a","IncidentNumber":7,"TimeGenerated":"2026-09-14T08:00:00Z"}`,
		`{"IncidentName":"b","IncidentNumber":8,"TimeGenerated":"2026-09-14T08:00:00Z"}`))
	rep, db := loadFiles(t, Options{}, first)
	if len(rep.Warnings) > 0 {
		t.Fatalf("warnings %q for distinct numbers", rep.Warnings)
	}
	// Another export brings a different incident under number 7.
	second := writeFile(t, dir, "b.ndjson", ndjson(
		`{"IncidentName":"c","IncidentNumber":7,"TimeGenerated":"2026-09-15T08:00:00Z"}`))
	rep, err := Files(context.Background(), db, []string{second}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"incident 7 has 2 names: a, c: queries by IncidentNumber mix them up ('socq verify' lists every problem)"}
	if !slices.Equal(rep.Warnings, want) {
		t.Errorf("warnings = %q, want %q", rep.Warnings, want)
	}
}
