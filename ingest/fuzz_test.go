package ingest

import (
	"bytes"
	"context"
	"testing"

	"github.com/socq/socq/engine"
)

// FuzzIngestNDJSON loads arbitrary content through both paths (Files, where
// DuckDB reads the file, and Reader, where Go splits it): neither may panic,
// and a load that succeeds accounts for every record.
func FuzzIngestNDJSON(f *testing.F) {
	for _, seed := range []string{
		`{"IncidentName":"a","TimeGenerated":"2024-05-01T10:00:00.1234567Z","IncidentNumber":1,"Tasks":"[]"}` + "\n" +
			`{"IncidentName":"b","TimeGenerated":"yesterday","IncidentNumber":"12.5","Owner":{"email":"a@b.c"}}` + "\n",
		`{"IncidentName":"a"}` + "\n\n" + `{"IncidentName":` + "\n" + `[1]` + "\n",
		`[{"IncidentName":"a"},{"IncidentName":"a","IncidentNumber":1099511627776}]`,
		`{"tables":[{"name":"PrimaryResult","columns":[{"name":"IncidentName","type":"string"}],"rows":[["a"],[1,2]]}]}`,
		"IncidentName,TimeGenerated [UTC],Tasks\na,5/1/2024, 10:00:00.123 PM,[]\nb,\"x\n\",\"[1,\"\n",
		string(genNDJSON(1, 1)),
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		lines := bytes.Count(data, []byte("\n")) + 1
		path := writeFile(t, t.TempDir(), "in", data)
		if rep, err := Files(ctx, "", []string{path}, Options{}); err == nil {
			checkReport(t, rep, lines)
		}

		db, err := engine.Open(ctx, "", engine.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rep, err := Reader(ctx, db, "in", bytes.NewReader(data))
		if err != nil {
			return
		}
		checkReport(t, rep, lines)
		if rows := len(dumpDB(t, db)); rows != rep.Files[0].Added {
			t.Errorf("%d rows in the table, %d added", rows, rep.Files[0].Added)
		}
	})
}

// checkReport checks that a report of one input of lines lines accounts for
// every record.
func checkReport(t *testing.T, rep *Report, lines int) {
	t.Helper()
	if len(rep.Files) != 1 {
		t.Fatalf("%d file summaries", len(rep.Files))
	}
	s := rep.Files[0]
	if s.Read != s.Added+s.AlreadyPresent+s.Rejected || s.Rejected != len(rep.Rejects) {
		t.Errorf("summary %+v with %d rejects does not add up", s, len(rep.Rejects))
	}
	for _, r := range rep.Rejects {
		if r.Line < 1 || r.Line > lines || r.Reason == "" {
			t.Errorf("reject %q: line outside the input's %d lines, or no reason", r, lines)
		}
	}
}
