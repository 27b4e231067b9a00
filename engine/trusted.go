package engine

import (
	"context"
	"fmt"
)

// QueryTrustedSQL runs SQL written by a programmer, not compiled from KQL,
// and calls row for each result row with the driver's values (the row slice
// is reused between calls). It exists for the benchmark suite, which times
// hand-written DuckDB SQL next to socq's compiled SQL on the same database.
//
// It is not for user input: a user's query must go through Compile, which
// guarantees that only catalog tables are reachable and that every literal
// is quoted. The database's own limits (external access off, configuration
// locked) still apply.
func (db *DB) QueryTrustedSQL(ctx context.Context, query string, row func([]any) error) error {
	rows, err := db.sql.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("run SQL: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return fmt.Errorf("run SQL: %w", err)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("read result: %w", err)
		}
		if err := row(vals); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("run SQL: %w", err)
	}
	return nil
}
