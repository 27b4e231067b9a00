package ingest

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/socq/socq/engine"
)

// This file makes realistic SecurityIncident history for tests and
// benchmarks, and writes it in every format Log Analytics exports.

// row is one snapshot row: the values of the table's columns by name, with
// dynamic values as Go values and datetimes as time.Time.
type row map[string]any

var analysts = []string{"Ada Lovelace", "Grace Hopper", "Alan Turing", "Katherine Johnson", "Edsger Dijkstra"}

func person(rng *rand.Rand) map[string]any {
	name := analysts[rng.IntN(len(analysts))]
	user := strings.ToLower(strings.ReplaceAll(name, " ", "."))
	return map[string]any{
		"objectId":          guid(rng),
		"email":             user + "@contoso.com",
		"name":              name,
		"userPrincipalName": user + "@contoso.onmicrosoft.com",
	}
}

func guid(rng *rand.Rand) string {
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", rng.Uint32(), rng.IntN(1<<16), rng.IntN(1<<16), rng.IntN(1<<16), rng.Uint64()&(1<<48-1))
}

// sampleHistory returns the snapshot rows of incidents, several per incident,
// each change adding or completing a task. It is deterministic for a seed.
func sampleHistory(seed uint64, incidents int) []row {
	var rows []row
	for n := 1; n <= incidents; n++ {
		rows = append(rows, incidentHistoryFor(seed, n)...)
	}
	return rows
}

// incidentHistoryFor returns the rows of incident number n for a seed.
func incidentHistoryFor(seed uint64, n int) []row {
	return incidentHistory(rand.New(rand.NewPCG(seed, uint64(n))), n)
}

// incidentHistory returns the rows of incident number n.
func incidentHistory(rng *rand.Rand, n int) []row {
	name := guid(rng)
	created := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(n) * 37 * time.Minute).
		Add(time.Duration(rng.IntN(10_000_000)) * 100) // Kusto ticks: 7 fraction digits
	owner := person(rng)
	owner["assignedTo"] = owner["name"]
	owner["ownerType"] = "User"
	delete(owner, "name")
	alerts := []any{guid(rng), guid(rng)}
	var tasks []any
	newTask := func(title string, at time.Time, by map[string]any) {
		tasks = append(tasks, map[string]any{
			"taskId":              guid(rng),
			"title":               title,
			"description":         "Look for sign-ins from unfamiliar locations in the 24 hours before the alert.",
			"status":              "New",
			"createdTimeUtc":      at.Format(time.RFC3339Nano),
			"lastModifiedTimeUtc": at.Format(time.RFC3339Nano),
			"createdBy":           by,
			"lastModifiedBy":      by,
		})
	}
	// An automation rule adds the playbook's tasks when the incident is created.
	automation := map[string]any{"objectId": guid(rng), "email": nil, "name": "Phishing triage rule", "userPrincipalName": nil}
	for _, title := range []string{"Reset the user's password", "Revoke the user's sessions", "Check the sign-in logs of the affected user"} {
		newTask(title, created, automation)
	}
	var rows []row
	changes := 3 + rng.IntN(5)
	for c := 0; c < changes; c++ {
		at := created.Add(time.Duration(c) * 13 * time.Minute)
		switch {
		case c == 0:
		case c%2 == 0:
			newTask(fmt.Sprintf("Step %d: interview the user", len(tasks)+1), at, person(rng))
		default:
			task := tasks[rng.IntN(len(tasks))].(map[string]any)
			task["status"] = "Completed"
			task["lastCompletedTimeUtc"] = at.Format(time.RFC3339Nano)
			task["lastModifiedTimeUtc"] = at.Format(time.RFC3339Nano)
			task["lastModifiedBy"] = person(rng)
		}
		status := "Active"
		if c == 0 {
			status = "New"
		}
		r := row{
			"TenantId":               "6f1e3a52-8c1d-4f0e-9d3b-2a7c5e9b0f14",
			"TimeGenerated":          at,
			"IncidentName":           name,
			"Title":                  fmt.Sprintf("Suspicious sign-in activity for user %d", n),
			"Description":            "Multiple failed sign-ins followed by a success from a new country.\nInvestigate the account.",
			"Severity":               []string{"High", "Medium", "Low", "Informational"}[n%4],
			"Status":                 status,
			"Classification":         "",
			"ClassificationComment":  "",
			"ClassificationReason":   "",
			"Owner":                  owner,
			"ProviderName":           "Azure Sentinel",
			"ProviderIncidentId":     fmt.Sprint(n),
			"FirstActivityTime":      created.Add(-time.Hour),
			"LastActivityTime":       created.Add(-time.Minute),
			"FirstModifiedTime":      created,
			"LastModifiedTime":       at,
			"CreatedTime":            created,
			"ClosedTime":             nil,
			"IncidentNumber":         n,
			"RelatedAnalyticRuleIds": []any{guid(rng)},
			"AlertIds":               alerts,
			"BookmarkIds":            []any{},
			"Comments":               []any{},
			"Tasks":                  deepCopy(tasks),
			"Labels":                 []any{map[string]any{"labelName": "phishing", "labelType": "User"}},
			"IncidentUrl":            "https://portal.azure.com/#asset/Microsoft_Azure_Security_Insights/Incident/" + name,
			"AdditionalData": map[string]any{
				"alertsCount": 2, "bookmarksCount": 0, "commentsCount": 0,
				"alertProductNames": []any{"Azure Active Directory Identity Protection"},
				"tactics":           []any{"InitialAccess"}, "techniques": []any{"T1078"},
				"providerIncidentUrl": "https://security.microsoft.com/incidents/" + fmt.Sprint(n),
			},
			"ModifiedBy":   "Alert updated",
			"SourceSystem": "Azure",
			"Type":         "SecurityIncident",
			"_BilledSize":  1234.0 + float64(c),
			"_IsBillable":  "True",
		}
		if c == changes-1 && n%3 == 0 {
			r["Status"], r["Classification"], r["ClassificationReason"] = "Closed", "TruePositive", "SuspiciousActivity"
			r["ClosedTime"] = at
		}
		rows = append(rows, r)
	}
	return rows
}

func deepCopy(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// exportValue is how Log Analytics exports a value in JSON: datetimes as
// ISO 8601 with 7 fraction digits, dynamic values as JSON text in strings
// (or, with nativeDynamic, as JSON values).
func exportValue(c engine.Column, v any, nativeDynamic bool) any {
	switch x := v.(type) {
	case nil:
		return nil
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.0000000Z")
	}
	if c.Type == engine.Dynamic && !nativeDynamic {
		b, _ := json.Marshal(v)
		return string(b)
	}
	return v
}

// orderedObject writes the values of r as a JSON object in column order.
func orderedObject(w *bytes.Buffer, r row, nativeDynamic bool) {
	w.WriteByte('{')
	first := true
	for _, c := range engine.SecurityIncident().Columns {
		v, ok := r[c.Name]
		if !ok {
			continue
		}
		if !first {
			w.WriteByte(',')
		}
		first = false
		k, _ := json.Marshal(c.Name)
		w.Write(k)
		w.WriteByte(':')
		b, _ := json.Marshal(exportValue(c, v, nativeDynamic))
		w.Write(b)
	}
	w.WriteByte('}')
}

func writeNDJSON(w io.Writer, rows []row, nativeDynamic bool) {
	var b bytes.Buffer
	for _, r := range rows {
		b.Reset()
		orderedObject(&b, r, nativeDynamic)
		b.WriteByte('\n')
		w.Write(b.Bytes())
	}
}

func toNDJSON(rows []row) []byte {
	var b bytes.Buffer
	writeNDJSON(&b, rows, false)
	return b.Bytes()
}

// toJSONArray writes the rows as a pretty-printed JSON array with dynamic
// values as JSON values.
func toJSONArray(rows []row) []byte {
	var b, out bytes.Buffer
	b.WriteString("[\n")
	for i, r := range rows {
		if i > 0 {
			b.WriteString(",\n")
		}
		orderedObject(&b, r, true)
	}
	b.WriteString("\n]\n")
	if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
		panic(err)
	}
	return out.Bytes()
}

// toAPIResponse writes the rows as a Log Analytics query API response.
func toAPIResponse(rows []row) []byte {
	kqlType := map[engine.Type]string{engine.String: "string", engine.DateTime: "datetime",
		engine.Int: "int", engine.Real: "real", engine.Dynamic: "dynamic"}
	type column struct {
		Name string `json:"name"`
		Type string `json:"type"`
	}
	cols := engine.SecurityIncident().Columns
	var columns []column
	for _, c := range cols {
		columns = append(columns, column{c.Name, kqlType[c.Type]})
	}
	var values [][]any
	for _, r := range rows {
		vals := make([]any, len(cols))
		for i, c := range cols {
			vals[i] = exportValue(c, r[c.Name], false)
		}
		values = append(values, vals)
	}
	b, err := json.Marshal(map[string]any{"tables": []any{map[string]any{
		"name": "PrimaryResult", "columns": columns, "rows": values}}})
	if err != nil {
		panic(err)
	}
	return b
}

// toCSV writes the rows as the Logs page's CSV export: datetime headers
// carry " [UTC]", dynamic values are JSON text, nulls are empty.
func toCSV(rows []row) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	cols := engine.SecurityIncident().Columns
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = c.Name
		if c.Type == engine.DateTime {
			header[i] += " [UTC]"
		}
	}
	w.Write(header)
	for _, r := range rows {
		rec := make([]string, len(cols))
		for i, c := range cols {
			switch v := exportValue(c, r[c.Name], false).(type) {
			case nil:
			case string:
				rec[i] = v
			default:
				rec[i] = fmt.Sprint(v)
			}
		}
		w.Write(rec)
	}
	w.Flush()
	return b.Bytes()
}
