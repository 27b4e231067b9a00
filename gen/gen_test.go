package gen_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/socq/socq/gen"
)

func generate(t *testing.T, opts gen.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := gen.Write(&buf, opts); err != nil {
		t.Fatalf("Write(%+v): %v", opts, err)
	}
	return buf.Bytes()
}

func TestDeterministic(t *testing.T) {
	opts := gen.Options{Incidents: 150, Seed: 42, Days: 14}
	a, b := generate(t, opts), generate(t, opts)
	if !bytes.Equal(a, b) {
		t.Fatal("two runs with the same options differ")
	}
	opts.Seed = 43
	if bytes.Equal(a, generate(t, opts)) {
		t.Fatal("different seeds gave the same output")
	}
	// A zero Start means DefaultStart.
	opts.Seed = 42
	opts.Start = gen.DefaultStart
	if !bytes.Equal(a, generate(t, opts)) {
		t.Fatal("explicit DefaultStart differs from zero Start")
	}
}

// TestFirstNumber: FirstNumber renumbers the same incidents.
func TestFirstNumber(t *testing.T) {
	rows := func(opts gen.Options) []map[string]any {
		var out []map[string]any
		sc := bufio.NewScanner(bytes.NewReader(generate(t, opts)))
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			var r map[string]any
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatal(err)
			}
			out = append(out, r)
		}
		return out
	}
	from1 := rows(gen.Options{Incidents: 30, Seed: 5, Days: 7})
	from405200 := rows(gen.Options{Incidents: 30, Seed: 5, Days: 7, FirstNumber: 405200})
	if len(from1) != len(from405200) {
		t.Fatalf("%d rows, renumbered %d", len(from1), len(from405200))
	}
	for i, r := range from1 {
		s := from405200[i]
		if s["IncidentNumber"].(float64) != r["IncidentNumber"].(float64)+405199 || s["IncidentName"] != r["IncidentName"] || s["Tasks"] != r["Tasks"] {
			t.Fatalf("row %d: number %v name %v, renumbered %v %v", i, r["IncidentNumber"], r["IncidentName"], s["IncidentNumber"], s["IncidentName"])
		}
	}
}

func TestOptionsRejected(t *testing.T) {
	for _, opts := range []gen.Options{{Incidents: -1}, {Days: -3}, {Incidents: 10, FirstNumber: -1}, {Incidents: 10, FirstNumber: 1<<31 - 5}} {
		if err := gen.Write(&bytes.Buffer{}, opts); err == nil {
			t.Errorf("Write(%+v) succeeded, want an error", opts)
		}
	}
}

// columnTypes is the SecurityIncident schema (name and KQL type, in table
// order) as engine/catalog.go declares it. The test keeps its own copy so that
// gen's tests need neither DuckDB nor a building engine package;
// TestColumnsMatchCatalog checks the copy against the catalog's source.
var columnTypes = []struct{ name, typ string }{
	{"TenantId", "String"}, {"TimeGenerated", "DateTime"}, {"IncidentName", "String"},
	{"Title", "String"}, {"Description", "String"}, {"Severity", "String"}, {"Status", "String"},
	{"Classification", "String"}, {"ClassificationComment", "String"}, {"ClassificationReason", "String"},
	{"Owner", "Dynamic"}, {"ProviderName", "String"}, {"ProviderIncidentId", "String"},
	{"FirstActivityTime", "DateTime"}, {"LastActivityTime", "DateTime"}, {"FirstModifiedTime", "DateTime"},
	{"LastModifiedTime", "DateTime"}, {"CreatedTime", "DateTime"}, {"ClosedTime", "DateTime"},
	{"IncidentNumber", "Int"}, {"RelatedAnalyticRuleIds", "Dynamic"}, {"AlertIds", "Dynamic"},
	{"BookmarkIds", "Dynamic"}, {"Comments", "Dynamic"}, {"Tasks", "Dynamic"}, {"Labels", "Dynamic"},
	{"IncidentUrl", "String"}, {"AdditionalData", "Dynamic"}, {"ModifiedBy", "String"},
	{"SourceSystem", "String"}, {"Type", "String"}, {"_BilledSize", "Real"}, {"_IsBillable", "String"},
}

func TestColumns(t *testing.T) {
	var want []string
	for _, c := range columnTypes {
		want = append(want, c.name)
	}
	if got := gen.Columns(); !slices.Equal(got, want) {
		t.Fatalf("gen.Columns() = %v\nwant %v", got, want)
	}
}

// TestColumnsMatchCatalog reads the {"Name", Type} pairs of the
// SecurityIncident function in engine/catalog.go, so a change to the catalog
// that gen does not follow fails here.
func TestColumnsMatchCatalog(t *testing.T) {
	const path = "../engine/catalog.go"
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Skipf("cannot read the catalog: %v", err)
	}
	var got []string
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Name.Name != "SecurityIncident" {
			continue
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok || len(lit.Elts) != 2 {
				return true
			}
			name, ok1 := lit.Elts[0].(*ast.BasicLit)
			typ, ok2 := lit.Elts[1].(*ast.Ident)
			if ok1 && ok2 && name.Kind == token.STRING {
				s, _ := strconv.Unquote(name.Value)
				got = append(got, s+" "+typ.Name)
			}
			return true
		})
	}
	if got == nil {
		t.Skipf("no SecurityIncident columns found in %s", path)
	}
	var want []string
	for _, c := range columnTypes {
		want = append(want, c.name+" "+c.typ)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s declares\n%v\ngen's tests expect\n%v", path, got, want)
	}
}

var (
	datetimeRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$`)
	guidRE     = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// row is one decoded NDJSON line: the raw values by column, and the dynamic
// columns decoded from their JSON text.
type row struct {
	line   int
	values map[string]any
	tasks  []gen.Task
	owner  gen.Owner
	labels []gen.Label
	notes  []gen.Comment
	extra  gen.AdditionalData
}

func (r row) str(col string) string { s, _ := r.values[col].(string); return s }

func (r row) time(t *testing.T, col string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, r.str(col))
	if err != nil {
		t.Fatalf("line %d: %s: %v", r.line, col, err)
	}
	return v
}

// parse checks the export shape of every line and decodes it.
func parse(t *testing.T, data []byte) []row {
	t.Helper()
	columns := gen.Columns()
	types := map[string]string{}
	for _, c := range columnTypes {
		types[c.name] = c.typ
	}
	var rows []row
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		keys, values, err := decodeOrdered(sc.Bytes())
		if err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		if !slices.Equal(keys, columns) {
			t.Fatalf("line %d: keys %v, want %v", n, keys, columns)
		}
		r := row{line: n, values: values}
		for _, col := range columns {
			v := values[col]
			switch types[col] {
			case "String":
				if _, ok := v.(string); !ok {
					t.Fatalf("line %d: %s = %#v, want a string", n, col, v)
				}
			case "DateTime":
				s, ok := v.(string)
				nullable := col == "FirstModifiedTime" || col == "ClosedTime"
				if !(ok && datetimeRE.MatchString(s)) && !(v == nil && nullable) {
					t.Fatalf("line %d: %s = %#v, want a datetime with 7 fractional digits", n, col, v)
				}
			case "Int", "Real":
				if _, ok := v.(json.Number); !ok {
					t.Fatalf("line %d: %s = %#v, want a number", n, col, v)
				}
			case "Dynamic":
				s, ok := v.(string)
				if !ok || !json.Valid([]byte(s)) {
					t.Fatalf("line %d: %s = %#v, want JSON text", n, col, v)
				}
			}
		}
		for col, dst := range map[string]any{
			"Tasks": &r.tasks, "Owner": &r.owner, "Labels": &r.labels, "Comments": &r.notes, "AdditionalData": &r.extra,
		} {
			if err := json.Unmarshal([]byte(r.str(col)), dst); err != nil {
				t.Fatalf("line %d: %s: %v", n, col, err)
			}
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// decodeOrdered decodes one JSON object, keeping its key order.
func decodeOrdered(line []byte) ([]string, map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, fmt.Errorf("not a JSON object")
	}
	var keys []string
	values := map[string]any{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		key := tok.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, nil, fmt.Errorf("%s: %v", key, err)
		}
		keys = append(keys, key)
		values[key] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, err
	}
	if dec.More() {
		return nil, nil, fmt.Errorf("trailing data after the object")
	}
	return keys, values, nil
}

func TestHistory(t *testing.T) {
	for _, seed := range []int64{1, 2, 3} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			opts := gen.Options{Incidents: 300, Seed: seed, Days: 21}
			checkHistory(t, opts, parse(t, generate(t, opts)))
		})
	}
}

// closePairs are the classification|reason pairs the portal offers.
var closePairs = map[string]bool{
	"TruePositive|SuspiciousActivity":      true,
	"BenignPositive|SuspiciousButExpected": true,
	"FalsePositive|IncorrectAlertLogic":    true,
	"FalsePositive|InaccurateData":         true,
	"Undetermined|":                        true,
}

func checkHistory(t *testing.T, opts gen.Options, rows []row) {
	end := gen.DefaultStart.AddDate(0, 0, opts.Days)
	byIncident := map[int][]row{}
	var order []int // IncidentNumbers by first appearance
	var prev time.Time
	for _, r := range rows {
		at := r.time(t, "TimeGenerated")
		if at.Before(prev) {
			t.Fatalf("line %d: TimeGenerated %v before the previous row's %v", r.line, at, prev)
		}
		prev = at
		if at.Before(gen.DefaultStart) || !at.Before(end) {
			t.Fatalf("line %d: TimeGenerated %v outside the period", r.line, at)
		}
		if r.str("LastModifiedTime") != r.str("TimeGenerated") {
			t.Errorf("line %d: LastModifiedTime != TimeGenerated", r.line)
		}
		if r.str("TenantId") != gen.TenantID || r.str("SourceSystem") != "Azure" || r.str("Type") != "SecurityIncident" {
			t.Errorf("line %d: wrong constant columns", r.line)
		}
		if !guidRE.MatchString(r.str("IncidentName")) {
			t.Errorf("line %d: IncidentName %q is not a GUID", r.line, r.str("IncidentName"))
		}
		n, _ := r.values["IncidentNumber"].(json.Number).Int64()
		if _, seen := byIncident[int(n)]; !seen {
			order = append(order, int(n))
		}
		byIncident[int(n)] = append(byIncident[int(n)], r)
	}
	for i, n := range order {
		if n != i+1 {
			t.Fatalf("incident numbers in order of creation: %v..., want 1, 2, 3, ...", order[:i+1])
		}
	}
	if len(order) != opts.Incidents {
		t.Fatalf("%d incidents, want %d", len(order), opts.Incidents)
	}
	perIncident := float64(len(rows)) / float64(len(order))
	if perIncident < 6 || perIncident > 10 {
		t.Errorf("%.2f rows per incident, want 6 to 10", perIncident)
	}

	counts := map[string]int{}
	for _, n := range order {
		checkIncident(t, byIncident[n], counts)
	}
	t.Logf("%d rows, %.2f per incident; %v", len(rows), perIncident, counts)
	for _, what := range []string{
		"High", "Medium", "Low", "Informational", "Closed", "open", "unassigned", "assigned",
		"task by automation", "task by analyst", "completed by playbook", "completed", "reopened", "deleted",
		"label User", "label AutoAssigned", "comment", "Microsoft 365 Defender",
	} {
		if counts[what] == 0 {
			t.Errorf("no %s in the history", what)
		}
	}
}

// checkIncident checks the rows of one incident and counts what they show.
func checkIncident(t *testing.T, rows []row, counts map[string]int) {
	first := rows[0]
	counts[first.str("Severity")]++
	counts[first.str("ProviderName")]++
	if first.str("Status") != "New" || first.values["FirstModifiedTime"] != nil {
		t.Errorf("line %d: creation row must be New with FirstModifiedTime null", first.line)
	}
	if first.str("CreatedTime") != first.str("TimeGenerated") {
		t.Errorf("line %d: creation row CreatedTime != TimeGenerated", first.line)
	}
	if last := rows[len(rows)-1]; last.str("Status") == "Closed" {
		counts["Closed"]++
	} else {
		counts["open"]++
	}

	type taskState struct {
		status  string
		deleted bool // shown as Deleted in an earlier row
	}
	tasks := map[string]*taskState{}
	for i, r := range rows {
		if r.str("CreatedTime") != first.str("CreatedTime") || r.str("IncidentName") != first.str("IncidentName") {
			t.Errorf("line %d: CreatedTime or IncidentName changed", r.line)
		}
		if i > 0 && r.str("FirstModifiedTime") != rows[1].str("TimeGenerated") {
			t.Errorf("line %d: FirstModifiedTime %q, want the second row's time %q", r.line, r.str("FirstModifiedTime"), rows[1].str("TimeGenerated"))
		}
		closed := r.str("Status") == "Closed"
		if closed != (r.values["ClosedTime"] != nil) || closed != (r.str("Classification") != "") {
			t.Errorf("line %d: Status %s with ClosedTime %v and Classification %q", r.line, r.str("Status"), r.values["ClosedTime"], r.str("Classification"))
		}
		if closed {
			if !closePairs[r.str("Classification")+"|"+r.str("ClassificationReason")] {
				t.Errorf("line %d: classification pair %s/%s is not one the portal offers", r.line, r.str("Classification"), r.str("ClassificationReason"))
			}
		}
		switch o := r.owner; {
		case o.OwnerType == "Unknown" && o.ObjectID == nil && o.Email == nil && o.AssignedTo == nil && o.UserPrincipalName == nil:
			counts["unassigned"]++
		case o.OwnerType == "User" && o.ObjectID != nil && o.Email != nil && o.AssignedTo != nil && o.UserPrincipalName != nil:
			counts["assigned"]++
		default:
			t.Errorf("line %d: malformed Owner %s", r.line, r.str("Owner"))
		}
		if r.extra.CommentsCount != len(r.notes) {
			t.Errorf("line %d: commentsCount %d, %d comments", r.line, r.extra.CommentsCount, len(r.notes))
		}
		counts["comment"] += len(r.notes)
		for _, l := range r.labels {
			counts["label "+l.LabelType]++
		}

		present := map[string]bool{}
		for _, task := range r.tasks {
			present[task.TaskID] = true
			created, modified := time.Time(task.CreatedTimeUTC), time.Time(task.LastModifiedTimeUTC)
			if modified.Before(created) {
				t.Errorf("line %d: task %s lastModifiedTimeUtc before createdTimeUtc", r.line, task.TaskID)
			}
			if task.Status == gen.TaskCompleted && task.LastCompletedTimeUTC == nil {
				t.Errorf("line %d: completed task %s has no lastCompletedTimeUtc", r.line, task.TaskID)
			}
			st := tasks[task.TaskID]
			switch {
			case st == nil:
				if task.Status != gen.TaskNew || !modified.Equal(created) {
					t.Errorf("line %d: task %s first appears as %s", r.line, task.TaskID, task.Status)
				}
				if task.CreatedBy.Email == nil {
					counts["task by automation"]++
				} else {
					counts["task by analyst"]++
				}
				st = &taskState{status: task.Status}
				tasks[task.TaskID] = st
			case st.deleted:
				t.Errorf("line %d: task %s appears again after it was deleted", r.line, task.TaskID)
			case st.status != task.Status:
				switch task.Status {
				case gen.TaskCompleted:
					counts["completed"]++
					if task.LastModifiedBy.Email == nil {
						counts["completed by playbook"]++
					}
				case gen.TaskNew:
					counts["reopened"]++
				case gen.TaskDeleted:
					counts["deleted"]++
				}
			}
			st.status = task.Status
			if task.Status == gen.TaskDeleted {
				st.deleted = true
			}
		}
		for id, st := range tasks {
			if !present[id] && !st.deleted {
				t.Errorf("line %d: task %s vanished without being deleted", r.line, id)
			}
		}
	}
}
