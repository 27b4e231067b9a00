package ingest

import (
	"testing"

	"github.com/socq/socq/engine"
)

// TestDatabaseOptions checks the options Files opens the database with:
// MemoryLimit as the default limit for a file (engine's TestMemoryLimit
// checks that --memory-limit and $SOCQ_MEMORY_LIMIT win over it).
func TestDatabaseOptions(t *testing.T) {
	read := []string{"/in/h.ndjson"}
	for name, c := range map[string]struct {
		path      string
		opts      engine.Options
		wantLimit string // DefaultMemoryLimit
		wantCmd   string
	}{
		"file":                   {path: "/db/h.duckdb", wantLimit: MemoryLimit, wantCmd: "ingest"},
		"in memory":              {path: "", wantCmd: "ingest"},
		"caller's default kept":  {path: "/db/h.duckdb", opts: engine.Options{DefaultMemoryLimit: "2GB", Command: "demo"}, wantLimit: "2GB", wantCmd: "demo"},
		"explicit limit, passed": {path: "/db/h.duckdb", opts: engine.Options{MemoryLimit: "1GB", ReadOnly: true}, wantLimit: MemoryLimit, wantCmd: "ingest"},
	} {
		got := databaseOptions(c.path, c.opts, read)
		if got.DefaultMemoryLimit != c.wantLimit || got.Command != c.wantCmd || got.ReadOnly ||
			len(got.ReadPaths) != 1 || got.ReadPaths[0] != read[0] || got.MemoryLimit != c.opts.MemoryLimit {
			t.Errorf("%s: got %+v", name, got)
		}
	}
}

// TestDefaultLimit checks when a load that ran out of memory is retried
// without the limit: only when the limit is socq's default, not one the
// user gave.
func TestDefaultLimit(t *testing.T) {
	for _, c := range []struct {
		opts engine.Options
		env  string
		want bool
	}{
		{opts: engine.Options{DefaultMemoryLimit: MemoryLimit}, want: true},
		{opts: engine.Options{DefaultMemoryLimit: MemoryLimit, MemoryLimit: "600MB"}},
		{opts: engine.Options{DefaultMemoryLimit: MemoryLimit}, env: "600MB"},
		{opts: engine.Options{}}, // an in-memory database, or retried already
	} {
		t.Setenv("SOCQ_MEMORY_LIMIT", c.env)
		if got := defaultLimit(c.opts); got != c.want {
			t.Errorf("%+v, $SOCQ_MEMORY_LIMIT %q: %v, want %v", c.opts, c.env, got, c.want)
		}
	}
}
