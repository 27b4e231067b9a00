package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/socq/socq/engine"
)

// TestVerifySchemaVersion: a database of another schema version is a
// finding, not a failure to run.
func TestVerifySchemaVersion(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.duckdb")
	db, err := engine.Open(ctx, path, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `UPDATE socq_meta SET value = '99' WHERE key = 'schema_version'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	var out, errs bytes.Buffer
	err = runVerify(ctx, &verifyOptions{db: path}, &ioStreams{in: strings.NewReader(""), out: &out, err: &errs})
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitFailed {
		t.Fatalf("err = %v, want exit 1", err)
	}
	want := "schema: database " + path + " has schema version 99, newer than this socq understands (" + strconv.Itoa(engine.SchemaVersion) + "): upgrade socq\n"
	if out.String() != want {
		t.Errorf("stdout %q, want %q", out.String(), want)
	}
}
