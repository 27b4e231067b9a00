package main

import (
	"fmt"
	"strings"
)

// benchQuery is one realistic question asked twice: as the KQL a SOC
// analyst writes, and as the DuckDB SQL a person fluent in DuckDB would
// write by hand for the same answer on the same table.
type benchQuery struct {
	name string // short id used in tables and the chart
	what string // the question it answers
	kql  string
	sql  string
}

// queries returns the suite. incident is an IncidentNumber that exists in
// the history (the audit article's second query looks at one incident).
func queries(incident int) []benchQuery {
	return []benchQuery{
		{
			name: "audit-1",
			what: "audit article, query 1: snapshot rows that carry tasks (counted)",
			kql: `SecurityIncident
| where array_length( Tasks) > 0
| count`,
			sql: `SELECT count(*) AS "Count"
FROM "SecurityIncident"
WHERE json_array_length("Tasks") > 0`,
		},
		{
			name: "audit-2",
			what: "audit article, query 2: the task history of one incident",
			kql: fmt.Sprintf(`SecurityIncident
| where array_length( Tasks) > 0
| where IncidentNumber == "%d"
| sort by LastModifiedTime desc 
| project IncidentName, Title, LastModifiedTime, Tasks`, incident),
			sql: fmt.Sprintf(`SELECT "IncidentName", "Title", "LastModifiedTime", "Tasks"
FROM "SecurityIncident"
WHERE "IncidentNumber" = %d AND json_array_length("Tasks") > 0
ORDER BY "LastModifiedTime" DESC`, incident),
		},
		{
			name: "audit-3",
			what: "audit article, query 3 (verbatim): tasks still open on closed incidents, with bag_unpack",
			kql: `SecurityIncident
| summarize arg_max(TimeGenerated, *) by IncidentNumber
| where Status == 'Closed'
| mv-expand Tasks
| evaluate bag_unpack(Tasks)
| summarize arg_max(lastModifiedTimeUtc, *) by taskId
| where status !in ('Completed', 'Deleted')
| project TaskTitle = ['title'], TaskStatus = ['status'], createdTimeUtc, lastModifiedTimeUtc = column_ifexists("lastModifiedTimeUtc", datetime(null)), TaskCreator = ['createdBy'].name, lastModifiedBy, IncidentNumber, IncidentOwner = Owner.userPrincipalName
| sort by lastModifiedTimeUtc desc`,
			sql: `WITH latest AS (
  SELECT "IncidentNumber", arg_max("Status", "TimeGenerated") AS "Status",
         arg_max("Tasks", "TimeGenerated") AS "Tasks", arg_max("Owner", "TimeGenerated") AS "Owner"
  FROM "SecurityIncident"
  GROUP BY "IncidentNumber"
), task AS (
  SELECT "IncidentNumber", "Owner", unnest(CAST("Tasks" AS JSON[])) AS t
  FROM latest
  WHERE "Status" = 'Closed'
), latest_task AS (
  SELECT t->>'taskId' AS task_id,
         arg_max(struct_pack(t := t, n := "IncidentNumber", o := "Owner"), t->>'lastModifiedTimeUtc') AS x
  FROM task
  GROUP BY 1
)
SELECT x.t->>'title' AS "TaskTitle", x.t->>'status' AS "TaskStatus", CAST(x.t->>'createdTimeUtc' AS TIMESTAMP_NS) AS "createdTimeUtc",
       CAST(x.t->>'lastModifiedTimeUtc' AS TIMESTAMP_NS) AS "lastModifiedTimeUtc", x.t->'createdBy'->'name' AS "TaskCreator",
       x.t->'lastModifiedBy' AS "lastModifiedBy", x.n AS "IncidentNumber", x.o->'userPrincipalName' AS "IncidentOwner"
FROM latest_task
WHERE x.t->>'status' NOT IN ('Completed', 'Deleted')
ORDER BY "lastModifiedTimeUtc" DESC`,
		},
		{
			name: "latest-state",
			what: "latest-state idiom: current incidents by status and severity",
			kql: `SecurityIncident
| summarize arg_max(TimeGenerated, *) by IncidentNumber
| summarize Incidents = count() by Status, Severity`,
			sql: `SELECT "Status", "Severity", count(*) AS "Incidents"
FROM (
  SELECT arg_max("Status", "TimeGenerated") AS "Status", arg_max("Severity", "TimeGenerated") AS "Severity"
  FROM "SecurityIncident"
  GROUP BY "IncidentNumber"
)
GROUP BY ALL`,
		},
		{
			name: "triage-close",
			what: "time to triage (minutes) and to close (hours) per severity per week, median and 90th percentile",
			kql: `SecurityIncident
| summarize arg_max(TimeGenerated, Severity, CreatedTime, ClosedTime), Triaged = min(iff(Status != "New", TimeGenerated, datetime(null))) by IncidentNumber
| extend Week = startofweek(CreatedTime), TimeToTriage = (Triaged - CreatedTime) / 1m, TimeToClose = (ClosedTime - CreatedTime) / 1h
| summarize Incidents = count(), percentiles(TimeToTriage, 50, 90), percentiles(TimeToClose, 50, 90) by Severity, Week`,
			sql: `WITH incident AS (
  SELECT "IncidentNumber",
         arg_max("Severity", "TimeGenerated") AS severity,
         min("CreatedTime") AS created,
         arg_max("ClosedTime", "TimeGenerated") AS closed,
         min("TimeGenerated") FILTER (WHERE "Status" <> 'New') AS triaged
  FROM "SecurityIncident"
  GROUP BY "IncidentNumber"
), m AS (
  SELECT severity, date_trunc('week', created + INTERVAL 1 DAY) - INTERVAL 1 DAY AS week,
         (epoch_ns(triaged) - epoch_ns(created)) / 60e9 AS triage_min,
         (epoch_ns(closed) - epoch_ns(created)) / 3600e9 AS close_h
  FROM incident
)
SELECT severity AS "Severity", week AS "Week", count(*) AS "Incidents",
       list_sort(list(triage_min) FILTER (WHERE triage_min IS NOT NULL))[greatest(1, ceil(0.5 * count(triage_min))::BIGINT)] AS "percentile_TimeToTriage_50",
       list_sort(list(triage_min) FILTER (WHERE triage_min IS NOT NULL))[greatest(1, ceil(0.9 * count(triage_min))::BIGINT)] AS "percentile_TimeToTriage_90",
       list_sort(list(close_h) FILTER (WHERE close_h IS NOT NULL))[greatest(1, ceil(0.5 * count(close_h))::BIGINT)] AS "percentile_TimeToClose_50",
       list_sort(list(close_h) FILTER (WHERE close_h IS NOT NULL))[greatest(1, ceil(0.9 * count(close_h))::BIGINT)] AS "percentile_TimeToClose_90"
FROM m
GROUP BY ALL`,
		},
		{
			name: "completed-by-analyst",
			what: "tasks completed per analyst (people, not playbooks)",
			kql: `SecurityIncident
| mv-expand Task = Tasks
| where Task.status == "Completed" and isnotempty(Task.lastModifiedBy.email)
| summarize Completed = dcount(tostring(Task.taskId)) by Analyst = tostring(Task.lastModifiedBy.name)`,
			sql: `SELECT t->'lastModifiedBy'->>'name' AS "Analyst", count(DISTINCT t->>'taskId') AS "Completed"
FROM (SELECT unnest(CAST("Tasks" AS JSON[])) AS t FROM "SecurityIncident")
WHERE t->>'status' = 'Completed' AND coalesce(t->'lastModifiedBy'->>'email', '') <> ''
GROUP BY 1`,
		},
		{
			name: "automation-share",
			what: "share of tasks created by automation rules and playbooks",
			kql: `SecurityIncident
| mv-expand Task = Tasks
| summarize arg_max(TimeGenerated, Task) by TaskId = tostring(Task.taskId)
| summarize Tasks = count(), ByAutomation = countif(isempty(tostring(Task.createdBy.email)))
| extend Share = round(100.0 * ByAutomation / Tasks, 2)`,
			sql: `WITH task AS (
  SELECT DISTINCT t->>'taskId' AS id, t->'createdBy'->>'email' IS NULL AS automated
  FROM (SELECT unnest(CAST("Tasks" AS JSON[])) AS t FROM "SecurityIncident")
)
SELECT count(*) AS "Tasks", count(*) FILTER (WHERE automated) AS "ByAutomation",
       round(100.0 * count(*) FILTER (WHERE automated) / count(*), 2) AS "Share"
FROM task`,
		},
		{
			name: "open-on-closed",
			what: "open tasks on closed incidents, by task title",
			kql: `SecurityIncident
| summarize arg_max(TimeGenerated, Status, Tasks) by IncidentNumber
| where Status == "Closed"
| mv-expand Task = Tasks
| where Task.status == "New"
| summarize OpenTasks = count() by Title = tostring(Task.title)`,
			sql: `SELECT t->>'title' AS "Title", count(*) AS "OpenTasks"
FROM (
  SELECT unnest(CAST(x."Tasks" AS JSON[])) AS t
  FROM (
    SELECT arg_max(struct_pack("Status", "Tasks"), "TimeGenerated") AS x
    FROM "SecurityIncident"
    GROUP BY "IncidentNumber"
  )
  WHERE x."Status" = 'Closed'
)
WHERE t->>'status' = 'New'
GROUP BY 1`,
		},
		{
			name: "incidents-per-tag",
			what: "incidents per tag (label) in their current state",
			kql: `SecurityIncident
| summarize arg_max(TimeGenerated, Labels) by IncidentNumber
| mv-expand Label = Labels
| summarize Incidents = count() by Tag = tostring(Label.labelName)`,
			sql: `SELECT l->>'labelName' AS "Tag", count(*) AS "Incidents"
FROM (
  SELECT unnest(CAST(arg_max("Labels", "TimeGenerated") AS JSON[])) AS l
  FROM "SecurityIncident"
  GROUP BY "IncidentNumber"
)
GROUP BY 1`,
		},
		{
			name: "has-search",
			what: "`has` text search: incidents whose comments mention the user",
			kql: `SecurityIncident
| where Comments has "user"
| summarize Rows = count(), Incidents = dcount(IncidentNumber) by Severity`,
			sql: `SELECT "Severity", count(*) AS "Rows", count(DISTINCT "IncidentNumber") AS "Incidents"
FROM "SecurityIncident"
WHERE regexp_matches(CAST("Comments" AS VARCHAR), '(^|[^0-9A-Za-z])user($|[^0-9A-Za-z])', 'i')
GROUP BY 1`,
		},
		{
			name: "join-lets",
			what: "join of two lets: hours from first assignment to close, per analyst",
			kql: `let closed = SecurityIncident
    | where Status == "Closed"
    | summarize ClosedAt = max(TimeGenerated) by IncidentNumber;
let assigned = SecurityIncident
    | where tostring(Owner.assignedTo) != ""
    | summarize FirstAssigned = min(TimeGenerated) by IncidentNumber, Analyst = tostring(Owner.assignedTo);
assigned
| join kind=inner closed on IncidentNumber
| summarize Incidents = count(), MedianHours = percentile((ClosedAt - FirstAssigned) / 1h, 50) by Analyst`,
			sql: `WITH closed AS (
  SELECT "IncidentNumber", max("TimeGenerated") AS closed_at
  FROM "SecurityIncident"
  WHERE "Status" = 'Closed'
  GROUP BY 1
), assigned AS (
  SELECT "IncidentNumber", "Owner"->>'assignedTo' AS analyst, min("TimeGenerated") AS first_assigned
  FROM "SecurityIncident"
  WHERE coalesce("Owner"->>'assignedTo', '') <> ''
  GROUP BY 1, 2
), hours AS (
  SELECT analyst, (epoch_ns(closed_at) - epoch_ns(first_assigned)) / 3600e9 AS h
  FROM assigned JOIN closed USING ("IncidentNumber")
)
SELECT analyst AS "Analyst", count(*) AS "Incidents",
       list_sort(list(h))[greatest(1, ceil(0.5 * count(h))::BIGINT)] AS "MedianHours"
FROM hours
GROUP BY 1`,
		},
		{
			name: "daily-volume",
			what: "incidents created per day and severity (bin)",
			kql: `SecurityIncident
| summarize arg_min(TimeGenerated, Severity) by IncidentNumber
| summarize Incidents = count() by Day = bin(TimeGenerated, 1d), Severity`,
			sql: `SELECT date_trunc('day', created) AS "Day", severity AS "Severity", count(*) AS "Incidents"
FROM (
  SELECT min("TimeGenerated") AS created, arg_min("Severity", "TimeGenerated") AS severity
  FROM "SecurityIncident"
  GROUP BY "IncidentNumber"
)
GROUP BY ALL`,
		},
		{
			name: "deleted-tasks",
			what: "deleted tasks: who created them and who deleted them",
			kql: `SecurityIncident
| mv-expand Task = Tasks
| where Task.status == "Deleted"
| project TimeGenerated, IncidentNumber, Task = tostring(Task.title), CreatedBy = tostring(Task.createdBy.name), DeletedBy = tostring(Task.lastModifiedBy.name)`,
			sql: `SELECT "TimeGenerated", "IncidentNumber", t->>'title' AS "Task", t->'createdBy'->>'name' AS "CreatedBy",
       t->'lastModifiedBy'->>'name' AS "DeletedBy"
FROM (SELECT "TimeGenerated", "IncidentNumber", unnest(CAST("Tasks" AS JSON[])) AS t FROM "SecurityIncident")
WHERE t->>'status' = 'Deleted'`,
		},
	}
}

// scalingQueries names the three queries timed at every size: a scan, the
// latest-state aggregation, and the heaviest (mv-expand + bag_unpack).
var scalingQueries = []string{"audit-1", "latest-state", "audit-3"}

// heaviestQuery is the query whose peak memory is measured.
const heaviestQuery = "audit-3"

func queryByName(qs []benchQuery, name string) benchQuery {
	for _, q := range qs {
		if q.name == name {
			return q
		}
	}
	panic("bench: no query " + name) // unreachable: names are the constants above
}

// oneLine shortens a query for a table cell.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
