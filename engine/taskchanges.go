package engine

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Task changes are derived from the snapshot rows of SecurityIncident, the
// way Sentinel's "Audit and track changes to incident tasks" article does it:
// unnest Tasks in every snapshot, then compare each task with its state in
// the previous snapshot of the same incident. TaskChangesSQL is the one
// derivation; `socq history`, `socq export --table tasks` and the web page
// all read it.

// Task change kinds, the values of the Change column.
const (
	ChangeAdded     = "added"     // the task's first snapshot
	ChangeCompleted = "completed" // status became Completed
	ChangeReopened  = "reopened"  // status went from Completed back to New
	ChangeEdited    = "edited"    // title, description or lastModifiedTimeUtc changed, status did not
	ChangeDeleted   = "deleted"   // status became Deleted (the task's last snapshot)
	ChangeUnchanged = "unchanged" // the task is in the snapshot but did not change
)

// TaskChangeColumns are the columns of TaskChangesSQL, in order, with their
// KQL types. Owner is the owner's display name (assignedTo), else their UPN or
// email; "" when unassigned. Times of the task are null when absent.
func TaskChangeColumns() []Column {
	return []Column{
		{"IncidentNumber", Int},
		{"IncidentName", String},
		{"Title", String},
		{"Status", String},
		{"Severity", String},
		{"Owner", String},
		{"taskId", String},
		{"TaskTitle", String},
		{"TaskStatus", String},
		{"createdTimeUtc", DateTime},
		{"lastModifiedTimeUtc", DateTime},
		{"lastCompletedTimeUtc", DateTime},
		{"CreatedByName", String},
		{"CreatedByUPN", String},
		{"LastModifiedByName", String},
		{"LastModifiedByUPN", String},
		{"TimeGenerated", DateTime},
		{"Change", String},
	}
}

// taskChangesCTE computes every column of TaskChangeColumns plus the
// internal ones (TaskPosition, LastModifiedByEmail) used for ordering and
// filtering. It names the table through QuoteIdent and contains no
// user text.
func taskChangesCTE() string {
	si := QuoteIdent(SecurityIncidentTable)
	str := func(path string) string { return "coalesce(json_extract_string(task, '" + path + "'), '')" }
	when := func(path string) string { return ParseDateTimeSQL("json_extract_string(task, '" + path + "')") }
	return `socq_task_lists AS (
  SELECT "IncidentNumber", "IncidentName", "Title", "Status", "Severity",
    coalesce(nullif(json_extract_string("Owner", '$.assignedTo'), ''),
             nullif(json_extract_string("Owner", '$.userPrincipalName'), ''),
             nullif(json_extract_string("Owner", '$.email'), ''), '') AS "Owner",
    "TimeGenerated",
    CASE WHEN json_type("Tasks") = 'ARRAY' THEN CAST("Tasks" AS JSON[]) END AS task_list
  FROM ` + si + `
),
socq_task_rows AS (
  SELECT "IncidentNumber", "IncidentName", "Title", "Status", "Severity", "Owner", "TimeGenerated",
    unnest(task_list) AS task, unnest(range(1, len(task_list) + 1)) AS "TaskPosition"
  FROM socq_task_lists
  WHERE len(task_list) > 0
),
socq_task_states AS (
  SELECT "IncidentNumber", "IncidentName", "Title", "Status", "Severity", "Owner",
    ` + str("$.taskId") + ` AS "taskId",
    ` + str("$.title") + ` AS "TaskTitle",
    ` + str("$.status") + ` AS "TaskStatus",
    json_extract_string(task, '$.description') AS task_description,
    ` + when("$.createdTimeUtc") + ` AS "createdTimeUtc",
    ` + when("$.lastModifiedTimeUtc") + ` AS "lastModifiedTimeUtc",
    ` + when("$.lastCompletedTimeUtc") + ` AS "lastCompletedTimeUtc",
    ` + str("$.createdBy.name") + ` AS "CreatedByName",
    ` + str("$.createdBy.userPrincipalName") + ` AS "CreatedByUPN",
    ` + str("$.lastModifiedBy.name") + ` AS "LastModifiedByName",
    ` + str("$.lastModifiedBy.userPrincipalName") + ` AS "LastModifiedByUPN",
    ` + str("$.lastModifiedBy.email") + ` AS "LastModifiedByEmail",
    "TimeGenerated", "TaskPosition"
  FROM socq_task_rows
),
socq_task_windows AS (
  SELECT *,
    row_number() OVER w AS task_seen,
    lag("TaskStatus") OVER w AS prev_status,
    lag("TaskTitle") OVER w AS prev_title,
    lag(task_description) OVER w AS prev_description,
    lag("lastModifiedTimeUtc") OVER w AS prev_modified
  FROM socq_task_states
  WINDOW w AS (PARTITION BY "IncidentName", "taskId" ORDER BY "TimeGenerated")
),
socq_task_changes AS (
  SELECT "IncidentNumber", "IncidentName", "Title", "Status", "Severity", "Owner",
    "taskId", "TaskTitle", "TaskStatus", "createdTimeUtc", "lastModifiedTimeUtc", "lastCompletedTimeUtc",
    "CreatedByName", "CreatedByUPN", "LastModifiedByName", "LastModifiedByUPN", "TimeGenerated",
    CASE
      WHEN "TaskStatus" = 'Deleted' AND prev_status IS DISTINCT FROM 'Deleted' THEN '` + ChangeDeleted + `'
      WHEN task_seen = 1 THEN '` + ChangeAdded + `'
      WHEN "TaskStatus" = 'Completed' AND prev_status IS DISTINCT FROM 'Completed' THEN '` + ChangeCompleted + `'
      WHEN "TaskStatus" = 'New' AND prev_status = 'Completed' THEN '` + ChangeReopened + `'
      WHEN "TaskStatus" <> 'Deleted' AND ("TaskTitle" IS DISTINCT FROM prev_title
        OR task_description IS DISTINCT FROM prev_description
        OR "lastModifiedTimeUtc" IS DISTINCT FROM prev_modified) THEN '` + ChangeEdited + `'
      ELSE '` + ChangeUnchanged + `'
    END AS "Change",
    "TaskPosition", "LastModifiedByEmail"
  FROM socq_task_windows
)`
}

// taskChangeSelectList is the public column list of the derivation.
func taskChangeSelectList() string {
	cols := TaskChangeColumns()
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = QuoteIdent(c.Name)
	}
	return strings.Join(names, ", ")
}

// TaskChangesSQL is a SELECT of one row per task per snapshot in which the
// task appears, with the columns of TaskChangeColumns, ordered by
// TimeGenerated, IncidentNumber and the task's position in Tasks. It takes no
// parameters, so it can sit inside `COPY (…) TO`. A deleted task has one row
// with TaskStatus Deleted and Change "deleted", then no more rows.
func TaskChangesSQL() string {
	return "WITH " + taskChangesCTE() + "\nSELECT " + taskChangeSelectList() +
		"\nFROM socq_task_changes\nORDER BY \"TimeGenerated\", \"IncidentNumber\", \"TaskPosition\""
}

// TaskChange is one row of TaskChangesSQL. Zero times stand for null.
type TaskChange struct {
	IncidentNumber       int64
	IncidentName         string
	Title                string // the incident's title
	Status               string // the incident's status
	Severity             string
	Owner                string
	TaskID               string
	TaskTitle            string
	TaskStatus           string
	CreatedTimeUTC       time.Time
	LastModifiedTimeUTC  time.Time
	LastCompletedTimeUTC time.Time
	CreatedByName        string
	CreatedByUPN         string
	LastModifiedByName   string
	LastModifiedByUPN    string
	TimeGenerated        time.Time // of the snapshot
	Change               string    // one of the Change* constants
}

// TaskChangeFilter narrows DB.TaskChanges. Filters apply after the changes
// are derived from the whole history, so a task's first row in the window
// is "added" only if it was added there. The zero value selects every row.
type TaskChangeFilter struct {
	IncidentNumber int64     // 0: every incident
	IncidentName   string    // "": every incident
	Since, Until   time.Time // snapshot TimeGenerated >= Since and < Until; zero: unbounded
	// By keeps changes whose task lastModifiedBy name, UPN or email equals it
	// (case-insensitively).
	By string
	// ChangesOnly drops the "unchanged" rows.
	ChangesOnly bool
}

// TaskChanges runs the derivation with filter applied.
func (db *DB) TaskChanges(ctx context.Context, filter TaskChangeFilter) ([]TaskChange, error) {
	var where []string
	var args []any
	if filter.IncidentNumber != 0 {
		where = append(where, `"IncidentNumber" = ?`)
		args = append(args, filter.IncidentNumber)
	}
	if filter.IncidentName != "" {
		where = append(where, `"IncidentName" = ?`)
		args = append(args, filter.IncidentName)
	}
	if !filter.Since.IsZero() {
		where = append(where, `"TimeGenerated" >= ?`)
		args = append(args, filter.Since.UTC())
	}
	if !filter.Until.IsZero() {
		where = append(where, `"TimeGenerated" < ?`)
		args = append(args, filter.Until.UTC())
	}
	if filter.By != "" {
		where = append(where, `lower(?) IN (lower("LastModifiedByName"), lower("LastModifiedByUPN"), lower("LastModifiedByEmail"))`)
		args = append(args, filter.By)
	}
	if filter.ChangesOnly {
		where = append(where, `"Change" <> '`+ChangeUnchanged+`'`)
	}
	q := "WITH " + taskChangesCTE() + "\nSELECT " + taskChangeSelectList() + "\nFROM socq_task_changes"
	if len(where) > 0 {
		q += "\nWHERE " + strings.Join(where, " AND ")
	}
	q += "\nORDER BY \"TimeGenerated\", \"IncidentNumber\", \"TaskPosition\""
	rows, err := db.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("task changes: %w", err)
	}
	defer rows.Close()
	var out []TaskChange
	for rows.Next() {
		var c TaskChange
		var number sql.NullInt64
		var created, modified, completed sql.NullTime
		if err := rows.Scan(&number, &c.IncidentName, &c.Title, &c.Status, &c.Severity, &c.Owner,
			&c.TaskID, &c.TaskTitle, &c.TaskStatus, &created, &modified, &completed,
			&c.CreatedByName, &c.CreatedByUPN, &c.LastModifiedByName, &c.LastModifiedByUPN,
			&c.TimeGenerated, &c.Change); err != nil {
			return nil, fmt.Errorf("task changes: read row: %w", err)
		}
		c.IncidentNumber = number.Int64
		c.CreatedTimeUTC = nullTime(created)
		c.LastModifiedTimeUTC = nullTime(modified)
		c.LastCompletedTimeUTC = nullTime(completed)
		c.TimeGenerated = c.TimeGenerated.UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("task changes: %w", err)
	}
	return out, nil
}

func nullTime(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}
