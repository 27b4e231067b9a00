// Package pulltest is a fake Log Analytics workspace for tests: an httptest
// TLS server that answers the query API (POST /v1/workspaces/{id}/query)
// with the API's response shape — tables of columns and rows, datetimes as
// ISO 8601 text, dynamic values as JSON text — for SecurityIncident rows it
// holds, and can throttle (429 with Retry-After), fail transiently (503),
// and truncate large results with a partial error, as the service does.
package pulltest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/socq/socq/engine"
)

// Token is the bearer token Credential issues and the server requires.
const Token = "pulltest-token"

// Credential is a fake azcore.TokenCredential.
type Credential struct{}

// GetToken returns Token, valid for an hour.
func (Credential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: Token, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// Request is a query the server answered (or refused).
type Request struct {
	Workspace string
	From, To  time.Time // the query's TimeGenerated bounds
	Timespan  string
	Status    int
	At        time.Time
}

// Server is a fake workspace.
type Server struct {
	*httptest.Server
	Workspace string
	// MaxRows is the most rows one response holds; a larger result is cut
	// to MaxRows with a PartialError, as the service cuts results at its
	// limits (500,000 rows, 64 MB). 0 means no limit.
	MaxRows int
	// Refuse, when set, is asked before each query is answered (n counts
	// from 1) and returns a status to fail it with: 429 (with Retry-After:
	// RetryAfter), 503, or 0 to answer.
	Refuse     func(n int) int
	RetryAfter string

	mu       sync.Mutex
	rows     []map[string]any // by TimeGenerated
	requests []Request
}

// New starts a server for workspace holding the SecurityIncident rows of
// ndjson (Log Analytics' export shape: dynamic columns as JSON text).
func New(workspace string, ndjson []byte) (*Server, error) {
	s := &Server{Workspace: workspace, RetryAfter: "1"}
	if err := s.Add(ndjson); err != nil {
		return nil, err
	}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	return s, nil
}

// Add adds rows, as an ingestion into the workspace would.
func (s *Server) Add(ndjson []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	dec := json.NewDecoder(bytes.NewReader(ndjson))
	dec.UseNumber()
	for dec.More() {
		var row map[string]any
		if err := dec.Decode(&row); err != nil {
			return fmt.Errorf("pulltest: %w", err)
		}
		for k, v := range row { // dynamic values travel as JSON text
			if m, ok := v.(map[string]any); ok {
				b, _ := json.Marshal(m)
				row[k] = string(b)
			}
			if a, ok := v.([]any); ok {
				b, _ := json.Marshal(a)
				row[k] = string(b)
			}
		}
		s.rows = append(s.rows, row)
	}
	slices.SortStableFunc(s.rows, func(a, b map[string]any) int { return timeOf(a).Compare(timeOf(b)) })
	return nil
}

func timeOf(row map[string]any) time.Time {
	s, _ := row["TimeGenerated"].(string)
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// Endpoint is the API root to give pull.ClientOptions.Endpoint.
func (s *Server) Endpoint() string { return s.URL + "/v1" }

// Requests returns the requests so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

var (
	pathRE  = regexp.MustCompile(`^/v1/workspaces/([^/]+)/query$`)
	rangeRE = regexp.MustCompile(`^SecurityIncident\s*\|\s*where TimeGenerated >= datetime\(([^)]+)\) and TimeGenerated < datetime\(([^)]+)\)`)
)

// apiError writes the API's error body.
func apiError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": code, "message": msg}})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	req := Request{At: time.Now()}
	defer func() { s.requests = append(s.requests, req) }()
	m := pathRE.FindStringSubmatch(r.URL.Path)
	if r.Method != http.MethodPost || m == nil {
		req.Status = http.StatusNotFound
		apiError(w, req.Status, "PathNotFoundError", "The requested path does not exist")
		return
	}
	req.Workspace = m[1]
	if r.Header.Get("Authorization") != "Bearer "+Token {
		req.Status = http.StatusUnauthorized
		apiError(w, req.Status, "AuthorizationRequiredError", "Valid authentication was not provided")
		return
	}
	if req.Workspace != s.Workspace {
		req.Status = http.StatusNotFound
		apiError(w, req.Status, "WorkspaceNotFoundError", "The workspace could not be found")
		return
	}
	var body struct {
		Query    string `json:"query"`
		Timespan string `json:"timespan"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		req.Status = http.StatusBadRequest
		apiError(w, req.Status, "BadArgumentError", err.Error())
		return
	}
	req.Timespan = body.Timespan
	q := rangeRE.FindStringSubmatch(body.Query)
	if q == nil {
		req.Status = http.StatusBadRequest
		apiError(w, req.Status, "BadArgumentError", "pulltest understands only socq pull's query, not: "+body.Query)
		return
	}
	var err1, err2 error
	req.From, err1 = time.Parse(time.RFC3339Nano, q[1])
	req.To, err2 = time.Parse(time.RFC3339Nano, q[2])
	if err1 != nil || err2 != nil {
		req.Status = http.StatusBadRequest
		apiError(w, req.Status, "SemanticError", "bad datetime literal")
		return
	}
	if s.Refuse != nil {
		switch status := s.Refuse(len(s.requests) + 1); status {
		case 0:
		case http.StatusTooManyRequests:
			req.Status = status
			w.Header().Set("Retry-After", s.RetryAfter)
			apiError(w, status, "ThrottledError", "Your request was throttled")
			return
		default:
			req.Status = status
			apiError(w, status, "ServiceUnavailableError", "The service is unavailable")
			return
		}
	}
	req.Status = http.StatusOK
	s.answer(w, req.From, req.To)
}

// columnTypes are the API's column types of SecurityIncident.
func columnTypes() (names, types []string) {
	for _, c := range engine.SecurityIncident().Columns {
		names = append(names, c.Name)
		t := c.Type.String()
		if c.Type == engine.Long {
			t = "long"
		}
		types = append(types, t)
	}
	return names, types
}

func (s *Server) answer(w http.ResponseWriter, from, to time.Time) {
	names, types := columnTypes()
	cols := make([]map[string]string, len(names))
	for i := range names {
		cols[i] = map[string]string{"name": names[i], "type": types[i]}
	}
	rows := [][]any{}
	truncated := false
	for _, row := range s.rows {
		t := timeOf(row)
		if t.Before(from) || !t.Before(to) {
			continue
		}
		if s.MaxRows > 0 && len(rows) == s.MaxRows {
			truncated = true
			break
		}
		vals := make([]any, len(names))
		for i, n := range names {
			vals[i] = row[n]
		}
		rows = append(rows, vals)
	}
	resp := map[string]any{"tables": []any{map[string]any{"name": "PrimaryResult", "columns": cols, "rows": rows}}}
	if truncated {
		resp["error"] = map[string]any{
			"code":    "PartialError",
			"message": "There were some errors when processing your query.",
			"details": []any{map[string]any{
				"code":    "EngineError",
				"message": fmt.Sprintf("Query result set has exceeded the internal record count limit %d", s.MaxRows),
				"innererror": map[string]any{
					"code": "E_QUERY_RESULT_SET_TOO_LARGE",
				},
			}},
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(resp)
}

// RowCount is the number of rows the workspace holds.
func (s *Server) RowCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.rows)
}

// Ranges formats the answered requests' ranges, for test failures.
func Ranges(reqs []Request) string {
	var b strings.Builder
	for _, r := range reqs {
		fmt.Fprintf(&b, "%d %s..%s\n", r.Status, r.From.Format(time.RFC3339), r.To.Format(time.RFC3339))
	}
	return b.String()
}
