// Package loadtest runs socq serve under load on the loopback interface:
// concurrent clients mixing reads, task updates and queries for a fixed
// time, then checks that nothing failed and no update was lost, and
// reports latency percentiles.
//
// A lost update would show three ways, and each is checked: a task's final
// status must match the parity of the completions and reopenings the server
// accepted (each one conditional on the etag read), every task a client was
// told it added must exist, and SecurityIncident must hold exactly one
// snapshot row per accepted change.
package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/socq/socq/engine"
	"github.com/socq/socq/server"
)

// Config says how hard to push.
type Config struct {
	Clients   int           // concurrent clients (default 50)
	Duration  time.Duration // how long they run (default 10 s)
	Incidents int           // incidents seeded before the run (default 20)
	Dir       string        // where the database goes; required
	Seed      uint64        // for the clients' random choices
}

// Op kinds.
const (
	OpRead  = "read"  // GET an incident, its tasks, or a page of the queue
	OpTask  = "task"  // complete or reopen a task (PUT with its etag), or add one
	OpQuery = "query" // POST /query with a summarize
)

// Stats are the latencies of one kind of request.
type Stats struct {
	Count     int
	P50, P99  time.Duration
	Max       time.Duration
	Conflicts int // 409s: a task changed since it was read (expected; the client reads again)
}

// Result is the outcome of a run.
type Result struct {
	Config   Config
	Elapsed  time.Duration
	ByOp     map[string]*Stats
	All      Stats
	Errors   []string // unexpected statuses or transport errors (at most 20 kept)
	NErrors  int
	LostLog  []string // lost updates found by the checks
	Rows     int64    // snapshot rows at the end
	WantRows int64    // rows expected: seeded + accepted changes
	// LoadAverage is /proc/loadavg's 1-minute figure at the end ("" where
	// there is none): the machine's other work, which the latencies include.
	LoadAverage string
}

type client struct {
	base, token string
	http        *http.Client
}

func (c *client) do(ctx context.Context, method, path string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	if resp.StatusCode >= 300 && resp.StatusCode != http.StatusConflict {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(data))
	}
	return resp.StatusCode, nil
}

type taskJSON struct {
	Name       string `json:"name"`
	Etag       string `json:"etag"`
	Properties struct {
		Title  string `json:"title"`
		Status string `json:"status"`
	} `json:"properties"`
}

// ledger is what the clients were told the server accepted.
type ledger struct {
	mu      sync.Mutex
	toggles map[string]int    // taskId → accepted status changes
	initial map[string]string // taskId → status when first seen
	added   map[string]int64  // taskId → incident, for tasks added during the run
	changes int64             // accepted changes (each one snapshot row)
}

// Run seeds a database, serves it on 127.0.0.1 and runs the clients.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Clients <= 0 {
		cfg.Clients = 50
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 10 * time.Second
	}
	if cfg.Incidents <= 0 {
		cfg.Incidents = 20
	}
	if cfg.Dir == "" {
		return nil, errors.New("loadtest: no directory for the database")
	}
	db, err := engine.Open(ctx, filepath.Join(cfg.Dir, "loadtest.duckdb"), engine.Options{})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	tok, err := server.GenerateToken()
	if err != nil {
		return nil, err
	}
	srv, err := server.New(server.Config{DB: db, Tokens: []server.Token{tok}, DefaultActor: "loadtest@contoso.com"})
	if err != nil {
		return nil, err
	}
	// Loopback only: the load never leaves the machine.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("loadtest: listen on loopback: %w", err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	defer hs.Close()
	transport := &http.Transport{MaxIdleConnsPerHost: cfg.Clients, MaxConnsPerHost: cfg.Clients}
	defer transport.CloseIdleConnections()
	c := &client{base: "http://" + ln.Addr().String(), token: tok.Value, http: &http.Client{Transport: transport, Timeout: time.Minute}}

	led := &ledger{toggles: map[string]int{}, initial: map[string]string{}, added: map[string]int64{}}
	if err := seed(ctx, c, cfg.Incidents, led); err != nil {
		return nil, fmt.Errorf("loadtest: seed: %w", err)
	}

	var (
		mu        sync.Mutex
		latencies = map[string][]time.Duration{}
		conflicts = map[string]int{}
		res       = &Result{Config: cfg, ByOp: map[string]*Stats{}}
		nErrors   atomic.Int64
	)
	record := func(op string, d time.Duration, status int, err error) {
		mu.Lock()
		defer mu.Unlock()
		latencies[op] = append(latencies[op], d)
		if status == http.StatusConflict {
			conflicts[op]++
		}
		if err != nil {
			nErrors.Add(1)
			if len(res.Errors) < 20 {
				res.Errors = append(res.Errors, err.Error())
			}
		}
	}
	runCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	started := time.Now()
	var wg sync.WaitGroup
	for i := range cfg.Clients {
		rng := rand.New(rand.NewPCG(cfg.Seed, uint64(i)))
		wg.Go(func() {
			for runCtx.Err() == nil {
				op, status, d, err := step(ctx, c, rng, cfg.Incidents, led)
				if runCtx.Err() != nil && err != nil && errors.Is(err, context.Canceled) {
					return
				}
				record(op, d, status, err)
			}
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(started)
	res.NErrors = int(nErrors.Load())

	var all []time.Duration
	for op, ds := range latencies {
		res.ByOp[op] = stats(ds, conflicts[op])
		all = append(all, ds...)
	}
	res.All = *stats(all, conflicts[OpTask])
	if err := verify(ctx, c, cfg.Incidents, led, res); err != nil {
		return nil, err
	}
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(data)); len(f) > 0 {
			res.LoadAverage = f[0]
		}
	}
	return res, nil
}

func stats(ds []time.Duration, conflicts int) *Stats {
	s := &Stats{Count: len(ds), Conflicts: conflicts}
	if len(ds) == 0 {
		return s
	}
	slices.Sort(ds)
	pick := func(q float64) time.Duration { return ds[min(len(ds)-1, int(q*float64(len(ds))))] }
	s.P50, s.P99, s.Max = pick(0.50), pick(0.99), ds[len(ds)-1]
	return s
}

// seed creates the incidents, three tasks each, through the API.
func seed(ctx context.Context, c *client, n int, led *ledger) error {
	sev := []string{"High", "Medium", "Low", "Informational"}
	for i := range n {
		var inc struct{ Name string }
		body := map[string]any{"properties": map[string]any{"title": fmt.Sprintf("Load incident %d", i+1), "severity": sev[i%4],
			"labels": []any{map[string]any{"labelName": "load"}}}}
		if _, err := c.do(ctx, "PUT", "/incidents/"+uuid.NewString(), body, &inc); err != nil {
			return err
		}
		led.changes++
		for j := range 3 {
			var t taskJSON
			if _, err := c.do(ctx, "PUT", fmt.Sprintf("/incidents/%d/tasks/%s", i+1, uuid.NewString()),
				map[string]any{"properties": map[string]any{"title": fmt.Sprintf("Task %d", j+1)}}, &t); err != nil {
				return err
			}
			led.changes++
			led.initial[t.Name] = t.Properties.Status
		}
	}
	return nil
}

var queries = []string{
	"SecurityIncident | summarize arg_max(TimeGenerated, *) by IncidentNumber | summarize count() by Severity",
	"SecurityIncident | mv-expand Task = Tasks | summarize Changes = count() by Status = tostring(Task.status)",
	"SecurityIncident | summarize Rows = count() by bin(TimeGenerated, 1s) | render timechart",
}

// step runs one request of a random kind: 50% reads, 30% task changes,
// 20% queries.
func step(ctx context.Context, c *client, rng *rand.Rand, incidents int, led *ledger) (string, int, time.Duration, error) {
	n := rng.IntN(incidents) + 1
	started := time.Now()
	switch p := rng.IntN(10); {
	case p < 5:
		var status int
		var err error
		switch rng.IntN(3) {
		case 0:
			status, err = c.do(ctx, "GET", fmt.Sprintf("/incidents/%d", n), nil, nil)
		case 1:
			status, err = c.do(ctx, "GET", fmt.Sprintf("/incidents/%d/tasks", n), nil, nil)
		default:
			status, err = c.do(ctx, "GET", "/incidents?$top=10&$filter=properties/severity%20eq%20'High'", nil, nil)
		}
		return OpRead, status, time.Since(started), err
	case p < 8:
		status, err := taskStep(ctx, c, rng, n, led)
		return OpTask, status, time.Since(started), err
	default:
		status, err := c.do(ctx, "POST", "/query", map[string]any{"query": queries[rng.IntN(len(queries))]}, nil)
		return OpQuery, status, time.Since(started), err
	}
}

// taskStep reads an incident's tasks and flips one (complete ↔ reopen)
// with the etag it read; now and then it adds a task instead.
func taskStep(ctx context.Context, c *client, rng *rand.Rand, n int, led *ledger) (int, error) {
	if rng.IntN(10) == 0 {
		id := uuid.NewString()
		var t taskJSON
		status, err := c.do(ctx, "PUT", fmt.Sprintf("/incidents/%d/tasks/%s", n, id), map[string]any{"properties": map[string]any{"title": "Added under load"}}, &t)
		if err == nil && status == http.StatusCreated {
			led.mu.Lock()
			led.added[id] = int64(n)
			led.initial[id] = "New"
			led.changes++
			led.mu.Unlock()
		}
		return status, err
	}
	var list struct{ Value []taskJSON }
	if status, err := c.do(ctx, "GET", fmt.Sprintf("/incidents/%d/tasks", n), nil, &list); err != nil {
		return status, err
	}
	t := list.Value[rng.IntN(len(list.Value))]
	want := "Completed"
	if t.Properties.Status == "Completed" {
		want = "New"
	}
	status, err := c.do(ctx, "PUT", fmt.Sprintf("/incidents/%d/tasks/%s", n, t.Name),
		map[string]any{"etag": t.Etag, "properties": map[string]any{"title": t.Properties.Title, "status": want}}, nil)
	if err == nil && status == http.StatusOK {
		led.mu.Lock()
		led.toggles[t.Name]++
		led.changes++
		led.mu.Unlock()
	}
	return status, err
}

// verify checks for lost updates after the run.
func verify(ctx context.Context, c *client, incidents int, led *ledger, res *Result) error {
	found := map[string]string{}
	for n := 1; n <= incidents; n++ {
		var list struct{ Value []taskJSON }
		if _, err := c.do(ctx, "GET", fmt.Sprintf("/incidents/%d/tasks", n), nil, &list); err != nil {
			return fmt.Errorf("loadtest: verify: %w", err)
		}
		for _, t := range list.Value {
			found[t.Name] = t.Properties.Status
		}
	}
	for id, initial := range led.initial {
		got, ok := found[id]
		if !ok {
			res.LostLog = append(res.LostLog, fmt.Sprintf("task %s (added, the server said) is missing", id))
			continue
		}
		want := initial
		if led.toggles[id]%2 == 1 {
			want = map[string]string{"New": "Completed", "Completed": "New"}[initial]
		}
		if got != want {
			res.LostLog = append(res.LostLog, fmt.Sprintf("task %s is %s after %d accepted changes from %s, want %s", id, got, led.toggles[id], initial, want))
		}
	}
	var q struct {
		Tables []struct{ Rows [][]any }
	}
	if _, err := c.do(ctx, "POST", "/query", map[string]any{"query": "SecurityIncident | count"}, &q); err != nil {
		return fmt.Errorf("loadtest: verify: %w", err)
	}
	if rows, ok := q.Tables[0].Rows[0][0].(float64); ok {
		res.Rows = int64(rows)
	}
	if res.Rows != led.changes {
		res.LostLog = append(res.LostLog, fmt.Sprintf("SecurityIncident has %d snapshot rows; the server accepted %d changes", res.Rows, led.changes))
	}
	res.WantRows = led.changes
	return nil
}

// Failed says what went wrong, or "" when the run had no error and lost
// no update.
func (r *Result) Failed() string {
	var b strings.Builder
	if r.NErrors > 0 {
		fmt.Fprintf(&b, "%d requests failed:\n  %s\n", r.NErrors, strings.Join(r.Errors, "\n  "))
	}
	if len(r.LostLog) > 0 {
		fmt.Fprintf(&b, "lost updates:\n  %s\n", strings.Join(r.LostLog, "\n  "))
	}
	return b.String()
}

// Markdown is the BENCHMARKS.md section of the result.
func (r *Result) Markdown(now time.Time) string {
	var b strings.Builder
	load := r.LoadAverage
	fmt.Fprintf(&b, "%s\n## socq serve under load\n\n", SectionStart)
	fmt.Fprintf(&b, "`go run ./server/loadtest/cmd/socq-loadtest -clients %d -duration %s -benchmarks BENCHMARKS.md`, %s, on %s.\n",
		r.Config.Clients, r.Config.Duration, now.UTC().Format("2006-01-02"), machine())
	fmt.Fprintf(&b, "%d clients on 127.0.0.1 for %s against a DuckDB file of %d incidents (3 tasks each): 50%% reads (an incident, its tasks, a filtered page of the queue), 30%% task changes (complete or reopen with the etag read, or add a task), 20%% KQL queries. ",
		r.Config.Clients, r.Config.Duration, r.Config.Incidents)
	fmt.Fprintf(&b, "%d requests (%.0f/s), %d errors, %d lost updates; %d snapshot rows for %d accepted changes.\n\n",
		r.All.Count, float64(r.All.Count)/r.Elapsed.Seconds(), r.NErrors, len(r.LostLog), r.Rows, r.WantRows)
	if load != "" {
		fmt.Fprintf(&b, "The machine's load average during the run was %s (other work was running on it), which the latencies include.\n\n", load)
	}
	b.WriteString("A task change is two requests, the read of the tasks and the PUT with the etag read, timed together.\n\n")
	b.WriteString("| requests | count | p50 | p99 | max | 409 (stale etag, read again) |\n|---|---:|---:|---:|---:|---:|\n")
	for _, op := range []string{OpRead, OpTask, OpQuery} {
		if s := r.ByOp[op]; s != nil {
			fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %d |\n", op, s.Count, ms(s.P50), ms(s.P99), ms(s.Max), s.Conflicts)
		}
	}
	fmt.Fprintf(&b, "| all | %d | %s | %s | %s | %d |\n\n", r.All.Count, ms(r.All.P50), ms(r.All.P99), ms(r.All.Max), r.All.Conflicts)
	b.WriteString("socq serve keeps one DuckDB connection, so requests take turns at the database: latency grows with the number of clients, and a 409 is a task another client changed between this client's read and write.\n")
	b.WriteString(SectionEnd + "\n")
	return b.String()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func machine() string {
	cpu := ""
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "model name") {
				_, cpu, _ = strings.Cut(line, ":")
				cpu = strings.TrimSpace(cpu)
				break
			}
		}
	}
	if cpu == "" {
		cpu = "an unknown CPU"
	}
	return fmt.Sprintf("%s (%d CPUs visible to Go)", cpu, numCPU())
}

// The markers around the section, so a later run replaces it.
const (
	SectionStart = "<!-- socq serve load test: written by server/loadtest -->"
	SectionEnd   = "<!-- end of socq serve load test -->"
)

// UpdateFile writes section into the file at path: in place of an earlier
// section between the markers, else at the end. A missing file is created.
func UpdateFile(path, section string) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	text := string(old)
	if i := strings.Index(text, SectionStart); i >= 0 {
		end := strings.Index(text[i:], SectionEnd)
		if end < 0 {
			return fmt.Errorf("%s: the load test section has no end marker %q", path, SectionEnd)
		}
		text = text[:i] + section + strings.TrimPrefix(text[i+end+len(SectionEnd):], "\n")
	} else {
		if text != "" && !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		if text != "" {
			text += "\n"
		}
		text += section
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
