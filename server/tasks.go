package server

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/socq/socq/incident"
)

// taskResource is a task in the REST API's shape.
type taskResource struct {
	ID         string         `json:"id"`
	Name       string         `json:"name"`
	Etag       string         `json:"etag"`
	Type       string         `json:"type"`
	Properties taskProperties `json:"properties"`
}

type taskProperties struct {
	Title                string          `json:"title"`
	Description          string          `json:"description,omitempty"`
	Status               string          `json:"status"`
	CreatedTimeUtc       *string         `json:"createdTimeUtc,omitempty"`
	LastModifiedTimeUtc  *string         `json:"lastModifiedTimeUtc,omitempty"`
	LastCompletedTimeUtc *string         `json:"lastCompletedTimeUtc,omitempty"`
	CreatedBy            incident.Person `json:"createdBy"`
	LastModifiedBy       incident.Person `json:"lastModifiedBy"`
}

// taskEtag is a task's version: it changes with every change to the task.
func taskEtag(t *incident.Task) string {
	h := sha256.Sum256([]byte(t.ID + "|" + t.LastModifiedTimeUTC.UTC().Format("2006-01-02T15:04:05.0000000Z") + "|" + t.Status))
	return hex.EncodeToString(h[:12])
}

func taskOf(inc *incident.Incident, t *incident.Task) taskResource {
	return taskResource{
		ID: "/incidents/" + inc.Name + "/tasks/" + t.ID, Name: t.ID, Etag: quoteEtag(taskEtag(t)), Type: taskType,
		Properties: taskProperties{Title: t.Title, Description: t.Description, Status: t.Status,
			CreatedTimeUtc: restTime(t.CreatedTimeUTC), LastModifiedTimeUtc: restTime(t.LastModifiedTimeUTC),
			LastCompletedTimeUtc: restTime(t.LastCompletedTimeUTC), CreatedBy: t.CreatedBy, LastModifiedBy: t.LastModifiedBy},
	}
}

type taskList struct {
	Value []taskResource `json:"value"`
}

func (s *Server) listTasks(w http.ResponseWriter, r *http.Request) error {
	inc, err := s.mustFindIncident(r)
	if err != nil {
		return err
	}
	out := taskList{Value: []taskResource{}}
	for i := range inc.Tasks {
		out.Value = append(out.Value, taskOf(inc, &inc.Tasks[i]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// findTask finds {taskId} (exactly, ignoring case) on inc; nil when absent.
func findTask(inc *incident.Incident, id string) *incident.Task {
	for i := range inc.Tasks {
		if strings.EqualFold(inc.Tasks[i].ID, id) {
			return &inc.Tasks[i]
		}
	}
	return nil
}

func (s *Server) mustFindTask(r *http.Request) (*incident.Incident, *incident.Task, error) {
	inc, err := s.mustFindIncident(r)
	if err != nil {
		return nil, nil, err
	}
	id := r.PathValue("taskId")
	t := findTask(inc, id)
	if t == nil {
		return nil, nil, notFound("task %s of incident %d not found", id, inc.Number)
	}
	return inc, t, nil
}

func (s *Server) getTask(w http.ResponseWriter, r *http.Request) error {
	inc, t, err := s.mustFindTask(r)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", quoteEtag(taskEtag(t)))
	writeJSON(w, http.StatusOK, taskOf(inc, t))
	return nil
}

type taskInput struct {
	Etag       string `json:"etag"`
	Properties *struct {
		Title       *string `json:"title"`
		Description *string `json:"description"`
		Status      *string `json:"status"`
	} `json:"properties"`
}

// checkTaskEtag refuses a change based on an older version of the task.
func checkTaskEtag(inc *incident.Incident, t *incident.Task, given string) error {
	want := strings.Trim(strings.TrimSpace(given), `"`)
	if want == "" || want == "*" || want == taskEtag(t) {
		return nil
	}
	return &apiError{status: http.StatusConflict, code: "Conflict", target: "etag",
		msg: "newer version of the task exists: task " + t.ID + " of incident " + itoa(inc.Number) + " was changed by " +
			t.LastModifiedBy.ModifiedBy() + " at " + orNull(restTime(t.LastModifiedTimeUTC)) + " since etag " + want + " was read (its etag is now " + taskEtag(t) + "): get it again and retry"}
}

func (s *Server) putTask(w http.ResponseWriter, r *http.Request) error {
	var in taskInput
	if err := readJSON(r, &in); err != nil {
		return err
	}
	if in.Properties == nil || in.Properties.Title == nil {
		return badRequest("properties.title", "properties.title: is required and must not be empty")
	}
	p := in.Properties
	status := incident.TaskNew
	if p.Status != nil {
		switch {
		case strings.EqualFold(*p.Status, incident.TaskNew):
		case strings.EqualFold(*p.Status, incident.TaskCompleted):
			status = incident.TaskCompleted
		default:
			return badRequest("properties.status", "properties.status: %q: a task is New or Completed (delete it with DELETE)", *p.Status)
		}
	}
	inc, err := s.mustFindIncident(r)
	if err != nil {
		return err
	}
	defer s.lockIncident(inc.Number)()
	// Read it again under the lock: the etag check and the change are one step.
	if inc, err = s.rec.Get(r.Context(), inc.Number); err != nil {
		return err
	}
	id := r.PathValue("taskId")
	ctx, by := r.Context(), s.actor(r)
	cur := findTask(inc, id)
	if cur == nil {
		if _, err := uuid.Parse(id); err != nil {
			return badRequest("name", "task %q: a new task's id must be a GUID", id)
		}
		inc, t, err := s.rec.AddTask(ctx, by, inc.Number, incident.NewTask{ID: id, Title: *p.Title, Description: deref(p.Description)})
		if err != nil {
			return err
		}
		if status == incident.TaskCompleted {
			if inc, t, err = s.rec.CompleteTask(ctx, by, inc.Number, t.ID); err != nil {
				return err
			}
		}
		w.Header().Set("ETag", quoteEtag(taskEtag(t)))
		w.Header().Set("Location", "/incidents/"+inc.Name+"/tasks/"+t.ID)
		writeJSON(w, http.StatusCreated, taskOf(inc, t))
		return nil
	}
	if err := checkTaskEtag(inc, cur, ifMatch(r, in.Etag)); err != nil {
		return err
	}
	t := cur
	title, desc := strings.TrimSpace(*p.Title), strings.TrimSpace(deref(p.Description))
	if title != cur.Title || desc != cur.Description {
		if inc, t, err = s.rec.EditTask(ctx, by, inc.Number, cur.ID, incident.TaskEdit{Title: &title, Description: &desc}); err != nil {
			return err
		}
	}
	switch {
	case status == incident.TaskCompleted && t.Status != incident.TaskCompleted:
		inc, t, err = s.rec.CompleteTask(ctx, by, inc.Number, t.ID)
	case status == incident.TaskNew && t.Status == incident.TaskCompleted:
		inc, t, err = s.rec.ReopenTask(ctx, by, inc.Number, t.ID)
	}
	if err != nil {
		return err
	}
	w.Header().Set("ETag", quoteEtag(taskEtag(t)))
	writeJSON(w, http.StatusOK, taskOf(inc, t))
	return nil
}

func (s *Server) deleteTask(w http.ResponseWriter, r *http.Request) error {
	inc, err := s.mustFindIncident(r)
	if err != nil {
		return err
	}
	defer s.lockIncident(inc.Number)()
	inc, t, err := s.mustFindTask(r)
	if err != nil {
		return err
	}
	if err := checkTaskEtag(inc, t, r.Header.Get("If-Match")); err != nil {
		return err
	}
	if _, _, err := s.rec.DeleteTask(r.Context(), s.actor(r), inc.Number, t.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
