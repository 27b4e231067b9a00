// Package verify checks that a socq database holds what socq promises: the
// schema this socq writes, snapshot rows that parse (required fields set,
// dynamic columns of the shapes Sentinel gives them), incident numbers and
// names that match one to one, and tasks that stay gone once deleted.
//
// Each check is a query run through package engine; a check reports
// findings, each naming the rows it is about, and never changes the
// database.
package verify

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/socq/socq/engine"
)

// Finding is one thing wrong with a database.
type Finding struct {
	Check   string // the check that found it: "schema", "rows", "incident numbers", "deleted tasks"
	Message string // what is wrong, and where
}

func (f Finding) String() string { return f.Check + ": " + f.Message }

// Report is what Run found.
type Report struct {
	SchemaVersion int
	Rows          int // snapshot rows
	Incidents     int // distinct IncidentName values
	Findings      []Finding
	// Truncated counts, per check, the findings left out beyond
	// MaxFindings.
	Truncated map[string]int
}

// MaxFindings is how many findings each check lists; the rest are counted.
const MaxFindings = 50

// dynamicShapes is the JSON type each dynamic column of SecurityIncident
// holds when set, as Sentinel writes it.
var dynamicShapes = []struct{ column, jsonType string }{
	{"Owner", "OBJECT"},
	{"AdditionalData", "OBJECT"},
	{"RelatedAnalyticRuleIds", "ARRAY"},
	{"AlertIds", "ARRAY"},
	{"BookmarkIds", "ARRAY"},
	{"Comments", "ARRAY"},
	{"Tasks", "ARRAY"},
	{"Labels", "ARRAY"},
}

// taskStatuses are the statuses a task item may have.
var taskStatuses = []string{"New", "Completed", "Deleted"}

// Run checks the database db. An error means a check could not run; what
// the checks find is in the report.
func Run(ctx context.Context, db *engine.DB) (*Report, error) {
	rep := &Report{Truncated: map[string]int{}}
	var err error
	if rep.SchemaVersion, err = db.SchemaVersion(ctx); err != nil {
		return nil, err
	}
	if rep.SchemaVersion != engine.SchemaVersion {
		rep.add("schema", fmt.Sprintf("schema version %d, this socq writes %d", rep.SchemaVersion, engine.SchemaVersion))
	}
	schemaOK, err := checkColumns(ctx, db, rep)
	if err != nil || !schemaOK {
		return rep, err // the other checks read the columns
	}
	err = db.Tx(ctx, func(tx *engine.Tx) error {
		if err := scan(ctx, tx, `SELECT count(*), count(DISTINCT "IncidentName") FROM "SecurityIncident"`, func(r *sql.Rows) error {
			return r.Scan(&rep.Rows, &rep.Incidents)
		}); err != nil {
			return err
		}
		return runChecks(ctx, tx, rep, checks())
	})
	return rep, err
}

// IncidentNumbers runs the "incident numbers" check alone: numbers that
// name more than one incident, incidents with more than one number. socq
// ingest runs it after loading, because Sentinel's numbers and the numbers
// socq gives the incidents it records can meet in one database.
func IncidentNumbers(ctx context.Context, db *engine.DB) ([]Finding, error) {
	var numbers []check
	for _, c := range checks() {
		if c.name == "incident numbers" {
			numbers = append(numbers, c)
		}
	}
	rep := &Report{Truncated: map[string]int{}}
	err := db.Tx(ctx, func(tx *engine.Tx) error { return runChecks(ctx, tx, rep, numbers) })
	return rep.Findings, err
}

func runChecks(ctx context.Context, tx *engine.Tx, rep *Report, cs []check) error {
	for _, c := range cs {
		err := scan(ctx, tx, c.sql, func(r *sql.Rows) error {
			var msg string
			if err := r.Scan(&msg); err != nil {
				return err
			}
			rep.add(c.name, msg)
			return nil
		})
		if err != nil {
			return fmt.Errorf("check %s: %w", c.name, err)
		}
	}
	return nil
}

func (r *Report) add(check, msg string) {
	n := 0
	for _, f := range r.Findings {
		if f.Check == check {
			n++
		}
	}
	if n >= MaxFindings {
		r.Truncated[check]++
		return
	}
	r.Findings = append(r.Findings, Finding{Check: check, Message: msg})
}

// checkColumns compares the columns of SecurityIncident with the catalog's.
func checkColumns(ctx context.Context, db *engine.DB, rep *Report) (bool, error) {
	want := engine.SecurityIncident()
	have := map[string]string{}
	err := db.Tx(ctx, func(tx *engine.Tx) error {
		return scan(ctx, tx, `SELECT column_name, data_type FROM duckdb_columns()
			WHERE table_name = 'SecurityIncident' AND database_name = current_database()`, func(r *sql.Rows) error {
			var name, typ string
			if err := r.Scan(&name, &typ); err != nil {
				return err
			}
			have[name] = typ
			return nil
		})
	})
	if err != nil {
		return false, fmt.Errorf("read the columns: %w", err)
	}
	if len(have) == 0 {
		rep.add("schema", "no SecurityIncident table")
		return false, nil
	}
	ok := true
	for _, c := range want.Columns {
		typ, found := have[c.Name]
		switch {
		case !found:
			rep.add("schema", fmt.Sprintf("column %s is missing", c.Name))
			ok = false
		case !strings.EqualFold(typ, c.Type.SQLType()):
			rep.add("schema", fmt.Sprintf("column %s is %s, want %s", c.Name, typ, c.Type.SQLType()))
			ok = false
		}
		delete(have, c.Name)
	}
	for name := range have {
		rep.add("schema", fmt.Sprintf("column %s is not socq's", name))
	}
	return ok, nil
}

// check is one query; each row it returns is a finding's message.
type check struct{ name, sql string }

// where names a snapshot row in a finding.
const where = `'incident ' || coalesce(CAST("IncidentNumber" AS VARCHAR), '(no number)') || ' (' || "IncidentName" || ') at ' ||
	coalesce(replace(CAST("TimeGenerated" AS VARCHAR), ' ', 'T') || 'Z', '(no time)')`

func checks() []check {
	var shapes []string
	for _, s := range dynamicShapes {
		col := engine.QuoteIdent(s.column)
		shapes = append(shapes, fmt.Sprintf(`CASE WHEN %[1]s IS NOT NULL AND NOT json_valid(%[1]s) THEN '%[2]s is not valid JSON'
			WHEN %[1]s IS NOT NULL AND json_type(%[1]s) NOT IN ('%[3]s', 'NULL') THEN '%[2]s is ' || `+kind(`%[1]s`)+` || ', not %[4]s' END`,
			col, s.column, s.jsonType, article(strings.ToLower(s.jsonType))))
	}
	statuses := "'" + strings.Join(taskStatuses, "', '") + "'"
	return []check{
		{"rows", `SELECT ` + where + ` || ': ' || problem FROM (
SELECT *, unnest(list_filter([
	CASE WHEN "IncidentName" = '' THEN 'IncidentName is empty' END,
	CASE WHEN "TimeGenerated" IS NULL THEN 'TimeGenerated is not set' END,
	CASE WHEN "IncidentNumber" IS NULL THEN 'IncidentNumber is not set' END,
	CASE WHEN "LastModifiedTime" IS NULL THEN 'LastModifiedTime is not set' END,
	` + strings.Join(shapes, ",\n\t") + `
], x -> x IS NOT NULL)) AS problem
FROM "SecurityIncident")
ORDER BY "TimeGenerated", "IncidentName"`},
		// Task items: objects with a taskId, a title and a known status.
		{"rows", `SELECT ` + where + ` || ': task ' || (i - 1) || problem FROM (
SELECT *, unnest(list_filter([
	CASE WHEN json_type(task) <> 'OBJECT' THEN ' is ' || ` + kind("task") + ` || ', not an object' END,
	CASE WHEN json_type(task) = 'OBJECT' AND coalesce(task->>'taskId', '') = '' THEN ' has no taskId' END,
	CASE WHEN json_type(task) = 'OBJECT' AND coalesce(task->>'status', '') NOT IN (` + statuses + `)
		THEN ' has status ' || coalesce(to_json(task->>'status'), 'null') || ', not one of ` + strings.Join(taskStatuses, ", ") + `' END
], x -> x IS NOT NULL)) AS problem
FROM (SELECT *, unnest(CAST("Tasks" AS JSON[])) AS task, generate_subscripts(CAST("Tasks" AS JSON[]), 1) AS i
	FROM "SecurityIncident" WHERE json_valid("Tasks") AND json_type("Tasks") = 'ARRAY'))
ORDER BY "TimeGenerated", "IncidentName", i`},
		{"incident numbers", `SELECT 'incident ' || "IncidentNumber" || ' has ' || count(DISTINCT "IncidentName") || ' names: ' ||
	string_agg(DISTINCT "IncidentName", ', ' ORDER BY "IncidentName")
FROM "SecurityIncident" WHERE "IncidentNumber" IS NOT NULL AND "IncidentName" <> ''
GROUP BY "IncidentNumber" HAVING count(DISTINCT "IncidentName") > 1 ORDER BY "IncidentNumber"`},
		{"incident numbers", `SELECT 'incident ' || "IncidentName" || ' has ' || count(DISTINCT "IncidentNumber") || ' numbers: ' ||
	string_agg(DISTINCT CAST("IncidentNumber" AS VARCHAR), ', ' ORDER BY CAST("IncidentNumber" AS VARCHAR))
FROM "SecurityIncident" WHERE "IncidentNumber" IS NOT NULL AND "IncidentName" <> ''
GROUP BY "IncidentName" HAVING count(DISTINCT "IncidentNumber") > 1 ORDER BY "IncidentName"`},
		// A deleted task shows once with status Deleted, then disappears.
		{"deleted tasks", `WITH items AS (
	SELECT "IncidentNumber", "IncidentName", "TimeGenerated", task->>'taskId' AS task_id, task->>'status' AS status
	FROM (SELECT *, unnest(CAST("Tasks" AS JSON[])) AS task FROM "SecurityIncident"
		WHERE json_valid("Tasks") AND json_type("Tasks") = 'ARRAY')
	WHERE json_type(task) = 'OBJECT' AND coalesce(task->>'taskId', '') <> ''
), deleted AS (
	SELECT "IncidentName", task_id, min("TimeGenerated") AS at FROM items WHERE status = 'Deleted' GROUP BY ALL
)
SELECT ` + where + ` || ': task ' || i.task_id || ' is listed (' || i.status || ') after it was deleted at ' ||
	replace(CAST(d.at AS VARCHAR), ' ', 'T') || 'Z'
FROM items AS i JOIN deleted AS d USING ("IncidentName", task_id)
WHERE i."TimeGenerated" > d.at
ORDER BY i."TimeGenerated", i."IncidentName", i.task_id`},
	}
}

// kind is SQL naming the JSON type of the JSON value json as people do.
func kind(json string) string {
	return `CASE json_type(` + json + `) WHEN 'VARCHAR' THEN 'a string' WHEN 'BOOLEAN' THEN 'a bool' WHEN 'NULL' THEN 'null'
		WHEN 'ARRAY' THEN 'an array' WHEN 'OBJECT' THEN 'an object' ELSE 'a number' END`
}

func article(word string) string {
	if strings.ContainsRune("aeiou", rune(word[0])) {
		return "an " + word
	}
	return "a " + word
}

// scan runs query and calls each for every row.
func scan(ctx context.Context, tx *engine.Tx, query string, each func(*sql.Rows) error) error {
	rows, err := tx.Query(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
