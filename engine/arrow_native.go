//go:build duckdb_arrow

package engine

import (
	"context"
	"database/sql/driver"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/duckdb/duckdb-go/v2"
)

// ArrowNative reports whether this socq was built with the duckdb_arrow tag,
// which gives duckdb-go's Arrow interface (QueryArrow).
const ArrowNative = true

// QueryArrow runs plan's ArrowSQL and hands its result over as Arrow record
// batches straight from DuckDB (duckdb-go's Arrow interface, no row-by-row
// conversion): schema is called once with the result's schema before any
// batch, then batch with each record batch, valid only during the call.
func (db *DB) QueryArrow(ctx context.Context, plan *Plan, schema func(*arrow.Schema) error, batch func(arrow.RecordBatch) error) error {
	defer db.Release(plan) // after conn.Close: the one connection is busy until then
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return fmt.Errorf("run query: %w", err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		dconn, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("run query: unexpected driver connection %T", dc)
		}
		a, err := duckdb.NewArrowFromConn(dconn)
		if err != nil {
			return fmt.Errorf("run query: %w", err)
		}
		rr, err := a.QueryContext(ctx, ArrowSQL(plan))
		if err != nil {
			return fmt.Errorf("run query: %w", err)
		}
		defer rr.Release()
		if err := schema(rr.Schema()); err != nil {
			return err
		}
		for rr.Next() {
			if err := batch(rr.RecordBatch()); err != nil {
				return err
			}
		}
		if err := rr.Err(); err != nil {
			return fmt.Errorf("run query: %w", err)
		}
		return nil
	})
}
