package incident_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/socq/socq/engine"
	"github.com/socq/socq/incident"
	"github.com/socq/socq/ingest"
	"github.com/socq/socq/parser"
)

// clock is a fake clock: each reading is one minute after the last.
type clock struct{ t time.Time }

func (c *clock) now() time.Time {
	c.t = c.t.Add(time.Minute)
	return c.t
}

const (
	mei   = "mei.lin@contoso.com"
	jonas = "jonas.becker@contoso.com"
)

// newRecorder is a Recorder on an empty in-memory database with a fake
// clock starting at 2026-10-05T09:00Z.
func newRecorder(t *testing.T) (*incident.Recorder, *engine.DB) {
	t.Helper()
	db, err := engine.Open(context.Background(), "", engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := &clock{t: time.Date(2026, 10, 5, 9, 0, 0, 0, time.UTC)}
	return incident.NewRecorder(db, incident.Options{Now: c.now}), db
}

// withFixture loads testdata/history/fixture.ndjson (incidents 1..6).
func withFixture(t *testing.T, db *engine.DB) {
	t.Helper()
	f, err := os.Open("../testdata/history/fixture.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := ingest.Reader(context.Background(), db, "fixture.ndjson", f)
	if err != nil || len(rep.Rejects) > 0 {
		t.Fatalf("load fixture: %v %+v", err, rep)
	}
}

// kql runs a query and returns its rows as maps of column name to value
// (dynamic values decoded).
func kql(t *testing.T, db *engine.DB, query string) []map[string]any {
	t.Helper()
	q, err := parser.Parse(query)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := engine.Compile(q, engine.DefaultCatalog(), engine.CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	err = db.Query(context.Background(), plan, func(row []any) error {
		m := map[string]any{}
		for i, c := range plan.Columns {
			v := row[i]
			if raw, ok := v.(json.RawMessage); ok {
				var d any
				if err := json.Unmarshal(raw, &d); err != nil {
					return err
				}
				v = d
			}
			m[c.Name] = v
		}
		out = append(out, m)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// rowCount is the number of snapshot rows of incident n.
func rowCount(t *testing.T, db *engine.DB, n int64) int {
	t.Helper()
	return len(kql(t, db, "SecurityIncident | where IncidentNumber == "+itoa(n)))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func ptr[T any](v T) *T { return &v }

// wantInvalid fails unless err is a *ValidationError of field whose message
// contains msg.
func wantInvalid(t *testing.T, err error, field, msg string) {
	t.Helper()
	var v *incident.ValidationError
	if !errors.As(err, &v) {
		t.Fatalf("err = %v, want a validation error of %s", err, field)
	}
	if v.Field != field || !strings.Contains(v.Msg, msg) {
		t.Fatalf("err = %q (field %q), want field %q with %q", v.Error(), v.Field, field, msg)
	}
}

func mustCreate(t *testing.T, rec *incident.Recorder, in incident.NewIncident) *incident.Incident {
	t.Helper()
	inc, err := rec.Create(context.Background(), mei, in)
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}
