package ingest

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// brokenCase is a broken input: what ingesting it must say, and what it may
// add. In messages, {F} stands for the input's path.
type brokenCase struct {
	name string
	// write creates the input in dir and returns its path.
	write func(t *testing.T, dir string) string
	// wantErr is the whole error of the load (the database is then
	// unchanged); "" when the load succeeds.
	wantErr string
	// notFound says wantErr is a "not found" error (exit code 3).
	notFound bool
	// wantRejects are the rejected records as FILE:LINE: reason.
	wantRejects []string
	wantAdded   int
	// check, when set, checks the rows added (the fixture's are not).
	check func(t *testing.T, dbPath string)
}

// content writes a file called name holding text.
func content(name, text string) func(*testing.T, string) string {
	return func(t *testing.T, dir string) string { return writeFile(t, dir, name, []byte(text)) }
}

// incident is a valid NDJSON record of an incident that is not in the
// fixture, with extra fields (raw JSON) appended.
func incident(name string, extra string) string {
	rec := `{"TenantId":"t","IncidentName":"` + name + `","TimeGenerated":"2026-01-02T03:04:05Z","IncidentNumber":900,"Title":"x"`
	if extra != "" {
		rec += "," + extra
	}
	return rec + "}"
}

// selectRows is a check that the added rows, as one text column of sql
// ordered by IncidentName, are want.
func selectRows(sql string, want ...string) func(*testing.T, string) {
	return func(t *testing.T, dbPath string) {
		t.Helper()
		got := queryDB(t, dbPath, `SELECT `+sql+` FROM "SecurityIncident" WHERE "TenantId" = 't' ORDER BY "IncidentName", rowid`)
		if !slices.Equal(got, want) {
			t.Errorf("rows %q, want %q", got, want)
		}
	}
}

func brokenCases() []brokenCase {
	return []brokenCase{
		{name: "empty file", write: content("empty.ndjson", ""), wantErr: "{F}: empty file"},
		{name: "white space only", write: content("blank.json", " \r\n\t\n"), wantErr: "{F}: empty file"},
		{name: "directory", write: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "export.ndjson")
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
			return p
		}, wantErr: "{F}: is a directory, not a file"},
		{name: "missing file", write: func(t *testing.T, dir string) string { return filepath.Join(dir, "missing.ndjson") },
			wantErr: "{F}: no such file or directory", notFound: true},
		{name: "missing directory", write: func(t *testing.T, dir string) string { return filepath.Join(dir, "nodir", "x.ndjson") },
			wantErr: "{F}: no such file or directory", notFound: true},
		{name: "a file used as a directory", write: func(t *testing.T, dir string) string {
			return filepath.Join(writeFile(t, dir, "f", []byte("{}")), "x.ndjson")
		}, wantErr: "{F}: not a directory", notFound: false},
		{name: "socket", write: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "s.sock")
			l, err := net.Listen("unix", p)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			return p
		}, wantErr: "{F}: is a socket, not a file"},

		{name: "truncated NDJSON", write: content("trunc.ndjson", incident("a", "")+"\n"+incident("b", "")+"\n"+`{"IncidentName":"c","Ti`),
			wantRejects: []string{"{F}:3: invalid JSON at byte 23: unexpected end of JSON input"}, wantAdded: 2},
		{name: "truncated JSON array", write: content("trunc.json", "[\n"+incident("a", "")+",\n"+incident("b", "")),
			wantErr: "ingest {F}: line 3: invalid JSON: unexpected end of input"},
		{name: "truncated JSON array after a comma", write: content("trunc2.json", "[\n"+incident("a", "")+",\n"),
			wantErr: "ingest {F}: line 3: invalid JSON: unexpected end of input"},
		{name: "truncated API response", write: content("trunc-api.json",
			`{"tables":[{"name":"PrimaryResult","columns":[{"name":"IncidentName","type":"string"}],"rows":[["a"],["b"`),
			wantErr: "ingest {F}: line 1: invalid JSON: unexpected end of input"},
		{name: "truncated CSV quote", write: content("trunc.csv", "TenantId,IncidentName,Title\nt,a,x\nt,b,\"unfinished\n"),
			wantRejects: []string{`{F}:3: invalid CSV: extraneous or missing " in quoted-field`}, wantAdded: 1},
		{name: "truncated gzip", write: func(t *testing.T, dir string) string {
			z := gzipped([]byte(strings.Repeat(incident("a", "")+"\n", 1000)))
			return writeFile(t, dir, "trunc.ndjson.gz", z[:len(z)/2])
		}, wantErr: "{F}: gzip: unexpected end of the compressed data (the file is truncated)"},
		{name: "gzip of garbage", write: content("bad.gz", "\x1f\x8bnot really gzip"),
			wantErr: "{F}: gzip: invalid header"},

		{name: "invalid UTF-8 in NDJSON", write: content("latin1.ndjson", incident("a", "")+"\n"+incident("b", "\"Description\":\"Z\xfcrich\"")+"\n"),
			wantRejects: []string{"{F}:2: not valid UTF-8 text"}, wantAdded: 1},
		{name: "invalid UTF-8 in CSV", write: content("latin1.csv", "TenantId,IncidentName,Title\nt,a,x\nt,b,Z\xfcrich\n"),
			wantRejects: []string{"{F}:3: not valid UTF-8 text"}, wantAdded: 1},
		{name: "invalid UTF-8 in a JSON array", write: content("latin1.json", "[\n"+incident("a", "")+",\n"+incident("b", "\"Description\":\"Z\xfcrich\"")+"\n]"),
			wantRejects: []string{"{F}:3: not valid UTF-8 text"}, wantAdded: 1},

		{name: "UTF-8 BOM in NDJSON", write: content("bom.ndjson", "\xef\xbb\xbf"+incident("a", "")+"\n"), wantAdded: 1,
			check: selectRows(`"IncidentName"`, "a")},
		{name: "UTF-8 BOM in CSV", write: content("bom.csv", "\xef\xbb\xbfTenantId,IncidentName\nt,a\n"), wantAdded: 1,
			check: selectRows(`"IncidentName"`, "a")},
		{name: "CRLF NDJSON", write: content("crlf.ndjson", incident("a", "")+"\r\n"+incident("b", "")+"\r\n"), wantAdded: 2,
			check: selectRows(`"IncidentName" || '|' || "Title"`, "a|x", "b|x")},
		{name: "CRLF JSON array", write: content("crlf.json", "[\r\n"+incident("a", "")+",\r\n"+incident("b", "")+"\r\n]\r\n"), wantAdded: 2},
		{name: "CRLF CSV, quoted line break kept", write: content("crlf.csv", "TenantId,IncidentName,Description\r\nt,a,\"one\r\ntwo\"\r\nt,b,x\r\n"),
			wantAdded: 2, check: selectRows(`"IncidentName" || '|' || "Description"`, "a|one\r\ntwo", "b|x")},
		{name: "CRLF with a bad record", write: content("crlf-bad.ndjson", incident("a", "")+"\r\n"+`{"IncidentName":"b","IncidentNumber":"x"}`+"\r\n"),
			wantRejects: []string{`{F}:2: IncidentNumber: cannot parse "x" as an int`}, wantAdded: 1},

		{name: "50 MB single line", write: func(t *testing.T, dir string) string {
			desc := strings.Repeat("0123456789", 5<<20)
			return writeFile(t, dir, "huge.ndjson", []byte(incident("a", `"Description":"`+desc+`"`)+"\n"+incident("b", "")+"\n"))
		}, wantAdded: 2, check: selectRows(`"IncidentName" || ' ' || length("Description")`, "a 52428800", "b 0")},
		// JSON nested deeper than Go reads (10000 levels) is valid JSON:
		// DuckDB stores it, and queries read it.
		{name: "JSON nested 100000 deep in a dynamic column", write: func(t *testing.T, dir string) string {
			deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
			return writeFile(t, dir, "deep.ndjson", []byte(incident("a", "")+"\n"+incident("b", `"AdditionalData":`+deep)+"\n"))
		}, wantAdded: 2, check: selectRows(`"IncidentName" || ' ' || coalesce(length(CAST("AdditionalData" AS VARCHAR)), 0)`, "a 0", "b 200000")},
		{name: "JSON nested 100000 deep in a JSON-encoded string", write: func(t *testing.T, dir string) string {
			deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
			return writeFile(t, dir, "deep-string.ndjson", []byte(incident("a", `"Labels":"`+deep+`"`)+"\n"))
		}, wantAdded: 1, check: selectRows(`length(CAST("Labels" AS VARCHAR))`, "200000")},
		{name: "JSON nested 100000 deep in a JSON array", write: func(t *testing.T, dir string) string {
			deep := strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000)
			return writeFile(t, dir, "deep.json", []byte("["+incident("a", "")+",\n"+incident("b", `"AdditionalData":`+deep)+"]"))
		}, wantAdded: 2},
		{name: "JSON nested 100000 deep, read by Go", write: func(t *testing.T, dir string) string {
			deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
			bad := strings.Repeat("[", 100000) + strings.Repeat("]", 99999) + "}"
			return writeFile(t, dir, "deep-go.ndjson", []byte(incident("a", `"AdditionalData":`+deep)+"\n"+`{"IncidentName":`+"\n"+
				incident("c", `"AdditionalData":`+bad)+"\n"))
		}, wantRejects: []string{"{F}:2: invalid JSON at byte 16: unexpected end of JSON input", "{F}:3: invalid JSON"}, wantAdded: 1,
			check: selectRows(`"IncidentName" || ' ' || length(CAST("AdditionalData" AS VARCHAR))`, "a 200000")},

		{name: "duplicate keys", write: content("dup.ndjson", incident("a", `"Title":"second"`)+"\n"),
			wantRejects: []string{`{F}:1: duplicate key "Title"`}},
		{name: "duplicate keys in a JSON array", write: content("dup.json", "["+incident("a", "")+",\n"+incident("b", `"IncidentName":"c"`)+"]"),
			wantRejects: []string{`{F}:2: duplicate key "IncidentName"`}, wantAdded: 1},
		// A column the header names twice takes its first value.
		{name: "duplicate CSV columns", write: content("dup.csv", "TenantId,IncidentName,Title,Title\nt,a,x,y\n"),
			wantAdded: 1, check: selectRows(`"Title"`, "x")},

		{name: "wrong types in every column kind", write: content("types.ndjson", strings.Join([]string{
			incident("string-number", `"ClassificationComment":42,"Description":true,"Owner":{"email":"a@b.c"}`),
			incident("datetime-number", `"CreatedTime":1714557600`),
			incident("datetime-text", `"ClosedTime":"yesterday"`),
			incident("datetime-object", `"FirstActivityTime":{"t":1}`),
			`{"TenantId":"t","IncidentName":"int-real","TimeGenerated":"2026-01-02T03:04:05Z","IncidentNumber":12.5}`,
			`{"TenantId":"t","IncidentName":"int-text","TimeGenerated":"2026-01-02T03:04:05Z","IncidentNumber":"twelve"}`,
			`{"TenantId":"t","IncidentName":"int-bool","TimeGenerated":"2026-01-02T03:04:05Z","IncidentNumber":true}`,
			`{"TenantId":"t","IncidentName":"int-array","TimeGenerated":"2026-01-02T03:04:05Z","IncidentNumber":[1]}`,
			`{"TenantId":"t","IncidentName":"int-exp","TimeGenerated":"2026-01-02T03:04:05Z","IncidentNumber":1e3}`,
			incident("dynamic-number", `"Tasks":5,"Labels":"not json","Comments":null,"AdditionalData":"{\"a\":1}"`),
		}, "\n")+"\n"),
			wantRejects: []string{
				`{F}:2: CreatedTime: cannot parse "1714557600" as a datetime`,
				`{F}:3: ClosedTime: cannot parse "yesterday" as a datetime`,
				`{F}:4: FirstActivityTime: cannot parse "{\"t\":1}" as a datetime`,
				`{F}:5: IncidentNumber: cannot parse "12.5" as an int`,
				`{F}:6: IncidentNumber: cannot parse "twelve" as an int`,
				`{F}:7: IncidentNumber: cannot parse "true" as an int`,
				`{F}:8: IncidentNumber: cannot parse "[1]" as an int`,
				`{F}:9: IncidentNumber: cannot parse "1000.0" as an int`, // DuckDB's text of 1e3
			}, wantAdded: 2,
			check: selectRows(`"IncidentName" || '|' || "ClassificationComment" || '|' || "Description" || '|' || coalesce(CAST("Owner" AS VARCHAR), 'NULL') || '|' ||
				coalesce(CAST("Tasks" AS VARCHAR), 'NULL') || '|' || coalesce(CAST("Labels" AS VARCHAR), 'NULL') || '|' ||
				coalesce(CAST("Comments" AS VARCHAR), 'NULL') || '|' || coalesce(CAST("AdditionalData" AS VARCHAR), 'NULL')`,
				`dynamic-number|||NULL|5|"not json"|NULL|{"a":1}`,
				`string-number|42|true|{"email":"a@b.c"}|NULL|NULL|NULL|NULL`)},
		{name: "wrong types in CSV", write: content("types.csv", "TenantId,IncidentName,TimeGenerated [UTC],IncidentNumber,Tasks\n"+
			"t,a,2026-01-02T03:04:05Z,1,[]\n"+
			"t,b,not a time,2,[]\n"+
			"t,c,2026-01-02T03:04:05Z,two,[]\n"+
			"t,d,2026-01-02T03:04:05Z,4,\"[{\"\"broken\"\n"),
			wantRejects: []string{
				`{F}:3: TimeGenerated: cannot parse "not a time" as a datetime`,
				`{F}:4: IncidentNumber: cannot parse "two" as an int`,
			}, wantAdded: 2,
			check: selectRows(`"IncidentName" || '|' || CAST("Tasks" AS VARCHAR)`, `a|[]`, `d|"[{\"broken"`)},

		{name: "datetimes in every form Log Analytics writes", write: content("times.ndjson", strings.Join([]string{
			incident("t1", `"CreatedTime":"2024-05-01T10:00:00Z"`),
			incident("t2", `"CreatedTime":"2024-05-01T10:00:00.1234567Z"`),
			incident("t3", `"CreatedTime":"2024-05-01T10:00:00.123Z"`),
			incident("t4", `"CreatedTime":"2024-05-01T12:00:00+02:00"`),
			incident("t5", `"CreatedTime":"2024-05-01T10:00:00"`),
			incident("t6", `"CreatedTime":"2024-05-01 10:00:00.0000000"`),
			incident("t7", `"CreatedTime":"5/1/2024, 10:00:00.000 AM"`),
			incident("t8", `"CreatedTime":"5/1/2024, 10:00:00 PM"`),
			incident("t9", `"CreatedTime":"2024-05-01T10:00:00.1234567890Z"`),
			incident("ta", `"CreatedTime":""`),
			incident("tb", `"CreatedTime":null`),
		}, "\n")+"\n"), wantAdded: 11,
			check: selectRows(`"IncidentName" || ' ' || coalesce(CAST("CreatedTime" AS VARCHAR), 'NULL')`,
				"t1 2024-05-01 10:00:00",
				"t2 2024-05-01 10:00:00.1234567",
				"t3 2024-05-01 10:00:00.123",
				"t4 2024-05-01 10:00:00",
				"t5 2024-05-01 10:00:00",
				"t6 2024-05-01 10:00:00",
				"t7 2024-05-01 10:00:00",
				"t8 2024-05-01 22:00:00",
				"t9 2024-05-01 10:00:00.1234567",
				"ta NULL",
				"tb NULL")},
		{name: "invalid datetimes", write: content("badtimes.ndjson", strings.Join([]string{
			incident("b1", `"CreatedTime":"2024-13-01T10:00:00Z"`),
			incident("b2", `"CreatedTime":"2024-02-30T10:00:00Z"`),
			incident("b3", `"CreatedTime":"2024-05-01T25:00:00Z"`),
			incident("b4", `"CreatedTime":"9999-12-31T23:59:59Z"`),
			incident("b5", `"CreatedTime":"0001-01-01T00:00:00Z"`),
			incident("b7", `"CreatedTime":"13/1/2024, 10:00:00 AM"`),
			incident("b8", `"CreatedTime":"now"`),
		}, "\n")+"\n"),
			wantRejects: []string{
				`{F}:1: CreatedTime: cannot parse "2024-13-01T10:00:00Z" as a datetime`,
				`{F}:2: CreatedTime: cannot parse "2024-02-30T10:00:00Z" as a datetime`,
				`{F}:3: CreatedTime: cannot parse "2024-05-01T25:00:00Z" as a datetime`,
				`{F}:4: CreatedTime: cannot parse "9999-12-31T23:59:59Z" as a datetime`,
				`{F}:5: CreatedTime: cannot parse "0001-01-01T00:00:00Z" as a datetime`,
				`{F}:6: CreatedTime: cannot parse "13/1/2024, 10:00:00 AM" as a datetime`,
				`{F}:7: CreatedTime: cannot parse "now" as a datetime`,
			}},

		{name: "IncidentNumber 2^40", write: content("big.ndjson",
			`{"TenantId":"t","IncidentName":"big","TimeGenerated":"2026-01-02T03:04:05Z","IncidentNumber":`+strconv.FormatInt(1<<40, 10)+"}\n"+
				`{"TenantId":"t","IncidentName":"max","TimeGenerated":"2026-01-02T03:04:05Z","IncidentNumber":`+strconv.FormatInt(math.MaxInt32, 10)+"}\n"+
				`{"TenantId":"t","IncidentName":"neg","TimeGenerated":"2026-01-02T03:04:05Z","IncidentNumber":-1}`+"\n"),
			wantRejects: []string{"{F}:1: IncidentNumber: 1099511627776 is out of range for int"}, wantAdded: 2,
			check: selectRows(`"IncidentName" || ' ' || "IncidentNumber"`, "max 2147483647", "neg -1")},

		{name: "CSV record with a missing column", write: content("short.csv", "TenantId,IncidentName,Title\nt,a,x\nt,b\nt,c,z\n"),
			wantRejects: []string{"{F}:3: the record has 2 fields, the header has 3"}, wantAdded: 2},
		{name: "CSV record with an extra column", write: content("long.csv", "TenantId,IncidentName,Title\nt,a,x\nt,b,y,extra\n"),
			wantRejects: []string{"{F}:3: the record has 4 fields, the header has 3"}, wantAdded: 1},
		{name: "API response row with a missing value", write: content("short-api.json",
			`{"tables":[{"name":"PrimaryResult","columns":[{"name":"TenantId","type":"string"},{"name":"IncidentName","type":"string"}],"rows":[["t","a"],["t"]]}]}`),
			wantRejects: []string{"{F}:1: the record has 1 values, the header has 2"}, wantAdded: 1},

		{name: "a file name with quotes and SQL", write: content(`it's "odd'); DROP TABLE x; --.ndjson`, incident("a", "")+"\n"), wantAdded: 1},
		{name: "a CSV header with quotes and SQL", write: content("sqlhead.csv", "TenantId,IncidentName,\"x\"\"); DROP TABLE \"\"SecurityIncident\"\"; --\"\nt,a,1\n"),
			wantAdded: 1, check: selectRows(`"IncidentName"`, "a")},
		{name: "gzip file", write: func(t *testing.T, dir string) string {
			return writeFile(t, dir, "history.ndjson.gz", gzipped([]byte(incident("a", "")+"\n"+incident("b", "")+"\n")))
		}, wantAdded: 2},
		{name: "gzip file without .gz", write: func(t *testing.T, dir string) string {
			return writeFile(t, dir, "history.csv", gzipped([]byte("TenantId,IncidentName\nt,a\n")))
		}, wantAdded: 1},
	}
}

// TestBrokenInputs ingests each broken input into a database holding the
// fixture: the load fails with the exact message and the database is
// unchanged, or the exact records are rejected and only the good rows are
// added.
func TestBrokenInputs(t *testing.T) {
	fixture, err := filepath.Abs("../testdata/history/fixture.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(t.TempDir(), "base.duckdb")
	if _, err := Files(context.Background(), base, []string{fixture}, Options{}); err != nil {
		t.Fatal(err)
	}
	baseContent, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	before := dump(t, base)
	for _, c := range brokenCases() {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			dbPath := filepath.Join(dir, "h.duckdb")
			if err := os.WriteFile(dbPath, baseContent, 0o644); err != nil {
				t.Fatal(err)
			}
			path := c.write(t, dir)
			expand := func(s string) string { return strings.ReplaceAll(s, "{F}", path) }
			rep, err := Files(context.Background(), dbPath, []string{path}, Options{})
			after := dump(t, dbPath)
			if c.wantErr != "" {
				if err == nil || err.Error() != expand(c.wantErr) {
					t.Fatalf("err = %v\nwant %s", err, expand(c.wantErr))
				}
				if errors.Is(err, fs.ErrNotExist) != c.notFound {
					t.Errorf("errors.Is(err, fs.ErrNotExist) = %v", !c.notFound)
				}
				if !slices.Equal(after, before) {
					t.Errorf("the database changed: %d rows, had %d", len(after), len(before))
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			want := make([]string, len(c.wantRejects))
			for i, r := range c.wantRejects {
				want[i] = expand(r)
			}
			if got := rejectStrings(rep.Rejects); !slices.Equal(got, want) {
				t.Errorf("rejects:\n%s\nwant:\n%s", strings.Join(shortenAll(got), "\n"), strings.Join(want, "\n"))
			}
			if s := rep.Files[0]; s.Added != c.wantAdded || s.Rejected != len(want) {
				t.Errorf("summary %+v, want %d added, %d rejected", s, c.wantAdded, len(want))
			}
			if len(after) != len(before)+c.wantAdded {
				t.Errorf("%d rows in the table, want %d", len(after), len(before)+c.wantAdded)
			}
			for _, row := range before {
				if _, found := slices.BinarySearch(after, row); !found {
					t.Errorf("an earlier row changed or went missing: %.200s", row)
				}
			}
			if c.check != nil {
				c.check(t, dbPath)
			}
		})
	}
}

func shortenAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		if len(v) > 300 {
			v = v[:300] + "..."
		}
		out[i] = v
	}
	return out
}

// TestPermissionDenied ingests a file the process may not read. Root reads
// any file, so as root (how CI runs) the ingest runs in a child process as
// the user nobody.
func TestPermissionDenied(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, dir, "secret.ndjson", []byte(incident("a", "")+"\n"))
	if err := os.Chmod(path, 0o000); err != nil {
		t.Fatal(err)
	}
	want := path + ": permission denied"
	dbPath := filepath.Join(dir, "h.duckdb")
	if os.Geteuid() != 0 {
		_, err := Files(context.Background(), dbPath, []string{path}, Options{})
		if err == nil || err.Error() != want || !errors.Is(err, fs.ErrPermission) {
			t.Fatalf("err = %v, want %s", err, want)
		}
		return
	}
	// The test binary may sit in a directory nobody cannot enter: copy it.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "ingest.test")
	if err := os.WriteFile(bin, exe, 0o755); err != nil {
		t.Fatal(err)
	}
	for d := dir; d != filepath.Dir(d) && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil { // t.TempDir's parents are 0700
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = append(os.Environ(), "SOCQ_TEST_INGEST="+dbPath+":"+path, "TMPDIR="+os.TempDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || strings.TrimSpace(stderr.String()) != want {
		t.Fatalf("child: %v, stderr %q; want exit 1 and %q", err, stderr.String(), want)
	}
	if _, err := os.Stat(dbPath); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the database was created: %v", err)
	}
}
