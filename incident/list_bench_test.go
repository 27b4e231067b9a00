package incident_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/socq/socq/engine"
	"github.com/socq/socq/gen"
	"github.com/socq/socq/incident"
	"github.com/socq/socq/ingest"
)

// BenchmarkList compares, on one generated history, a page of 50 incidents
// read with ListPage (light entries for all, whole incidents for the page)
// with List, which reads every incident whole: the ratio is what a paged
// listing (GET /incidents) saves.
//
//	go test ./incident -bench List -run '^$'
func BenchmarkList(b *testing.B) {
	ctx := context.Background()
	db, err := engine.Open(ctx, "", engine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	var history bytes.Buffer
	if err := gen.Write(&history, gen.Options{Incidents: 5000, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	if _, err := ingest.Reader(ctx, db, "history", &history); err != nil {
		b.Fatal(err)
	}
	rec := incident.NewRecorder(db, incident.Options{})
	all := incident.ListFilter{All: true}
	b.Run("page", func(b *testing.B) {
		for b.Loop() {
			page, err := rec.ListPage(ctx, all, func(e []incident.ListEntry) []incident.ListEntry { return e[:50] })
			if err != nil || len(page) != 50 {
				b.Fatalf("%d incidents, %v", len(page), err)
			}
		}
	})
	b.Run("whole", func(b *testing.B) {
		for b.Loop() {
			incs, err := rec.List(ctx, all)
			if err != nil || len(incs) != 5000 {
				b.Fatalf("%d incidents, %v", len(incs), err)
			}
		}
	})
}
