package gen_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/socq/socq/gen"
)

func generateAs(t *testing.T, opts gen.Options, f gen.Format) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := gen.WriteFormat(&buf, opts, f); err != nil {
		t.Fatalf("WriteFormat(%+v, %s): %v", opts, f, err)
	}
	return buf.Bytes()
}

// TestFormatsHoldTheSameRows decodes the JSON array and the CSV and checks
// every value against the NDJSON of the same options.
func TestFormatsHoldTheSameRows(t *testing.T) {
	opts := gen.Options{Incidents: 60, Seed: 5, Days: 7}
	rows := parse(t, generate(t, opts))
	columns := gen.Columns()

	// JSON: one array of the NDJSON objects, one a line, same key order.
	data := generateAs(t, opts, gen.JSON)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if lines[0] != "[" || lines[len(lines)-1] != "]" || len(lines) != len(rows)+2 {
		t.Fatalf("JSON: %d lines starting %q and ending %q, want [, %d objects, ]", len(lines), lines[0], lines[len(lines)-1], len(rows))
	}
	for i, r := range rows {
		line := strings.TrimSuffix(lines[i+1], ",")
		if (i < len(rows)-1) != strings.HasSuffix(lines[i+1], ",") {
			t.Fatalf("JSON line %d: misplaced comma", i+2)
		}
		keys, values, err := decodeOrdered([]byte(line))
		if err != nil {
			t.Fatalf("JSON line %d: %v", i+2, err)
		}
		if fmt.Sprint(keys) != fmt.Sprint(columns) || fmt.Sprint(values) != fmt.Sprint(r.values) {
			t.Fatalf("JSON row %d differs from NDJSON line %d", i+1, r.line)
		}
	}
	var all []map[string]any
	if err := json.Unmarshal(data, &all); err != nil || len(all) != len(rows) {
		t.Fatalf("JSON does not decode as one array of %d objects: %v", len(rows), err)
	}

	// CSV: a header with [UTC] on datetime columns, CRLF, values as text.
	data = generateAs(t, opts, gen.CSV)
	if !bytes.HasSuffix(data, []byte("\r\n")) || bytes.Count(data, []byte("\r\n")) != len(rows)+1 {
		t.Fatalf("CSV: want %d CRLF-terminated records", len(rows)+1)
	}
	records, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v", err)
	}
	for i, cell := range records[0] {
		want := columns[i]
		if columnTypes[i].typ == "DateTime" {
			want += " [UTC]"
		}
		if cell != want {
			t.Errorf("CSV header cell %d = %q, want %q", i, cell, want)
		}
	}
	for i, r := range rows {
		rec := records[i+1]
		for j, col := range columns {
			var want string
			switch v := r.values[col].(type) {
			case nil:
				want = ""
			case string:
				want = v
			case json.Number:
				want = v.String()
			}
			if rec[j] != want {
				t.Fatalf("CSV row %d %s = %q, NDJSON has %q", i+1, col, rec[j], want)
			}
		}
	}

	// Same bytes each time, in every format.
	for _, f := range gen.Formats {
		if !bytes.Equal(generateAs(t, opts, f), generateAs(t, opts, f)) {
			t.Errorf("%s: two runs differ", f)
		}
	}
	if _, err := gen.ParseFormat("parquet"); err == nil {
		t.Error("ParseFormat(parquet) succeeded")
	}
	if err := gen.WriteFormat(&bytes.Buffer{}, opts, "xml"); err == nil {
		t.Error("WriteFormat(xml) succeeded")
	}
}

// TestRhythmAndProportions checks the shape of a month: more incidents in
// office hours than at night and on weekdays than at weekends; Medium and
// Low the usual severities; most incidents closed, BenignPositive the most
// frequent classification; tasks mostly from automation; High incidents
// triaged faster than Low ones.
func TestRhythmAndProportions(t *testing.T) {
	opts := gen.Options{Incidents: 3000, Seed: 9, Days: 28} // four whole weeks
	rows := parse(t, generate(t, opts))
	var byHour [24]int
	weekday, weekend := 0, 0
	severity := map[string]int{}
	classification := map[string]int{}
	last := map[string]row{}
	created := map[string]time.Time{}
	triage := map[string][]time.Duration{}
	taskCreators := map[bool]int{} // by automation?
	seenTask := map[string]bool{}
	for _, r := range rows {
		name := r.str("IncidentName")
		if _, ok := created[name]; !ok {
			at := r.time(t, "CreatedTime")
			created[name] = at
			byHour[at.Hour()]++
			if d := at.Weekday(); d == time.Saturday || d == time.Sunday {
				weekend++
			} else {
				weekday++
			}
			severity[r.str("Severity")]++
		} else if _, assigned := last[name]; assigned && last[name].owner.OwnerType == "Unknown" && r.owner.OwnerType == "User" {
			sev := r.str("Severity")
			triage[sev] = append(triage[sev], r.time(t, "TimeGenerated").Sub(created[name]))
		}
		last[name] = r
		for _, task := range r.tasks {
			if !seenTask[task.TaskID] {
				seenTask[task.TaskID] = true
				taskCreators[task.CreatedBy.Email == nil]++
			}
		}
	}
	closed := 0
	for _, r := range last {
		if r.str("Status") == "Closed" {
			closed++
			classification[r.str("Classification")]++
		}
	}
	t.Logf("by hour %v; weekday %d, weekend %d; %v; closed %d; %v; tasks by automation %d, by analysts %d",
		byHour, weekday, weekend, severity, closed, classification, taskCreators[true], taskCreators[false])

	office, night := 0, 0
	for h := 9; h < 15; h++ {
		office += byHour[h]
	}
	for h := 1; h < 7; h++ {
		night += byHour[h]
	}
	if office < 2*night {
		t.Errorf("%d incidents 09:00-15:00, %d 01:00-07:00: want at least twice as many in office hours", office, night)
	}
	// 20 weekdays against 8 weekend days: per day, weekdays must be busier.
	if perWeekday, perWeekendDay := float64(weekday)/20, float64(weekend)/8; perWeekday < 1.5*perWeekendDay {
		t.Errorf("%.0f incidents per weekday, %.0f per weekend day: want weekdays at least 1.5 times busier", perWeekday, perWeekendDay)
	}
	for _, s := range []string{"High", "Low", "Informational"} {
		if severity[s] == 0 || severity[s] > severity["Medium"] {
			t.Errorf("severity %s: %d incidents, Medium %d: want Medium the most frequent and every severity present", s, severity[s], severity["Medium"])
		}
	}
	if share := float64(closed) / float64(len(last)); share < 0.6 || share > 0.97 {
		t.Errorf("%.0f%% of incidents closed, want 60-97%%", 100*share)
	}
	for c, n := range classification {
		if c != "BenignPositive" && n >= classification["BenignPositive"] {
			t.Errorf("classification %s (%d) at least as frequent as BenignPositive (%d)", c, n, classification["BenignPositive"])
		}
	}
	if taskCreators[true] <= taskCreators[false] || taskCreators[false] == 0 {
		t.Errorf("tasks by automation %d, by analysts %d: want both, automation the most", taskCreators[true], taskCreators[false])
	}
	median := func(ds []time.Duration) time.Duration {
		s := slices.Clone(ds)
		slices.Sort(s)
		return s[len(s)/2]
	}
	if len(triage["High"]) == 0 || len(triage["Low"]) == 0 {
		t.Fatalf("no triage times for High or Low incidents: %v", triage)
	}
	if h, l := median(triage["High"]), median(triage["Low"]); h >= l {
		t.Errorf("median time to triage: High %v, Low %v: want High faster", h, l)
	}
}
