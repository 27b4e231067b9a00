package engine

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenCreatesSchemaAndLocksAccess(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.duckdb")
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := db.schemaVersion(ctx); err != nil || v != SchemaVersion {
		t.Fatalf("schema version = %d, %v; want %d", v, err, SchemaVersion)
	}
	if _, err := db.Exec(ctx, `SELECT * FROM read_csv('/etc/passwd')`); err == nil {
		t.Error("reading a file succeeded with external access off")
	}
	if _, err := db.Exec(ctx, `SET enable_external_access = true`); err == nil {
		t.Error("configuration was not locked")
	}
	db.Close()

	ro, err := Open(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.Exec(ctx, `INSERT INTO "SecurityIncident" ("Title") VALUES ('x')`); err == nil {
		t.Error("insert succeeded on a read-only database")
	}
}

func TestOpenReadOnlyMissing(t *testing.T) {
	_, err := Open(context.Background(), filepath.Join(t.TempDir(), "none.duckdb"), Options{ReadOnly: true})
	if !errors.Is(err, ErrNoDatabase) {
		t.Fatalf("err = %v, want ErrNoDatabase", err)
	}
}

func TestReadPathsAllowsOnlyThose(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(ctx, filepath.Join(dir, "h.duckdb"), Options{ReadPaths: []string{"/etc/hostname"}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(ctx, `SELECT * FROM read_text('/etc/hostname')`); err != nil {
		t.Errorf("allowed path refused: %v", err)
	}
	_, err = db.Exec(ctx, `SELECT * FROM read_text('/etc/passwd')`)
	if err == nil || !strings.Contains(err.Error(), "disabled") {
		t.Errorf("other path: err = %v, want refusal", err)
	}
}

// TestConcurrentTransactionsWait runs transactions from several goroutines on
// one file database: each waits for the one before (one connection), so all
// commit, and every connection works in UTC.
func TestConcurrentTransactionsWait(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "h.duckdb"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(ctx, `CREATE TABLE counter (n INTEGER)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `INSERT INTO counter VALUES (0)`); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			errs <- db.Tx(ctx, func(tx *Tx) error {
				rows, err := tx.Query(ctx, `SELECT current_setting('TimeZone')`)
				if err != nil {
					return err
				}
				var tz string
				for rows.Next() {
					rows.Scan(&tz)
				}
				rows.Close()
				if tz != "UTC" {
					return errors.New("TimeZone " + tz)
				}
				_, err = tx.Exec(ctx, `UPDATE counter SET n = n + 1`)
				return err
			})
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	var n int
	if err := db.sql.QueryRowContext(ctx, `SELECT n FROM counter`).Scan(&n); err != nil || n != 8 {
		t.Errorf("counter = %d, %v; want 8", n, err)
	}
}

func TestIsConflict(t *testing.T) {
	for msg, want := range map[string]bool{
		"TransactionContext Error: Conflict on update!":                            true,
		"commit: TransactionContext Error: Catalog write-write conflict on create": true,
		"Constraint Error: duplicate key":                                          false,
		"Binder Error: column not found":                                           false,
	} {
		if got := IsConflict(errors.New(msg)); got != want {
			t.Errorf("IsConflict(%q) = %v", msg, got)
		}
	}
	if IsConflict(nil) {
		t.Error("IsConflict(nil)")
	}
}
