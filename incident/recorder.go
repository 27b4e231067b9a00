// Package incident records incidents and tasks the way Microsoft Sentinel
// does: every change appends one full snapshot row to SecurityIncident
// (Tasks carrying each task's status, creator and modifier), so the audit
// queries that work on Sentinel's history work on socq's own.
//
// The Recorder is the API. Each method validates its input by the rules of
// Sentinel's portal and REST API, then reads the incident's latest row,
// applies the change, appends the new row and runs the automation rules,
// all in one database transaction:
//
//	rec := incident.NewRecorder(db, incident.Options{})
//	by := "mei.lin@contoso.com"
//	inc, err := rec.Create(ctx, by, incident.NewIncident{Title: "Phishing", Severity: "high"})
//	active := "Active"
//	inc, err = rec.Update(ctx, by, inc.Number, incident.Change{Status: &active, IfMatch: inc.Etag})
//	_, task, err := rec.AddTask(ctx, by, inc.Number, incident.NewTask{Title: "Call the user"})
//	_, task, err = rec.CompleteTask(ctx, by, inc.Number, task.ID)
//	inc, err = rec.Close(ctx, by, inc.Number, incident.Closing{Classification: "true-positive", Comment: "confirmed"})
//	events, err := rec.History(ctx, incident.HistoryFilter{IncidentNumber: inc.Number})
//
// Automation rules (AddRule, Rules, SetRuleEnabled, DeleteRule) run inside
// Create and Update/Close/Reopen. Get and List read the current state;
// Tags and Owners feed shell completion.
//
// The first argument after ctx names the person acting: a UPN/email or a
// display name. Errors: *ValidationError (exit 1 in the CLI), *NotFoundError
// (errors.Is(err, ErrNotFound); exit 3), *StaleError (an If-Match etag that
// is no longer current), ErrBusy (another writer kept the incident busy).
package incident

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/socq/socq/engine"
)

// Recorder records changes to incidents and tasks as snapshot rows. It is
// safe for concurrent use: each change is one transaction.
type Recorder struct {
	db    *engine.DB
	clock func() time.Time
}

// Options configure a Recorder.
type Options struct {
	// Now is the clock; nil means time.Now. Snapshot times are truncated to
	// Kusto's 100 ns ticks and kept strictly increasing per incident.
	Now func() time.Time
}

// NewRecorder returns a Recorder writing to db.
func NewRecorder(db *engine.DB, opts Options) *Recorder {
	clock := opts.Now
	if clock == nil {
		clock = time.Now
	}
	return &Recorder{db: db, clock: clock}
}

// ErrNotFound matches (errors.Is) every *NotFoundError.
var ErrNotFound = errors.New("not found")

// NotFoundError is an unknown (or deleted) incident, or an unknown task.
type NotFoundError struct {
	What   string // "incident 7", "task 3 of incident 7"
	Detail string // why, when there is more to say than "not found"
}

func (e *NotFoundError) Error() string {
	if e.Detail != "" {
		return e.What + " " + e.Detail
	}
	return e.What + " not found"
}

// Is makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// StaleError is an update whose If-Match etag is not the incident's current
// one: someone changed the incident since it was read.
type StaleError struct {
	Number    int64
	IfMatch   string    // the etag given
	Etag      string    // the current etag
	ChangedBy string    // ModifiedBy of the latest snapshot
	ChangedAt time.Time // its TimeGenerated
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("incident %d was changed by %s at %s since etag %s was read (its etag is now %s): show it again and retry",
		e.Number, e.ChangedBy, e.ChangedAt.UTC().Format(time.RFC3339Nano), e.IfMatch, e.Etag)
}

// ErrBusy is returned when another writer kept changing the same rows and
// the change could not be recorded after retrying. Nothing was written.
var ErrBusy = errors.New("another change to the same data was being recorded at the same time; nothing was written, try again")

// NewIncident is the input of Create. Severity defaults to Medium and
// Status to New; both are accepted in any case. Creating an incident as
// Closed needs a classification and a comment.
type NewIncident struct {
	Title                 string
	Description           string
	Severity              string
	Status                string
	Owner                 string // UPN, email or display name; "" for none
	Tags                  []string
	Classification        string // canonical or short form (true-positive, …)
	ClassificationReason  string // defaulted where only one fits
	ClassificationComment string
	FirstActivity         time.Time // zero: unknown (null)
	LastActivity          time.Time
	// Name is the IncidentName to give it: a GUID, as the REST API's PUT
	// names a new incident. Empty makes a new one.
	Name string
	// ExternalID, when set, names the request the incident records, where
	// it came from outside socq (intake: "mail:<Message-ID>", "form:<id>").
	// It is kept in AdditionalData.socqExternalId, and Create refuses a
	// second incident with the same one (*DuplicateError), checked in the
	// transaction that records it, so concurrent intakes never create twice.
	ExternalID string
	// Source, when set, is kept in AdditionalData.socqSource: what the
	// incident was made from (intake: sender, Message-ID, attachments, file).
	Source map[string]any
}

// DuplicateError is a Create whose ExternalID an incident (possibly a
// deleted one) already has.
type DuplicateError struct {
	ExternalID string
	Number     int64 // the incident that has it
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("%s was already recorded as incident %d", e.ExternalID, e.Number)
}

// AdditionalData is the incident's AdditionalData column (JSON).
func (inc *Incident) AdditionalData() json.RawMessage { return inc.additionalData }

// Change is the input of Update; nil fields stay as they are.
type Change struct {
	Title       *string
	Description *string
	Severity    *string
	Status      *string // Closed needs a classification and a comment
	Owner       *string // "" unassigns
	AddTags     []string
	RemoveTags  []string
	// Classification, reason and comment: only with status Closed.
	Classification        *string
	ClassificationReason  *string
	ClassificationComment *string
	// IfMatch, when set, is the etag the change is based on; a stale one is
	// refused with *StaleError.
	IfMatch string
}

// Closing is the input of Close.
type Closing struct {
	Classification string
	Reason         string
	Comment        string
	IfMatch        string
}

// Create records a new incident with the next IncidentNumber, then runs the
// automation rules triggered on created.
func (r *Recorder) Create(ctx context.Context, by string, in NewIncident) (*Incident, error) {
	return r.create(ctx, by, in, false)
}

// Preview is Create without recording anything: it validates in, checks
// its ExternalID and runs the rules in a transaction that it rolls back,
// and returns the incident Create would record now (or Create's error).
func (r *Recorder) Preview(ctx context.Context, by string, in NewIncident) (*Incident, error) {
	return r.create(ctx, by, in, true)
}

// errPreview rolls back a Preview's transaction.
var errPreview = errors.New("preview: roll back")

func (r *Recorder) create(ctx context.Context, by string, in NewIncident, preview bool) (*Incident, error) {
	inc := &Incident{Owner: unassigned(), ProviderName: "Azure Sentinel"}
	var err error
	in.ExternalID = strings.TrimSpace(in.ExternalID)
	if strings.ContainsAny(in.ExternalID, "\r\n") {
		return nil, invalid("external id", "%q must be on one line", in.ExternalID)
	}
	var extra map[string]any
	if in.ExternalID != "" || in.Source != nil {
		extra = map[string]any{}
		if in.ExternalID != "" {
			extra["socqExternalId"] = in.ExternalID
		}
		if in.Source != nil {
			if _, err := json.Marshal(in.Source); err != nil {
				return nil, invalid("source", "cannot be stored as JSON: %v", err)
			}
			extra["socqSource"] = in.Source
		}
	}
	if inc.Title, err = normTitle("title", in.Title); err != nil {
		return nil, err
	}
	if err := checkDescription("description", in.Description); err != nil {
		return nil, err
	}
	inc.Description = in.Description
	inc.Severity, inc.Status = "Medium", StatusNew
	if strings.TrimSpace(in.Severity) != "" {
		if inc.Severity, err = ParseSeverity(in.Severity); err != nil {
			return nil, err
		}
	}
	if strings.TrimSpace(in.Status) != "" {
		if inc.Status, err = ParseStatus(in.Status); err != nil {
			return nil, err
		}
	}
	if err := setClassification(inc, in.Classification, in.ClassificationReason, in.ClassificationComment); err != nil {
		return nil, err
	}
	for _, t := range in.Tags {
		if err := addLabel(inc, t, LabelUser); err != nil {
			return nil, err
		}
	}
	if !in.FirstActivity.IsZero() && !in.LastActivity.IsZero() && in.LastActivity.Before(in.FirstActivity) {
		return nil, invalid("last activity", "%s is before the first activity %s", in.LastActivity.UTC().Format(time.RFC3339), in.FirstActivity.UTC().Format(time.RFC3339))
	}
	inc.FirstActivityTime, inc.LastActivityTime = Time{in.FirstActivity.UTC()}, Time{in.LastActivity.UTC()}
	if in.Owner != "" {
		if _, err := checkOwnerShape("owner", in.Owner); err != nil {
			return nil, err
		}
	}
	if _, err := checkOwnerShape("person acting (--as)", by); err != nil {
		return nil, err
	}
	if in.Name != "" {
		id, err := uuid.Parse(in.Name)
		if err != nil {
			return nil, invalid("name", "%q is not a GUID", in.Name)
		}
		in.Name = id.String()
	}
	var result *Incident
	err = r.write(ctx, func(tx *engine.Tx) error {
		actor, err := resolvePerson(ctx, tx, by)
		if err != nil {
			return err
		}
		if in.ExternalID != "" {
			if err := checkExternalID(ctx, tx, in.ExternalID); err != nil {
				return err
			}
		}
		fresh := inc.clone()
		fresh.Name = in.Name
		if in.Owner != "" {
			owner, err := resolvePerson(ctx, tx, in.Owner)
			if err != nil {
				return err
			}
			fresh.Owner = ownerOf(owner)
		}
		if err := r.allocate(ctx, tx, fresh, extra); err != nil {
			return err
		}
		at := r.now(time.Time{})
		fresh.CreatedTime, fresh.LastModifiedTime = Time{at}, Time{at}
		if fresh.Status == StatusClosed {
			fresh.ClosedTime = Time{at}
		}
		fresh.ModifiedBy = actor.ModifiedBy()
		if err := writeSnapshot(ctx, tx, fresh, fresh.Tasks, at, fresh.ModifiedBy); err != nil {
			return err
		}
		fresh.Etag = etagOf(fresh.Name, at)
		result, err = r.runRules(ctx, tx, fresh, at, TriggerCreated)
		if err == nil && preview {
			return errPreview
		}
		return err
	})
	if preview && errors.Is(err, errPreview) {
		err = nil
	}
	return result, err
}

// checkExternalID refuses an external id that an incident already has.
func checkExternalID(ctx context.Context, tx *engine.Tx, id string) error {
	rows, err := tx.Query(ctx, `SELECT "IncidentNumber" FROM "SecurityIncident"
		WHERE json_extract_string("AdditionalData", '$.socqExternalId') = ? ORDER BY "TimeGenerated" LIMIT 1`, id)
	if err != nil {
		return fmt.Errorf("look up %s: %w", id, err)
	}
	defer rows.Close()
	if !rows.Next() {
		return rows.Err()
	}
	var number int64
	if err := rows.Scan(&number); err != nil {
		return fmt.Errorf("look up %s: %w", id, err)
	}
	return &DuplicateError{ExternalID: id, Number: number}
}

// ExternalIDs returns the external ids of the recorded incidents (deleted
// ones too) that start with prefix, each with its incident number.
func (r *Recorder) ExternalIDs(ctx context.Context, prefix string) (map[string]int64, error) {
	out := map[string]int64{}
	err := r.db.Tx(ctx, func(tx *engine.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, min("IncidentNumber") FROM (
			SELECT json_extract_string("AdditionalData", '$.socqExternalId') AS id, "IncidentNumber" FROM "SecurityIncident")
			WHERE starts_with(id, ?) GROUP BY id`, prefix)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var number int64
			if err := rows.Scan(&id, &number); err != nil {
				return err
			}
			out[id] = number
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("read the external ids of recorded incidents: %w", err)
	}
	return out, nil
}

// allocate gives a new incident its number, name, tenant and URL: the
// number is one more than the largest ever used in the database (recorded
// in socq_meta too, so a purged incident's number is not reused). extra are
// further AdditionalData entries.
func (r *Recorder) allocate(ctx context.Context, tx *engine.Tx, inc *Incident, extra map[string]any) error {
	rows, err := tx.Query(ctx, `SELECT greatest(
		  (SELECT coalesce(max("IncidentNumber"), 0) FROM "SecurityIncident"),
		  (SELECT coalesce(max(CAST(value AS BIGINT)), 0) FROM socq_meta WHERE key = 'last_incident_number')) + 1,
		(SELECT "TenantId" FROM "SecurityIncident" WHERE "TenantId" <> '' GROUP BY "TenantId" ORDER BY count(*) DESC, "TenantId" LIMIT 1),
		(SELECT value FROM socq_meta WHERE key = 'tenant_id'),
		(SELECT "IncidentUrl" FROM "SecurityIncident" WHERE "IncidentUrl" LIKE '%/Incidents/%' ORDER BY "TimeGenerated" DESC LIMIT 1)`)
	if err != nil {
		return fmt.Errorf("allocate an incident number: %w", err)
	}
	var number int64
	var tenant, ownTenant, url *string
	if rows.Next() {
		err = rows.Scan(&number, &tenant, &ownTenant, &url)
	}
	rows.Close()
	if err != nil {
		return fmt.Errorf("allocate an incident number: %w", err)
	}
	inc.Number = number
	inc.ProviderIncidentID = strconv.FormatInt(number, 10)
	if inc.Name == "" {
		inc.Name = uuid.NewString()
	} else {
		rows, err := tx.Query(ctx, `SELECT count(*) FROM "SecurityIncident" WHERE "IncidentName" = ?`, inc.Name)
		if err != nil {
			return fmt.Errorf("check the incident name: %w", err)
		}
		var used int64
		if rows.Next() {
			err = rows.Scan(&used)
		}
		rows.Close()
		if err != nil {
			return fmt.Errorf("check the incident name: %w", err)
		}
		if used > 0 {
			return invalid("name", "%s is the name of an incident already (a deleted one keeps its name)", inc.Name)
		}
	}
	switch {
	case tenant != nil:
		inc.TenantID = *tenant
	case ownTenant != nil:
		inc.TenantID = *ownTenant
	default:
		inc.TenantID = uuid.NewString()
		if _, err := tx.Exec(ctx, `INSERT OR REPLACE INTO socq_meta VALUES ('tenant_id', ?)`, inc.TenantID); err != nil {
			return fmt.Errorf("record the tenant id: %w", err)
		}
	}
	additional := map[string]any{"alertsCount": 0, "bookmarksCount": 0, "commentsCount": 0,
		"alertProductNames": []string{}, "tactics": []string{}, "techniques": []string{}}
	if url != nil {
		// The workspace's portal address, as the other incidents have it.
		base := (*url)[:strings.LastIndex(*url, "/Incidents/")+len("/Incidents/")]
		inc.IncidentURL = base + inc.Name
		additional["providerIncidentUrl"] = inc.IncidentURL
	}
	for k, v := range extra {
		additional[k] = v
	}
	inc.additionalData = mustJSON(additional)
	inc.alertIDs, inc.bookmarkIDs, inc.relatedRuleIDs, inc.comments = json.RawMessage("[]"), json.RawMessage("[]"), json.RawMessage("[]"), json.RawMessage("[]")
	// Updating the counter makes two transactions allocating at once
	// conflict, instead of both taking the same number.
	if _, err := tx.Exec(ctx, `INSERT OR REPLACE INTO socq_meta VALUES ('last_incident_number', ?)`, strconv.FormatInt(number, 10)); err != nil {
		return fmt.Errorf("allocate an incident number: %w", err)
	}
	return nil
}

// additionalData keys are ordered as Sentinel writes them, socq's own
// (socqExternalId, socqSource) after them.
func mustJSON(m map[string]any) json.RawMessage {
	keys := []string{"alertsCount", "bookmarksCount", "commentsCount", "alertProductNames", "tactics", "techniques", "providerIncidentUrl",
		"socqExternalId", "socqSource"}
	var b strings.Builder
	b.WriteByte('{')
	first := true
	for _, k := range keys {
		v, ok := m[k]
		if !ok {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(v)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return json.RawMessage(b.String())
}

// Update applies c to incident number and runs the rules triggered on
// updated. A change that changes nothing writes no row.
func (r *Recorder) Update(ctx context.Context, by string, number int64, c Change) (*Incident, error) {
	return r.change(ctx, by, number, c.IfMatch, TriggerUpdated, func(tx *engine.Tx, inc *Incident) error {
		return applyChange(ctx, tx, inc, c)
	})
}

// Close closes incident number with a classification (short forms
// accepted, the reason defaulted where only one fits) and a comment.
func (r *Recorder) Close(ctx context.Context, by string, number int64, c Closing) (*Incident, error) {
	closed := StatusClosed
	return r.change(ctx, by, number, c.IfMatch, TriggerUpdated, func(tx *engine.Tx, inc *Incident) error {
		if inc.Status == StatusClosed {
			return invalid("status", "incident %d is already closed (as %s); reopen it first, or update its classification", number, inc.Classification)
		}
		return applyChange(ctx, tx, inc, Change{Status: &closed, Classification: &c.Classification,
			ClassificationReason: &c.Reason, ClassificationComment: &c.Comment})
	})
}

// Reopen sets a closed incident back to Active, clearing its
// classification and ClosedTime.
func (r *Recorder) Reopen(ctx context.Context, by string, number int64, ifMatch string) (*Incident, error) {
	active := StatusActive
	return r.change(ctx, by, number, ifMatch, TriggerUpdated, func(tx *engine.Tx, inc *Incident) error {
		if inc.Status != StatusClosed {
			return invalid("status", "incident %d is %s, not Closed: there is nothing to reopen", number, inc.Status)
		}
		return applyChange(ctx, tx, inc, Change{Status: &active})
	})
}

// Delete hides incident number from Get, List and the rules, keeping its
// history: the deletion is a snapshot row of its own (AdditionalData
// socqDeleted true), so history shows who deleted it and when.
func (r *Recorder) Delete(ctx context.Context, by string, number int64, ifMatch string) (*Incident, error) {
	return r.change(ctx, by, number, ifMatch, "", func(tx *engine.Tx, inc *Incident) error {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(inc.additionalData, &m); err != nil || m == nil {
			m = map[string]json.RawMessage{}
		}
		m["socqDeleted"] = json.RawMessage("true")
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		inc.additionalData = b
		inc.deleted = true
		return nil
	})
}

// Purge removes every row of incident number (deleted or not) and returns
// how many. The history of the incident is gone with them.
func (r *Recorder) Purge(ctx context.Context, number int64) (int64, error) {
	var n int64
	err := r.write(ctx, func(tx *engine.Tx) error {
		var err error
		n, err = tx.Exec(ctx, `DELETE FROM "SecurityIncident" WHERE "IncidentNumber" = ?`, number)
		if err != nil {
			return fmt.Errorf("purge incident %d: %w", number, err)
		}
		if n == 0 {
			return &NotFoundError{What: fmt.Sprintf("incident %d", number)}
		}
		return nil
	})
	return n, err
}

// Get returns the current state of incident number.
func (r *Recorder) Get(ctx context.Context, number int64) (*Incident, error) {
	var inc *Incident
	err := r.db.Tx(ctx, func(tx *engine.Tx) error {
		s, err := loadLive(ctx, tx, number)
		if err == nil {
			inc = s.inc
		}
		return err
	})
	return inc, err
}

// loadLive loads the latest row of incident number, which must exist and
// not be deleted.
func loadLive(ctx context.Context, tx *engine.Tx, number int64) (*snapshotState, error) {
	s, err := loadIncident(ctx, tx, number)
	if err != nil {
		return nil, err
	}
	if s.inc.deleted {
		return nil, deletedError(s)
	}
	return s, nil
}

func deletedError(s *snapshotState) error {
	return &NotFoundError{What: fmt.Sprintf("incident %d", s.inc.Number),
		Detail: fmt.Sprintf("was deleted by %s at %s (its history remains: socq history %d)", s.inc.ModifiedBy, s.timeGenerated.Format(time.RFC3339Nano), s.inc.Number)}
}

// ListFilter selects incidents for List. Values match case-insensitively;
// several values of one field are alternatives.
type ListFilter struct {
	Statuses   []string // default New and Active, as Sentinel's queue shows
	Severities []string
	Owners     []string // UPN, email or display name
	Tags       []string // incidents having any of these labels
	All        bool     // every status (Statuses still narrows)
}

// ListEntry is an incident as a list filters and sorts it, read without
// its tasks, comments and alerts: listing a long history decodes whole only
// the incidents it shows.
type ListEntry struct {
	Number                        int64
	Title, Severity, Status       string
	Owner                         Owner
	Labels                        []Label
	CreatedTime, LastModifiedTime Time
	row                           int64 // the rowid of its latest snapshot
}

// List returns the current state of the incidents matching f, newest
// (highest number) first. Deleted incidents are never listed.
func (r *Recorder) List(ctx context.Context, f ListFilter) ([]*Incident, error) {
	return r.ListPage(ctx, f, func(entries []ListEntry) []ListEntry { return entries })
}

// ListPage lists the incidents matching f a page at a time: choose gets
// them as ListEntry values, newest first, and returns those to show in the
// order to show them (after filtering further, sorting and paging);
// ListPage returns those incidents whole, as of the same moment.
func (r *Recorder) ListPage(ctx context.Context, f ListFilter, choose func([]ListEntry) []ListEntry) ([]*Incident, error) {
	var out []*Incident
	err := r.db.Tx(ctx, func(tx *engine.Tx) error {
		entries, err := listEntries(ctx, tx, f)
		if err != nil {
			return err
		}
		out, err = loadEntries(ctx, tx, choose(entries))
		return err
	})
	return out, err
}

// latestRowIDs are the rowids of the latest snapshot of every incident, the
// row loadIncident reads (the greatest TimeGenerated, then LastModifiedTime;
// a null is lowest). A list reads its rows by these ids: picking them from
// the narrow key columns is several times faster than a window over whole
// rows.
const latestRowIDs = `(SELECT arg_max(rowid, struct_pack(
	  t_set := "TimeGenerated" IS NOT NULL, t := "TimeGenerated",
	  m_set := "LastModifiedTime" IS NOT NULL, m := "LastModifiedTime"))
	FROM "SecurityIncident" GROUP BY "IncidentNumber")`

// listEntries reads the incidents matching f, newest first. The database
// selects by status and severity (ignoring case), so that only those
// incidents are read (a queue of open incidents in a long history); owners,
// tags and deletion are checked here.
func listEntries(ctx context.Context, tx *engine.Tx, f ListFilter) ([]ListEntry, error) {
	statuses := f.Statuses
	if len(statuses) == 0 && !f.All {
		statuses = []string{StatusNew, StatusActive}
	}
	where := []string{`rowid IN ` + latestRowIDs}
	var args []any
	for _, narrow := range []struct {
		column string
		values []string
	}{{"Status", statuses}, {"Severity", f.Severities}} {
		if len(narrow.values) == 0 {
			continue
		}
		marks := make([]string, len(narrow.values))
		for i, v := range narrow.values {
			marks[i] = "?"
			args = append(args, strings.ToLower(v))
		}
		where = append(where, `lower(`+engine.QuoteIdent(narrow.column)+`) IN (`+strings.Join(marks, ", ")+`)`)
	}
	// The owner's fields come from the database in one JSON parse, and the
	// labels only when a tag is asked for: decoding every incident's JSON in
	// Go would cost more than the query. The deletion mark is a column, not
	// a condition, so that it is computed on the latest rows only.
	labels := "NULL"
	if len(f.Tags) > 0 {
		labels = `CAST("Labels" AS VARCHAR)`
	}
	query := `SELECT rowid, "IncidentNumber", "Title", "Severity", "Status",
		json_extract_string("Owner", ['$.objectId', '$.email', '$.assignedTo', '$.userPrincipalName']),
		` + labels + `, "CreatedTime", "LastModifiedTime",
		contains(CAST("AdditionalData" AS VARCHAR), 'socqDeleted')
		  AND CAST(json_extract("AdditionalData", '$.socqDeleted') AS VARCHAR) = 'true'
		FROM "SecurityIncident" WHERE ` + strings.Join(where, " AND ") + ` ORDER BY "IncidentNumber" DESC`
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	defer rows.Close()
	var out []ListEntry
	for rows.Next() {
		var (
			e                ListEntry
			number           sql.NullInt64
			owner            []any // objectId, email, assignedTo, userPrincipalName
			labels           sql.NullString
			created, lastMod sql.NullTime
			deleted          bool
		)
		if err := rows.Scan(&e.row, &number, &e.Title, &e.Severity, &e.Status, &owner, &labels, &created, &lastMod, &deleted); err != nil {
			return nil, fmt.Errorf("list incidents: %w", err)
		}
		e.Number, e.CreatedTime, e.LastModifiedTime = number.Int64, ntime(created), ntime(lastMod)
		e.Owner = unassigned()
		for i, field := range []**string{&e.Owner.ObjectID, &e.Owner.Email, &e.Owner.AssignedTo, &e.Owner.UserPrincipalName} {
			if s, ok := owner[i].(string); ok {
				*field = &s
			}
		}
		if err := decodeDynamic(labels, &e.Labels); err != nil {
			return nil, fmt.Errorf("incident %d: Labels: %w", e.Number, err)
		}
		if deleted || !ownedBy(f.Owners, e.Owner) || !labelled(f.Tags, e.Labels) {
			continue
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	return out, nil
}

// loadEntries reads the incidents of entries whole, in that order, from
// the rows the entries were read from. The rowids go to the database as one
// text, split there, so that a list of every incident is one semi-join
// rather than a statement with a parameter per incident.
func loadEntries(ctx context.Context, tx *engine.Tx, entries []ListEntry) ([]*Incident, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = strconv.FormatInt(e.row, 10)
	}
	rows, err := tx.Query(ctx, `SELECT rowid, `+selectColumns+` FROM "SecurityIncident"
		WHERE rowid IN (SELECT CAST(unnest(string_split(?, ',')) AS BIGINT))`, strings.Join(ids, ","))
	if err != nil {
		return nil, fmt.Errorf("read incidents: %w", err)
	}
	defer rows.Close()
	byRow := make(map[int64]*Incident, len(entries))
	for rows.Next() {
		var row int64
		s, err := scanIncident(rows, &row)
		if err != nil {
			return nil, err
		}
		byRow[row] = s.inc
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read incidents: %w", err)
	}
	out := make([]*Incident, 0, len(entries))
	for _, e := range entries {
		if inc := byRow[e.row]; inc != nil {
			out = append(out, inc)
		}
	}
	return out, nil
}

func ownedBy(want []string, o Owner) bool {
	if len(want) == 0 {
		return true
	}
	for _, w := range want {
		for _, s := range []*string{o.AssignedTo, o.UserPrincipalName, o.Email} {
			if s != nil && strings.EqualFold(*s, w) {
				return true
			}
		}
	}
	return false
}

func labelled(want []string, labels []Label) bool {
	return len(want) == 0 || slices.ContainsFunc(want, func(name string) bool { return hasLabel(labels, name) })
}

// change runs one change to an existing incident: load the latest row,
// check the etag, apply fn, append the row, run the rules of trigger ("" for
// none). It writes nothing when fn changed nothing.
func (r *Recorder) change(ctx context.Context, by string, number int64, ifMatch, trigger string, fn func(*engine.Tx, *Incident) error) (*Incident, error) {
	if _, err := checkOwnerShape("person acting (--as)", by); err != nil {
		return nil, err
	}
	var result *Incident
	err := r.write(ctx, func(tx *engine.Tx) error {
		s, actor, err := openForChange(ctx, tx, by, number, ifMatch)
		if err != nil {
			return err
		}
		before := s.inc.clone()
		inc := s.inc
		if err := fn(tx, inc); err != nil {
			return err
		}
		if same(before, inc) {
			result = inc
			return nil
		}
		at := r.now(s.timeGenerated)
		if err := recordChange(ctx, tx, inc, before, actor, inc.Tasks, at); err != nil {
			return err
		}
		if trigger == "" {
			result = inc
			return nil
		}
		result, err = r.runRules(ctx, tx, inc, at, trigger)
		return err
	})
	return result, err
}

// openForChange loads the latest row of incident number for a change by
// by: it must exist, not be deleted and (when ifMatch is given) still have
// that etag.
func openForChange(ctx context.Context, tx *engine.Tx, by string, number int64, ifMatch string) (*snapshotState, Person, error) {
	s, err := loadLive(ctx, tx, number)
	if err != nil {
		return nil, Person{}, err
	}
	if err := checkEtag(s, ifMatch); err != nil {
		return nil, Person{}, err
	}
	actor, err := resolvePerson(ctx, tx, by)
	if err != nil {
		return nil, Person{}, err
	}
	return s, actor, nil
}

// recordChange stamps inc (changed from before by actor at at) and
// appends its snapshot row with the given task list.
func recordChange(ctx context.Context, tx *engine.Tx, inc, before *Incident, actor Person, tasks []Task, at time.Time) error {
	stamp(inc, before, at, actor.ModifiedBy())
	if err := writeSnapshot(ctx, tx, inc, tasks, at, inc.ModifiedBy); err != nil {
		return err
	}
	inc.Etag = etagOf(inc.Name, at)
	return nil
}

func checkEtag(s *snapshotState, ifMatch string) error {
	want := strings.Trim(strings.TrimSpace(ifMatch), `"`)
	if want == "" || want == "*" || want == s.inc.Etag {
		return nil
	}
	return &StaleError{Number: s.inc.Number, IfMatch: want, Etag: s.inc.Etag, ChangedBy: s.inc.ModifiedBy, ChangedAt: s.timeGenerated}
}

// stamp sets the times and ModifiedBy of a change made at at.
func stamp(inc, before *Incident, at time.Time, modifiedBy string) {
	inc.LastModifiedTime = Time{at}
	if inc.FirstModifiedTime.IsZero() {
		inc.FirstModifiedTime = Time{at}
	}
	switch {
	case inc.Status == StatusClosed && before.Status != StatusClosed:
		inc.ClosedTime = Time{at}
	case inc.Status != StatusClosed:
		inc.ClosedTime = Time{}
	}
	inc.ModifiedBy = modifiedBy
}

// same reports whether a change left the recorded state as it was.
func same(a, b *Incident) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb) && a.deleted == b.deleted
}

// now is the time of a new snapshot: the clock in 100 ns ticks, and always
// after the incident's latest snapshot, so rows order by TimeGenerated.
func (r *Recorder) now(after time.Time) time.Time {
	t := r.clock().UTC().Truncate(100 * time.Nanosecond)
	if !after.IsZero() && !t.After(after) {
		t = after.Add(100 * time.Nanosecond)
	}
	return t
}

// write runs fn in a transaction, retrying when DuckDB reports a conflict
// with a concurrent transaction (fn re-reads everything it depends on).
func (r *Recorder) write(ctx context.Context, fn func(*engine.Tx) error) error {
	const attempts = 5
	for i := 0; ; i++ {
		err := r.db.Tx(ctx, fn)
		if !engine.IsConflict(err) {
			return err
		}
		if i == attempts-1 {
			return fmt.Errorf("%w (%v)", ErrBusy, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(10*(i+1)) * time.Millisecond):
		}
	}
}

// applyChange validates c and applies it to inc.
func applyChange(ctx context.Context, tx *engine.Tx, inc *Incident, c Change) error {
	if c.Title != nil {
		t, err := normTitle("title", *c.Title)
		if err != nil {
			return err
		}
		inc.Title = t
	}
	if c.Description != nil {
		if err := checkDescription("description", *c.Description); err != nil {
			return err
		}
		inc.Description = *c.Description
	}
	if c.Severity != nil {
		s, err := ParseSeverity(*c.Severity)
		if err != nil {
			return err
		}
		inc.Severity = s
	}
	if c.Owner != nil {
		if strings.TrimSpace(*c.Owner) == "" {
			inc.Owner = unassigned()
		} else {
			p, err := resolvePerson(ctx, tx, *c.Owner)
			if err != nil {
				var v *ValidationError
				if errors.As(err, &v) {
					v.Field = "owner"
				}
				return err
			}
			inc.Owner = ownerOf(p)
		}
	}
	for _, t := range c.RemoveTags {
		tag, err := normTag(t)
		if err != nil {
			return err
		}
		if !inc.hasLabel(tag) {
			return invalid("tag", "incident %d has no tag %q (its tags: %s)", inc.Number, tag, orNone(inc.TagNames()))
		}
		inc.Labels = slices.DeleteFunc(inc.Labels, func(l Label) bool { return strings.EqualFold(l.Name, tag) })
	}
	for _, t := range c.AddTags {
		if err := addLabel(inc, t, LabelUser); err != nil {
			return err
		}
	}
	wasClosed := inc.Status == StatusClosed
	if c.Status != nil {
		s, err := ParseStatus(*c.Status)
		if err != nil {
			return err
		}
		inc.Status = s
	}
	if inc.Status != StatusClosed {
		if wasClosed {
			// Reopening clears the classification.
			inc.Classification, inc.ClassificationReason, inc.ClassificationComment = "", "", ""
		}
		if c.Classification != nil && *c.Classification != "" || c.ClassificationReason != nil && *c.ClassificationReason != "" ||
			c.ClassificationComment != nil && *c.ClassificationComment != "" {
			return invalid("classification", "is set when closing an incident; incident %d would be %s", inc.Number, inc.Status)
		}
		return nil
	}
	if c.Classification != nil || c.ClassificationReason != nil || c.ClassificationComment != nil || !wasClosed {
		class, reason, comment := inc.Classification, inc.ClassificationReason, inc.ClassificationComment
		if !wasClosed {
			class, reason, comment = "", "", ""
		}
		if c.Classification != nil {
			class = *c.Classification
			if c.ClassificationReason == nil {
				reason = ""
			}
		}
		if c.ClassificationReason != nil {
			reason = *c.ClassificationReason
		}
		if c.ClassificationComment != nil {
			comment = *c.ClassificationComment
		}
		return setClassification(inc, class, reason, comment)
	}
	return nil
}

// setClassification validates and sets the close fields; inc.Status says
// whether they are allowed (Closed) or must be empty.
func setClassification(inc *Incident, class, reason, comment string) error {
	if inc.Status != StatusClosed {
		if class != "" || reason != "" || comment != "" {
			return invalid("classification", "is set when closing an incident (status Closed), not on a %s one", inc.Status)
		}
		return nil
	}
	if strings.TrimSpace(class) == "" {
		return checkClosed(&Incident{})
	}
	c, r, err := ParseClassification(class, reason)
	if err != nil {
		return err
	}
	inc.Classification, inc.ClassificationReason, inc.ClassificationComment = c, r, strings.TrimSpace(comment)
	return checkClosed(inc)
}

func addLabel(inc *Incident, name, labelType string) error {
	tag, err := normTag(name)
	if err != nil {
		return err
	}
	if !inc.hasLabel(tag) {
		inc.Labels = append(inc.Labels, Label{Name: tag, Type: labelType})
	}
	return nil
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
