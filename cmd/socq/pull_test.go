package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/socq/socq/gen"
	"github.com/socq/socq/pull"
	"github.com/socq/socq/pull/pulltest"
)

// TestPullCommand runs socq pull against the fake Log Analytics API, twice:
// the second run finds nothing new. No test reaches the network.
func TestPullCommand(t *testing.T) {
	var history bytes.Buffer
	if err := gen.Write(&history, gen.Options{Incidents: 5, Seed: 3, Days: 3, Start: time.Now().UTC().AddDate(0, 0, -4)}); err != nil {
		t.Fatal(err)
	}
	history.WriteString(`{"TenantId":"t","TimeGenerated":"` + time.Now().UTC().Add(-time.Hour).Format(time.RFC3339) + `","IncidentName":"x","IncidentNumber":"twelve"}` + "\n")
	const ws = "0b9e8b1c-5d7e-4f3a-9c2b-1a2b3c4d5e6f"
	srv, err := pulltest.New(ws, history.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	client, err := pull.NewClient(pulltest.Credential{}, pull.ClientOptions{Endpoint: srv.Endpoint(), Transport: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "h.duckdb")
	run := func() (string, string, error) {
		var out, errOut bytes.Buffer
		ios := &ioStreams{in: strings.NewReader(""), out: &out, err: &errOut}
		err := runPull(context.Background(), &pullOptions{db: dbPath, workspace: ws, since: "7d", client: client}, ios)
		return out.String(), errOut.String(), err
	}
	out, errOut, err := run()
	rows := srv.RowCount() - 1
	want := "read " + strconv.Itoa(srv.RowCount()) + ", added " + strconv.Itoa(rows) + ", already present 0, rejected 1"
	if ee, ok := err.(*exitError); !ok || ee.code != exitFailed || !strings.Contains(out, want) || !strings.Contains(out, "workspace "+ws) {
		t.Fatalf("first pull: %v\nstdout: %s\nstderr: %s\nwant %q", err, out, errOut, want)
	}
	if !strings.Contains(errOut, "IncidentNumber") || !strings.Contains(errOut, "h.duckdb.rejects.ndjson") {
		t.Errorf("stderr: %s", errOut)
	}
	if _, err := os.Stat(dbPath + ".rejects.ndjson"); err != nil {
		t.Error(err)
	}
	if strings.Contains(errOut, "[###") {
		t.Error("a progress bar on a non-terminal")
	}
	// The second pull re-reads the overlap hour before the newest row (the
	// rejected one, which is rejected again) and adds nothing.
	out, _, err = run()
	if !strings.Contains(out, "read 1, added 0, already present 0, rejected 1") || err == nil {
		t.Errorf("second pull: %v\n%s", err, out)
	}
}

func TestParseSpanAndTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30d", 30 * 24 * time.Hour, true},
		{"1.5d", 36 * time.Hour, true},
		{"12h", 12 * time.Hour, true},
		{"90m", 90 * time.Minute, true},
		{"0d", 0, false},
		{"-1h", 0, false},
		{"week", 0, false},
	} {
		got, err := parseSpan(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseSpan(%q) = %v, %v", tc.in, got, err)
		}
	}
	for _, tc := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2026-09-14", time.Date(2026, 9, 14, 0, 0, 0, 0, time.UTC), true},
		{"2026-09-14T10:02:45.5Z", time.Date(2026, 9, 14, 10, 2, 45, 5e8, time.UTC), true},
		{"2026-09-14T12:02:45+02:00", time.Date(2026, 9, 14, 10, 2, 45, 0, time.UTC), true},
		{"2026-09-14T10:02", time.Date(2026, 9, 14, 10, 2, 0, 0, time.UTC), true},
		{"yesterday", time.Time{}, false},
	} {
		got, err := parseTime(tc.in)
		if (err == nil) != tc.ok || !got.Equal(tc.want) {
			t.Errorf("parseTime(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func TestProgressBar(t *testing.T) {
	var b bytes.Buffer
	bar := &progressBar{w: &b}
	from := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	bar.update(pull.Progress{From: from, To: from.Add(40 * time.Hour), Done: from.Add(10 * time.Hour), Rows: 123})
	bar.update(pull.Progress{From: from, To: from.Add(40 * time.Hour), Done: from.Add(40 * time.Hour), Rows: 456})
	bar.done()
	want := "\r[#######.......................]  25%  up to 2026-09-01 10:00  123 rows" +
		"\r[##############################] 100%  up to 2026-09-02 16:00  456 rows\n"
	if b.String() != want {
		t.Errorf("got %q\nwant %q", b.String(), want)
	}
	// Not a terminal: nothing is drawn.
	quiet := newProgressBar(&ioStreams{err: &b})
	quiet.update(pull.Progress{From: from, To: from.Add(time.Hour), Done: from.Add(time.Hour)})
	quiet.done()
	if b.String() != want {
		t.Errorf("a progress bar on a buffer: %q", b.String())
	}
}
