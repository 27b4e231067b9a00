package incident

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/socq/socq/engine"
)

// The snapshot rows: reading an incident's latest row and appending a new
// one. Every statement runs inside the caller's transaction.

// selectColumns reads a SecurityIncident row; dynamic columns as JSON text.
const selectColumns = `"IncidentNumber", "IncidentName", "TenantId", "TimeGenerated", "Title", "Description",
  "Severity", "Status", "Classification", "ClassificationReason", "ClassificationComment",
  CAST("Owner" AS VARCHAR), CAST("Labels" AS VARCHAR), CAST("Tasks" AS VARCHAR),
  "CreatedTime", "FirstModifiedTime", "LastModifiedTime", "ClosedTime", "FirstActivityTime", "LastActivityTime",
  "ModifiedBy", "ProviderName", "ProviderIncidentId", "IncidentUrl",
  CAST("AlertIds" AS VARCHAR), CAST("BookmarkIds" AS VARCHAR), CAST("RelatedAnalyticRuleIds" AS VARCHAR),
  CAST("Comments" AS VARCHAR), CAST("AdditionalData" AS VARCHAR)`

// snapshotState is the incident as a row holds it, with the row's time.
type snapshotState struct {
	inc           *Incident
	timeGenerated time.Time
}

// scanIncident reads a row of selectColumns, after columns into lead when
// the query selects more before them.
func scanIncident(rows *sql.Rows, lead ...any) (*snapshotState, error) {
	var (
		inc                                                   Incident
		number                                                sql.NullInt64
		generated                                             sql.NullTime
		owner, labels, tasks                                  sql.NullString
		created, firstMod, lastMod, closed, firstAct, lastAct sql.NullTime
		alerts, bookmarks, related, comments, additional      sql.NullString
	)
	err := rows.Scan(append(lead, &number, &inc.Name, &inc.TenantID, &generated, &inc.Title, &inc.Description,
		&inc.Severity, &inc.Status, &inc.Classification, &inc.ClassificationReason, &inc.ClassificationComment,
		&owner, &labels, &tasks,
		&created, &firstMod, &lastMod, &closed, &firstAct, &lastAct,
		&inc.ModifiedBy, &inc.ProviderName, &inc.ProviderIncidentID, &inc.IncidentURL,
		&alerts, &bookmarks, &related, &comments, &additional)...)
	if err != nil {
		return nil, fmt.Errorf("read incident row: %w", err)
	}
	inc.Number = number.Int64
	inc.CreatedTime, inc.FirstModifiedTime, inc.LastModifiedTime = ntime(created), ntime(firstMod), ntime(lastMod)
	inc.ClosedTime, inc.FirstActivityTime, inc.LastActivityTime = ntime(closed), ntime(firstAct), ntime(lastAct)
	inc.Owner = unassigned()
	if err := decodeDynamic(owner, &inc.Owner); err != nil {
		return nil, fmt.Errorf("incident %d: Owner: %w", inc.Number, err)
	}
	if err := decodeDynamic(labels, &inc.Labels); err != nil {
		return nil, fmt.Errorf("incident %d: Labels: %w", inc.Number, err)
	}
	var all []Task
	if err := decodeDynamic(tasks, &all); err != nil {
		return nil, fmt.Errorf("incident %d: Tasks: %w", inc.Number, err)
	}
	for _, t := range all {
		if t.Status != TaskDeleted {
			inc.Tasks = append(inc.Tasks, t)
		}
	}
	inc.alertIDs, inc.bookmarkIDs, inc.relatedRuleIDs = rawOr(alerts, "[]"), rawOr(bookmarks, "[]"), rawOr(related, "[]")
	inc.comments, inc.additionalData = rawOr(comments, "[]"), rawOr(additional, "{}")
	var marker struct {
		Deleted bool `json:"socqDeleted"`
	}
	_ = json.Unmarshal(inc.additionalData, &marker)
	inc.deleted = marker.Deleted
	inc.Etag = etagOf(inc.Name, generated.Time)
	return &snapshotState{inc: &inc, timeGenerated: generated.Time.UTC()}, nil
}

func ntime(t sql.NullTime) Time {
	if !t.Valid {
		return Time{}
	}
	return Time{t.Time.UTC()}
}

// decodeDynamic reads a dynamic column that may be JSON null, a JSON value,
// or (as some exports leave it) JSON text inside a JSON string.
func decodeDynamic(s sql.NullString, v any) error {
	if !s.Valid || s.String == "" || s.String == "null" {
		return nil
	}
	b := []byte(s.String)
	var text string
	if json.Unmarshal(b, &text) == nil {
		b = []byte(text)
	}
	return json.Unmarshal(b, v)
}

func rawOr(s sql.NullString, def string) json.RawMessage {
	if !s.Valid || s.String == "" || s.String == "null" {
		return json.RawMessage(def)
	}
	return json.RawMessage(s.String)
}

// etagOf is an incident's etag: it names the latest snapshot, so any change
// (by socq or an ingested row) gives a new one. It has the shape of
// Sentinel's etags, without their surrounding quotes.
func etagOf(name string, generated time.Time) string {
	sum := sha256.Sum256([]byte(name + "|" + generated.UTC().Format(time.RFC3339Nano)))
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// loadIncident reads the latest row of incident number.
func loadIncident(ctx context.Context, tx *engine.Tx, number int64) (*snapshotState, error) {
	rows, err := tx.Query(ctx, `SELECT `+selectColumns+` FROM "SecurityIncident" WHERE "IncidentNumber" = ?
		ORDER BY "TimeGenerated" DESC, "LastModifiedTime" DESC NULLS LAST LIMIT 1`, number)
	if err != nil {
		return nil, fmt.Errorf("read incident %d: %w", number, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read incident %d: %w", number, err)
		}
		return nil, &NotFoundError{What: fmt.Sprintf("incident %d", number)}
	}
	return scanIncident(rows)
}

// insertColumns are the columns writeSnapshot fills, in order.
var insertColumns = []string{"TenantId", "TimeGenerated", "IncidentName", "Title", "Description", "Severity", "Status",
	"Classification", "ClassificationComment", "ClassificationReason", "Owner", "ProviderName", "ProviderIncidentId",
	"FirstActivityTime", "LastActivityTime", "FirstModifiedTime", "LastModifiedTime", "CreatedTime", "ClosedTime",
	"IncidentNumber", "RelatedAnalyticRuleIds", "AlertIds", "BookmarkIds", "Comments", "Tasks", "Labels",
	"IncidentUrl", "AdditionalData", "ModifiedBy", "SourceSystem", "Type", "_BilledSize", "_IsBillable"}

var dateTimeColumns = map[string]bool{"TimeGenerated": true, "FirstActivityTime": true, "LastActivityTime": true,
	"FirstModifiedTime": true, "LastModifiedTime": true, "CreatedTime": true, "ClosedTime": true}

var dynamicColumns = map[string]bool{"Owner": true, "RelatedAnalyticRuleIds": true, "AlertIds": true,
	"BookmarkIds": true, "Comments": true, "Tasks": true, "Labels": true, "AdditionalData": true}

var insertSQL = func() string {
	cols := make([]string, len(insertColumns))
	vals := make([]string, len(insertColumns))
	for i, c := range insertColumns {
		cols[i] = engine.QuoteIdent(c)
		switch {
		case dateTimeColumns[c]:
			vals[i] = "CAST(? AS TIMESTAMP_NS)"
		case dynamicColumns[c]:
			vals[i] = "CAST(? AS JSON)"
		default:
			vals[i] = "?"
		}
	}
	return `INSERT INTO "SecurityIncident" (` + strings.Join(cols, ", ") + `) VALUES (` + strings.Join(vals, ", ") + `)`
}()

// writeSnapshot appends the full row of inc at time at, by modifiedBy.
// tasks are the row's Tasks (which may hold a task in its Deleted state).
func writeSnapshot(ctx context.Context, tx *engine.Tx, inc *Incident, tasks []Task, at time.Time, modifiedBy string) error {
	js := func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	}
	if tasks == nil {
		tasks = []Task{}
	}
	labels := inc.Labels
	if labels == nil {
		labels = []Label{}
	}
	owner, err := js(inc.Owner)
	if err != nil {
		return err
	}
	tasksJSON, err := js(tasks)
	if err != nil {
		return err
	}
	labelsJSON, err := js(labels)
	if err != nil {
		return err
	}
	vals := map[string]any{
		"TenantId": inc.TenantID, "TimeGenerated": Time{at}.sqlText(), "IncidentName": inc.Name,
		"Title": inc.Title, "Description": inc.Description, "Severity": inc.Severity, "Status": inc.Status,
		"Classification": inc.Classification, "ClassificationComment": inc.ClassificationComment,
		"ClassificationReason": inc.ClassificationReason, "Owner": owner, "ProviderName": inc.ProviderName,
		"ProviderIncidentId": inc.ProviderIncidentID, "FirstActivityTime": inc.FirstActivityTime.sqlText(),
		"LastActivityTime": inc.LastActivityTime.sqlText(), "FirstModifiedTime": inc.FirstModifiedTime.sqlText(),
		"LastModifiedTime": inc.LastModifiedTime.sqlText(), "CreatedTime": inc.CreatedTime.sqlText(),
		"ClosedTime": inc.ClosedTime.sqlText(), "IncidentNumber": inc.Number,
		"RelatedAnalyticRuleIds": string(inc.relatedRuleIDs), "AlertIds": string(inc.alertIDs),
		"BookmarkIds": string(inc.bookmarkIDs), "Comments": string(inc.comments), "Tasks": tasksJSON,
		"Labels": labelsJSON, "IncidentUrl": inc.IncidentURL, "AdditionalData": string(inc.additionalData),
		"ModifiedBy": modifiedBy, "SourceSystem": "Azure", "Type": "SecurityIncident", "_IsBillable": "True",
	}
	// _BilledSize: Log Analytics bills a row by its size; the bytes of the
	// values are the nearest socq can tell.
	size := 0
	for _, v := range vals {
		switch v := v.(type) {
		case string:
			size += len(v)
		case nil:
		default:
			size += 8
		}
	}
	vals["_BilledSize"] = float64(size)
	args := make([]any, len(insertColumns))
	for i, c := range insertColumns {
		args[i] = vals[c]
	}
	if _, err := tx.Exec(ctx, insertSQL, args...); err != nil {
		return fmt.Errorf("record incident %d: %w", inc.Number, err)
	}
	return nil
}
