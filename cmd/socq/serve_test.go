package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/socq/socq/engine"
)

// TestServeCommand runs socq serve on a free loopback port: it prints the
// address and a generated token once, answers with that token, refuses
// without it, and stops when its context ends.
func TestServeCommand(t *testing.T) {
	dir := t.TempDir()
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, &serveOptions{db: filepath.Join(dir, "s.duckdb"), addr: "127.0.0.1:0", maxBody: 1 << 20, queryTimeout: time.Minute},
			&ioStreams{in: strings.NewReader(""), out: pw, err: io.Discard})
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var lines []string
	for len(lines) < 3 && sc.Scan() {
		lines = append(lines, sc.Text())
	}
	go io.Copy(io.Discard, pr)
	out := strings.Join(lines, "\n")
	m := regexp.MustCompile(`on (http://127\.0\.0\.1:\d+/)\ntoken \(read-write, shown once\): (\S+)\nweb page: http://127\.0\.0\.1:\d+/#token=(\S+)`).FindStringSubmatch(out)
	if m == nil || m[2] != m[3] {
		cancel()
		t.Fatalf("socq serve printed:\n%s", out)
	}
	base, token := m[1], m[2]
	get := func(path, tok string) int {
		req, _ := http.NewRequest("GET", base+path, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get("/incidents", token); got != 200 {
		t.Errorf("with the token: %d", got)
	}
	if got := get("/incidents", ""); got != 401 {
		t.Errorf("without a token: %d", got)
	}
	if got := get("/", ""); got != 200 {
		t.Errorf("the web page: %d", got)
	}
	// serve holds the database's writer lock: another writer is told who has it.
	var inUse *engine.InUseError
	if db, err := engine.Open(context.Background(), filepath.Join(dir, "s.duckdb"), engine.Options{LockWait: -1}); !errors.As(err, &inUse) || !strings.Contains(err.Error(), "socq serve") {
		if db != nil {
			db.Close()
		}
		t.Errorf("a second writer while serving: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != context.Canceled {
			t.Errorf("socq serve ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("socq serve did not stop")
	}
	if _, err := os.Stat(filepath.Join(dir, "s.duckdb")); err != nil {
		t.Errorf("the database was not created: %v", err)
	}
}

// TestServeTokenFile serves with a token file: read tokens read, write
// tokens write, and a token's name is who the change is recorded under.
func TestServeTokenFile(t *testing.T) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	os.WriteFile(tokens, []byte("read reader-0123456789abc\nwrite writer-0123456789abc mei.lin@contoso.com\n"), 0o600)
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		runServe(ctx, &serveOptions{db: filepath.Join(dir, "s.duckdb"), addr: "127.0.0.1:0", tokenFile: tokens, maxBody: 1 << 20, queryTimeout: time.Minute},
			&ioStreams{in: strings.NewReader(""), out: pw, err: io.Discard})
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var lines []string
	for len(lines) < 2 && sc.Scan() {
		lines = append(lines, sc.Text())
	}
	go io.Copy(io.Discard, pr)
	m := regexp.MustCompile(`on (http://127\.0\.0\.1:\d+/)`).FindStringSubmatch(lines[0])
	if m == nil || lines[1] != "tokens: 2 from "+tokens {
		t.Fatalf("socq serve printed:\n%s", strings.Join(lines, "\n"))
	}
	put := func(tok string) (int, string) {
		req, _ := http.NewRequest("PUT", m[1]+"incidents/6f1a7c38-2b1e-4a55-9a41-0c8d1e2f3a4b", strings.NewReader(`{"properties":{"title":"Phishing"}}`))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := put("reader-0123456789abc"); code != 403 {
		t.Errorf("read token PUT: %d %s", code, body)
	}
	code, body := put("writer-0123456789abc")
	if code != 201 || !strings.Contains(body, `"assignedTo":null`) {
		t.Errorf("write token PUT: %d %s", code, body)
	}
	// The change is recorded under the token's name.
	req, _ := http.NewRequest("POST", m[1]+"query", strings.NewReader(`{"query":"SecurityIncident | project ModifiedBy"}`))
	req.Header.Set("Authorization", "Bearer reader-0123456789abc")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `["mei.lin@contoso.com"]`) {
		t.Errorf("ModifiedBy: %s", b)
	}
}
