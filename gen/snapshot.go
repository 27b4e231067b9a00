package gen

import (
	"bytes"
	"encoding/json"
	"reflect"
	"time"
)

// Snapshot is one row of the SecurityIncident table as a Log Analytics export
// writes it: the full state of an incident after one change. Fields are in the
// table's column order, dynamic columns hold JSON text, and no field is
// omitted, so every encoded line carries every column.
type Snapshot struct {
	TenantID               string     `json:"TenantId"`
	TimeGenerated          Timestamp  `json:"TimeGenerated"`
	IncidentName           string     `json:"IncidentName"`
	Title                  string     `json:"Title"`
	Description            string     `json:"Description"`
	Severity               string     `json:"Severity"`
	Status                 string     `json:"Status"`
	Classification         string     `json:"Classification"`
	ClassificationComment  string     `json:"ClassificationComment"`
	ClassificationReason   string     `json:"ClassificationReason"`
	Owner                  string     `json:"Owner"` // JSON text of an Owner
	ProviderName           string     `json:"ProviderName"`
	ProviderIncidentID     string     `json:"ProviderIncidentId"`
	FirstActivityTime      Timestamp  `json:"FirstActivityTime"`
	LastActivityTime       Timestamp  `json:"LastActivityTime"`
	FirstModifiedTime      *Timestamp `json:"FirstModifiedTime"` // null on the creation row
	LastModifiedTime       Timestamp  `json:"LastModifiedTime"`
	CreatedTime            Timestamp  `json:"CreatedTime"`
	ClosedTime             *Timestamp `json:"ClosedTime"` // null unless Closed
	IncidentNumber         int        `json:"IncidentNumber"`
	RelatedAnalyticRuleIDs string     `json:"RelatedAnalyticRuleIds"` // JSON text of []string
	AlertIDs               string     `json:"AlertIds"`               // JSON text of []string
	BookmarkIDs            string     `json:"BookmarkIds"`            // JSON text of []string
	Comments               string     `json:"Comments"`               // JSON text of []Comment
	Tasks                  string     `json:"Tasks"`                  // JSON text of []Task
	Labels                 string     `json:"Labels"`                 // JSON text of []Label
	IncidentURL            string     `json:"IncidentUrl"`
	AdditionalData         string     `json:"AdditionalData"` // JSON text of AdditionalData
	ModifiedBy             string     `json:"ModifiedBy"`
	SourceSystem           string     `json:"SourceSystem"`
	Type                   string     `json:"Type"`
	BilledSize             float64    `json:"_BilledSize"`
	IsBillable             string     `json:"_IsBillable"`
}

// Columns returns the SecurityIncident column names in the order Write emits
// them (the order of engine.SecurityIncident()).
func Columns() []string {
	t := reflect.TypeFor[Snapshot]()
	names := make([]string, t.NumField())
	for i := range names {
		names[i] = t.Field(i).Tag.Get("json")
	}
	return names
}

// Task is one element of the Tasks column.
type Task struct {
	TaskID               string     `json:"taskId"`
	Title                string     `json:"title"`
	Description          string     `json:"description,omitempty"` // absent when not set
	Status               string     `json:"status"`                // New, Completed or Deleted
	CreatedTimeUTC       Timestamp  `json:"createdTimeUtc"`
	LastModifiedTimeUTC  Timestamp  `json:"lastModifiedTimeUtc"`
	LastCompletedTimeUTC *Timestamp `json:"lastCompletedTimeUtc,omitempty"` // absent until first completed
	CreatedBy            Identity   `json:"createdBy"`
	LastModifiedBy       Identity   `json:"lastModifiedBy"`
}

// Task statuses.
const (
	TaskNew       = "New"
	TaskCompleted = "Completed"
	TaskDeleted   = "Deleted"
)

// Identity is who created or last changed a task, or wrote a comment. For a
// person every field is set; for an automation rule or playbook only name and
// objectId are, and email and userPrincipalName are null.
type Identity struct {
	Email             *string `json:"email"`
	Name              *string `json:"name"`
	ObjectID          *string `json:"objectId"`
	UserPrincipalName *string `json:"userPrincipalName"`
}

// Owner is the Owner column. An unassigned incident has every field null and
// ownerType "Unknown".
type Owner struct {
	ObjectID          *string `json:"objectId"`
	Email             *string `json:"email"`
	AssignedTo        *string `json:"assignedTo"`
	UserPrincipalName *string `json:"userPrincipalName"`
	OwnerType         string  `json:"ownerType"` // Unknown, User or Group
}

// Label is one element of the Labels column.
type Label struct {
	LabelName string `json:"labelName"`
	LabelType string `json:"labelType"` // User or AutoAssigned
}

// Comment is one element of the Comments column.
type Comment struct {
	Message             string    `json:"message"`
	CreatedTimeUTC      Timestamp `json:"createdTimeUtc"`
	LastModifiedTimeUTC Timestamp `json:"lastModifiedTimeUtc"`
	Author              Identity  `json:"author"`
}

// AdditionalData is the AdditionalData column.
type AdditionalData struct {
	AlertsCount         int      `json:"alertsCount"`
	BookmarksCount      int      `json:"bookmarksCount"`
	CommentsCount       int      `json:"commentsCount"`
	AlertProductNames   []string `json:"alertProductNames"`
	Tactics             []string `json:"tactics"`
	Techniques          []string `json:"techniques"`
	ProviderIncidentURL string   `json:"providerIncidentUrl"`
}

// Timestamp is a UTC instant that encodes as Log Analytics prints datetimes:
// ISO 8601 with seven fractional digits and a Z, e.g.
// "2026-10-03T08:15:02.1234567Z".
type Timestamp time.Time

// TimeLayout is the time.Format layout of a Timestamp.
const TimeLayout = "2006-01-02T15:04:05.0000000Z"

// MarshalJSON implements json.Marshaler.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Format(TimeLayout) + `"`), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return err
	}
	*t = Timestamp(v.UTC())
	return nil
}

// stamp returns a pointer to t as a Timestamp, for nullable fields.
func stamp(t time.Time) *Timestamp {
	ts := Timestamp(t)
	return &ts
}

// jsonText encodes v compactly without HTML escaping (so "&" stays "&", as in
// Log Analytics output). The types encoded here cannot fail to marshal.
func jsonText(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("gen: " + err.Error()) // unreachable: all encoded types are plain data
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
