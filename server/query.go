package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/socq/socq/engine"
	"github.com/socq/socq/export"
	"github.com/socq/socq/output"
	"github.com/socq/socq/parser"
)

// queryRequest is the Log Analytics query API's request body; params are
// workbook parameters ({TimeRange}, {Name}) as socq query --param takes them.
type queryRequest struct {
	Query    string            `json:"query"`
	Params   map[string]string `json:"params"`
	Timespan string            `json:"timespan"` // accepted for compatibility; put the range in the query
}

// queryResponse is the Log Analytics query API's response.
type queryResponse struct {
	Tables []queryTable  `json:"tables"`
	Render *queryRender  `json:"render,omitempty"`
	Stats  *queryStatsJS `json:"statistics,omitempty"`
}

type queryTable struct {
	Name    string              `json:"name"`
	Columns []queryColumn       `json:"columns"`
	Rows    [][]json.RawMessage `json:"rows"`
}

type queryColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// queryRender is the render operator of the query, as Log Analytics
// returns it with Prefer: include-render=true.
type queryRender struct {
	Visualization string `json:"visualization"`
	Options       string `json:"options,omitempty"`
}

type queryStatsJS struct {
	Query struct {
		ExecutionTime float64 `json:"executionTime"` // seconds
	} `json:"query"`
}

// Result formats by media type; the first one the Accept header lists wins.
const (
	mediaJSON    = "application/json"
	mediaCSV     = "text/csv"
	mediaParquet = "application/vnd.apache.parquet"
	mediaArrow   = "application/vnd.apache.arrow.stream"
)

var mediaAliases = map[string]string{
	"application/json": mediaJSON, "*/*": mediaJSON, "application/*": mediaJSON,
	"text/csv": mediaCSV, "text/*": mediaCSV,
	"application/vnd.apache.parquet": mediaParquet, "application/x-parquet": mediaParquet, "application/parquet": mediaParquet,
	"application/vnd.apache.arrow.stream": mediaArrow, "application/vnd.apache.arrow": mediaArrow, "application/x-arrow": mediaArrow,
}

func negotiate(accept string) (string, error) {
	if strings.TrimSpace(accept) == "" {
		return mediaJSON, nil
	}
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if m, ok := mediaAliases[mt]; ok {
			return m, nil
		}
	}
	return "", &apiError{status: http.StatusNotAcceptable, code: "NotAcceptable",
		msg: fmt.Sprintf("Accept %q: the results come as %s, %s, %s or %s", accept, mediaJSON, mediaCSV, mediaParquet, mediaArrow)}
}

// compile substitutes parameters, parses and compiles a query; errors are
// 400s in the Log Analytics shape, with the caret rendering in innererror.
func (s *Server) compile(ctx context.Context, req queryRequest) (*engine.Plan, error) {
	if strings.TrimSpace(req.Query) == "" {
		return nil, badRequest("query", "query: is required: the KQL to run")
	}
	text, err := parser.SubstituteParameters(req.Query, req.Params, s.cfg.Now().UTC())
	if err != nil {
		return nil, queryError(req.Query, err)
	}
	q, err := parser.Parse(text)
	if err != nil {
		return nil, queryError(text, err)
	}
	plan, err := engine.Compile(q, engine.DefaultCatalog(), engine.CompileOptions{Probe: s.cfg.DB.Probe(ctx), Stager: s.cfg.DB.Stager(ctx)})
	if err != nil {
		return nil, queryError(text, err)
	}
	return plan, nil
}

// queryErr is a query that does not parse or compile.
type queryErr struct {
	body errorBody
}

func (e *queryErr) Error() string { return e.body.Error.InnerError.Message }

func queryError(text string, err error) error {
	inner := &innerError{Code: "SemanticError", Message: err.Error()}
	var perr *parser.Error
	if errors.As(err, &perr) {
		start := min(max(perr.Span.Start, 0), len(text))
		end := min(max(perr.Span.End, start), len(text))
		lineStart := strings.LastIndexByte(text[:start], '\n') + 1
		inner.Line = strings.Count(text[:start], "\n") + 1
		inner.Pos = utf8.RuneCountInString(text[lineStart:start]) + 1
		inner.Length = utf8.RuneCountInString(text[start:end])
		inner.Detail = perr.Render(text)
		if strings.Contains(perr.Msg, "expected") || strings.Contains(perr.Msg, "unexpected") {
			inner.Code = "SyntaxError"
		}
	}
	return &queryErr{body: errorBody{Error: errorDetail{Code: "BadArgumentError", Message: "The request had some invalid properties", InnerError: inner}}}
}

func (s *Server) query(w http.ResponseWriter, r *http.Request) error {
	media, err := negotiate(r.Header.Get("Accept"))
	if err != nil {
		return err
	}
	var req queryRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.QueryTimeout)
	defer cancel()
	plan, err := s.compile(ctx, req)
	var qe *queryErr
	if errors.As(err, &qe) {
		writeJSON(w, http.StatusBadRequest, qe.body)
		return nil
	}
	if err != nil {
		return err
	}
	defer s.cfg.DB.Release(plan) // when no run started (the runs release it)
	started := time.Now()
	var buf bytes.Buffer
	switch media {
	case mediaCSV:
		ow, err := output.New(&buf, "csv", plan.Columns)
		if err == nil {
			err = s.cfg.DB.Query(ctx, plan, ow.Row)
		}
		if err == nil {
			err = ow.Close()
		}
		if err != nil {
			return s.runError(ctx, err)
		}
		return download(w, media+"; charset=utf-8", "query.csv", buf.Bytes())
	case mediaParquet:
		if _, err := export.WriteParquet(ctx, s.cfg.DB, plan, &buf, engine.Zstd); err != nil {
			return s.runError(ctx, err)
		}
		return download(w, media, "query.parquet", buf.Bytes())
	case mediaArrow:
		if _, err := export.WriteArrow(ctx, s.cfg.DB, plan, &buf); err != nil {
			return s.runError(ctx, err)
		}
		return download(w, media, "query.arrows", buf.Bytes())
	}
	table := queryTable{Name: "PrimaryResult", Columns: make([]queryColumn, len(plan.Columns)), Rows: [][]json.RawMessage{}}
	for i, c := range plan.Columns {
		table.Columns[i] = queryColumn{Name: c.Name, Type: c.Type.String()}
	}
	errTooMany := errors.New("too many rows")
	err = s.cfg.DB.Query(ctx, plan, func(vals []any) error {
		if len(table.Rows) >= s.cfg.MaxResultRows {
			return errTooMany
		}
		row := make([]json.RawMessage, len(vals))
		for i, v := range vals {
			row[i] = cellJSON(v, plan.Columns[i].Type)
		}
		table.Rows = append(table.Rows, row)
		return nil
	})
	if errors.Is(err, errTooMany) {
		return badRequest("query", "the result has more than %d rows: narrow it with where, summarize or take, or download it as CSV or Parquet", s.cfg.MaxResultRows)
	}
	if err != nil {
		return s.runError(ctx, err)
	}
	resp := queryResponse{Tables: []queryTable{table}, Stats: &queryStatsJS{}}
	resp.Stats.Query.ExecutionTime = time.Since(started).Seconds()
	if plan.Render.Kind != "" {
		resp.Render = &queryRender{Visualization: plan.Render.Kind, Options: plan.Render.Options}
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// runError turns a failure to run a compiled query into a 400 (DuckDB
// refused it at run time, or it ran out of time).
func (s *Server) runError(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return badRequest("query", "the query ran longer than %s and was cancelled: narrow it, e.g. with a time range", s.cfg.QueryTimeout)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return badRequest("query", "the query failed while running: %v", err)
}

func download(w http.ResponseWriter, contentType, name string, body []byte) error {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(body)
	return err
}

// cellJSON is a value as the Log Analytics query API writes it: datetimes
// as ISO 8601 text, timespans as [d.]hh:mm:ss[.fffffff], dynamic values as
// their JSON text in a string, NaN and infinities as strings.
func cellJSON(v any, t engine.Type) json.RawMessage {
	switch x := v.(type) {
	case nil:
		return json.RawMessage("null")
	case time.Time, time.Duration:
		return mustMarshal(output.FormatCell(x))
	case json.RawMessage:
		return mustMarshal(string(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return mustMarshal(output.FormatCell(x))
		}
	}
	return mustMarshal(v)
}

func mustMarshal(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(fmt.Sprint(v))
	}
	return b
}
