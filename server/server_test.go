package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/socq/socq/engine"
)

const (
	writeTok = "write-token-0123456789"
	readTok  = "read-token-0123456789a"
	meiTok   = "mei-token-0123456789ab"
)

// seen collects the status codes the tests get from each route, for
// TestMain to check against the OpenAPI document.
var seen = &statusLog{codes: map[string]map[int]bool{}}

type statusLog struct {
	mu    sync.Mutex
	codes map[string]map[int]bool // "GET /incidents" → statuses
}

func (l *statusLog) add(method, path string, status int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := method + " " + path
	if l.codes[k] == nil {
		l.codes[k] = map[int]bool{}
	}
	l.codes[k][status] = true
}

// TestMain runs the tests, then checks that every status code a route
// answered with is one its OpenAPI operation documents.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && !testing.Short() {
		doc := openAPIDocument()
		paths := doc["paths"].(map[string]any)
		for k, statuses := range seen.codes {
			method, path, _ := strings.Cut(k, " ")
			op := paths[path].(map[string]any)[strings.ToLower(method)].(map[string]any)
			responses := op["responses"].(map[string]any)
			for st := range statuses {
				if _, ok := responses[strconv.Itoa(st)]; !ok {
					fmt.Fprintf(os.Stderr, "FAIL: %s answered %d in the tests, but openapi.json does not document it\n", k, st)
					code = 1
				}
			}
		}
	}
	os.Exit(code)
}

// newTestServer serves a fresh in-memory database.
func newTestServer(t *testing.T, mod ...func(*Config)) *httptest.Server {
	t.Helper()
	db, err := engine.Open(context.Background(), "", engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg := Config{DB: db, DefaultActor: "analyst@contoso.com", observe: seen.add, Tokens: []Token{
		{Value: writeTok, Write: true},
		{Value: readTok},
		{Value: meiTok, Write: true, Name: "mei.lin@contoso.com"},
	}}
	for _, m := range mod {
		m(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, r.body)
	}
	return m
}

// do sends a request with token (none when ""), a JSON body when body is
// not nil, and headers as "Name: value" strings.
func do(t *testing.T, ts *httptest.Server, method, path, token string, body any, headers ...string) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, ts.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

// wantError checks a Sentinel-style error body.
func wantError(t *testing.T, r response, status int, code, target, msgPart string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	var e errorBody
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error body is not JSON: %v: %s", err, r.body)
	}
	if e.Error.Code != code {
		t.Errorf("error code %q, want %q (%s)", e.Error.Code, code, r.body)
	}
	if target != "" && e.Error.Target != target {
		t.Errorf("error target %q, want %q (%s)", e.Error.Target, target, r.body)
	}
	if !strings.Contains(e.Error.Message, msgPart) {
		t.Errorf("error message %q does not say %q", e.Error.Message, msgPart)
	}
}

func get(m map[string]any, path ...string) any {
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[p]
	}
	return v
}

const guid1 = "6f1a7c38-2b1e-4a55-9a41-0c8d1e2f3a4b"

func createIncident(t *testing.T, ts *httptest.Server, name string, props map[string]any) map[string]any {
	t.Helper()
	r := do(t, ts, "PUT", "/incidents/"+name, writeTok, map[string]any{"properties": props})
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	return r.json(t)
}

func TestAuth(t *testing.T) {
	ts := newTestServer(t)
	tests := []struct {
		name, method, path, header string
		status                     int
		code                       string
	}{
		{"no token", "GET", "/incidents", "", 401, "AuthenticationFailed"},
		{"wrong token", "GET", "/incidents", "Bearer nope-nope-nope-nope", 401, "AuthenticationFailed"},
		{"not bearer", "GET", "/incidents", "Basic " + writeTok, 401, "AuthenticationFailed"},
		{"read token reads", "GET", "/incidents", "Bearer " + readTok, 200, ""},
		{"read token queries", "POST", "/query", "Bearer " + readTok, 200, ""},
		{"read token cannot write", "PUT", "/incidents/" + guid1, "Bearer " + readTok, 403, "AuthorizationFailed"},
		{"read token cannot delete", "DELETE", "/incidents/1", "Bearer " + readTok, 403, "AuthorizationFailed"},
		{"scheme is case-insensitive", "GET", "/incidents", "bearer " + writeTok, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body any
			if tt.method != "GET" && tt.method != "DELETE" {
				body = map[string]any{"query": "print x = 1", "properties": map[string]any{"title": "T"}}
			}
			var headers []string
			if tt.header != "" {
				headers = append(headers, "Authorization: "+tt.header)
			}
			r := do(t, ts, tt.method, tt.path, "", body, headers...)
			if tt.code != "" {
				wantError(t, r, tt.status, tt.code, "", "")
				if tt.status == 401 && r.header.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
				return
			}
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
		})
	}
	// The web page's files carry no data and load without a token.
	r := do(t, ts, "GET", "/", "", nil)
	if r.status != 200 || !strings.Contains(string(r.body), "<html") {
		t.Errorf("GET / without a token: %d %s", r.status, r.body)
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("web page without a strict CSP: %q", csp)
	}
}

func TestParseTokens(t *testing.T) {
	tests := []struct {
		name, file, err string
		want            []Token
	}{
		{name: "read and write", file: "# team tokens\nread " + readTok + "\n\nwrite " + writeTok + " mei.lin@contoso.com\n",
			want: []Token{{Value: readTok}, {Value: writeTok, Write: true, Name: "mei.lin@contoso.com"}}},
		{name: "name with spaces", file: "WRITE " + writeTok + " Mei Lin", want: []Token{{Value: writeTok, Write: true, Name: "Mei Lin"}}},
		{name: "short", file: "read short", err: "tokens:1: the token is 5 characters long; use at least 16"},
		{name: "access", file: "admin " + writeTok, err: `tokens:1: "admin": the access must be read or write`},
		{name: "no token", file: "read", err: "tokens:1: want 'read TOKEN [NAME]'"},
		{name: "duplicate", file: "read " + readTok + "\nwrite " + readTok, err: "tokens:2: the same token as line 1"},
		{name: "empty", file: "# nothing\n", err: "tokens: no tokens"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTokens("tokens", strings.NewReader(tt.file))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("token %d: %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
	tok, err := GenerateToken()
	if err != nil || len(tok.Value) < 40 || !tok.Write {
		t.Errorf("GenerateToken: %+v %v", tok, err)
	}
}

func TestIncidentCreateGetReplace(t *testing.T) {
	ts := newTestServer(t)
	created := createIncident(t, ts, guid1, map[string]any{"title": "  Phishing: user reported e-mail ", "labels": []any{map[string]any{"labelName": "phishing"}},
		"owner": map[string]any{"userPrincipalName": "mei.lin@contoso.com"}, "firstActivityTimeUtc": "2026-09-14T08:00:00Z"})
	want := map[string]any{"name": guid1, "type": incidentType, "id": "/incidents/" + guid1}
	for k, v := range want {
		if created[k] != v {
			t.Errorf("%s = %v, want %v", k, created[k], v)
		}
	}
	props := created["properties"].(map[string]any)
	for k, v := range map[string]any{"title": "Phishing: user reported e-mail", "severity": "Medium", "status": "New", "incidentNumber": 1.0,
		"providerName": "Azure Sentinel", "providerIncidentId": "1", "firstActivityTimeUtc": "2026-09-14T08:00:00Z"} {
		if props[k] != v {
			t.Errorf("properties.%s = %v, want %v", k, props[k], v)
		}
	}
	if get(created, "properties", "owner", "assignedTo") != "Mei Lin" || get(created, "properties", "owner", "ownerType") != "User" {
		t.Errorf("owner: %v", props["owner"])
	}
	if labels := props["labels"].([]any); len(labels) != 1 || get(labels[0].(map[string]any), "labelType") != "User" {
		t.Errorf("labels: %v", labels)
	}
	if _, ok := props["additionalData"].(map[string]any); !ok {
		t.Errorf("additionalData: %v", props["additionalData"])
	}
	etag := created["etag"].(string)
	if !strings.HasPrefix(etag, `"`) {
		t.Errorf("etag %q is not quoted as Sentinel's are", etag)
	}
	arm := "/subscriptions/d1d8779d-38d7-4f06-91db-9cbc8de0176f/resourceGroups/soc/providers/Microsoft.OperationalInsights/workspaces/sentinel/providers/Microsoft.SecurityInsights"
	for _, path := range []string{"/incidents/" + guid1, "/incidents/1", "/incidents/" + strings.ToUpper(guid1), arm + "/incidents/" + guid1 + "?api-version=2024-09-01"} {
		r := do(t, ts, "GET", path, readTok, nil)
		if r.status != 200 || r.json(t)["etag"] != etag || r.header.Get("ETag") != etag {
			t.Errorf("GET %s: %d %s", path, r.status, r.body)
		}
	}

	// Replace: the body is the whole incident, so what it lacks is cleared.
	replaced := do(t, ts, "PUT", "/incidents/"+guid1, writeTok, map[string]any{"etag": etag, "properties": map[string]any{
		"title": "Phishing", "severity": "high", "status": "Active", "labels": []any{map[string]any{"labelName": "mail"}}}})
	if replaced.status != 200 {
		t.Fatalf("replace: %d %s", replaced.status, replaced.body)
	}
	rp := replaced.json(t)
	if get(rp, "properties", "severity") != "High" || get(rp, "properties", "status") != "Active" || get(rp, "properties", "owner", "assignedTo") != nil {
		t.Errorf("replaced: %s", replaced.body)
	}
	if labels := get(rp, "properties", "labels").([]any); len(labels) != 1 || get(labels[0].(map[string]any), "labelName") != "mail" {
		t.Errorf("labels after replace: %v", labels)
	}
	if rp["etag"] == etag {
		t.Error("the etag did not change")
	}

	// A stale etag, in the body or in If-Match, is refused with 409.
	stale := do(t, ts, "PUT", "/incidents/"+guid1, writeTok, map[string]any{"etag": etag, "properties": map[string]any{"title": "x", "severity": "Low", "status": "Active"}})
	wantError(t, stale, 409, "Conflict", "etag", "was changed by analyst@contoso.com")
	stale = do(t, ts, "PUT", "/incidents/1", writeTok, map[string]any{"properties": map[string]any{"title": "x", "severity": "Low", "status": "Active"}}, "If-Match: "+etag)
	wantError(t, stale, 409, "Conflict", "etag", "newer version")
	// The current etag in If-Match goes through.
	ok := do(t, ts, "PUT", "/incidents/1", writeTok, map[string]any{"properties": map[string]any{"title": "Phishing", "severity": "Low", "status": "Active"}}, "If-Match: "+rp["etag"].(string))
	if ok.status != 200 {
		t.Errorf("current If-Match: %d %s", ok.status, ok.body)
	}

	// Closing needs a classification and a comment.
	closeBody := func(extra map[string]any) map[string]any {
		p := map[string]any{"title": "Phishing", "severity": "Low", "status": "Closed"}
		for k, v := range extra {
			p[k] = v
		}
		return map[string]any{"properties": p}
	}
	wantError(t, do(t, ts, "PUT", "/incidents/1", writeTok, closeBody(nil)), 400, "BadRequest", "properties.classification", "needs a classification")
	wantError(t, do(t, ts, "PUT", "/incidents/1", writeTok, closeBody(map[string]any{"classification": "TruePositive"})), 400, "BadRequest", "properties.classificationComment", "comment")
	closed := do(t, ts, "PUT", "/incidents/1", meiTok, closeBody(map[string]any{"classification": "TruePositive", "classificationComment": "confirmed"}))
	if closed.status != 200 || get(closed.json(t), "properties", "classificationReason") != "SuspiciousActivity" {
		t.Fatalf("close: %d %s", closed.status, closed.body)
	}

	// Every change through the API is one snapshot row, as the CLI writes:
	// create, replace, replace, close.
	q := do(t, ts, "POST", "/query", readTok, map[string]any{"query": "SecurityIncident | where IncidentNumber == 1 | summarize Rows = count(), arg_max(TimeGenerated, ModifiedBy)"})
	if q.status != 200 {
		t.Fatalf("query: %d %s", q.status, q.body)
	}
	rows := get(q.json(t), "tables").([]any)[0].(map[string]any)["rows"].([]any)
	if row := rows[0].([]any); row[0] != 4.0 || row[2] != "mei.lin@contoso.com" {
		t.Errorf("snapshot rows: %s", q.body)
	}
}

func TestIncidentErrors(t *testing.T) {
	ts := newTestServer(t)
	createIncident(t, ts, guid1, map[string]any{"title": "One"})
	long := strings.Repeat("x", 5001)
	tests := []struct {
		name, method, path string
		body               any
		headers            []string
		status             int
		code, target, msg  string
	}{
		{"unknown guid", "GET", "/incidents/00000000-0000-0000-0000-000000000001", nil, nil, 404, "NotFound", "", "not found"},
		{"unknown number", "GET", "/incidents/99", nil, nil, 404, "NotFound", "", "incident 99 not found"},
		{"bad id", "GET", "/incidents/abc", nil, nil, 400, "BadRequest", "id", "give its name (a GUID) or its number"},
		{"create by unknown number", "PUT", "/incidents/77", map[string]any{"properties": map[string]any{"title": "x"}}, nil, 404, "NotFound", "", "incident 77"},
		{"no properties", "PUT", "/incidents/" + guid1, map[string]any{}, nil, 400, "BadRequest", "properties", "is required"},
		{"no title", "PUT", "/incidents/" + guid1, map[string]any{"properties": map[string]any{}}, nil, 400, "BadRequest", "properties.title", "is required"},
		{"empty title", "PUT", "/incidents/4b6c0e1a-0000-4000-8000-000000000002", map[string]any{"properties": map[string]any{"title": "   "}}, nil, 400, "BadRequest", "properties.title", "must not be empty"},
		{"long description", "PUT", "/incidents/4b6c0e1a-0000-4000-8000-000000000002", map[string]any{"properties": map[string]any{"title": "t", "description": long}}, nil, 400, "BadRequest", "properties.description", "5001 characters"},
		{"bad severity", "PUT", "/incidents/4b6c0e1a-0000-4000-8000-000000000002", map[string]any{"properties": map[string]any{"title": "t", "severity": "Critical"}}, nil, 400, "BadRequest", "properties.severity", `"Critical" is not one of`},
		{"bad status", "PUT", "/incidents/4b6c0e1a-0000-4000-8000-000000000002", map[string]any{"properties": map[string]any{"title": "t", "status": "Done"}}, nil, 400, "BadRequest", "properties.status", `"Done"`},
		{"bad owner", "PUT", "/incidents/4b6c0e1a-0000-4000-8000-000000000002", map[string]any{"properties": map[string]any{"title": "t", "owner": map[string]any{"email": "a@b"}}}, nil, 400, "BadRequest", "properties.owner", "dot"},
		{"bad time", "PUT", "/incidents/4b6c0e1a-0000-4000-8000-000000000002", map[string]any{"properties": map[string]any{"title": "t", "firstActivityTimeUtc": "yesterday"}}, nil, 400, "BadRequest", "properties.firstActivityTimeUtc", "RFC 3339"},
		{"classification when open", "PUT", "/incidents/4b6c0e1a-0000-4000-8000-000000000002", map[string]any{"properties": map[string]any{"title": "t", "classification": "TruePositive"}}, nil, 400, "BadRequest", "properties.classification", "closing"},
		{"replace without severity", "PUT", "/incidents/1", map[string]any{"properties": map[string]any{"title": "t", "status": "New"}}, nil, 400, "BadRequest", "properties.severity", "required when replacing"},
		{"replace without status", "PUT", "/incidents/1", map[string]any{"properties": map[string]any{"title": "t", "severity": "Low"}}, nil, 400, "BadRequest", "properties.status", "required when replacing"},
		{"change first activity", "PUT", "/incidents/1", map[string]any{"properties": map[string]any{"title": "t", "severity": "Low", "status": "New", "firstActivityTimeUtc": "2020-01-01T00:00:00Z"}}, nil, 400, "BadRequest", "properties.firstActivityTimeUtc", "cannot be changed"},
		{"wrong JSON type", "PUT", "/incidents/1", `{"properties":{"title":5}}`, nil, 400, "BadRequest", "properties.title", "want a JSON string"},
		{"not JSON", "PUT", "/incidents/1", `{"properties":`, nil, 400, "BadRequest", "", "not valid JSON"},
		{"two values", "PUT", "/incidents/1", `{} {}`, nil, 400, "BadRequest", "", "more than one JSON value"},
		{"no body", "PUT", "/incidents/1", "", nil, 400, "BadRequest", "", "no body"},
		{"content type", "PUT", "/incidents/1", `{}`, []string{"Content-Type: text/plain"}, 415, "UnsupportedMediaType", "", "application/json"},
		{"too large", "PUT", "/incidents/1", `{"properties":{"title":"` + strings.Repeat("x", 2<<20) + `"}}`, nil, 413, "RequestEntityTooLarge", "", "larger than 1048576 bytes"},
		{"delete unknown", "DELETE", "/incidents/42", nil, nil, 404, "NotFound", "", "incident 42"},
		{"delete stale", "DELETE", "/incidents/1", nil, []string{`If-Match: "stale"`}, 409, "Conflict", "etag", "newer version"},
		{"reuse name", "PUT", "/incidents/" + guid1 + "/tasks/x", map[string]any{"properties": map[string]any{"title": "t"}}, nil, 400, "BadRequest", "name", "must be a GUID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, ts, tt.method, tt.path, writeTok, tt.body, tt.headers...)
			wantError(t, r, tt.status, tt.code, tt.target, tt.msg)
		})
	}
}

func TestDeleteIncident(t *testing.T) {
	ts := newTestServer(t)
	createIncident(t, ts, guid1, map[string]any{"title": "One"})
	if r := do(t, ts, "DELETE", "/incidents/"+guid1, writeTok, nil); r.status != 200 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	wantError(t, do(t, ts, "GET", "/incidents/1", readTok, nil), 404, "NotFound", "", "was deleted by analyst@contoso.com")
	wantError(t, do(t, ts, "GET", "/incidents/"+guid1, readTok, nil), 404, "NotFound", "", "was deleted by analyst@contoso.com")
	wantError(t, do(t, ts, "PUT", "/incidents/1", writeTok, map[string]any{"properties": map[string]any{"title": "again", "severity": "Low", "status": "New"}}), 404, "NotFound", "", "was deleted by")
	// Its name stays taken: the history keeps it.
	r := do(t, ts, "PUT", "/incidents/"+guid1, writeTok, map[string]any{"properties": map[string]any{"title": "again"}})
	wantError(t, r, 409, "Conflict", "name", "already")
	list := do(t, ts, "GET", "/incidents", readTok, nil).json(t)
	if n := len(list["value"].([]any)); n != 0 {
		t.Errorf("a deleted incident is listed: %v", list)
	}
}

func TestListIncidents(t *testing.T) {
	ts := newTestServer(t)
	for i, p := range []map[string]any{
		{"title": "Brute force", "severity": "High"},
		{"title": "Anomalous sign-in", "severity": "Low", "status": "Active", "owner": map[string]any{"email": "mei.lin@contoso.com"}},
		{"title": "Closed one", "severity": "High", "status": "Closed", "classification": "Undetermined", "classificationComment": "n/a"},
	} {
		createIncident(t, ts, []string{"00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b", "00000000-0000-4000-8000-00000000000c"}[i], p)
	}
	titles := func(r response) []string {
		t.Helper()
		if r.status != 200 {
			t.Fatalf("list: %d %s", r.status, r.body)
		}
		var out []string
		for _, v := range r.json(t)["value"].([]any) {
			out = append(out, get(v.(map[string]any), "properties", "title").(string))
		}
		return out
	}
	tests := []struct {
		query string
		want  string
	}{
		{"", "Closed one|Anomalous sign-in|Brute force"},
		{"?$filter=properties/severity eq 'High'", "Closed one|Brute force"},
		{"?$filter=(properties/status eq 'New' or properties/status eq 'active')", "Anomalous sign-in|Brute force"},
		{"?$filter=properties/severity eq 'High' and properties/status ne 'Closed'", "Brute force"},
		{"?$filter=properties/owner/email eq 'MEI.LIN@contoso.com'", "Anomalous sign-in"},
		{"?$filter=properties/owner/assignedTo eq 'Mei Lin'", "Anomalous sign-in"},
		{"?$orderby=properties/title asc", "Anomalous sign-in|Brute force|Closed one"},
		{"?$orderby=properties/severity desc", "Closed one|Brute force|Anomalous sign-in"},
		{"?$orderby=properties/createdTimeUtc", "Brute force|Anomalous sign-in|Closed one"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got := strings.Join(titles(do(t, ts, "GET", "/incidents"+strings.ReplaceAll(tt.query, " ", "%20"), readTok, nil)), "|")
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	// Paging: $top and nextLink.
	var all []string
	next := "/incidents?$top=2&$orderby=properties/incidentNumber%20asc"
	for pages := 0; next != ""; pages++ {
		if pages > 3 {
			t.Fatal("nextLink does not end")
		}
		r := do(t, ts, "GET", next, readTok, nil)
		all = append(all, titles(r)...)
		next, _ = r.json(t)["nextLink"].(string)
	}
	if got := strings.Join(all, "|"); got != "Brute force|Anomalous sign-in|Closed one" {
		t.Errorf("pages: %s", got)
	}
	for _, bad := range []struct{ query, target, msg string }{
		{"$top=0", "$top", "from 1 to 1000"},
		{"$top=x", "$top", "from 1 to 1000"},
		{"$skipToken=-1", "$skipToken", "follow nextLink"},
		{"$filter=properties/title eq 'x'", "$filter", "the fields that filter are"},
		{"$filter=properties/status gt 'x'", "$filter", "eq and ne"},
		{"$filter=properties/status eq New", "$filter", "quoted string"},
		{"$filter=properties/status eq 'New", "$filter", "not closed"},
		{"$filter=properties/status eq 'New' or properties/status eq 'Active'", "$filter", "expected 'and'"},
		{"$orderby=properties/owner", "$orderby", "want properties/FIELD"},
		{"$orderby=properties/title sideways", "$orderby", "asc or desc"},
	} {
		r := do(t, ts, "GET", "/incidents?"+strings.ReplaceAll(bad.query, " ", "%20"), readTok, nil)
		wantError(t, r, 400, "BadRequest", bad.target, bad.msg)
	}
}

func TestTasks(t *testing.T) {
	ts := newTestServer(t)
	createIncident(t, ts, guid1, map[string]any{"title": "One"})
	const task1 = "11111111-2222-4333-8444-555555555555"
	base := "/incidents/" + guid1 + "/tasks/"
	r := do(t, ts, "PUT", base+task1, meiTok, map[string]any{"properties": map[string]any{"title": " Call the user ", "description": "ask about the mail"}})
	if r.status != 201 {
		t.Fatalf("add task: %d %s", r.status, r.body)
	}
	task := r.json(t)
	if task["name"] != task1 || task["type"] != taskType || get(task, "properties", "title") != "Call the user" ||
		get(task, "properties", "status") != "New" || get(task, "properties", "createdBy", "name") != "Mei Lin" {
		t.Errorf("task: %s", r.body)
	}
	list := do(t, ts, "GET", "/incidents/1/tasks", readTok, nil)
	if list.status != 200 || len(list.json(t)["value"].([]any)) != 1 {
		t.Errorf("list tasks: %d %s", list.status, list.body)
	}
	got := do(t, ts, "GET", base+task1, readTok, nil)
	if got.status != 200 || got.json(t)["etag"] != task["etag"] {
		t.Errorf("get task: %d %s", got.status, got.body)
	}
	// Complete it: replace with status Completed.
	done := do(t, ts, "PUT", base+task1, writeTok, map[string]any{"etag": task["etag"], "properties": map[string]any{"title": "Call the user", "description": "ask about the mail", "status": "Completed"}})
	if done.status != 200 || get(done.json(t), "properties", "status") != "Completed" || get(done.json(t), "properties", "lastCompletedTimeUtc") == nil ||
		get(done.json(t), "properties", "lastModifiedBy", "name") != "analyst@contoso.com" && get(done.json(t), "properties", "lastModifiedBy", "userPrincipalName") != "analyst@contoso.com" {
		t.Errorf("complete: %d %s", done.status, done.body)
	}
	// The old etag is stale now.
	wantError(t, do(t, ts, "PUT", base+task1, writeTok, map[string]any{"etag": task["etag"], "properties": map[string]any{"title": "x", "status": "New"}}), 409, "Conflict", "etag", "newer version of the task")
	wantError(t, do(t, ts, "DELETE", base+task1, writeTok, nil, "If-Match: "+task["etag"].(string)), 409, "Conflict", "etag", "newer version of the task")
	// Reopen and retitle in one PUT.
	re := do(t, ts, "PUT", base+task1, writeTok, map[string]any{"properties": map[string]any{"title": "Phone the user", "status": "New"}})
	if re.status != 200 || get(re.json(t), "properties", "status") != "New" || get(re.json(t), "properties", "title") != "Phone the user" {
		t.Errorf("reopen: %d %s", re.status, re.body)
	}
	// Created as Completed.
	const task2 = "11111111-2222-4333-8444-666666666666"
	c2 := do(t, ts, "PUT", base+task2, writeTok, map[string]any{"properties": map[string]any{"title": "Block sender", "status": "completed"}})
	if c2.status != 201 || get(c2.json(t), "properties", "status") != "Completed" {
		t.Errorf("create completed: %d %s", c2.status, c2.body)
	}
	for _, bad := range []struct {
		method, path string
		body         any
		status       int
		code, target string
		msg          string
	}{
		{"PUT", base + task1, map[string]any{"properties": map[string]any{"status": "New"}}, 400, "BadRequest", "properties.title", "is required"},
		{"PUT", base + task1, map[string]any{"properties": map[string]any{"title": "  ", "status": "New"}}, 400, "BadRequest", "properties.title", "must not be empty"},
		{"PUT", base + task1, map[string]any{"properties": map[string]any{"title": "t", "status": "Deleted"}}, 400, "BadRequest", "properties.status", "New or Completed"},
		{"PUT", base + "not-a-guid", map[string]any{"properties": map[string]any{"title": "t"}}, 400, "BadRequest", "name", "must be a GUID"},
		{"PUT", "/incidents/9/tasks/" + task1, map[string]any{"properties": map[string]any{"title": "t"}}, 404, "NotFound", "", "incident 9"},
		{"GET", base + "11111111-2222-4333-8444-777777777777", nil, 404, "NotFound", "", "not found"},
		{"GET", "/incidents/9/tasks", nil, 404, "NotFound", "", "incident 9"},
		{"DELETE", base + "11111111-2222-4333-8444-777777777777", nil, 404, "NotFound", "", "not found"},
	} {
		wantError(t, do(t, ts, bad.method, bad.path, writeTok, bad.body), bad.status, bad.code, bad.target, bad.msg)
	}
	if r := do(t, ts, "DELETE", base+task1, writeTok, nil); r.status != 200 {
		t.Fatalf("delete task: %d %s", r.status, r.body)
	}
	wantError(t, do(t, ts, "GET", base+task1, readTok, nil), 404, "NotFound", "", "not found")

	// The history shows each change with who made it, as socq history does.
	h := do(t, ts, "GET", "/incidents/1/history", readTok, nil)
	var changes []string
	for _, e := range h.json(t)["value"].([]any) {
		m := e.(map[string]any)
		line := m["change"].(string) + " by " + m["by"].(string)
		if title, ok := m["taskTitle"].(string); ok {
			line += ": " + title
		}
		changes = append(changes, line)
	}
	want := []string{
		"created by analyst@contoso.com",
		"task added by mei.lin@contoso.com: Call the user",
		"task completed by analyst@contoso.com: Call the user",
		"task edited by analyst@contoso.com: Phone the user",
		"task reopened by analyst@contoso.com: Phone the user",
		"task added by analyst@contoso.com: Block sender",
		"task completed by analyst@contoso.com: Block sender",
		"task deleted by analyst@contoso.com: Phone the user",
	}
	if strings.Join(changes, "\n") != strings.Join(want, "\n") {
		t.Errorf("history:\n%s\nwant:\n%s", strings.Join(changes, "\n"), strings.Join(want, "\n"))
	}
}

func TestActorHeader(t *testing.T) {
	ts := newTestServer(t)
	r := do(t, ts, "PUT", "/incidents/"+guid1, writeTok, map[string]any{"properties": map[string]any{"title": "t"}}, "X-Socq-User: kai.ross@contoso.com")
	if r.status != 201 {
		t.Fatal(r.status, string(r.body))
	}
	who := do(t, ts, "GET", "/whoami", writeTok, nil, "X-Socq-User: kai.ross@contoso.com").json(t)
	if who["name"] != "kai.ross@contoso.com" || who["access"] != "write" {
		t.Errorf("whoami: %v", who)
	}
	// A token that names someone wins over the header.
	who = do(t, ts, "GET", "/whoami", meiTok, nil, "X-Socq-User: kai.ross@contoso.com").json(t)
	if who["name"] != "mei.lin@contoso.com" || who["tokenNamesActor"] != true {
		t.Errorf("whoami: %v", who)
	}
	if who := do(t, ts, "GET", "/whoami", readTok, nil).json(t); who["access"] != "read" {
		t.Errorf("whoami read: %v", who)
	}
	wantError(t, do(t, ts, "PUT", "/incidents/1", writeTok, map[string]any{"properties": map[string]any{"title": "t", "severity": "Low", "status": "New"}}, "X-Socq-User: a@b"),
		400, "BadRequest", "X-Socq-User", "not an email address")
}

func TestLostUpdate(t *testing.T) {
	ts := newTestServer(t)
	etag := createIncident(t, ts, guid1, map[string]any{"title": "t"})["etag"]
	results := make(chan int, 2)
	for _, sev := range []string{"High", "Low"} {
		go func() {
			r := do(t, ts, "PUT", "/incidents/1", writeTok, map[string]any{"etag": etag, "properties": map[string]any{"title": "t", "severity": sev, "status": "Active"}})
			results <- r.status
		}()
	}
	a, b := <-results, <-results
	if a+b != 200+409 {
		t.Errorf("two PUTs from the same etag: %d and %d, want one 200 and one 409", a, b)
	}
	// The same for a task: completing it twice from one read.
	const task = "11111111-2222-4333-8444-555555555555"
	r := do(t, ts, "PUT", "/incidents/1/tasks/"+task, writeTok, map[string]any{"properties": map[string]any{"title": "look"}})
	taskEtag := r.json(t)["etag"]
	for range 2 {
		go func() {
			r := do(t, ts, "PUT", "/incidents/1/tasks/"+task, writeTok, map[string]any{"etag": taskEtag, "properties": map[string]any{"title": "look", "status": "Completed"}})
			results <- r.status
		}()
	}
	a, b = <-results, <-results
	if a+b != 200+409 {
		t.Errorf("two task PUTs from the same etag: %d and %d, want one 200 and one 409", a, b)
	}
}

func TestCORS(t *testing.T) {
	ts := newTestServer(t)
	r := do(t, ts, "OPTIONS", "/incidents", "", nil, "Origin: https://evil.example", "Access-Control-Request-Method: PUT")
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("CORS without --cors-origin: %v", r.header)
	}
	ts = newTestServer(t, func(c *Config) { c.CORSOrigin = "https://soc.example" })
	r = do(t, ts, "OPTIONS", "/incidents", "", nil, "Origin: https://soc.example", "Access-Control-Request-Method: PUT")
	if r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != "https://soc.example" || !strings.Contains(r.header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight: %d %v", r.status, r.header)
	}
	r = do(t, ts, "GET", "/incidents", readTok, nil, "Origin: https://other.example")
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("another origin allowed: %v", r.header)
	}
	r = do(t, ts, "GET", "/incidents", readTok, nil, "Origin: https://soc.example")
	if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "https://soc.example" {
		t.Errorf("allowed origin: %d %v", r.status, r.header)
	}
}

func TestSuggestionsAndMetrics(t *testing.T) {
	ts := newTestServer(t)
	createIncident(t, ts, guid1, map[string]any{"title": "t", "labels": []any{map[string]any{"labelName": "phishing"}, map[string]any{"labelName": "vip"}},
		"owner": map[string]any{"userPrincipalName": "mei.lin@contoso.com"}})
	createIncident(t, ts, "00000000-0000-4000-8000-00000000000b", map[string]any{"title": "u", "labels": []any{map[string]any{"labelName": "phishing"}}})
	tags := do(t, ts, "GET", "/tags", readTok, nil).json(t)
	if got := tags["value"].([]any); len(got) != 2 || got[0] != "phishing" || got[1] != "vip" {
		t.Errorf("tags: %v", tags)
	}
	owners := do(t, ts, "GET", "/owners", readTok, nil).json(t)
	if got := owners["value"].([]any); len(got) != 1 || got[0] != "mei.lin@contoso.com" {
		t.Errorf("owners: %v", owners)
	}
	// Give the metrics something to measure: a triaged incident with a
	// task, and a closed one.
	for _, r := range []response{
		do(t, ts, "PUT", "/incidents/1", writeTok, map[string]any{"properties": map[string]any{"title": "t", "severity": "High", "status": "Active"}}),
		do(t, ts, "PUT", "/incidents/1/tasks/11111111-2222-4333-8444-555555555555", writeTok, map[string]any{"properties": map[string]any{"title": "look"}}),
		do(t, ts, "PUT", "/incidents/2", writeTok, map[string]any{"properties": map[string]any{"title": "u", "severity": "Low", "status": "Closed", "classification": "FalsePositive", "classificationReason": "InaccurateData", "classificationComment": "noise"}}),
	} {
		if r.status >= 300 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
	m := do(t, ts, "GET", "/metrics?TimeRange=7d", readTok, nil)
	if m.status != 200 {
		t.Fatalf("metrics: %d %s", m.status, m.body)
	}
	results := m.json(t)["results"].([]any)
	if len(results) < 3 {
		t.Fatalf("metrics: %s", m.body)
	}
	for _, r := range results {
		r := r.(map[string]any)
		if r["status"] == "error" {
			t.Errorf("metric %v could not run: %v", r["name"], r["message"])
		}
	}
	bad := do(t, ts, "GET", "/metrics?TimeRange=soon", readTok, nil)
	if bad.status != 200 || !strings.Contains(string(bad.body), `"error"`) {
		t.Errorf("metrics with a bad TimeRange: %d %s", bad.status, bad.body)
	}
}

func TestMetricsOwnChecks(t *testing.T) {
	ts := newTestServer(t, func(c *Config) {
		c.Checks = []byte("checks:\n  - name: few-incidents\n    query: SecurityIncident | summarize dcount(IncidentNumber)\n    max: 0\n")
		c.ChecksName = "team.yaml"
	})
	createIncident(t, ts, guid1, map[string]any{"title": "t"})
	m := do(t, ts, "GET", "/metrics", readTok, nil).json(t)
	res := m["results"].([]any)
	if m["file"] != "team.yaml" || len(res) != 1 || get(res[0].(map[string]any), "status") != "fail" || get(res[0].(map[string]any), "value") != "1" {
		t.Errorf("metrics: %v", m)
	}
}
