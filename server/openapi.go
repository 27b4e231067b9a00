package server

import (
	"embed"
	"io/fs"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

//go:embed web
var webFiles embed.FS

// webHandler serves the embedded web page. Its files carry no data (the
// page fetches everything through the API with the user's token).
func webHandler() (http.Handler, error) {
	sub, err := fs.Sub(webFiles, "web")
	if err != nil {
		return nil, err
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	}), nil
}

var pathParam = regexp.MustCompile(`\{([A-Za-z]+)\}`)

// openAPIDocument is the OpenAPI 3.1 description of routes().
func openAPIDocument() map[string]any {
	paths := map[string]any{}
	for _, rt := range routes() {
		item, _ := paths[rt.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.path] = item
		}
		op := map[string]any{
			"operationId": rt.id,
			"summary":     rt.summary,
			"security":    []any{map[string]any{"bearer": []string{}}},
		}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(rt.path, -1) {
			desc := "accepted and ignored: socq serves one database"
			switch m[1] {
			case "id":
				desc = "the incident's name (a GUID) or its number"
			case "taskId":
				desc = "the task's id (a GUID)"
			}
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "description": desc, "schema": map[string]any{"type": "string"}})
		}
		if rt.write {
			params = append(params, map[string]any{"name": "If-Match", "in": "header", "description": "the etag the change is based on; a stale one gets 409", "schema": map[string]any{"type": "string"}})
			params = append(params, map[string]any{"name": "X-Socq-User", "in": "header", "description": "who the change is recorded under, when the token names nobody", "schema": map[string]any{"type": "string"}})
		}
		if strings.HasSuffix(rt.path, "/incidents") && rt.method == "GET" {
			for _, p := range [][2]string{
				{"$top", "page size, 1 to 1000 (default 100)"},
				{"$orderby", "properties/FIELD [asc|desc]; FIELD createdTimeUtc, lastModifiedTimeUtc, incidentNumber, severity, status or title"},
				{"$filter", "properties/FIELD eq 'VALUE' (or ne), joined by and; (A or B) for alternatives; FIELD status, severity, owner/assignedTo, owner/email, owner/userPrincipalName, owner/objectId"},
				{"$skipToken", "from nextLink"},
			} {
				params = append(params, map[string]any{"name": p[0], "in": "query", "description": p[1], "schema": map[string]any{"type": "string"}})
			}
		}
		if rt.path == "/metrics" {
			params = append(params, map[string]any{"name": "TimeRange", "in": "query", "description": "the checks' {TimeRange}: a timespan (7d) or START..END", "schema": map[string]any{"type": "string"}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if rt.request != "" {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": ref(rt.request)}}}
		}
		responses := map[string]any{}
		for _, st := range rt.status {
			resp := map[string]any{"description": http.StatusText(st)}
			switch {
			case st < 300 && rt.response != "":
				content := map[string]any{"application/json": map[string]any{"schema": ref(rt.response)}}
				if rt.path == "/query" {
					for _, m := range []string{mediaCSV, mediaParquet, mediaArrow} {
						content[m] = map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}
					}
				}
				resp["content"] = content
			case st < 300 && rt.path == "/openapi.json":
				resp["content"] = map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}
			case st >= 400:
				resp["content"] = map[string]any{"application/json": map[string]any{"schema": ref("Error")}}
			}
			responses[strconv.Itoa(st)] = resp
		}
		op["responses"] = responses
		item[strings.ToLower(rt.method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "socq serve", "version": "1",
			"description": "Incidents and incident tasks in the shapes of Microsoft.SecurityInsights (2024-09-01), KQL in the shape of the Log Analytics query API. Every change is recorded as a SecurityIncident snapshot row, as the socq CLI records it."},
		"paths": paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
			"schemas":         schemas(),
		},
	}
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

func str(desc string) map[string]any { return map[string]any{"type": "string", "description": desc} }

func obj(props map[string]any, required ...string) map[string]any {
	o := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

func schemas() map[string]any {
	readOnly := func(m map[string]any) map[string]any { m["readOnly"] = true; return m }
	person := obj(map[string]any{"email": str("email"), "name": str("display name"), "objectId": str("GUID"), "userPrincipalName": str("UPN")})
	return map[string]any{
		"Error": obj(map[string]any{"error": obj(map[string]any{
			"code": str("BadRequest, NotFound, Conflict, AuthenticationFailed, AuthorizationFailed, BadArgumentError, …"), "message": str("what went wrong"),
			"target": str("the field at fault, e.g. properties.title"), "innererror": obj(map[string]any{
				"code": str("SyntaxError or SemanticError"), "message": str("the query error"), "line": map[string]any{"type": "integer"},
				"pos": map[string]any{"type": "integer"}, "length": map[string]any{"type": "integer"}, "detail": str("the query with a caret under the error")}),
		}, "code", "message")}, "error"),
		"Incident": obj(map[string]any{
			"id": readOnly(str("/incidents/{name}")), "name": readOnly(str("GUID")), "type": readOnly(str(incidentType)),
			"etag": str("the version read; a PUT with a stale one gets 409"),
			"properties": obj(map[string]any{
				"title": str("required, trimmed, not empty"), "description": map[string]any{"type": "string", "maxLength": 5000},
				"severity":              map[string]any{"type": "string", "enum": []string{"High", "Medium", "Low", "Informational"}},
				"status":                map[string]any{"type": "string", "enum": []string{"New", "Active", "Closed"}},
				"classification":        map[string]any{"type": "string", "enum": []string{"Undetermined", "TruePositive", "BenignPositive", "FalsePositive"}},
				"classificationReason":  map[string]any{"type": "string", "enum": []string{"SuspiciousActivity", "SuspiciousButExpected", "IncorrectAlertLogic", "InaccurateData"}},
				"classificationComment": str("required when closing"),
				"owner": obj(map[string]any{"objectId": str("GUID"), "email": str("email"), "assignedTo": str("display name"),
					"userPrincipalName": str("UPN"), "ownerType": readOnly(str("Unknown, User or Group"))}),
				"labels":               map[string]any{"type": "array", "items": obj(map[string]any{"labelName": str("the tag"), "labelType": readOnly(str("User or AutoAssigned"))}, "labelName")},
				"firstActivityTimeUtc": map[string]any{"type": "string", "format": "date-time"},
				"lastActivityTimeUtc":  map[string]any{"type": "string", "format": "date-time"},
				"incidentNumber":       readOnly(map[string]any{"type": "integer"}),
				"createdTimeUtc":       readOnly(map[string]any{"type": "string", "format": "date-time"}),
				"lastModifiedTimeUtc":  readOnly(map[string]any{"type": "string", "format": "date-time"}),
				"incidentUrl":          readOnly(str("portal address")),
				"providerName":         readOnly(str("Azure Sentinel")), "providerIncidentId": readOnly(str("the number as text")),
				"relatedAnalyticRuleIds": readOnly(map[string]any{"type": "array", "items": map[string]any{"type": "string"}}),
				"additionalData":         readOnly(map[string]any{"type": "object"}),
				"socqTasksCount":         readOnly(map[string]any{"type": "integer"}),
				"socqOpenTasksCount":     readOnly(map[string]any{"type": "integer"}),
			}, "title"),
		}, "properties"),
		"IncidentList": obj(map[string]any{"value": map[string]any{"type": "array", "items": ref("Incident")}, "nextLink": str("the next page")}, "value"),
		"Task": obj(map[string]any{
			"id": readOnly(str("/incidents/{name}/tasks/{taskId}")), "name": readOnly(str("taskId")), "type": readOnly(str(taskType)),
			"etag": str("the version read; a PUT or DELETE with a stale one gets 409"),
			"properties": obj(map[string]any{
				"title": str("required"), "description": str("optional"),
				"status":               map[string]any{"type": "string", "enum": []string{"New", "Completed"}},
				"createdTimeUtc":       readOnly(map[string]any{"type": "string", "format": "date-time"}),
				"lastModifiedTimeUtc":  readOnly(map[string]any{"type": "string", "format": "date-time"}),
				"lastCompletedTimeUtc": readOnly(map[string]any{"type": "string", "format": "date-time"}),
				"createdBy":            person, "lastModifiedBy": person,
			}, "title"),
		}, "properties"),
		"TaskList": obj(map[string]any{"value": map[string]any{"type": "array", "items": ref("Task")}}, "value"),
		"History": obj(map[string]any{"value": map[string]any{"type": "array", "items": obj(map[string]any{
			"timeGenerated": map[string]any{"type": "string", "format": "date-time"}, "by": str("ModifiedBy of the snapshot"),
			"change": str("created, title, description, severity, status, owner, tag added, tag removed, classification, comment added, deleted, task added, task completed, task reopened, task edited, task deleted"),
			"detail": str("what changed: New → Active, a tag, the classification"), "taskId": str("GUID"), "taskTitle": str("title")})}}, "value"),
		"QueryRequest": obj(map[string]any{"query": str("KQL"), "params": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"},
			"description": "workbook parameters: {TimeRange}, {Name}"}, "timespan": str("accepted and ignored: put the time range in the query")}, "query"),
		"QueryResponse": obj(map[string]any{
			"tables": map[string]any{"type": "array", "items": obj(map[string]any{
				"name":    str("PrimaryResult"),
				"columns": map[string]any{"type": "array", "items": obj(map[string]any{"name": str("column"), "type": str("string, int, long, real, bool, datetime, timespan, dynamic")})},
				"rows":    map[string]any{"type": "array", "items": map[string]any{"type": "array"}},
			})},
			"render":     obj(map[string]any{"visualization": str("timechart, columnchart, barchart, piechart, areachart, …"), "options": str("as written")}),
			"statistics": map[string]any{"type": "object"},
		}, "tables"),
		"NameList": obj(map[string]any{"value": map[string]any{"type": "array", "items": map[string]any{"type": "string"}}}, "value"),
		"Metrics": obj(map[string]any{"file": str("checks file"), "summary": str("one line"), "worst": str("pass, warn, fail or error"),
			"results": map[string]any{"type": "array", "items": obj(map[string]any{"name": str(""), "description": str(""), "status": str(""),
				"value": str(""), "threshold": str(""), "message": str("")})}}),
		"WhoAmI": obj(map[string]any{"access": str("read or write"), "name": str("who changes are recorded under"), "tokenNamesActor": map[string]any{"type": "boolean"}}),
	}
}

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, openAPIDocument())
	return nil
}
