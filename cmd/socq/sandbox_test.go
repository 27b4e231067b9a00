package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestQueryDatabaseIsSandboxed opens the database as 'socq query' does and
// checks the settings that keep a query inside it.
func TestQueryDatabaseIsSandboxed(t *testing.T) {
	ctx := context.Background()
	_, path, ios, _, _ := ingestedFixture(t)
	for _, memoryLimit := range []string{"", "300MB"} {
		db, err := openForQuery(ctx, path, &queryOptions{memoryLimit: memoryLimit}, ios)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{
			"enable_external_access":       "false",
			"lock_configuration":           "true",
			"autoload_known_extensions":    "false",
			"autoinstall_known_extensions": "false",
			"allow_community_extensions":   "false",
			"allow_persistent_secrets":     "false",
			"access_mode":                  "read_only",
			// DuckDB allows a database its own files; it lists them in no fixed order.
			"allowed_paths": sortedList(path, path+".wal", path+".wal.checkpoint", path+".wal.recovery"),
		}
		if memoryLimit != "" {
			want["memory_limit"] = "286.1 MiB"
		}
		for name, value := range want {
			got, err := db.Setting(ctx, name)
			if name == "allowed_paths" {
				got = sortedList(strings.Split(strings.Trim(got, "[]"), ", ")...)
			}
			if err != nil || got != value {
				t.Errorf("memory limit %q: %s = %q, %v; want %q", memoryLimit, name, got, err, value)
			}
		}
		db.Close()
	}
}

// TestHostileQueriesThroughTheCommand runs escape attempts through
// runQuery, as a user would: each prints its literal data or fails with a
// query error, and the directory is unchanged afterwards.
func TestHostileQueriesThroughTheCommand(t *testing.T) {
	ctx := context.Background()
	dir, path, ios, out, errs := ingestedFixture(t)
	secret := filepath.Join(dir, "secret.txt")
	if err := os.WriteFile(secret, []byte("s3cr3t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := listDir(t, dir)
	for _, c := range []struct {
		query   string
		params  []string
		wantOut string
		wantErr string
	}{
		{query: `print x = "'; DROP TABLE SecurityIncident; --"`, wantOut: "x\n'; DROP TABLE SecurityIncident; --\n"},
		{query: `print x = @"` + secret + `\'"`, wantOut: "x\n" + secret + "\\'\n"},
		{query: `print x = "{Name}"`, params: []string{`Name=');COPY "SecurityIncident" TO '` + dir + `/out.csv'--`},
			wantErr: "unexpected 'SecurityIncident'"}, // parameters are KQL text, as in workbooks
		{query: `print x = "{Name}"`, params: []string{`Name=');COPY \"SecurityIncident\" TO '` + dir + `/out.csv'--`},
			wantOut: "x\n\"');COPY \"\"SecurityIncident\"\" TO '" + dir + "/out.csv'--\"\n"},
		{query: `SecurityIncident | where Title == "{T}" | count`, params: []string{`T=" or Title != "`}, wantOut: "Count\n19\n"},
		{query: `print x = read_text("` + secret + `")`, wantErr: "unknown function 'read_text'"},
		{query: `glob('` + dir + `/*')`, wantErr: "unknown tabular function 'glob'"},
		{query: "SecurityIncident; ATTACH '" + dir + "/x.duckdb'", wantErr: "unexpected"},
		{query: "print x = 1 -- DROP TABLE SecurityIncident", wantErr: "unexpected 'TABLE'"},
	} {
		out.Reset()
		errs.Reset()
		err := runQuery(ctx, &queryOptions{db: path, format: "csv", query: c.query, params: c.params, timeout: defaultQueryTimeout}, ios)
		if strings.Contains(out.String()+errs.String(), "s3cr3t") {
			t.Errorf("%s: the secret leaked", c.query)
		}
		if c.wantErr != "" {
			if err == nil || !strings.Contains(errs.String(), c.wantErr) {
				t.Errorf("%s: err %v, stderr %q; want %q", c.query, err, errs.String(), c.wantErr)
			}
			continue
		}
		if err != nil || out.String() != c.wantOut {
			t.Errorf("%s: err %v %s, output %q; want %q", c.query, err, errs.String(), out.String(), c.wantOut)
		}
	}
	if after := listDir(t, dir); after != before {
		t.Errorf("the directory changed:\n%s\nwant\n%s", after, before)
	}
}

func listDir(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".lock") {
			continue // records its latest holder
		}
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(&b, e.Name(), info.Mode(), info.Size(), info.ModTime())
	}
	return b.String()
}

// sortedList renders items as DuckDB prints a list setting, sorted.
func sortedList(items ...string) string {
	slices.Sort(items)
	return "[" + strings.Join(items, ", ") + "]"
}

// ingestedFixture loads the fixture history into a database in a new
// directory with 'socq ingest', and returns the directory, the database and
// the streams (and their buffers) it used.
func ingestedFixture(t *testing.T) (dir, path string, ios *ioStreams, out, errs *bytes.Buffer) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, "h.duckdb")
	out, errs = &bytes.Buffer{}, &bytes.Buffer{}
	ios = &ioStreams{in: strings.NewReader(""), out: out, err: errs}
	if err := runIngest(context.Background(), &ingestOptions{db: path, files: []string{"../../testdata/history/fixture.ndjson"}}, ios); err != nil {
		t.Fatal(err, errs.String())
	}
	return dir, path, ios, out, errs
}
