package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/parquet/file"
)

func TestQueryJSON(t *testing.T) {
	ts := newTestServer(t)
	createIncident(t, ts, guid1, map[string]any{"title": "One", "labels": []any{map[string]any{"labelName": "vip"}}})
	r := do(t, ts, "POST", "/query", readTok, map[string]any{"query": `SecurityIncident
| project IncidentNumber, Title, Labels, CreatedTime, Age = 90m, Ratio = 1.5, Open = Status == "New", Nothing = int(null)`})
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var resp struct {
		Tables []struct {
			Name    string
			Columns []queryColumn
			Rows    [][]any
		}
		Render *queryRender
	}
	if err := json.Unmarshal(r.body, &resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.Tables) != 1 || resp.Tables[0].Name != "PrimaryResult" || resp.Render != nil {
		t.Fatalf("response: %s", r.body)
	}
	var types []string
	for _, c := range resp.Tables[0].Columns {
		types = append(types, c.Name+":"+c.Type)
	}
	if got := strings.Join(types, " "); got != "IncidentNumber:int Title:string Labels:dynamic CreatedTime:datetime Age:timespan Ratio:real Open:bool Nothing:int" {
		t.Errorf("columns: %s", got)
	}
	row := resp.Tables[0].Rows[0]
	if row[0] != 1.0 || row[1] != "One" || row[2] != `[{"labelName":"vip","labelType":"User"}]` || !strings.HasSuffix(row[3].(string), "Z") ||
		row[4] != "01:30:00" || row[5] != 1.5 || row[6] != true || row[7] != nil {
		t.Errorf("row: %#v", row)
	}

	// render is returned as Log Analytics returns it with include-render.
	r = do(t, ts, "POST", "/query", readTok, map[string]any{"query": "SecurityIncident | summarize count() by bin(TimeGenerated, 1h) | render timechart"})
	if v := get(r.json(t), "render", "visualization"); v != "timechart" {
		t.Errorf("render: %s", r.body)
	}
	// The Log Analytics path answers the same.
	if r := do(t, ts, "POST", "/v1/workspaces/0b6f4a63-5d2e-4c1a-9e7f-3a2b1c0d9e8f/query", readTok, map[string]any{"query": "SecurityIncident | count", "timespan": "P1D"}); r.status != 200 ||
		!strings.Contains(string(r.body), `"columns":[{"name":"Count","type":"long"}],"rows":[[1]]`) {
		t.Errorf("Log Analytics path: %d %s", r.status, r.body)
	}
	// Workbook parameters.
	r = do(t, ts, "POST", "/query", readTok, map[string]any{"query": "SecurityIncident | where Title == '{Name}' | count", "params": map[string]string{"Name": "One"}})
	if rows := get(r.json(t), "tables").([]any)[0].(map[string]any)["rows"]; rows.([]any)[0].([]any)[0] != 1.0 {
		t.Errorf("params: %s", r.body)
	}
}

func TestQueryErrors(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.MaxResultRows = 5 })
	tests := []struct {
		name    string
		body    any
		headers []string
		status  int
		code    string
		inner   string // innererror.code
		msg     string
	}{
		{"unknown column", map[string]any{"query": "SecurityIncident\n| where Titel has 'x'"}, nil, 400, "BadArgumentError", "SemanticError", "unknown column 'Titel'"},
		{"syntax", map[string]any{"query": "SecurityIncident | where"}, nil, 400, "BadArgumentError", "SyntaxError", "expected"},
		{"unset parameter", map[string]any{"query": "SecurityIncident | where Title == '{Who}'"}, nil, 400, "BadArgumentError", "SemanticError", "Who"},
		{"empty query", map[string]any{"query": " "}, nil, 400, "BadRequest", "", "query: is required"},
		{"too many rows", map[string]any{"query": "range x from 1 to 10 step 1"}, nil, 400, "BadRequest", "", "more than 5 rows"},
		{"not acceptable", map[string]any{"query": "print 1"}, []string{"Accept: image/png"}, 406, "NotAcceptable", "", "text/csv"},
		{"media type", `{"query":"print 1"}`, []string{"Content-Type: text/plain"}, 415, "UnsupportedMediaType", "", "application/json"},
		{"too large", map[string]any{"query": "print '" + strings.Repeat("x", 1<<20) + "'"}, nil, 413, "RequestEntityTooLarge", "", "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, ts, "POST", "/query", readTok, tt.body, tt.headers...)
			if tt.inner == "" {
				wantError(t, r, tt.status, tt.code, "", tt.msg)
				return
			}
			var e errorBody
			if r.status != tt.status || json.Unmarshal(r.body, &e) != nil || e.Error.Code != tt.code || e.Error.InnerError == nil ||
				e.Error.InnerError.Code != tt.inner || !strings.Contains(e.Error.InnerError.Message, tt.msg) {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
	}
	// The error points into the query: line, position and a caret.
	r := do(t, ts, "POST", "/query", readTok, map[string]any{"query": "SecurityIncident\n| where Titel has 'x'"})
	var e errorBody
	json.Unmarshal(r.body, &e)
	if in := e.Error.InnerError; in.Line != 2 || in.Pos != 9 || in.Length != 5 || !strings.Contains(in.Detail, "^^^^^") {
		t.Errorf("position: %+v", in)
	}
}

func TestQueryFormats(t *testing.T) {
	ts := newTestServer(t)
	createIncident(t, ts, guid1, map[string]any{"title": "One, with a comma"})
	query := map[string]any{"query": "SecurityIncident | project IncidentNumber, Title, Owner"}
	r := do(t, ts, "POST", "/query", readTok, query, "Accept: text/csv")
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") ||
		string(r.body) != "IncidentNumber,Title,Owner\n1,\"One, with a comma\",\"{\"\"objectId\"\":null,\"\"email\"\":null,\"\"assignedTo\"\":null,\"\"userPrincipalName\"\":null,\"\"ownerType\"\":\"\"Unknown\"\"}\"\n" {
		t.Errorf("csv: %d %q %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	r = do(t, ts, "POST", "/query", readTok, query, "Accept: application/vnd.apache.parquet")
	if r.status != 200 || !bytes.HasPrefix(r.body, []byte("PAR1")) || !strings.Contains(r.header.Get("Content-Disposition"), "query.parquet") {
		t.Fatalf("parquet: %d %q", r.status, r.header)
	}
	pf, err := file.NewParquetReader(bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if pf.NumRows() != 1 || pf.MetaData().Schema.NumColumns() != 3 {
		t.Errorf("parquet: %d rows, %d columns", pf.NumRows(), pf.MetaData().Schema.NumColumns())
	}
	r = do(t, ts, "POST", "/query", readTok, query, "Accept: application/vnd.apache.arrow.stream")
	if r.status != 200 {
		t.Fatalf("arrow: %d %s", r.status, r.body)
	}
	rd, err := ipc.NewReader(bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range rd.Schema().Fields() {
		names = append(names, f.Name)
	}
	n := 0
	for rd.Next() {
		n += int(rd.RecordBatch().NumRows())
	}
	if n != 1 || strings.Join(names, ",") != "IncidentNumber,Title,Owner" {
		t.Errorf("arrow: %d rows, columns %v", n, names)
	}
	// The first acceptable type in Accept wins.
	r = do(t, ts, "POST", "/query", readTok, query, "Accept: image/png, text/csv;q=0.9, application/json")
	if !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
		t.Errorf("Accept list: %q", r.header.Get("Content-Type"))
	}
}

// TestOpenAPI checks the OpenAPI document against the routes the server
// registers: every route is documented, every documented operation is
// routed (it answers 401 without a token, not the mux's 404 or 405).
// TestMain checks that each operation documents the status codes the tests see.
func TestOpenAPI(t *testing.T) {
	ts := newTestServer(t)
	r := do(t, ts, "GET", "/openapi.json", readTok, nil)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			OperationID string                     `json:"operationId"`
			Responses   map[string]json.RawMessage `json:"responses"`
			Parameters  []struct{ Name, In string }
		}
		Components struct {
			Schemas map[string]json.RawMessage
		}
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	var documented, registered []string
	ids := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
			if ids[op.OperationID] {
				t.Errorf("operationId %s twice", op.OperationID)
			}
			ids[op.OperationID] = true
			if _, ok := op.Responses["401"]; !ok {
				t.Errorf("%s %s: 401 not documented", method, path)
			}
			for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
				if !slices.ContainsFunc(op.Parameters, func(p struct{ Name, In string }) bool { return p.Name == m[1] && p.In == "path" }) {
					t.Errorf("%s %s: path parameter %s not documented", method, path, m[1])
				}
			}
		}
	}
	for _, rt := range routes() {
		registered = append(registered, rt.method+" "+rt.path)
		for _, s := range []string{rt.request, rt.response} {
			if s != "" && doc.Components.Schemas[s] == nil {
				t.Errorf("%s %s: schema %s missing", rt.method, rt.path, s)
			}
		}
		// Routed: the API answers, asking for a token.
		path := strings.NewReplacer("{id}", "1", "{taskId}", "11111111-2222-4333-8444-555555555555").Replace(rt.path)
		req, _ := http.NewRequest(rt.method, ts.URL+path, nil)
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("%s %s: %d without a token, want 401 (is it routed?)", rt.method, path, resp.StatusCode)
		}
	}
	sort.Strings(documented)
	sort.Strings(registered)
	if strings.Join(documented, "\n") != strings.Join(registered, "\n") {
		t.Errorf("documented:\n%s\nregistered:\n%s", strings.Join(documented, "\n"), strings.Join(registered, "\n"))
	}
	// A method the API does not have is 405, not a page.
	req, _ := http.NewRequest("PATCH", ts.URL+"/incidents/1", nil)
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("PATCH /incidents/1: %d, want 405", resp.StatusCode)
	}
}
