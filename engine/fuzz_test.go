package engine_test

import (
	"context"
	"errors"
	"testing"

	"github.com/socq/socq/parser"
)

// FuzzCompileExecute: parsing and compiling never panic, every error is a
// *parser.Error pointing into the query, and every query the compiler
// accepts runs in DuckDB on the fixture history.
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
	})
}
