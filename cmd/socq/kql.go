package main

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/socq/socq/engine"
	"github.com/socq/socq/parser"
)

// kqlError is a failure to substitute, parse or compile a KQL query, with
// the text it points into, so it can be shown with a caret under the query.
type kqlError struct {
	text string
	err  error
}

func (e *kqlError) Error() string { return e.err.Error() }
func (e *kqlError) Unwrap() error { return e.err }

// Detail renders the error with a caret under the query (for a
// *parser.Error), else as "error: message".
func (e *kqlError) Detail() string {
	var perr *parser.Error
	if errors.As(e.err, &perr) {
		return perr.Render(e.text)
	}
	return "error: " + e.err.Error() + "\n"
}

// paramValues reads --param NAME=VALUE flags.
func paramValues(params []string) (map[string]string, error) {
	values := map[string]string{}
	for _, p := range params {
		name, value, ok := strings.Cut(p, "=")
		if !ok || name == "" {
			return nil, failed(exitUsage, "--param %q: want NAME=VALUE", p)
		}
		values[name] = value
	}
	return values, nil
}

// parseKQL fills in workbook parameters ({TimeRange}, {Name}) from values and
// parses the query. It returns the text after substitution, which compile
// errors point into. Errors are *kqlError.
func parseKQL(text string, values map[string]string, now time.Time) (string, *parser.Query, error) {
	subst, err := parser.SubstituteParameters(text, values, now)
	if err != nil {
		return "", nil, &kqlError{text: text, err: err}
	}
	q, err := parser.Parse(subst)
	if err != nil {
		return "", nil, &kqlError{text: subst, err: err}
	}
	return subst, q, nil
}

// compileKQL compiles a parsed query against socq's catalog. db, when not
// nil, answers the questions about the data some operators need
// (bag_unpack's columns). run says the plan will run on db, once: bag_unpack
// may then keep the rows it reads in a temporary table there instead of the
// plan reading the history twice (engine.Stager), and running the plan
// drops the table. Errors are *kqlError.
func compileKQL(ctx context.Context, text string, q *parser.Query, db *engine.DB, run bool) (*engine.Plan, error) {
	opts := engine.CompileOptions{}
	if db != nil {
		opts.Probe = db.Probe(ctx)
		if run {
			opts.Stager = db.Stager(ctx)
		}
	}
	plan, err := engine.Compile(q, engine.DefaultCatalog(), opts)
	if err != nil {
		return nil, &kqlError{text: text, err: err}
	}
	return plan, nil
}

// runKQL substitutes, parses, compiles and runs a query on db the way
// 'socq query' does, calling row for each result row.
func runKQL(ctx context.Context, db *engine.DB, text string, values map[string]string, row func([]any) error) (*engine.Plan, error) {
	subst, q, err := parseKQL(text, values, time.Now().UTC())
	if err != nil {
		return nil, err
	}
	plan, err := compileKQL(ctx, subst, q, db, true)
	if err != nil {
		return nil, err
	}
	return plan, db.Query(ctx, plan, row)
}
