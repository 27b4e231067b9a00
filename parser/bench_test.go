package parser

import "testing"

// benchQueries are realistic queries: those of the bench suite (bench/queries.go),
// whose parse+compile time is one of its targets.
var benchQueries = []struct{ name, kql string }{
	{"audit-1", "SecurityIncident\n| where array_length( Tasks) > 0\n| count"},
	{"audit-2", "SecurityIncident\n| where array_length( Tasks) > 0\n| where IncidentNumber == \"405211\"\n| sort by LastModifiedTime desc \n| project IncidentName, Title, LastModifiedTime, Tasks"},
	{"audit-3", `SecurityIncident
| summarize arg_max(TimeGenerated, *) by IncidentNumber
| where Status == 'Closed'
| mv-expand Tasks
| evaluate bag_unpack(Tasks)
| summarize arg_max(lastModifiedTimeUtc, *) by taskId
| where status !in ('Completed', 'Deleted')
| project TaskTitle = ['title'], TaskStatus = ['status'], createdTimeUtc, lastModifiedTimeUtc = column_ifexists("lastModifiedTimeUtc", datetime(null)), TaskCreator = ['createdBy'].name, lastModifiedBy, IncidentNumber, IncidentOwner = Owner.userPrincipalName
| sort by lastModifiedTimeUtc desc`},
	{"triage-close", `SecurityIncident
| summarize arg_max(TimeGenerated, Severity, CreatedTime, ClosedTime), Triaged = min(iff(Status != "New", TimeGenerated, datetime(null))) by IncidentNumber
| extend Week = startofweek(CreatedTime), TimeToTriage = (Triaged - CreatedTime) / 1m, TimeToClose = (ClosedTime - CreatedTime) / 1h
| summarize Incidents = count(), percentiles(TimeToTriage, 50, 90), percentiles(TimeToClose, 50, 90) by Severity, Week`},
	{"automation-share", `SecurityIncident
| mv-expand Task = Tasks
| summarize arg_max(TimeGenerated, Task) by TaskId = tostring(Task.taskId)
| summarize Tasks = count(), ByAutomation = countif(isempty(tostring(Task.createdBy.email)))
| extend Share = round(100.0 * ByAutomation / Tasks, 2)`},
	{"open-on-closed", `SecurityIncident
| summarize arg_max(TimeGenerated, Status, Tasks) by IncidentNumber
| where Status == "Closed"
| mv-expand Task = Tasks
| where Task.status == "New"
| summarize OpenTasks = count() by Title = tostring(Task.title)`},
	{"has-search", `SecurityIncident
| where Comments has "user"
| summarize Rows = count(), Incidents = dcount(IncidentNumber) by Severity`},
	{"join-lets", `let closed = SecurityIncident
    | where Status == "Closed"
    | summarize ClosedAt = max(TimeGenerated) by IncidentNumber;
let assigned = SecurityIncident
    | where tostring(Owner.assignedTo) != ""
    | summarize FirstAssigned = min(TimeGenerated) by IncidentNumber, Analyst = tostring(Owner.assignedTo);
assigned
| join kind=inner closed on IncidentNumber
| summarize Incidents = count(), MedianHours = percentile((ClosedAt - FirstAssigned) / 1h, 50) by Analyst`},
	{"deleted-tasks", `SecurityIncident
| mv-expand Task = Tasks
| where Task.status == "Deleted"
| project TimeGenerated, IncidentNumber, Task = tostring(Task.title), CreatedBy = tostring(Task.createdBy.name), DeletedBy = tostring(Task.lastModifiedBy.name)`},
}

// fallbackQueries are realistic queries the hand-written parsers leave, in
// part, to participle: a function let (a Sentinel workbook's).
var fallbackQueries = []struct{ name, kql string }{
	{"workbook-function", `let TCount = (SecurityIncident
| summarize arg_max(TimeGenerated, *) by IncidentName
| summarize TCount = count());
let WOCount = (SecurityIncident
| summarize arg_max(TimeGenerated, *) by IncidentName
| where Tasks == '[]'
| summarize WOCount = count());
let Percent = (WOTask:double, Total:double) {
    print Percentage = (WOTask/Total) * 100
};
Percent(toscalar(WOCount),toscalar(TCount))`},
}

// BenchmarkParse parses each realistic query.
func BenchmarkParse(b *testing.B) {
	for _, q := range append(benchQueries, fallbackQueries...) {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Parse(q.kql); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
