package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Query runs a compiled plan and calls row for each result row, in order.
// Values are typed by the plan's columns: string, int64 (int and long),
// float64, bool, time.Time (UTC), time.Duration, json.RawMessage (dynamic);
// nil is null. The row slice is reused between calls.
func (db *DB) Query(ctx context.Context, plan *Plan, row func([]any) error) error {
	defer db.Release(plan) // after rows.Close: the one connection is busy until then
	rows, err := db.sql.QueryContext(ctx, plan.SQL)
	if err != nil {
		return fmt.Errorf("run query: %w", err)
	}
	defer rows.Close()
	raw := make([]any, len(plan.Columns))
	ptrs := make([]any, len(raw))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	out := make([]any, len(raw))
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("read result: %w", err)
		}
		for i, col := range plan.Columns {
			out[i] = normalize(raw[i], col.Type)
		}
		if err := row(out); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("run query: %w", err)
	}
	return nil
}

// Stager returns a CompileOptions.Stager whose tables live on db's
// connection until Release.
func (db *DB) Stager(ctx context.Context) Stager { return &dbStager{db: db, ctx: ctx} }

type dbStager struct {
	db  *DB
	ctx context.Context
}

func (s *dbStager) Stage(query string) (string, error) {
	name := QuoteIdent("_socq_stage_" + strconv.FormatInt(s.db.stages.Add(1), 10))
	if _, err := s.db.sql.ExecContext(s.ctx, "CREATE TEMP TABLE "+name+" AS "+query); err != nil {
		return "", err
	}
	return "temp.main." + name, nil
}

func (s *dbStager) Drop(table string) error { return s.db.dropStaged(table) }

// dropStaged drops a table of Stager. It runs also when the query was
// cancelled: the table would outlive it.
func (db *DB) dropStaged(table string) error {
	if _, err := db.sql.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+table); err != nil {
		return fmt.Errorf("drop %s: %w", table, err)
	}
	return nil
}

// Release drops the temporary tables plan reads (Plan.Staged). Query and
// QueryArrow release the plan they ran; a caller that compiles with a
// Stager and then does not run the plan releases it. Releasing twice is
// harmless.
func (db *DB) Release(plan *Plan) error {
	var errs []error
	for _, t := range plan.Staged {
		errs = append(errs, db.dropStaged(t))
	}
	plan.Staged = nil
	return errors.Join(errs...)
}

// Probe returns a CompileOptions.Probe that runs its SQL on db.
func (db *DB) Probe(ctx context.Context) func(string) ([][]any, error) {
	return func(query string) ([][]any, error) {
		rows, err := db.sql.QueryContext(ctx, query)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			return nil, err
		}
		var out [][]any
		for rows.Next() {
			row := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range row {
				ptrs[i] = &row[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return nil, err
			}
			out = append(out, row)
		}
		return out, rows.Err()
	}
}

// normalize maps a driver value to the Go type of its KQL type.
func normalize(v any, t Type) any {
	if v == nil {
		return nil
	}
	switch t {
	case Int, Long:
		switch n := v.(type) {
		case int32:
			return int64(n)
		case int64:
			return n
		case int16:
			return int64(n)
		case int8:
			return int64(n)
		}
	case Timespan:
		switch n := v.(type) {
		case int64:
			// A Go duration holds ±292 years: a longer timespan (the
			// difference of two far-apart datetimes) is null, not wrapped.
			if n > math.MaxInt64/100 || n < math.MinInt64/100 {
				return nil
			}
			return time.Duration(n) * 100
		case int32:
			return time.Duration(n) * 100
		}
	case DateTime:
		if tm, ok := v.(time.Time); ok {
			return tm.UTC()
		}
	case Dynamic:
		s, _ := v.(string)
		if s == "null" {
			return nil
		}
		return json.RawMessage(s)
	}
	return v
}
