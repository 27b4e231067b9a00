package pull_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/socq/socq/engine"
	"github.com/socq/socq/gen"
	"github.com/socq/socq/ingest"
	"github.com/socq/socq/parser"
	"github.com/socq/socq/pull"
	"github.com/socq/socq/pull/pulltest"
)

const workspace = "0b9e8b1c-5d7e-4f3a-9c2b-1a2b3c4d5e6f"

var start = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)

// history is gen's history of 30 incidents over 21 days from start.
func history(t testing.TB) []byte {
	var b bytes.Buffer
	if err := gen.Write(&b, gen.Options{Incidents: 30, Seed: 11, Days: 21, Start: start}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// split returns the lines of ndjson before and from t.
func split(t testing.TB, ndjson []byte, at time.Time) (before, after []byte) {
	for _, line := range bytes.SplitAfter(ndjson, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		i := bytes.Index(line, []byte(`"TimeGenerated":"`))
		tm, err := time.Parse(time.RFC3339Nano, string(line[i+17:i+17+28]))
		if err != nil {
			t.Fatal(err)
		}
		if tm.Before(at) {
			before = append(before, line...)
		} else {
			after = append(after, line...)
		}
	}
	return before, after
}

func server(t testing.TB, ndjson []byte) *pulltest.Server {
	srv, err := pulltest.New(workspace, ndjson)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func client(t testing.TB, srv *pulltest.Server) pull.Querier {
	c, err := pull.NewClient(pulltest.Credential{}, pull.ClientOptions{
		Endpoint:  srv.Endpoint(),
		Transport: srv.Client(),
		Retry:     policy.RetryOptions{RetryDelay: 10 * time.Millisecond, MaxRetries: 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func openDB(t testing.TB) *engine.DB {
	db, err := engine.Open(context.Background(), "", engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// dump returns every row of the database's SecurityIncident table in key order.
func dump(t testing.TB, db *engine.DB) [][]any {
	t.Helper()
	ctx := context.Background()
	q, err := parser.Parse("SecurityIncident | sort by IncidentName asc, TimeGenerated asc, LastModifiedTime asc")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := engine.Compile(q, engine.DefaultCatalog(), engine.CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]any
	if err := db.Query(ctx, plan, func(vals []any) error {
		rows = append(rows, append([]any(nil), vals...))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return rows
}

// ingested is what socq ingest loads from ndjson.
func ingested(t testing.TB, ndjson []byte) [][]any {
	db := openDB(t)
	if _, err := ingest.Reader(context.Background(), db, "direct", bytes.NewReader(ndjson)); err != nil {
		t.Fatal(err)
	}
	return dump(t, db)
}

func sameRows(t *testing.T, what string, want, got [][]any) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d", what, len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(want[i], got[i]) {
			t.Fatalf("%s: row %d differs:\n got %v\nwant %v", what, i, got[i], want[i])
		}
	}
}

func TestPullLoadsWhatIngestLoads(t *testing.T) {
	ctx := context.Background()
	all := history(t)
	srv := server(t, all)
	db := openDB(t)
	var progress []pull.Progress
	now := start.AddDate(0, 0, 25)
	res, err := pull.Pull(ctx, db, client(t, srv), pull.Options{
		Workspace: workspace, Now: now, Slice: 3 * 24 * time.Hour,
		Progress: func(p pull.Progress) { progress = append(progress, p) },
	})
	if err != nil {
		t.Fatal(err)
	}
	want := ingested(t, all)
	sameRows(t, "pulled", want, dump(t, db))
	if res.Read != srv.RowCount() || res.Added != srv.RowCount() || res.AlreadyPresent != 0 || len(res.Rejects) != 0 {
		t.Errorf("result %+v, want %d rows read and added", res, srv.RowCount())
	}
	// 30 days (the default --since) in 3-day slices.
	if res.Queries != 10 || len(progress) != 10 || !progress[9].Done.Equal(now) || progress[9].Rows != res.Read {
		t.Errorf("%d queries, progress %+v", res.Queries, progress)
	}
	if !res.From.Equal(now.Add(-pull.DefaultSince)) || !res.To.Equal(now) {
		t.Errorf("range %s..%s", res.From, res.To)
	}
	for i, r := range srv.Requests() {
		if r.Status != http.StatusOK || r.Timespan == "" {
			t.Errorf("request %d: %+v", i, r)
		}
	}
	stored, ok, err := db.Meta(ctx, pull.MetaKey(workspace))
	if err != nil || !ok || stored != res.Newest.Format(time.RFC3339Nano) || res.Newest.IsZero() {
		t.Errorf("meta %q %v %v, newest %s", stored, ok, err, res.Newest)
	}
}

func TestIncrementalWithOverlap(t *testing.T) {
	ctx := context.Background()
	all := history(t)
	cut := start.AddDate(0, 0, 10)
	early, late := split(t, all, cut)
	srv := server(t, early)
	db := openDB(t)
	c := client(t, srv)
	first, err := pull.Pull(ctx, db, c, pull.Options{Workspace: workspace, Now: cut})
	if err != nil {
		t.Fatal(err)
	}
	// The workspace receives the rest of the history, including rows whose
	// TimeGenerated is before what the first pull saw (late ingestion)
	// within the overlap window.
	if err := srv.Add(late); err != nil {
		t.Fatal(err)
	}
	n := len(srv.Requests())
	second, err := pull.Pull(ctx, db, c, pull.Options{Workspace: workspace, Now: start.AddDate(0, 0, 25)})
	if err != nil {
		t.Fatal(err)
	}
	sameRows(t, "after two pulls", ingested(t, all), dump(t, db))
	reqs := srv.Requests()[n:]
	if wantFrom := first.Newest.Add(-pull.DefaultOverlap); !reqs[0].From.Equal(wantFrom) || !second.From.Equal(wantFrom) {
		t.Errorf("second pull starts at %s, want the newest row %s minus the overlap", reqs[0].From, first.Newest)
	}
	if second.AlreadyPresent == 0 || second.Added+first.Added != srv.RowCount() {
		t.Errorf("second pull %+v after first %+v: the overlap window should repeat rows, and the two add up to %d", second, first, srv.RowCount())
	}

	// Nothing new: a third pull adds nothing.
	third, err := pull.Pull(ctx, db, c, pull.Options{Workspace: workspace, Now: start.AddDate(0, 0, 26)})
	if err != nil || third.Added != 0 {
		t.Errorf("third pull: %+v, %v", third, err)
	}
}

func TestInterruptedPullResumes(t *testing.T) {
	all := history(t)
	srv := server(t, all)
	db := openDB(t)
	c := client(t, srv)
	now := start.AddDate(0, 0, 25)
	opts := pull.Options{Workspace: workspace, Now: now, Slice: 2 * 24 * time.Hour}

	// Interrupted (Ctrl-C) after the slice that loads day 10.
	ctx, cancel := context.WithCancel(context.Background())
	interrupted := opts
	interrupted.Progress = func(p pull.Progress) {
		if p.Done.After(start.AddDate(0, 0, 10)) {
			cancel()
		}
	}
	res1, err := pull.Pull(ctx, db, c, interrupted)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted pull: %v", err)
	}
	partial := len(dump(t, db))
	if partial == 0 || partial >= srv.RowCount() {
		t.Fatalf("%d rows after the interruption, want some of %d", partial, srv.RowCount())
	}

	// Then the service fails for good (503 beyond the retries) mid-way.
	n := len(srv.Requests())
	srv.Refuse = func(i int) int {
		if i > n+2 {
			return http.StatusServiceUnavailable
		}
		return 0
	}
	_, err = pull.Pull(context.Background(), db, c, opts)
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("failing pull: %v", err)
	}

	// Resumed: from the newest row loaded, minus the overlap.
	stored, _, err := db.Meta(context.Background(), pull.MetaKey(workspace))
	if err != nil {
		t.Fatal(err)
	}
	newest, err := time.Parse(time.RFC3339Nano, stored)
	if err != nil {
		t.Fatal(err)
	}
	srv.Refuse = nil
	n = len(srv.Requests())
	res3, err := pull.Pull(context.Background(), db, c, opts)
	if err != nil {
		t.Fatal(err)
	}
	sameRows(t, "resumed", ingested(t, all), dump(t, db))
	if first := srv.Requests()[n]; !first.From.Equal(newest.Add(-pull.DefaultOverlap)) || !res3.From.After(res1.From) {
		t.Errorf("resumed from %s; the newest row loaded was %s", first.From, newest)
	}
	if res3.Added+partial > srv.RowCount() {
		t.Errorf("resumed pull added %d to %d rows of %d", res3.Added, partial, srv.RowCount())
	}
}

func TestThrottlingAndTransientErrors(t *testing.T) {
	all := history(t)
	srv := server(t, all)
	srv.Refuse = func(n int) int {
		switch n {
		case 1:
			return http.StatusTooManyRequests // Retry-After: 1
		case 2, 5:
			return http.StatusServiceUnavailable
		}
		return 0
	}
	db := openDB(t)
	res, err := pull.Pull(context.Background(), db, client(t, srv), pull.Options{Workspace: workspace, Now: start.AddDate(0, 0, 25), Slice: 10 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	sameRows(t, "after retries", ingested(t, all), dump(t, db))
	reqs := srv.Requests()
	var statuses []int
	for _, r := range reqs {
		statuses = append(statuses, r.Status)
	}
	want := []int{429, 503, 200, 200, 503, 200}
	if !reflect.DeepEqual(statuses, want) || res.Queries != 3 {
		t.Fatalf("statuses %v, want %v; %d queries", statuses, want, res.Queries)
	}
	if gap := reqs[1].At.Sub(reqs[0].At); gap < time.Second {
		t.Errorf("retried %s after a 429 with Retry-After: 1", gap)
	}
}

func TestTruncatedResultsAreSplit(t *testing.T) {
	all := history(t)
	srv := server(t, all)
	srv.MaxRows = 8
	db := openDB(t)
	res, err := pull.Pull(context.Background(), db, client(t, srv), pull.Options{Workspace: workspace, Now: start.AddDate(0, 0, 25), Slice: 5 * 24 * time.Hour})
	if err != nil {
		t.Fatalf("%v\n%s", err, pulltest.Ranges(srv.Requests()))
	}
	sameRows(t, "split", ingested(t, all), dump(t, db))
	if res.Read != srv.RowCount() || res.AlreadyPresent != 0 {
		t.Errorf("read %d (%d already present), want each of %d rows once", res.Read, res.AlreadyPresent, srv.RowCount())
	}

	// More rows in one minute than a response holds cannot be split.
	busy := `{"TenantId":"t","TimeGenerated":"2026-09-02T10:00:00Z","IncidentName":"a","Title":"x","IncidentNumber":1,"LastModifiedTime":"2026-09-02T10:00:00Z"}
{"TenantId":"t","TimeGenerated":"2026-09-02T10:00:00Z","IncidentName":"b","Title":"y","IncidentNumber":2,"LastModifiedTime":"2026-09-02T10:00:00Z"}
`
	srv2 := server(t, []byte(busy))
	srv2.MaxRows = 1
	_, err = pull.Pull(context.Background(), openDB(t), client(t, srv2), pull.Options{Workspace: workspace, Now: start.AddDate(0, 0, 3)})
	if !errors.Is(err, pull.ErrTruncated) || !strings.Contains(err.Error(), "E_QUERY_RESULT_SET_TOO_LARGE") {
		t.Errorf("err = %v", err)
	}
}

func TestRejectsAndErrors(t *testing.T) {
	rows := `{"TenantId":"t","TimeGenerated":"2026-09-02T10:00:00Z","IncidentName":"a","Title":"ok","IncidentNumber":1,"Tasks":"[]","LastModifiedTime":"2026-09-02T10:00:00Z"}
{"TenantId":"t","TimeGenerated":"2026-09-02T11:00:00Z","IncidentName":"b","Title":"bad","IncidentNumber":"12.5","LastModifiedTime":"2026-09-02T11:00:00Z"}
`
	srv := server(t, []byte(rows))
	db := openDB(t)
	c := client(t, srv)
	res, err := pull.Pull(context.Background(), db, c, pull.Options{Workspace: workspace, Now: start.AddDate(0, 0, 3)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != 1 || len(res.Rejects) != 1 || !strings.Contains(res.Rejects[0].Reason, "IncidentNumber") {
		t.Errorf("result %+v", res)
	}

	_, err = pull.Pull(context.Background(), db, c, pull.Options{Workspace: "other", Now: start.AddDate(0, 0, 3)})
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "workspace ID") {
		t.Errorf("unknown workspace: %v", err)
	}
	bad, err := pull.NewClient(badCredential{}, pull.ClientOptions{Endpoint: srv.Endpoint(), Transport: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = pull.Pull(context.Background(), db, bad, pull.Options{Workspace: workspace, Now: start.AddDate(0, 0, 3)})
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "az login") {
		t.Errorf("bad credential: %v", err)
	}
	if len(pulltest.Ranges(srv.Requests())) == 0 {
		t.Error("no requests recorded")
	}
}

// badCredential gets a token the server does not accept.
type badCredential struct{}

func (badCredential) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "wrong", ExpiresOn: time.Now().Add(time.Hour)}, nil
}
