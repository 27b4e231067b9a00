//go:build !duckdb_arrow

package engine

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
)

// ArrowNative reports whether this socq was built with the duckdb_arrow tag,
// which gives duckdb-go's Arrow interface (QueryArrow). Without it, callers
// build Arrow batches from Query's rows.
const ArrowNative = false

// QueryArrow needs the duckdb_arrow build tag; here it returns ErrNoArrow.
func (db *DB) QueryArrow(ctx context.Context, plan *Plan, schema func(*arrow.Schema) error, batch func(arrow.RecordBatch) error) error {
	return ErrNoArrow
}
