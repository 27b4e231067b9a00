package incident

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Incident is the current state of an incident: its latest snapshot row.
// JSON keys are the SecurityIncident column names (and etag), with the
// dynamic columns in Sentinel's shapes.
type Incident struct {
	Number                int64   `json:"IncidentNumber"`
	Name                  string  `json:"IncidentName"` // resource name, a GUID
	Etag                  string  `json:"etag"`
	Title                 string  `json:"Title"`
	Description           string  `json:"Description"`
	Severity              string  `json:"Severity"`
	Status                string  `json:"Status"`
	Classification        string  `json:"Classification"`
	ClassificationReason  string  `json:"ClassificationReason"`
	ClassificationComment string  `json:"ClassificationComment"`
	Owner                 Owner   `json:"Owner"`
	Labels                []Label `json:"Labels"`
	// Tasks are the incident's tasks in order. A task deleted by this
	// snapshot's change is absent (its Deleted state is in the row).
	Tasks              []Task `json:"Tasks"`
	CreatedTime        Time   `json:"CreatedTime"`
	FirstModifiedTime  Time   `json:"FirstModifiedTime"`
	LastModifiedTime   Time   `json:"LastModifiedTime"`
	ClosedTime         Time   `json:"ClosedTime"`
	FirstActivityTime  Time   `json:"FirstActivityTime"`
	LastActivityTime   Time   `json:"LastActivityTime"`
	ModifiedBy         string `json:"ModifiedBy"`
	ProviderName       string `json:"ProviderName"`
	ProviderIncidentID string `json:"ProviderIncidentId"`
	IncidentURL        string `json:"IncidentUrl"`
	TenantID           string `json:"TenantId"`

	// The columns socq does not change, kept as they were (ingested
	// incidents have alerts, comments and analytics rules).
	alertIDs, bookmarkIDs, relatedRuleIDs, comments, additionalData json.RawMessage
	deleted                                                         bool
}

// MarshalJSON writes Labels and Tasks as [] when empty, as the rows hold them.
func (inc Incident) MarshalJSON() ([]byte, error) {
	type plain Incident
	p := plain(inc)
	if p.Labels == nil {
		p.Labels = []Label{}
	}
	if p.Tasks == nil {
		p.Tasks = []Task{}
	}
	return json.Marshal(p)
}

// Owner is the Owner column: who the incident is assigned to. All fields
// but OwnerType are null when unassigned.
type Owner struct {
	ObjectID          *string `json:"objectId"`
	Email             *string `json:"email"`
	AssignedTo        *string `json:"assignedTo"`
	UserPrincipalName *string `json:"userPrincipalName"`
	OwnerType         string  `json:"ownerType"` // Unknown (unassigned), User or Group
}

// Assigned reports whether the incident has an owner.
func (o Owner) Assigned() bool {
	return o.ObjectID != nil || o.Email != nil || o.AssignedTo != nil || o.UserPrincipalName != nil
}

// String is the owner as a person reads it: the display name, else the UPN
// or email; "" when unassigned.
func (o Owner) String() string {
	for _, s := range []*string{o.AssignedTo, o.UserPrincipalName, o.Email} {
		if s != nil && *s != "" {
			return *s
		}
	}
	return ""
}

// Label is an element of Labels (a tag).
type Label struct {
	Name string `json:"labelName"`
	Type string `json:"labelType"` // User or AutoAssigned (added by an automation rule)
}

// Label types.
const (
	LabelUser         = "User"
	LabelAutoAssigned = "AutoAssigned"
)

// Task is an element of Tasks, with Sentinel's camelCase keys.
type Task struct {
	ID                   string `json:"taskId"`
	Title                string `json:"title"`
	Description          string `json:"description,omitempty"`
	Status               string `json:"status"` // New, Completed or (in the row of its deletion) Deleted
	CreatedTimeUTC       Time   `json:"createdTimeUtc"`
	LastModifiedTimeUTC  Time   `json:"lastModifiedTimeUtc"`
	LastCompletedTimeUTC Time   `json:"lastCompletedTimeUtc,omitzero"`
	CreatedBy            Person `json:"createdBy"`
	LastModifiedBy       Person `json:"lastModifiedBy"`
}

// Task statuses.
const (
	TaskNew       = "New"
	TaskCompleted = "Completed"
	TaskDeleted   = "Deleted"
)

// Person is who made a change, in the shape of a task's createdBy and
// lastModifiedBy. An automation rule is a Person with only a name and an
// objectId.
type Person struct {
	Email             *string `json:"email"`
	Name              string  `json:"name"`
	ObjectID          string  `json:"objectId"`
	UserPrincipalName *string `json:"userPrincipalName"`
}

// ModifiedBy is the person as the ModifiedBy column names them: their UPN,
// else their name (Sentinel writes the UPN of a user).
func (p Person) ModifiedBy() string {
	if p.UserPrincipalName != nil && *p.UserPrincipalName != "" {
		return *p.UserPrincipalName
	}
	return p.Name
}

// Time is a UTC time that marshals as Sentinel writes it, with seven
// fractional digits ("2026-09-14T08:30:12.5000000Z"); the zero Time is null.
type Time struct{ time.Time }

// sentinelLayout is Log Analytics' datetime text: 100 ns ticks.
const sentinelLayout = "2006-01-02T15:04:05.0000000Z"

// MarshalJSON writes null for the zero time.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + t.UTC().Format(sentinelLayout) + `"`), nil
}

// UnmarshalJSON reads RFC 3339 text (any number of fractional digits) or null.
func (t *Time) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		t.Time = time.Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("time %q: %w", s, err)
	}
	t.Time = v.UTC()
	return nil
}

// sqlText is the time as text DuckDB casts to TIMESTAMP_NS, or nil for null.
func (t Time) sqlText() any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(sentinelLayout)
}

// TagNames lists the incident's label names.
func (inc *Incident) TagNames() []string {
	names := make([]string, len(inc.Labels))
	for i, l := range inc.Labels {
		names[i] = l.Name
	}
	return names
}

// Task returns the task with id.
func (inc *Incident) Task(id string) (*Task, bool) {
	for i := range inc.Tasks {
		if inc.Tasks[i].ID == id {
			return &inc.Tasks[i], true
		}
	}
	return nil, false
}

// OpenTasks counts the tasks that are not completed.
func (inc *Incident) OpenTasks() int {
	n := 0
	for _, t := range inc.Tasks {
		if t.Status == TaskNew {
			n++
		}
	}
	return n
}

func (inc *Incident) hasLabel(name string) bool { return hasLabel(inc.Labels, name) }

// hasLabel says whether labels has one named name, ignoring case.
func hasLabel(labels []Label, name string) bool {
	return slices.ContainsFunc(labels, func(l Label) bool { return strings.EqualFold(l.Name, name) })
}

// clone is a deep copy, so a change can be compared with the state before it.
func (inc *Incident) clone() *Incident {
	c := *inc
	c.Labels = slices.Clone(inc.Labels)
	c.Tasks = slices.Clone(inc.Tasks)
	return &c
}

// RelatedAnalyticRuleIDs is the RelatedAnalyticRuleIds column as JSON.
func (inc *Incident) RelatedAnalyticRuleIDs() json.RawMessage { return inc.relatedRuleIDs }
