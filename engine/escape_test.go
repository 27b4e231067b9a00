package engine_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socq/socq/engine"
	"github.com/socq/socq/ingest"
	"github.com/socq/socq/parser"
)

// escapeCase is a query that tries to get out of the sandbox through one of
// the routes KQL text offers. It either runs, with want as its only row (the
// literal data, untouched), or is rejected with a *parser.Error containing
// wantErr.
type escapeCase struct {
	name    string
	kql     string
	want    []string
	wantErr string
}

// escapeCases take the secret file's path (which no query may read) and the
// database's directory (which no query may write).
func escapeCases(secret, dir string) []escapeCase {
	long := strings.Repeat(`'"\x`, 1<<18) // a 1 MiB literal of quotes and backslashes
	longKQL := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(long)
	return []escapeCase{
		{"single quote in double quotes", `print x = "a'b"`, []string{"a'b"}, ""},
		{"escaped single quote", `print x = 'a\'b'`, []string{"a'b"}, ""},
		{"escaped double quote", `print x = "a\"b"`, []string{`a"b`}, ""},
		{"SQL injection in a string", `print x = "'; DROP TABLE SecurityIncident; --"`, []string{"'; DROP TABLE SecurityIncident; --"}, ""},
		{"SQL injection after an escaped quote", `print x = 'a\'); DROP TABLE "SecurityIncident"; --'`, []string{`a'); DROP TABLE "SecurityIncident"; --`}, ""},
		{"doubled single quotes", `print x = 'a''b'`, []string{"ab"}, ""},
		{"doubled double quotes", `print x = "a""b"`, []string{"ab"}, ""},
		{"backslash", `print x = "a\\b"`, []string{`a\b`}, ""},
		{"trailing backslash", `print x = 'a\\'`, []string{`a\`}, ""},
		{"backslash before a quote in SQL terms", `print x = "\\'; SELECT 1; --"`, []string{`\'; SELECT 1; --`}, ""},
		{"verbatim string with backslashes", `print x = @"C:\temp\'x"`, []string{`C:\temp\'x`}, ""},
		{"verbatim string with a quote", `print x = @'C:\temp\'`, []string{`C:\temp\`}, ""},
		{"verbatim string with doubled quotes", `print x = @"a""b'c"`, []string{`a"b'c`}, ""},
		{"obfuscated string", `print x = h"'; DROP TABLE x; --"`, []string{"'; DROP TABLE x; --"}, ""},
		{"multi-line string", "print x = ```a'\n  \"b\\\n```", []string{"a'\n  \"b\\\n"}, ""},
		{"unicode escape", `print x = "\u0027; DROP TABLE x"`, []string{"'; DROP TABLE x"}, ""},
		{"left single quotation mark", "print x = \u2018abc\u2019", nil, "unexpected"},
		{"fullwidth apostrophe inside a string", "print x = \"a\uff07b\u2019c\u02bcd\"", []string{"a\uff07b\u2019c\u02bcd"}, ""},
		{"fullwidth quotes around a string", "print x = \uff02abc\uff02", nil, "unexpected"},
		{"NUL byte in a string", "print x = \"a\x00b\"", nil, "NUL"},
		{"NUL escape in a string", `print x = "a\0b"`, nil, "NUL"},
		{"NUL byte outside a string", "print x = 1\x00; DROP TABLE x", nil, "NUL"},
		{"very long literal", `print x = strlen("` + longKQL + `")`, []string{fmt.Sprint(len(long))}, ""},
		{"bracketed name", `SecurityIncident | project ['Title'] | take 0 | count`, []string{"0"}, ""},
		{"bracketed name with SQL", `print ['x"; DROP TABLE "SecurityIncident"; --'] = 1`, []string{"1"}, ""},
		{"bracketed name with quotes", `print ['a\'b"c'] = "v"`, []string{"v"}, ""},
		{"bracketed unknown column with SQL", `SecurityIncident | project ['") FROM read_csv(\'/etc/passwd\') --']`, nil, "unknown column"},
		{"line comment", "print x = 1 // '; DROP TABLE x\n| extend y = 2 | project x", []string{"1"}, ""},
		{"comment hiding a quote", "print x = \"//\" // \"\n", []string{"//"}, ""},
		{"SQL comment", "print x = 1 -- 1", []string{"2"}, ""},
		{"SQL comment with text", "print x = 1 -- DROP TABLE x", nil, "unexpected 'TABLE'"},
		{"SQL block comment", "print x = 1 /* */", nil, "unexpected"},
		{"semicolon and a second statement", `SecurityIncident; DROP TABLE SecurityIncident`, nil, "unexpected"},
		{"semicolon after a query", `print x = 1;`, []string{"1"}, ""},
		{"read_csv as a table", `read_csv('` + secret + `')`, nil, "unknown tabular function"},
		{"read_csv as a function", `print x = read_csv("` + secret + `")`, nil, "unknown function"},
		{"read_json as a function", `print x = read_json("` + secret + `")`, nil, "unknown function"},
		{"read_text as a function", `print x = read_text("` + secret + `")`, nil, "unknown function"},
		{"glob as a table", `glob("` + dir + `/*")`, nil, "unknown tabular function"},
		{"glob as a function", `print x = glob("` + dir + `/*")`, nil, "unknown function"},
		{"getenv", `print x = getenv("HOME")`, nil, "unknown function"},
		{"current_setting", `print x = current_setting("enable_external_access")`, nil, "unknown function"},
		{"table function in a join", `SecurityIncident | join (read_csv("` + secret + `")) on IncidentName`, nil, "unknown tabular function"},
		{"path as a bracketed table", `['` + secret + `']`, nil, "unknown table"},
		{"path as a quoted table", `"` + secret + `"`, nil, "unexpected"},
		{"file path as data", `print x = "` + secret + `"`, []string{secret}, ""},
		{"LIKE wildcards are data", `SecurityIncident | where Title contains "0%" or Title contains "_%" or Title startswith "_" or Title endswith "%" | count`, []string{"2"}, ""},
		{"LIKE wildcards match themselves only", `SecurityIncident | where Title contains "%_" or Title contains "O_Brien" or Title has "1%" | count`, []string{"0"}, ""},
		{"regex with quotes", `print x = "a'b" matches regex "'"`, []string{"true"}, ""},
		{"dynamic with SQL", `print x = dynamic({"a": "'); DROP TABLE x; --"}) | project y = tostring(x.a)`, []string{"'); DROP TABLE x; --"}, ""},
		{"JSON path with quotes", `print x = dynamic({"a'b": 1}) | project y = toint(x["a'b"])`, []string{"1"}, ""},
		{"datetime with a quote", `print x = datetime("2024'-01-01")`, nil, "datetime"},
		{"parse with quotes", `print s = "k='v'" | parse s with "k='" v "'" | project v`, []string{"v"}, ""},
		{"has with SQL", `SecurityIncident | where Title has "') OR 1=1 --" | count`, []string{"0"}, ""},
		{"in with SQL", `SecurityIncident | where Title in ("x') OR true OR ('") | count`, []string{"0"}, ""},
		{"column_ifexists with SQL", `SecurityIncident | project x = column_ifexists("Title\") FROM read_csv('x') --", "d") | take 1`, []string{"d"}, ""},
		{"bag_unpack prefix with SQL", `print d = dynamic({"a": 1}) | evaluate bag_unpack(d, "'); DROP TABLE x; --")`, []string{"1"}, ""},
		{"pragma as a table", `pragma_table_info("SecurityIncident")`, nil, "unknown tabular function"},
		{"duckdb_settings as a table", `duckdb_settings()`, nil, "unknown tabular function"},
	}
}

// TestQueriesCannotEscape runs the escape cases on a database file, opened
// as socq query opens it. Each runs as literal data or is rejected; no
// answer contains the secret file's content; afterwards the table and the
// directory are as they were.
func TestQueriesCannotEscape(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "h.duckdb")
	if _, err := ingest.Files(ctx, path, []string{"../testdata/history/fixture.ndjson"}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(dir, "secret.csv")
	const secretText = "s3cr3t-c0nt3nt"
	if err := os.WriteFile(secret, []byte("password\n"+secretText+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := engine.Open(ctx, path, engine.Options{ReadOnly: true, Command: "query"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tableBefore := snapshot(t, db)
	dirBefore := engine.DirListing(t, dir)

	for _, c := range escapeCases(secret, dir) {
		t.Run(c.name, func(t *testing.T) {
			plan, err := compile(c.kql, db)
			var got []string
			if err == nil {
				err = db.Query(ctx, plan, func(row []any) error {
					for _, v := range row {
						got = append(got, fmt.Sprint(v))
					}
					return nil
				})
			}
			if strings.Contains(strings.Join(got, "\n"), secretText) || (err != nil && strings.Contains(err.Error(), secretText)) {
				t.Fatalf("the secret leaked: %q, %v", got, err)
			}
			if c.wantErr != "" {
				var perr *parser.Error
				if !errors.As(err, &perr) || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("got %q, %v (%T); want a query error containing %q", shorten(got), err, err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("error %v; want %q", err, shorten(c.want))
			}
			if len(got) < 1 || got[len(got)-1] != c.want[0] {
				t.Fatalf("got %q, want last column %q", shorten(got), shorten(c.want))
			}
		})
	}
	if got := snapshot(t, db); got != tableBefore {
		t.Errorf("the table changed")
	}
	if got := engine.DirListing(t, dir); got != dirBefore {
		t.Errorf("the directory changed:\n%s\nwant\n%s", got, dirBefore)
	}
}

func shorten(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		if len(v) > 80 {
			v = v[:80] + fmt.Sprintf("... (%d bytes)", len(v))
		}
		out[i] = v
	}
	return out
}

// snapshot is the tables of the database and every row of SecurityIncident.
func snapshot(t *testing.T, db *engine.DB) string {
	t.Helper()
	rows, err := db.Probe(context.Background())(`SELECT (SELECT string_agg(table_name, ',' ORDER BY table_name) FROM duckdb_tables()),
		(SELECT string_agg(CAST(s AS VARCHAR), '\n' ORDER BY CAST(s AS VARCHAR)) FROM "SecurityIncident" AS s)`)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(rows)
}
