package pull

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/monitor/azquery"
	"github.com/socq/socq/engine"
	"github.com/socq/socq/ingest"
)

// FuzzAPIRows feeds rows as a Log Analytics response could carry them
// (whatever the service, or something pretending to be it, sends) through
// pull's conversion into ingest: no panic, and every row is either loaded,
// already present or rejected.
func FuzzAPIRows(f *testing.F) {
	f.Add(`[["t","2026-09-14T10:02:45.5000000Z","a","Title",1,"[]"]]`)
	f.Add(`[["t","2026-09-14T10:02:45Z","a","",null,"{\"x\":1}"],["t","yesterday","b","x","12.5","[1,"]]`)
	f.Add(`[["t",null,null,null,null,null],[]]`)
	f.Add(`[["t","2026-09-14T10:02:45Z","a","ü\u0000",2147483648,"[{\"taskId\":1}]", "extra"]]`)
	ctx := context.Background()
	db, err := engine.Open(ctx, "", engine.Options{})
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	names := []string{"TenantId", "TimeGenerated", "IncidentName", "Title", "IncidentNumber", "Tasks"}
	types := []azquery.LogsColumnType{"string", "datetime", "string", "string", "int", "dynamic"}
	f.Fuzz(func(t *testing.T, rowsJSON string) {
		var rows []azquery.Row
		if json.Unmarshal([]byte(rowsJSON), &rows) != nil {
			return
		}
		table := &azquery.Table{Name: new(string), Rows: rows}
		for i := range names {
			table.Columns = append(table.Columns, &azquery.Column{Name: &names[i], Type: &types[i]})
		}
		body, _, err := apiResponse(table)
		if err != nil {
			t.Fatalf("apiResponse: %v", err)
		}
		rep, err := ingest.Reader(ctx, db, "fuzz", bytes.NewReader(body))
		if err != nil {
			return // an input ingest refuses as a whole (e.g. rows of the wrong length), reported as an error
		}
		f := rep.Files[0]
		if f.Read != len(rows) || f.Added+f.AlreadyPresent+f.Rejected != f.Read {
			t.Fatalf("%d rows, report %+v", len(rows), f)
		}
	})
}
