package engine

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNoArrow is returned by QueryArrow in a build without the duckdb_arrow tag.
var ErrNoArrow = errors.New("socq was built without the duckdb_arrow tag")

// ArrowSQL wraps a plan's SQL for export through Arrow: the columns come
// out by position as c0, c1, … (KQL names that differ only by case would
// collide in DuckDB; the caller names the Arrow fields), datetimes as
// TIMESTAMPTZ (microseconds, UTC), timespans as BIGINT microseconds, and
// dynamic values as JSON text.
func ArrowSQL(plan *Plan) string {
	cols := make([]string, len(plan.Columns))
	for i, c := range plan.Columns {
		ref := fmt.Sprintf("#%d", i+1)
		switch c.Type {
		case DateTime:
			ref = "CAST(" + ref + " AS TIMESTAMPTZ)"
		case Timespan:
			// Ticks of 100 ns to whole microseconds, truncated toward zero
			// as Go's Duration.Microseconds does.
			ref = "CAST(trunc(" + ref + " / 10) AS BIGINT)"
		}
		cols[i] = ref + fmt.Sprintf(" AS c%d", i)
	}
	if len(cols) == 0 {
		return plan.SQL
	}
	return "SELECT " + strings.Join(cols, ", ") + "\nFROM (\n" + plan.SQL + "\n) AS socq_result"
}
