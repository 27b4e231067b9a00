// Package server is `socq serve`: an HTTP API in the shapes of Microsoft
// Sentinel's REST API (Microsoft.SecurityInsights incidents and incident
// tasks) and of the Log Analytics query API, and a web page for the SOC,
// embedded from server/web.
//
// Every change goes through incident.Recorder, so the API writes exactly
// the snapshot rows the CLI writes. Every API request needs a bearer token
// (read-only tokens may read and query; read-write tokens may also change
// incidents and tasks); the static files of the web page carry no data and
// are served without one.
//
//	srv, err := server.New(server.Config{DB: db, Tokens: tokens})
//	http.ListenAndServe("127.0.0.1:8080", srv)
package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/socq/socq/engine"
	"github.com/socq/socq/incident"
)

// Config configures a Server.
type Config struct {
	DB *engine.DB
	// Tokens are the bearer tokens accepted. At least one is required.
	Tokens []Token
	// DefaultActor names the person acting on changes made with a token
	// that names nobody and without an X-Socq-User header.
	DefaultActor string
	// CORSOrigin, when set, is the one origin allowed to call the API from
	// a browser (Access-Control-Allow-Origin). Empty: no CORS headers.
	CORSOrigin string
	// MaxBody limits request bodies, in bytes (default 1 MiB).
	MaxBody int64
	// QueryTimeout cancels a query running longer (default 60 s).
	QueryTimeout time.Duration
	// MaxResultRows limits the rows of a JSON query result (default 50,000).
	MaxResultRows int
	// Checks is the checks file (YAML) behind the dashboard's SOC metrics;
	// nil means the example examples/checks/soc-metrics.yaml.
	Checks []byte
	// ChecksName names Checks in messages (its file name).
	ChecksName string
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
	// Log receives one line per failed request (5xx); nil discards.
	Log *log.Logger

	// observe, when set (by this package's tests), sees the status of every
	// API response with its route.
	observe func(method, path string, status int)
}

// Server is the HTTP handler of socq serve.
type Server struct {
	cfg  Config
	rec  *incident.Recorder
	mux  *http.ServeMux
	auth *authenticator
	// taskLocks serialize the task changes of one incident within this
	// server, so that a task's etag is checked and the change recorded
	// without another request's change in between (the Recorder checks
	// incident etags in its transaction; task etags are the API's).
	taskLocks sync.Map // incident number → *sync.Mutex
}

// lockIncident locks the task changes of incident number; call the result
// to unlock.
func (s *Server) lockIncident(number int64) func() {
	m, _ := s.taskLocks.LoadOrStore(number, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

// route is one API operation; the OpenAPI document is built from the same
// table, and a test checks that they agree.
type route struct {
	method, path string
	id           string // operationId, Sentinel's where it has one
	write        bool   // needs a read-write token
	summary      string
	handler      func(*Server, http.ResponseWriter, *http.Request) error
	// request and response name the OpenAPI schemas of the bodies; status
	// lists the status codes the operation answers with.
	request, response string
	status            []int
}

// routes is every API operation.
func routes() []route {
	base := []route{
		{method: "GET", path: "/incidents", id: "Incidents_List", summary: "List incidents ($top, $orderby, $filter on status, severity and owner; nextLink paging)",
			handler: (*Server).listIncidents, response: "IncidentList", status: []int{200, 400, 401}},
		{method: "GET", path: "/incidents/{id}", id: "Incidents_Get", summary: "Get an incident by its name (GUID) or number",
			handler: (*Server).getIncident, response: "Incident", status: []int{200, 400, 401, 404}},
		{method: "PUT", path: "/incidents/{id}", id: "Incidents_CreateOrUpdate", write: true, summary: "Create (201) or replace (200) an incident",
			handler: (*Server).putIncident, request: "Incident", response: "Incident", status: []int{200, 201, 400, 401, 403, 404, 409, 413, 415, 503}},
		{method: "DELETE", path: "/incidents/{id}", id: "Incidents_Delete", write: true, summary: "Delete an incident (its history stays for audit)",
			handler: (*Server).deleteIncident, status: []int{200, 400, 401, 403, 404, 409, 503}},
		{method: "GET", path: "/incidents/{id}/tasks", id: "IncidentTasks_List", summary: "List an incident's tasks",
			handler: (*Server).listTasks, response: "TaskList", status: []int{200, 400, 401, 404}},
		{method: "GET", path: "/incidents/{id}/tasks/{taskId}", id: "IncidentTasks_Get", summary: "Get a task",
			handler: (*Server).getTask, response: "Task", status: []int{200, 400, 401, 404}},
		{method: "PUT", path: "/incidents/{id}/tasks/{taskId}", id: "IncidentTasks_CreateOrUpdate", write: true, summary: "Create (201) or replace (200) a task: title, description, status New or Completed",
			handler: (*Server).putTask, request: "Task", response: "Task", status: []int{200, 201, 400, 401, 403, 404, 409, 413, 415, 503}},
		{method: "DELETE", path: "/incidents/{id}/tasks/{taskId}", id: "IncidentTasks_Delete", write: true, summary: "Delete a task",
			handler: (*Server).deleteTask, status: []int{200, 400, 401, 403, 404, 409, 503}},
		{method: "GET", path: "/incidents/{id}/history", id: "Incidents_History", summary: "The incident's change timeline, from its snapshot rows",
			handler: (*Server).history, response: "History", status: []int{200, 400, 401, 404}},
		{method: "POST", path: "/query", id: "Query_Execute", summary: "Run KQL; Log Analytics query API response, or text/csv, Parquet, Arrow by Accept",
			handler: (*Server).query, request: "QueryRequest", response: "QueryResponse", status: []int{200, 400, 401, 406, 413, 415}},
		{method: "GET", path: "/tags", id: "Tags_List", summary: "Tags (labels) used in the past two weeks, most used first",
			handler: (*Server).tags, response: "NameList", status: []int{200, 401}},
		{method: "GET", path: "/owners", id: "Owners_List", summary: "Known owners, most recent first",
			handler: (*Server).owners, response: "NameList", status: []int{200, 401}},
		{method: "GET", path: "/metrics", id: "Metrics_Get", summary: "SOC metrics of the checks file (the dashboard)",
			handler: (*Server).metrics, response: "Metrics", status: []int{200, 400, 401}},
		{method: "GET", path: "/whoami", id: "WhoAmI_Get", summary: "The caller's access (read or write) and the name changes are recorded under",
			handler: (*Server).whoami, response: "WhoAmI", status: []int{200, 401}},
		{method: "GET", path: "/openapi.json", id: "OpenAPI_Get", summary: "This OpenAPI document",
			handler: (*Server).openAPI, status: []int{200, 401}},
	}
	// The same operations under the paths Azure's clients use: the incidents
	// under a Sentinel workspace's ARM resource path (any subscription,
	// resource group and workspace name; api-version is ignored), and the
	// Log Analytics query API's /v1/workspaces/{workspaceId}/query.
	var aliases []route
	for _, rt := range base {
		switch {
		case strings.HasPrefix(rt.path, "/incidents") && !strings.HasSuffix(rt.path, "/history"):
			a := rt
			a.path, a.id = armPrefix+rt.path, rt.id+"_ARM"
			a.summary = rt.summary + " (Azure Resource Manager path)"
			aliases = append(aliases, a)
		case rt.path == "/query":
			a := rt
			a.path, a.id = "/v1/workspaces/{workspaceId}/query", "Query_ExecuteWorkspace"
			a.summary = rt.summary + " (Log Analytics path)"
			aliases = append(aliases, a)
		}
	}
	return append(base, aliases...)
}

// armPrefix is a Sentinel workspace's resource path, under which Azure's
// SDKs and the REST API address incidents.
const armPrefix = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.OperationalInsights/workspaces/{workspaceName}/providers/Microsoft.SecurityInsights"

// New returns a Server for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.DB == nil {
		return nil, errors.New("server: no database")
	}
	if len(cfg.Tokens) == 0 {
		return nil, errors.New("server: no token: every request needs one")
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1 << 20
	}
	if cfg.QueryTimeout <= 0 {
		cfg.QueryTimeout = 60 * time.Second
	}
	if cfg.MaxResultRows <= 0 {
		cfg.MaxResultRows = 50000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.DefaultActor == "" {
		cfg.DefaultActor = "socq serve"
	}
	if cfg.Log == nil {
		cfg.Log = log.New(io.Discard, "", 0)
	}
	s := &Server{cfg: cfg, rec: incident.NewRecorder(cfg.DB, incident.Options{Now: cfg.Now}), mux: http.NewServeMux()}
	auth, err := newAuthenticator(cfg.Tokens)
	if err != nil {
		return nil, err
	}
	s.auth = auth
	for _, rt := range routes() {
		s.mux.Handle(rt.method+" "+rt.path, s.api(rt))
	}
	web, err := webHandler()
	if err != nil {
		return nil, err
	}
	s.mux.Handle("GET /", web)
	return s, nil
}

// ServeHTTP serves the API and the web page.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	if s.cfg.CORSOrigin != "" && r.Header.Get("Origin") == s.cfg.CORSOrigin {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", s.cfg.CORSOrigin)
		h.Set("Vary", "Origin")
		h.Set("Access-Control-Expose-Headers", "ETag")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, PUT, POST, DELETE")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match, Accept, X-Socq-User")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

// api wraps an operation: authentication, access, body limit, errors.
func (s *Server) api(rt route) http.Handler {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := s.auth.check(r.Header.Get("Authorization"))
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="socq"`)
			writeError(w, http.StatusUnauthorized, "AuthenticationFailed", "", "a valid bearer token is required: send 'Authorization: Bearer TOKEN' (socq serve printed one at start, or see --token-file)")
			return
		}
		if rt.write && !tok.Write {
			writeError(w, http.StatusForbidden, "AuthorizationFailed", "", "this token is read-only; changing incidents and tasks needs a read-write token")
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBody)
		}
		ctx := context.WithValue(r.Context(), tokenKey{}, tok)
		if err := rt.handler(s, w, r.WithContext(ctx)); err != nil {
			s.fail(w, r, err)
		}
	})
	if s.cfg.observe == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		s.cfg.observe(rt.method, rt.path, sw.status)
	})
}

// statusWriter remembers the status of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

type tokenKey struct{}

// actor names the person a change is recorded under: the token's name,
// else the X-Socq-User header, else the server's default actor.
func (s *Server) actor(r *http.Request) string {
	if tok, ok := r.Context().Value(tokenKey{}).(*Token); ok && tok.Name != "" {
		return tok.Name
	}
	if u := strings.TrimSpace(r.Header.Get("X-Socq-User")); u != "" {
		return u
	}
	return s.cfg.DefaultActor
}

// apiError is an error with its HTTP status and Sentinel error code.
type apiError struct {
	status       int
	code, target string
	msg          string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(target, format string, args ...any) error {
	return &apiError{status: http.StatusBadRequest, code: "BadRequest", target: target, msg: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error {
	return &apiError{status: http.StatusNotFound, code: "NotFound", msg: fmt.Sprintf(format, args...)}
}

// fail writes err as a Sentinel-style error body.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var (
		ae  *apiError
		ve  *incident.ValidationError
		nf  *incident.NotFoundError
		se  *incident.StaleError
		mbe *http.MaxBytesError
	)
	switch {
	case errors.As(err, &ae):
		writeError(w, ae.status, ae.code, ae.target, ae.msg)
	case errors.As(err, &mbe):
		writeError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "", fmt.Sprintf("the request body is larger than %d bytes", mbe.Limit))
	case errors.As(err, &se):
		writeError(w, http.StatusConflict, "Conflict", "etag", "newer version of the incident exists: "+se.Error())
	case errors.As(err, &ve):
		target := fieldTarget(ve.Field)
		if ve.Field == "name" || ve.Field == "task id" {
			writeError(w, http.StatusConflict, "Conflict", target, target+": "+ve.Msg)
			return
		}
		writeError(w, http.StatusBadRequest, "BadRequest", target, target+": "+ve.Msg)
	case errors.As(err, &nf):
		writeError(w, http.StatusNotFound, "NotFound", "", nf.Error())
	case errors.Is(err, incident.ErrBusy):
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "", err.Error())
	case r.Context().Err() != nil:
		// The client went away; nobody reads the answer.
		writeError(w, http.StatusServiceUnavailable, "RequestCancelled", "", "the request was cancelled")
	default:
		s.cfg.Log.Printf("%s %s: %v", r.Method, r.URL.Path, err)
		writeError(w, http.StatusInternalServerError, "InternalServerError", "", err.Error())
	}
}

// fieldTarget maps the Recorder's field names to the request's JSON paths.
func fieldTarget(field string) string {
	switch field {
	case "title", "task title":
		return "properties.title"
	case "description", "task description":
		return "properties.description"
	case "severity":
		return "properties.severity"
	case "status", "task":
		return "properties.status"
	case "classification":
		return "properties.classification"
	case "classification reason":
		return "properties.classificationReason"
	case "comment":
		return "properties.classificationComment"
	case "owner":
		return "properties.owner"
	case "tag":
		return "properties.labels"
	case "first activity":
		return "properties.firstActivityTimeUtc"
	case "last activity":
		return "properties.lastActivityTimeUtc"
	case "name", "task id":
		return "name"
	case "person", "person acting (--as)":
		return "X-Socq-User"
	}
	return field
}

// errorBody is the error shape of Azure resource providers.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code       string      `json:"code"`
	Message    string      `json:"message"`
	Target     string      `json:"target,omitempty"`
	InnerError *innerError `json:"innererror,omitempty"`
}

// innerError is the Log Analytics query API's detail of a query error.
type innerError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Line    int    `json:"line,omitempty"`
	Pos     int    `json:"pos,omitempty"`
	Length  int    `json:"length,omitempty"`
	Detail  string `json:"detail,omitempty"` // the query with a caret under the error
}

func writeError(w http.ResponseWriter, status int, code, target, msg string) {
	writeJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: msg, Target: target}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, `{"error":{"code":"InternalServerError","message":"encode response"}}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// readJSON decodes a request body into v.
func readJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return &apiError{status: http.StatusUnsupportedMediaType, code: "UnsupportedMediaType", msg: fmt.Sprintf("Content-Type %q: send application/json", ct)}
	}
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		if errors.Is(err, io.EOF) {
			return badRequest("", "the request has no body: send a JSON object")
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return badRequest(te.Field, "%s: want a JSON %s, got %s", te.Field, te.Type, te.Value)
		}
		return badRequest("", "the body is not valid JSON: %v", err)
	}
	if dec.More() {
		return badRequest("", "the body has more than one JSON value")
	}
	return nil
}

func (s *Server) whoami(w http.ResponseWriter, r *http.Request) error {
	tok, _ := r.Context().Value(tokenKey{}).(*Token)
	access := "read"
	if tok != nil && tok.Write {
		access = "write"
	}
	writeJSON(w, http.StatusOK, map[string]any{"access": access, "name": s.actor(r), "tokenNamesActor": tok != nil && tok.Name != ""})
	return nil
}
