package engine_test

import (
	"context"
	"errors"
	"testing"

	"github.com/socq/socq/engine"
	"github.com/socq/socq/parser"
)

// FuzzCompileExecute: parsing and compiling never panic, every error is a
// *parser.Error pointing into the query, and every query the compiler
// accepts runs in DuckDB on the fixture history, also as socq query
// compiles it (bag_unpack's input staged), leaving no table behind.
func FuzzCompileExecute(f *testing.F) {
	for _, g := range goldenQueries(f) {
		f.Add(g.query)
	}
	db := fixtureDB(f)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, query string) {
		plan, err := compile(query, db)
		if err != nil {
			var perr *parser.Error
			if !errors.As(err, &perr) {
				t.Fatalf("compile(%q) returned %T, want *parser.Error", query, err)
			}
			if perr.Span.Start < 0 || perr.Span.End > len(query) || perr.Span.Start > perr.Span.End {
				t.Fatalf("compile(%q): span %v outside the query", query, perr.Span)
			}
			return
		}
		if err := db.Query(ctx, plan, func([]any) error { return nil }); err != nil {
			t.Fatalf("DuckDB rejected the SQL for %q: %v\n%s", query, err, plan.SQL)
		}
		// As socq query compiles it: bag_unpack's input staged.
		q, _ := parser.Parse(query)
		staged, err := engine.Compile(q, engine.DefaultCatalog(), engine.CompileOptions{Now: goldenNow, Probe: db.Probe(ctx), Stager: db.Stager(ctx)})
		if err != nil {
			t.Fatalf("%q compiles, but not with a Stager: %v", query, err)
		}
		if err := db.Query(ctx, staged, func([]any) error { return nil }); err != nil {
			t.Fatalf("DuckDB rejected the staged SQL for %q: %v\n%s", query, err, staged.SQL)
		}
		if rows, err := db.Probe(ctx)("SELECT table_name FROM duckdb_tables() WHERE temporary"); err != nil || len(rows) > 0 {
			t.Fatalf("%q left temporary tables: %v %v", query, rows, err)
		}
	})
}
