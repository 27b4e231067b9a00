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
