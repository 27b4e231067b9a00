package incident

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/socq/socq/engine"
)

// NewTask is the input of AddTask: a title (required, trimmed) and an
// optional description.
type NewTask struct {
	Title       string
	Description string
	// ID is the taskId to give it: a GUID, as the REST API's PUT names a
	// new task. Empty makes a new one.
	ID string
}

// TaskEdit is the input of EditTask; nil fields stay as they are.
type TaskEdit struct {
	Title       *string
	Description *string
}

// AddTask adds a task (status New) to incident number and returns it.
func (r *Recorder) AddTask(ctx context.Context, by string, number int64, t NewTask) (*Incident, *Task, error) {
	title, err := normTitle("task title", t.Title)
	if err != nil {
		return nil, nil, err
	}
	if err := checkDescription("task description", t.Description); err != nil {
		return nil, nil, err
	}
	id := uuid.NewString()
	if t.ID != "" {
		u, err := uuid.Parse(t.ID)
		if err != nil {
			return nil, nil, invalid("task id", "%q is not a GUID", t.ID)
		}
		id = u.String()
	}
	inc, err := r.taskChange(ctx, by, number, func(inc *Incident, actor Person, at time.Time) ([]Task, error) {
		if _, taken := inc.Task(id); taken {
			return nil, invalid("task id", "incident %d has a task %s already", inc.Number, id)
		}
		inc.Tasks = append(inc.Tasks, newTask(id, title, strings.TrimSpace(t.Description), actor, at))
		return inc.Tasks, nil
	})
	if err != nil {
		return nil, nil, err
	}
	task, _ := inc.Task(id)
	return inc, task, nil
}

func newTask(id, title, description string, by Person, at time.Time) Task {
	return Task{ID: id, Title: title, Description: description, Status: TaskNew,
		CreatedTimeUTC: Time{at}, LastModifiedTimeUTC: Time{at}, CreatedBy: by, LastModifiedBy: by}
}

// CompleteTask sets a New task to Completed (and its lastCompletedTimeUtc).
// ref is the taskId, a unique prefix of it (4 characters or more), or the
// 1-based position.
func (r *Recorder) CompleteTask(ctx context.Context, by string, number int64, ref string) (*Incident, *Task, error) {
	return r.onTask(ctx, by, number, ref, func(t *Task, at time.Time) error {
		if t.Status == TaskCompleted {
			return invalid("task", "%q is already completed (at %s)", t.Title, t.LastCompletedTimeUTC.Format(time.RFC3339))
		}
		t.Status, t.LastCompletedTimeUTC = TaskCompleted, Time{at}
		return nil
	})
}

// ReopenTask sets a Completed task back to New; lastCompletedTimeUtc stays,
// as Sentinel keeps it.
func (r *Recorder) ReopenTask(ctx context.Context, by string, number int64, ref string) (*Incident, *Task, error) {
	return r.onTask(ctx, by, number, ref, func(t *Task, at time.Time) error {
		if t.Status != TaskCompleted {
			return invalid("task", "%q is not completed: there is nothing to reopen", t.Title)
		}
		t.Status = TaskNew
		return nil
	})
}

// EditTask changes a task's title or description.
func (r *Recorder) EditTask(ctx context.Context, by string, number int64, ref string, e TaskEdit) (*Incident, *Task, error) {
	if e.Title == nil && e.Description == nil {
		return nil, nil, invalid("task", "nothing to edit: give a title or a description")
	}
	var title string
	if e.Title != nil {
		var err error
		if title, err = normTitle("task title", *e.Title); err != nil {
			return nil, nil, err
		}
	}
	if e.Description != nil {
		if err := checkDescription("task description", *e.Description); err != nil {
			return nil, nil, err
		}
	}
	return r.onTask(ctx, by, number, ref, func(t *Task, at time.Time) error {
		if e.Title != nil {
			t.Title = title
		}
		if e.Description != nil {
			t.Description = strings.TrimSpace(*e.Description)
		}
		return nil
	})
}

// DeleteTask deletes a task: the snapshot of the deletion holds it with
// status Deleted, later snapshots do not hold it. The returned task is in
// its Deleted state; the returned incident no longer has it.
func (r *Recorder) DeleteTask(ctx context.Context, by string, number int64, ref string) (*Incident, *Task, error) {
	var deleted Task
	inc, err := r.taskChange(ctx, by, number, func(inc *Incident, actor Person, at time.Time) ([]Task, error) {
		i, err := findTask(inc, ref)
		if err != nil {
			return nil, err
		}
		row := slices.Clone(inc.Tasks)
		row[i].Status, row[i].LastModifiedTimeUTC, row[i].LastModifiedBy = TaskDeleted, Time{at}, actor
		deleted = row[i]
		inc.Tasks = slices.Delete(inc.Tasks, i, i+1)
		return row, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return inc, &deleted, nil
}

// onTask changes one task found by ref, stamping lastModified.
func (r *Recorder) onTask(ctx context.Context, by string, number int64, ref string, fn func(*Task, time.Time) error) (*Incident, *Task, error) {
	var id string
	inc, err := r.taskChange(ctx, by, number, func(inc *Incident, actor Person, at time.Time) ([]Task, error) {
		i, err := findTask(inc, ref)
		if err != nil {
			return nil, err
		}
		t := &inc.Tasks[i]
		id = t.ID
		before := *t
		if err := fn(t, at); err != nil {
			return nil, err
		}
		if *t == before {
			return nil, invalid("task", "nothing changed: %q already has that title and description", t.Title)
		}
		t.LastModifiedTimeUTC, t.LastModifiedBy = Time{at}, actor
		return inc.Tasks, nil
	})
	if err != nil {
		return nil, nil, err
	}
	task, _ := inc.Task(id)
	return inc, task, nil
}

// taskChange records one change to an incident's tasks: fn changes inc and
// returns the Tasks of the row to write. Task changes do not trigger
// automation rules.
func (r *Recorder) taskChange(ctx context.Context, by string, number int64, fn func(*Incident, Person, time.Time) ([]Task, error)) (*Incident, error) {
	if _, err := checkOwnerShape("person acting (--as)", by); err != nil {
		return nil, err
	}
	var result *Incident
	err := r.write(ctx, func(tx *engine.Tx) error {
		s, actor, err := openForChange(ctx, tx, by, number, "")
		if err != nil {
			return err
		}
		inc := s.inc
		before := inc.clone()
		at := r.now(s.timeGenerated)
		row, err := fn(inc, actor, at)
		if err != nil {
			return err
		}
		if err := recordChange(ctx, tx, inc, before, actor, row, at); err != nil {
			return err
		}
		result = inc
		return nil
	})
	return result, err
}

// minTaskPrefix is the shortest taskId prefix accepted, so a short number
// beyond the last position ("9" of 3 tasks) is never read as a prefix.
const minTaskPrefix = 4

// findTask resolves ref: a 1-based position among the current tasks, the
// taskId, or a unique prefix of it of at least 4 characters
// (case-insensitive).
func findTask(inc *Incident, ref string) (int, error) {
	ref = strings.TrimSpace(ref)
	what := fmt.Sprintf("task %q of incident %d", ref, inc.Number)
	if ref == "" {
		return 0, invalid("task", "no task given: use its position (1, 2, …), its taskId or 4 or more of its first characters")
	}
	if n, err := strconv.Atoi(ref); err == nil && n >= 1 && n <= len(inc.Tasks) {
		return n - 1, nil
	}
	var found []int
	for i, t := range inc.Tasks {
		if strings.EqualFold(t.ID, ref) {
			return i, nil
		}
		if len(ref) >= minTaskPrefix && len(t.ID) >= len(ref) && strings.EqualFold(t.ID[:len(ref)], ref) {
			found = append(found, i)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		if len(inc.Tasks) == 0 {
			return 0, &NotFoundError{What: what, Detail: "not found: the incident has no tasks"}
		}
		return 0, &NotFoundError{What: what, Detail: fmt.Sprintf("not found: give a position 1..%d, a taskId or 4 or more of its first characters", len(inc.Tasks))}
	}
	ids := make([]string, len(found))
	for i, f := range found {
		ids[i] = inc.Tasks[f].ID
	}
	return 0, invalid("task", "%q is a prefix of %d taskIds (%s): give more of it", ref, len(found), strings.Join(ids, ", "))
}
