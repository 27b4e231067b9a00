package engine

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sandboxSettings are the DuckDB settings every connection must have, with
// their values: no file, network or extension beyond the database, and a
// configuration no SQL can change.
var sandboxSettings = map[string]string{
	"enable_external_access":       "false",
	"lock_configuration":           "true",
	"autoload_known_extensions":    "false",
	"autoinstall_known_extensions": "false",
	"allow_community_extensions":   "false",
	"allow_unsigned_extensions":    "false",
	"allow_persistent_secrets":     "false",
	"TimeZone":                     "UTC",
}

// TestEveryConnectionIsSandboxed checks the sandbox settings on the
// connection of each kind of database, including one opened after another
// Open of the same file made and locked the settings.
func TestEveryConnectionIsSandboxed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "h.duckdb")
	w, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkConnections(t, "writer", w)
	w.Close()

	for name, opts := range map[string]Options{
		"reader":                     {ReadOnly: true, Command: "query"},
		"reader with a memory limit": {ReadOnly: true, MemoryLimit: "256MB"},
		"ingest":                     {ReadPaths: []string{filepath.Join(dir, "in.ndjson")}},
	} {
		db, err := Open(ctx, path, opts)
		if err != nil {
			t.Fatal(err)
		}
		checkConnections(t, name, db)
		db.Close()
	}
	mem, err := Open(ctx, "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	checkConnections(t, "in memory", mem)
}

func checkConnections(t *testing.T, name string, db *DB) {
	t.Helper()
	ctx := context.Background()
	// A DB keeps one connection (see open); the test opens several, to
	// check that each one starts sandboxed should that ever change. (Each
	// connection to ":memory:" would be its own database.)
	n := 4
	if db.path == "" {
		n = 1
	}
	db.sql.SetMaxOpenConns(n)
	conns := make([]*sql.Conn, n)
	for i := range conns {
		c, err := db.sql.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	for i, c := range conns {
		for setting, want := range sandboxSettings {
			var got string
			if err := c.QueryRowContext(ctx, `SELECT CAST(current_setting(?) AS VARCHAR)`, setting).Scan(&got); err != nil {
				t.Fatalf("%s connection %d: %s: %v", name, i, setting, err)
			}
			if got != want {
				t.Errorf("%s connection %d: %s = %s, want %s", name, i, setting, got, want)
			}
		}
		// The lock holds on each connection: nothing can be turned back on.
		for _, set := range []string{
			`SET enable_external_access = true`,
			`SET lock_configuration = false`,
			`SET autoload_known_extensions = true`,
			`SET allowed_paths = ['/etc/passwd']`,
			`SET allowed_directories = ['/']`,
			`SET memory_limit = '100TB'`,
			`RESET lock_configuration`,
			`PRAGMA enable_external_access`,
		} {
			if _, err := c.ExecContext(ctx, set); err == nil {
				t.Errorf("%s connection %d: %s succeeded", name, i, set)
			}
		}
	}
}

// TestSandboxRefusesSQL runs, as SQL straight on the database's connections
// (as if a string had slipped through the compiler), everything that would
// reach a file, the network, the environment or an extension: each fails,
// and afterwards the table, its data and the directory are as they were.
func TestSandboxRefusesSQL(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret.csv")
	if err := os.WriteFile(secret, []byte("password\nhunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "h.duckdb")
	w, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Exec(ctx, `INSERT INTO "SecurityIncident" ("IncidentName", "Title", "IncidentNumber") VALUES ('n1', 'first', 1)`); err != nil {
		t.Fatal(err)
	}
	w.Close()
	before := DirListing(t, dir)

	q := QuoteString(secret)
	for _, opts := range []Options{{ReadOnly: true, Command: "query"}, {Command: "ingest"}} {
		db, err := Open(ctx, path, opts)
		if err != nil {
			t.Fatal(err)
		}
		rowsBefore := tableText(t, db)
		for _, stmt := range []string{
			`SELECT * FROM read_csv(` + q + `)`,
			`SELECT * FROM read_csv_auto(` + q + `)`,
			`SELECT * FROM read_json(` + q + `)`,
			`SELECT * FROM read_json_auto(` + q + `)`,
			`SELECT * FROM read_text(` + q + `)`,
			`SELECT * FROM read_blob(` + q + `)`,
			`SELECT * FROM read_parquet(` + q + `)`,
			`SELECT * FROM sniff_csv(` + q + `)`,
			`SELECT * FROM glob(` + QuoteString(dir+"/*") + `)`,
			`SELECT * FROM ` + q,
			`SELECT getenv('HOME')`,
			`SELECT * FROM read_csv('https://example.com/x.csv')`,
			`ATTACH ` + QuoteString(filepath.Join(dir, "other.duckdb")) + ` AS other`,
			`COPY "SecurityIncident" TO ` + QuoteString(filepath.Join(dir, "out.csv")),
			`COPY "SecurityIncident" FROM ` + q,
			`EXPORT DATABASE ` + QuoteString(filepath.Join(dir, "export")),
			`IMPORT DATABASE ` + QuoteString(dir),
			`INSTALL httpfs`,
			`LOAD httpfs`,
			`LOAD ` + QuoteString(filepath.Join(dir, "x.duckdb_extension")),
			`CREATE PERSISTENT SECRET s (TYPE s3, KEY_ID 'k', SECRET 'v')`,
			`SET enable_external_access = true`,
			`SET lock_configuration = false`,
		} {
			if _, err := db.Exec(ctx, stmt); err == nil {
				t.Errorf("%+v: %s succeeded", opts, stmt)
			}
		}
		if got := tableText(t, db); got != rowsBefore {
			t.Errorf("%+v: the table changed:\n%s\nwant\n%s", opts, got, rowsBefore)
		}
		db.Close()
	}
	if after := DirListing(t, dir); after != before {
		t.Errorf("the directory changed:\n%s\nwant\n%s", after, before)
	}
}

// tableText is every row of SecurityIncident, and the list of tables, as text.
func tableText(t *testing.T, db *DB) string {
	t.Helper()
	rows, err := db.Probe(context.Background())(`SELECT (SELECT string_agg(table_name, ',' ORDER BY table_name) FROM duckdb_tables()),
		(SELECT string_agg(CAST(s AS VARCHAR), '\n' ORDER BY CAST(s AS VARCHAR)) FROM "SecurityIncident" AS s)`)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, r := range rows {
		for _, v := range r {
			b.WriteString(strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(toText(v), "\x00", "\\0"), "\r", "")) + "\n")
		}
	}
	return b.String()
}

func toText(v any) string {
	if v == nil {
		return "NULL"
	}
	if s, ok := v.(string); ok {
		return s
	}
	return strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(fmt.Sprint(v), "\n", " "), "\t", " "))
}

// DirListing lists a directory's files (but the lock file, whose record
// changes with each holder) with their sizes and times, so a test can tell
// that nothing in it changed. Exported for the external tests (escape_test.go).
func DirListing(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || strings.HasSuffix(p, ".lock") {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		b.WriteString(p + " " + info.Mode().String() + " " + fmt.Sprint(info.Size()) + " " + info.ModTime().String() + "\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
