package incident

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/socq/socq/engine"
)

// Event is one change in an incident's history, derived from its snapshot
// rows: an incident field that differs from the previous row, or a task
// change (from engine.TaskChangesSQL). It works the same on ingested
// Sentinel history and on rows socq recorded.
type Event struct {
	Time           time.Time // TimeGenerated of the snapshot
	IncidentNumber int64
	IncidentTitle  string
	By             string // the snapshot's ModifiedBy
	Change         string // one of the Event* constants
	// Detail says what changed: "New → Active", a tag, the classification.
	Detail string
	// TaskID and TaskTitle are set for task events.
	TaskID, TaskTitle string
}

// Event kinds.
const (
	EventCreated        = "created"
	EventTitle          = "title"
	EventDescription    = "description"
	EventSeverity       = "severity"
	EventStatus         = "status"
	EventOwner          = "owner"
	EventTagAdded       = "tag added"
	EventTagRemoved     = "tag removed"
	EventClassification = "classification"
	EventComment        = "comment added"
	EventDeleted        = "deleted"
	EventTaskAdded      = "task added"
	EventTaskCompleted  = "task completed"
	EventTaskReopened   = "task reopened"
	EventTaskEdited     = "task edited"
	EventTaskDeleted    = "task deleted"
)

// HistoryFilter selects events; the zero value selects every event.
type HistoryFilter struct {
	IncidentNumber int64 // 0: every incident
	// By is the person or rule: ModifiedBy, or a task's lastModifiedBy name
	// or UPN, case-insensitive. A person known as an owner is found under
	// their display name, UPN and email alike.
	By    string
	Since time.Time // events at or after
}

// History returns the events matching f in time order. An unknown incident
// number (no rows at all) is a *NotFoundError; a deleted one has a history.
func (r *Recorder) History(ctx context.Context, f HistoryFilter) ([]Event, error) {
	type snap struct {
		inc      *Incident
		at       time.Time
		comments int
	}
	var snaps []snap
	aliases := map[string]bool{strings.ToLower(f.By): true}
	err := r.db.Tx(ctx, func(tx *engine.Tx) error {
		if f.By != "" {
			// "Mei Lin" also finds the changes recorded under her UPN.
			p, err := knownPerson(ctx, tx, f.By)
			if err != nil {
				return err
			}
			if p != nil {
				for _, s := range []*string{&p.Name, p.UserPrincipalName, p.Email} {
					if s != nil && *s != "" {
						aliases[strings.ToLower(*s)] = true
					}
				}
			}
		}
		rows, err := tx.Query(ctx, `SELECT `+selectColumns+` FROM "SecurityIncident" WHERE (? = 0 OR "IncidentNumber" = ?)
			ORDER BY "IncidentNumber", "TimeGenerated", "LastModifiedTime" NULLS FIRST`, f.IncidentNumber, f.IncidentNumber)
		if err != nil {
			return fmt.Errorf("read history: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			s, err := scanIncident(rows)
			if err != nil {
				return err
			}
			var comments []json.RawMessage
			_ = json.Unmarshal(s.inc.comments, &comments)
			snaps = append(snaps, snap{s.inc, s.timeGenerated, len(comments)})
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	if f.IncidentNumber != 0 && len(snaps) == 0 {
		return nil, &NotFoundError{What: fmt.Sprintf("incident %d", f.IncidentNumber), Detail: "has no history in this database"}
	}
	var events []Event
	modifiedBy := map[string]string{} // IncidentName|time → ModifiedBy
	for i, s := range snaps {
		cur := s.inc
		modifiedBy[cur.Name+"|"+s.at.Format(time.RFC3339Nano)] = cur.ModifiedBy
		ev := func(change, detail string) {
			events = append(events, Event{Time: s.at, IncidentNumber: cur.Number, IncidentTitle: cur.Title, By: cur.ModifiedBy, Change: change, Detail: detail})
		}
		if i == 0 || snaps[i-1].inc.Number != cur.Number {
			ev(EventCreated, fmt.Sprintf("%s, %s, %s", cur.Severity, cur.Status, ownerOrUnassigned(cur.Owner)))
			for _, l := range cur.Labels {
				ev(EventTagAdded, l.Name)
			}
			if cur.Status == StatusClosed {
				ev(EventClassification, classificationText(cur))
			}
			continue
		}
		prev := snaps[i-1].inc
		if prev.Title != cur.Title {
			ev(EventTitle, fmt.Sprintf("%q → %q", prev.Title, cur.Title))
		}
		if prev.Description != cur.Description {
			ev(EventDescription, fmt.Sprintf("%d → %d characters", len([]rune(prev.Description)), len([]rune(cur.Description))))
		}
		if prev.Severity != cur.Severity {
			ev(EventSeverity, prev.Severity+" → "+cur.Severity)
		}
		if prev.Status != cur.Status {
			ev(EventStatus, prev.Status+" → "+cur.Status)
		}
		if ownerOrUnassigned(prev.Owner) != ownerOrUnassigned(cur.Owner) {
			ev(EventOwner, ownerOrUnassigned(prev.Owner)+" → "+ownerOrUnassigned(cur.Owner))
		}
		for _, l := range cur.Labels {
			if !prev.hasLabel(l.Name) {
				ev(EventTagAdded, l.Name)
			}
		}
		for _, l := range prev.Labels {
			if !cur.hasLabel(l.Name) {
				ev(EventTagRemoved, l.Name)
			}
		}
		if cur.Classification != "" && (prev.Classification != cur.Classification || prev.ClassificationReason != cur.ClassificationReason ||
			prev.ClassificationComment != cur.ClassificationComment) {
			ev(EventClassification, classificationText(cur))
		}
		if s.comments > snaps[i-1].comments {
			noun := "comments"
			if s.comments == 1 {
				noun = "comment"
			}
			ev(EventComment, fmt.Sprintf("%d %s in all", s.comments, noun))
		}
		if cur.deleted && !prev.deleted {
			ev(EventDeleted, "hidden from list and show; history kept")
		}
	}
	changes, err := r.db.TaskChanges(ctx, engine.TaskChangeFilter{IncidentNumber: f.IncidentNumber, ChangesOnly: true})
	if err != nil {
		return nil, err
	}
	kinds := map[string]string{engine.ChangeAdded: EventTaskAdded, engine.ChangeCompleted: EventTaskCompleted,
		engine.ChangeReopened: EventTaskReopened, engine.ChangeEdited: EventTaskEdited, engine.ChangeDeleted: EventTaskDeleted}
	for _, c := range changes {
		by := modifiedBy[c.IncidentName+"|"+c.TimeGenerated.Format(time.RFC3339Nano)]
		if by == "" {
			by = c.LastModifiedByUPN
			if by == "" {
				by = c.LastModifiedByName
			}
		}
		if f.By != "" && !aliases[strings.ToLower(by)] && !aliases[strings.ToLower(c.LastModifiedByName)] && !aliases[strings.ToLower(c.LastModifiedByUPN)] {
			continue
		}
		events = append(events, Event{Time: c.TimeGenerated, IncidentNumber: c.IncidentNumber, IncidentTitle: c.Title, By: by,
			Change: kinds[c.Change], Detail: c.TaskTitle, TaskID: c.TaskID, TaskTitle: c.TaskTitle})
	}
	events = slices.DeleteFunc(events, func(e Event) bool {
		if !f.Since.IsZero() && e.Time.Before(f.Since) {
			return true
		}
		return f.By != "" && !strings.HasPrefix(e.Change, "task ") && !aliases[strings.ToLower(e.By)]
	})
	slices.SortStableFunc(events, func(a, b Event) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		if a.IncidentNumber != b.IncidentNumber {
			return int(a.IncidentNumber - b.IncidentNumber)
		}
		return 0
	})
	return events, nil
}

func ownerOrUnassigned(o Owner) string {
	if s := o.String(); s != "" {
		return s
	}
	return "unassigned"
}

func classificationText(inc *Incident) string {
	s := inc.Classification
	if inc.ClassificationReason != "" {
		s += "/" + inc.ClassificationReason
	}
	if inc.ClassificationComment != "" {
		s += ": " + inc.ClassificationComment
	}
	return s
}
