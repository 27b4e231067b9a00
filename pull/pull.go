// Package pull reads SecurityIncident history from a Log Analytics workspace
// (the one behind Microsoft Sentinel) through the Azure SDK for Go and loads
// it with package ingest, so it gets the same conversion, deduplication and
// rejects as socq ingest.
//
// A pull is incremental: the newest TimeGenerated loaded from a workspace is
// kept in the database's socq_meta table under "pull.<workspace>.newest", and
// the next pull asks only for rows from that time minus an overlap window
// (rows Log Analytics ingests late), whose repeats ingest drops by their
// snapshot key. The range is fetched in time slices, oldest first, each
// loaded in its own transaction before the next is asked for; a slice whose
// result the API truncates (a partial error: too many rows or bytes) is
// halved and asked again. Throttling (429, honouring Retry-After) and
// transient failures (408, 5xx, network errors) are retried with exponential
// backoff by the SDK's retry policy. An interrupted pull resumes where it
// stopped: from the newest row it had loaded, minus the overlap.
package pull

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/monitor/azquery"
	"github.com/socq/socq/engine"
	"github.com/socq/socq/ingest"
)

// Defaults for zero Options fields.
const (
	DefaultSince   = 30 * 24 * time.Hour
	DefaultSlice   = 24 * time.Hour
	DefaultOverlap = time.Hour
	// MinSlice is the shortest slice pull splits a truncated result into;
	// a truncated result of a slice this short is an error.
	MinSlice = time.Minute
)

// Querier runs a query against a Log Analytics workspace: the method of
// azquery.LogsClient that pull uses.
type Querier interface {
	QueryWorkspace(ctx context.Context, workspaceID string, body azquery.Body, options *azquery.LogsClientQueryWorkspaceOptions) (azquery.LogsClientQueryWorkspaceResponse, error)
}

// ClientOptions configure NewClient.
type ClientOptions struct {
	// Endpoint is the Log Analytics API, e.g. https://api.loganalytics.io/v1
	// (the default, Azure public cloud); Audience the token audience for it.
	Endpoint, Audience string
	// Transport replaces the HTTP client (tests use the httptest server's).
	Transport policy.Transporter
	// Retry overrides the retry policy; zero fields keep pull's defaults:
	// 6 retries, 2 s first delay, doubling up to 2 min, and a Retry-After
	// header's delay when the service sends one (429 Too Many Requests).
	Retry policy.RetryOptions
}

// NewClient returns a Log Analytics query client. A nil credential means
// azidentity's DefaultAzureCredential: environment variables, workload
// identity, managed identity, then the Azure CLI's login.
func NewClient(cred azcore.TokenCredential, opts ClientOptions) (*azquery.LogsClient, error) {
	if cred == nil {
		c, err := azidentity.NewDefaultAzureCredential(nil)
		if err != nil {
			return nil, fmt.Errorf("Azure credentials: %w", err)
		}
		cred = c
	}
	retry := opts.Retry
	if retry.MaxRetries == 0 {
		retry.MaxRetries = 6
	}
	if retry.RetryDelay == 0 {
		retry.RetryDelay = 2 * time.Second
	}
	if retry.MaxRetryDelay == 0 {
		retry.MaxRetryDelay = 2 * time.Minute
	}
	co := azcore.ClientOptions{Retry: retry, Transport: opts.Transport}
	if opts.Endpoint != "" {
		audience := opts.Audience
		if audience == "" {
			audience = strings.TrimSuffix(strings.TrimSuffix(opts.Endpoint, "/"), "/v1")
		}
		co.Cloud = cloud.Configuration{Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
			azquery.ServiceNameLogs: {Endpoint: opts.Endpoint, Audience: audience},
		}}
	}
	client, err := azquery.NewLogsClient(cred, &azquery.LogsClientOptions{ClientOptions: co})
	if err != nil {
		return nil, fmt.Errorf("Log Analytics client: %w", err)
	}
	return client, nil
}

// Options say what to pull.
type Options struct {
	Workspace string
	// From and To bound the range explicitly. A zero From means: from the
	// newest row pulled before minus Overlap, or, on a first pull, Since
	// before now. A zero To means now.
	From, To time.Time
	Since    time.Duration
	// Slice is the longest time range asked for in one query (DefaultSlice).
	Slice time.Duration
	// Overlap is how far before the newest row a resumed pull starts.
	Overlap time.Duration
	// Now is the current time; zero means time.Now().
	Now time.Time
	// Progress, when set, is called after each slice is loaded.
	Progress func(Progress)
}

// Progress is how far a pull has come.
type Progress struct {
	From, To, Done time.Time // the range, and the end of the slices loaded
	Rows           int       // rows read so far
}

// Result is what a pull did.
type Result struct {
	From, To time.Time
	Queries  int // requests that returned a result (a split slice counts each half)
	Read     int
	Added    int
	// AlreadyPresent rows were loaded before (the overlap window, or an
	// earlier pull of the same range).
	AlreadyPresent int
	Rejects        []ingest.Reject
	Warnings       []string
	// Newest is the newest TimeGenerated pulled from the workspace so far
	// (in this pull or earlier ones); zero when none.
	Newest time.Time
}

// MetaKey is the socq_meta key under which the newest TimeGenerated pulled
// from workspace is kept.
func MetaKey(workspace string) string { return "pull." + workspace + ".newest" }

// ErrTruncated is returned when the API truncates the result of a slice that
// cannot be split further.
var ErrTruncated = errors.New("the Log Analytics API truncated the result")

// Pull fetches SecurityIncident rows of a workspace through q and loads
// them into db.
func Pull(ctx context.Context, db *engine.DB, q Querier, opts Options) (*Result, error) {
	if opts.Workspace == "" {
		return nil, errors.New("no workspace id")
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC()
	if opts.Since == 0 {
		opts.Since = DefaultSince
	}
	if opts.Slice <= 0 {
		opts.Slice = DefaultSlice
	}
	if opts.Overlap == 0 {
		opts.Overlap = DefaultOverlap
	}
	res := &Result{}
	stored, ok, err := db.Meta(ctx, MetaKey(opts.Workspace))
	if err != nil {
		return nil, err
	}
	if ok {
		if res.Newest, err = time.Parse(time.RFC3339Nano, stored); err != nil {
			return nil, fmt.Errorf("socq_meta %s: %q is not a time: %w", MetaKey(opts.Workspace), stored, err)
		}
	}
	res.From, res.To = opts.From.UTC(), opts.To.UTC()
	switch {
	case !opts.From.IsZero():
	case !res.Newest.IsZero():
		res.From = res.Newest.Add(-opts.Overlap)
	default:
		res.From = now.Add(-opts.Since)
	}
	if opts.To.IsZero() {
		res.To = now
	}
	if !res.From.Before(res.To) {
		return res, nil
	}

	p := &puller{db: db, q: q, opts: opts, res: res}
	slice := opts.Slice
	for start := res.From; start.Before(res.To); {
		end := start.Add(slice)
		if end.After(res.To) {
			end = res.To
		}
		err := p.slice(ctx, start, end)
		if errors.Is(err, errTooLarge) && end.Sub(start) > MinSlice {
			slice = max(end.Sub(start)/2, MinSlice)
			continue
		}
		if err != nil {
			return res, err
		}
		start = end
		if slice < opts.Slice {
			slice = min(slice*2, opts.Slice)
		}
		if opts.Progress != nil {
			opts.Progress(Progress{From: res.From, To: res.To, Done: end, Rows: res.Read})
		}
	}
	return res, nil
}

// errTooLarge is a slice whose result the API truncated.
var errTooLarge = errors.New("result too large")

type puller struct {
	db   *engine.DB
	q    Querier
	opts Options
	res  *Result
}

// kqlTime writes t as a KQL datetime literal with all of Kusto's digits.
func kqlTime(t time.Time) string {
	return "datetime(" + t.UTC().Format("2006-01-02T15:04:05.0000000Z") + ")"
}

// Query is the KQL pull sends for the rows of [from, to).
func Query(from, to time.Time) string {
	return "SecurityIncident\n| where TimeGenerated >= " + kqlTime(from) + " and TimeGenerated < " + kqlTime(to) + "\n| order by TimeGenerated asc"
}

// slice fetches and loads the rows of [from, to).
func (p *puller) slice(ctx context.Context, from, to time.Time) error {
	kql := Query(from, to)
	// The API applies the timespan as well as the query's own filter; it
	// takes whole seconds, so round outwards.
	span := azquery.NewTimeInterval(from.Truncate(time.Second), to.Add(time.Second-1).Truncate(time.Second))
	resp, err := p.q.QueryWorkspace(ctx, p.opts.Workspace, azquery.Body{Query: &kql, Timespan: &span}, nil)
	if err != nil {
		return fmt.Errorf("query workspace %s for %s..%s: %w", p.opts.Workspace, from.Format(time.RFC3339), to.Format(time.RFC3339), explain(err))
	}
	if e := resp.Error; e != nil {
		if to.Sub(from) > MinSlice {
			return errTooLarge
		}
		return fmt.Errorf("query workspace %s for %s..%s: %w: %s", p.opts.Workspace, from.Format(time.RFC3339), to.Format(time.RFC3339), ErrTruncated, e.Error())
	}
	p.res.Queries++
	table := primary(resp.Tables)
	if table == nil {
		return fmt.Errorf("query workspace %s: the response has no table", p.opts.Workspace)
	}
	body, newest, err := apiResponse(table)
	if err != nil {
		return fmt.Errorf("query workspace %s: %w", p.opts.Workspace, err)
	}
	name := fmt.Sprintf("%s %s..%s", p.opts.Workspace, from.Format(time.RFC3339Nano), to.Format(time.RFC3339Nano))
	rep, err := ingest.Reader(ctx, p.db, name, bytes.NewReader(body))
	if rep != nil {
		for _, f := range rep.Files {
			p.res.Read += f.Read
			p.res.Added += f.Added
			p.res.AlreadyPresent += f.AlreadyPresent
		}
		p.res.Rejects = append(p.res.Rejects, rep.Rejects...)
		p.res.Warnings = append(p.res.Warnings, rep.Warnings...)
	}
	if err != nil {
		return err
	}
	if newest.After(p.res.Newest) {
		p.res.Newest = newest
		if err := p.db.SetMeta(ctx, MetaKey(p.opts.Workspace), newest.Format(time.RFC3339Nano)); err != nil {
			return err
		}
	}
	return nil
}

// explain adds a hint to errors a user can fix.
func explain(err error) error {
	var afe *azidentity.AuthenticationFailedError
	if errors.As(err, &afe) || strings.Contains(err.Error(), "DefaultAzureCredential") {
		return fmt.Errorf("%w\nhint: sign in with 'az login', or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET for a service principal", err)
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		switch re.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Errorf("%w\nhint: sign in (az login) or set AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET; the identity needs the Log Analytics Reader role on the workspace", err)
		case http.StatusNotFound:
			return fmt.Errorf("%w\nhint: --workspace takes the workspace ID (a GUID, on the workspace's Overview page), not its name", err)
		}
	}
	return err
}

// primary picks the result table: PrimaryResult, else the first.
func primary(tables []*azquery.Table) *azquery.Table {
	for _, t := range tables {
		if t != nil && t.Name != nil && *t.Name == "PrimaryResult" {
			return t
		}
	}
	if len(tables) > 0 {
		return tables[0]
	}
	return nil
}

// apiResponse encodes a table as the Log Analytics query API response ingest
// reads, and finds its newest TimeGenerated.
func apiResponse(t *azquery.Table) ([]byte, time.Time, error) {
	type column struct {
		Name string `json:"name"`
		Type string `json:"type"`
	}
	cols := make([]column, len(t.Columns))
	timeCol := -1
	for i, c := range t.Columns {
		if c == nil || c.Name == nil {
			return nil, time.Time{}, fmt.Errorf("column %d has no name", i+1)
		}
		cols[i].Name = *c.Name
		if c.Type != nil {
			cols[i].Type = string(*c.Type)
		}
		if cols[i].Name == "TimeGenerated" {
			timeCol = i
		}
	}
	if timeCol < 0 {
		return nil, time.Time{}, errors.New("the result has no TimeGenerated column")
	}
	var newest time.Time
	for _, r := range t.Rows {
		if timeCol >= len(r) {
			continue
		}
		s, ok := r[timeCol].(string)
		if !ok {
			continue
		}
		if tm, err := time.Parse(time.RFC3339Nano, s); err == nil && tm.After(newest) {
			newest = tm.UTC()
		}
	}
	rows := t.Rows
	if rows == nil {
		rows = []azquery.Row{}
	}
	body, err := json.Marshal(map[string]any{"tables": []any{map[string]any{"name": "PrimaryResult", "columns": cols, "rows": rows}}})
	return body, newest, err
}
