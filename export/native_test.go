package export

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/socq/socq/engine"
)

// TestNativeArrowMatchesRows: in a build with the duckdb_arrow tag (CI runs
// this package's tests with it too), DuckDB's own Arrow batches give the
// same stream as the batches built from rows; without the tag, QueryArrow
// says so.
func TestNativeArrowMatchesRows(t *testing.T) {
	ctx := context.Background()
	db, err := engine.Open(ctx, history(t, 10), engine.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	plan := compile(t, ctx, db, resultQuery)
	if !engine.ArrowNative {
		err := db.QueryArrow(ctx, plan, nil, nil)
		if !errors.Is(err, engine.ErrNoArrow) {
			t.Fatalf("QueryArrow without duckdb_arrow: %v", err)
		}
		return
	}
	for _, q := range []string{resultQuery, "SecurityIncident | where IncidentNumber < 0 | project TimeGenerated, Took = 1h"} {
		plan := compile(t, ctx, db, q)
		var native, rows bytes.Buffer
		n1, err := streamNative(ctx, db, plan, ipc.NewWriter(&native, ipc.WithSchema(Schema(plan.Columns, false))), false)
		if err != nil {
			t.Fatalf("%s: native: %v", q, err)
		}
		n2, err := streamRows(ctx, db, plan, ipc.NewWriter(&rows, ipc.WithSchema(Schema(plan.Columns, false))), false)
		if err != nil || n1 != n2 {
			t.Fatalf("%s: rows: %d vs %d, %v", q, n1, n2, err)
		}
		s1, _, r1 := readIPC(t, &native)
		s2, _, r2 := readIPC(t, &rows)
		if !s1.Equal(s2) {
			t.Errorf("%s: schemas differ:\n%s\n%s", q, s1, s2)
		}
		if !reflect.DeepEqual(r1, r2) {
			diffRows(t, q, r2, r1)
		}
	}
}
