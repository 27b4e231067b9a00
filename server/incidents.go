package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/socq/socq/incident"
)

// The resource types of Microsoft.SecurityInsights.
const (
	incidentType = "Microsoft.SecurityInsights/Incidents"
	taskType     = "Microsoft.SecurityInsights/Incidents/Tasks"
)

// incidentResource is an incident in the REST API's shape.
type incidentResource struct {
	ID         string             `json:"id"`
	Name       string             `json:"name"`
	Etag       string             `json:"etag"`
	Type       string             `json:"type"`
	Properties incidentProperties `json:"properties"`
}

type incidentProperties struct {
	Title                  string          `json:"title"`
	Description            string          `json:"description"`
	Severity               string          `json:"severity"`
	Status                 string          `json:"status"`
	Classification         string          `json:"classification,omitempty"`
	ClassificationReason   string          `json:"classificationReason,omitempty"`
	ClassificationComment  string          `json:"classificationComment,omitempty"`
	Owner                  incident.Owner  `json:"owner"`
	Labels                 []labelJSON     `json:"labels"`
	FirstActivityTimeUtc   *string         `json:"firstActivityTimeUtc,omitempty"`
	LastActivityTimeUtc    *string         `json:"lastActivityTimeUtc,omitempty"`
	IncidentNumber         int64           `json:"incidentNumber"`
	CreatedTimeUtc         *string         `json:"createdTimeUtc,omitempty"`
	LastModifiedTimeUtc    *string         `json:"lastModifiedTimeUtc,omitempty"`
	IncidentURL            string          `json:"incidentUrl,omitempty"`
	ProviderName           string          `json:"providerName"`
	ProviderIncidentID     string          `json:"providerIncidentId"`
	RelatedAnalyticRuleIDs json.RawMessage `json:"relatedAnalyticRuleIds"`
	AdditionalData         json.RawMessage `json:"additionalData"`
	// Not in Sentinel's incident resource (it has them as subresources);
	// socq's web page shows them in the queue.
	TasksCount     int `json:"socqTasksCount"`
	OpenTasksCount int `json:"socqOpenTasksCount"`
}

type labelJSON struct {
	LabelName string `json:"labelName"`
	LabelType string `json:"labelType,omitempty"`
}

// restTime is a time as the REST API writes it (RFC 3339, UTC), nil for zero.
func restTime(t incident.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339Nano)
	return &s
}

func quoteEtag(e string) string { return `"` + e + `"` }

func incidentOf(inc *incident.Incident) incidentResource {
	p := incidentProperties{
		Title: inc.Title, Description: inc.Description, Severity: inc.Severity, Status: inc.Status,
		Classification: inc.Classification, ClassificationReason: inc.ClassificationReason, ClassificationComment: inc.ClassificationComment,
		Owner: inc.Owner, Labels: []labelJSON{},
		FirstActivityTimeUtc: restTime(inc.FirstActivityTime), LastActivityTimeUtc: restTime(inc.LastActivityTime),
		IncidentNumber: inc.Number, CreatedTimeUtc: restTime(inc.CreatedTime), LastModifiedTimeUtc: restTime(inc.LastModifiedTime),
		IncidentURL: inc.IncidentURL, ProviderName: inc.ProviderName, ProviderIncidentID: inc.ProviderIncidentID,
		RelatedAnalyticRuleIDs: orJSON(inc.RelatedAnalyticRuleIDs(), "[]"), AdditionalData: orJSON(inc.AdditionalData(), "{}"),
		TasksCount: len(inc.Tasks), OpenTasksCount: inc.OpenTasks(),
	}
	for _, l := range inc.Labels {
		p.Labels = append(p.Labels, labelJSON{LabelName: l.Name, LabelType: l.Type})
	}
	return incidentResource{ID: "/incidents/" + inc.Name, Name: inc.Name, Etag: quoteEtag(inc.Etag), Type: incidentType, Properties: p}
}

func orJSON(raw json.RawMessage, def string) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return json.RawMessage(def)
	}
	return raw
}

// findIncident resolves {id}: an incident number, or an incident name (GUID).
// For a GUID that names no incident it returns nil and no error; a deleted
// incident is a *incident.NotFoundError saying who deleted it.
func (s *Server) findIncident(r *http.Request, id string) (*incident.Incident, error) {
	if n, err := strconv.ParseInt(id, 10, 64); err == nil {
		return s.rec.Get(r.Context(), n)
	}
	if _, err := uuid.Parse(id); err != nil {
		return nil, badRequest("id", "incident %q: give its name (a GUID) or its number", id)
	}
	inc, err := s.rec.GetByName(r.Context(), id)
	var nf *incident.NotFoundError
	if errors.As(err, &nf) && nf.Detail == "" {
		return nil, nil
	}
	return inc, err
}

// mustFindIncident is findIncident with 404 for an unknown GUID.
func (s *Server) mustFindIncident(r *http.Request) (*incident.Incident, error) {
	id := r.PathValue("id")
	inc, err := s.findIncident(r, id)
	if err == nil && inc == nil {
		err = notFound("incident %s not found", id)
	}
	return inc, err
}

func (s *Server) getIncident(w http.ResponseWriter, r *http.Request) error {
	inc, err := s.mustFindIncident(r)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", quoteEtag(inc.Etag))
	writeJSON(w, http.StatusOK, incidentOf(inc))
	return nil
}

// incidentInput is the body of PUT /incidents/{id}. Pointers tell absent
// properties from empty ones; read-only properties are accepted and ignored,
// so a client can send back what it read.
type incidentInput struct {
	Etag       string `json:"etag"`
	Properties *struct {
		Title                 *string     `json:"title"`
		Description           *string     `json:"description"`
		Severity              *string     `json:"severity"`
		Status                *string     `json:"status"`
		Classification        *string     `json:"classification"`
		ClassificationReason  *string     `json:"classificationReason"`
		ClassificationComment *string     `json:"classificationComment"`
		Owner                 *ownerInput `json:"owner"`
		Labels                []labelJSON `json:"labels"`
		FirstActivityTimeUtc  *string     `json:"firstActivityTimeUtc"`
		LastActivityTimeUtc   *string     `json:"lastActivityTimeUtc"`
	} `json:"properties"`
}

type ownerInput struct {
	ObjectID          *string `json:"objectId"`
	Email             *string `json:"email"`
	AssignedTo        *string `json:"assignedTo"`
	UserPrincipalName *string `json:"userPrincipalName"`
}

// who is the owner as the Recorder takes it: UPN, else email, else name.
func (o *ownerInput) who() string {
	if o == nil {
		return ""
	}
	for _, s := range []*string{o.UserPrincipalName, o.Email, o.AssignedTo} {
		if s != nil && strings.TrimSpace(*s) != "" {
			return strings.TrimSpace(*s)
		}
	}
	return ""
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// ifMatch is the etag a change is based on: the If-Match header, else the
// body's etag.
func ifMatch(r *http.Request, body string) string {
	if h := strings.TrimSpace(r.Header.Get("If-Match")); h != "" {
		return strings.TrimPrefix(h, "W/")
	}
	return body
}

func parseRESTTime(field string, s *string) (time.Time, error) {
	if s == nil || strings.TrimSpace(*s) == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(*s))
	if err != nil {
		return time.Time{}, badRequest(field, "%s: %q is not an RFC 3339 time like 2026-09-14T08:30:00Z", field, *s)
	}
	return t.UTC(), nil
}

func (s *Server) putIncident(w http.ResponseWriter, r *http.Request) error {
	var in incidentInput
	if err := readJSON(r, &in); err != nil {
		return err
	}
	if in.Properties == nil {
		return badRequest("properties", "properties: is required (title, severity, status, …)")
	}
	p := in.Properties
	if p.Title == nil {
		return badRequest("properties.title", "properties.title: is required and must not be empty")
	}
	first, err := parseRESTTime("properties.firstActivityTimeUtc", p.FirstActivityTimeUtc)
	if err != nil {
		return err
	}
	last, err := parseRESTTime("properties.lastActivityTimeUtc", p.LastActivityTimeUtc)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	cur, err := s.findIncident(r, id)
	var nf *incident.NotFoundError
	if _, isGUID := uuid.Parse(id); errors.As(err, &nf) && nf.Detail != "" && isGUID == nil {
		// A deleted incident keeps its name: the Recorder refuses it with 409.
		cur, err = nil, nil
	}
	if err != nil {
		return err
	}
	if cur == nil {
		tags := make([]string, len(p.Labels))
		for i, l := range p.Labels {
			tags[i] = l.LabelName
		}
		inc, err := s.rec.Create(r.Context(), s.actor(r), incident.NewIncident{
			Name: id, Title: *p.Title, Description: deref(p.Description), Severity: deref(p.Severity), Status: deref(p.Status),
			Owner: p.Owner.who(), Tags: tags, Classification: deref(p.Classification), ClassificationReason: deref(p.ClassificationReason),
			ClassificationComment: deref(p.ClassificationComment), FirstActivity: first, LastActivity: last,
		})
		if err != nil {
			return err
		}
		w.Header().Set("ETag", quoteEtag(inc.Etag))
		w.Header().Set("Location", "/incidents/"+inc.Name)
		writeJSON(w, http.StatusCreated, incidentOf(inc))
		return nil
	}
	// Replace: the body is the whole incident.
	if p.Severity == nil {
		return badRequest("properties.severity", "properties.severity: is required when replacing an incident (one of %s)", strings.Join(incident.Severities, ", "))
	}
	if p.Status == nil {
		return badRequest("properties.status", "properties.status: is required when replacing an incident (one of %s)", strings.Join(incident.Statuses, ", "))
	}
	if err := sameTime("properties.firstActivityTimeUtc", first, cur.FirstActivityTime); err != nil {
		return err
	}
	if err := sameTime("properties.lastActivityTimeUtc", last, cur.LastActivityTime); err != nil {
		return err
	}
	owner := p.Owner.who()
	c := incident.Change{Title: p.Title, Description: ptr(deref(p.Description)), Severity: p.Severity, Status: p.Status,
		Owner: &owner, IfMatch: ifMatch(r, in.Etag)}
	if cur.Owner.Assigned() && p.Owner != nil && ownerUnchanged(cur.Owner, p.Owner) {
		c.Owner = nil // the same person, however the client spelled them
	}
	want := map[string]bool{}
	for _, l := range p.Labels {
		name := strings.TrimSpace(l.LabelName)
		want[strings.ToLower(name)] = true
		if !hasTag(cur, name) {
			c.AddTags = append(c.AddTags, l.LabelName)
		}
	}
	for _, l := range cur.Labels {
		if !want[strings.ToLower(l.Name)] {
			c.RemoveTags = append(c.RemoveTags, l.Name)
		}
	}
	if closed, _ := incident.ParseStatus(*p.Status); closed == incident.StatusClosed {
		c.Classification, c.ClassificationReason, c.ClassificationComment = ptr(deref(p.Classification)), ptr(deref(p.ClassificationReason)), ptr(deref(p.ClassificationComment))
	} else {
		// Open incidents have no classification; a client sending back
		// empty strings is fine, a value is refused by the Recorder.
		c.Classification, c.ClassificationReason, c.ClassificationComment = nonEmpty(p.Classification), nonEmpty(p.ClassificationReason), nonEmpty(p.ClassificationComment)
	}
	inc, err := s.rec.Update(r.Context(), s.actor(r), cur.Number, c)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", quoteEtag(inc.Etag))
	writeJSON(w, http.StatusOK, incidentOf(inc))
	return nil
}

func ptr(s string) *string { return &s }

func nonEmpty(s *string) *string {
	if s == nil || strings.TrimSpace(*s) == "" {
		return nil
	}
	return s
}

func hasTag(inc *incident.Incident, name string) bool {
	for _, l := range inc.Labels {
		if strings.EqualFold(l.Name, strings.TrimSpace(name)) {
			return true
		}
	}
	return false
}

// ownerUnchanged reports whether the owner sent names the current owner.
func ownerUnchanged(cur incident.Owner, in *ownerInput) bool {
	if in.ObjectID != nil && cur.ObjectID != nil && *in.ObjectID != "" {
		return strings.EqualFold(*in.ObjectID, *cur.ObjectID)
	}
	who := in.who()
	for _, s := range []*string{cur.UserPrincipalName, cur.Email, cur.AssignedTo} {
		if s != nil && strings.EqualFold(*s, who) {
			return true
		}
	}
	return false
}

func sameTime(field string, got time.Time, cur incident.Time) error {
	if got.IsZero() || got.Equal(cur.Time) {
		return nil
	}
	return badRequest(field, "%s: is recorded when the incident is created and cannot be changed (it is %s)", field, orNull(restTime(cur)))
}

func orNull(s *string) string {
	if s == nil {
		return "null"
	}
	return *s
}

func (s *Server) deleteIncident(w http.ResponseWriter, r *http.Request) error {
	inc, err := s.mustFindIncident(r)
	if err != nil {
		return err
	}
	if _, err := s.rec.Delete(r.Context(), s.actor(r), inc.Number, strings.TrimPrefix(strings.TrimSpace(r.Header.Get("If-Match")), "W/")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// incidentList is the list response: a page of incidents and the link to
// the next page.
type incidentList struct {
	Value    []incidentResource `json:"value"`
	NextLink string             `json:"nextLink,omitempty"`
}

const (
	defaultTop = 100
	maxTop     = 1000
)

func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	top := defaultTop
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxTop {
			return badRequest("$top", "$top: %q: want a number from 1 to %d", v, maxTop)
		}
		top = n
	}
	skip := 0
	if v := q.Get("$skipToken"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return badRequest("$skipToken", "$skipToken: %q is not a token this server made; follow nextLink", v)
		}
		skip = n
	}
	filter, err := parseFilter(q.Get("$filter"))
	if err != nil {
		return err
	}
	order, err := parseOrderBy(q.Get("$orderby"))
	if err != nil {
		return err
	}
	matched := 0
	page, err := s.rec.ListPage(r.Context(), filter.narrowing(), func(entries []incident.ListEntry) []incident.ListEntry {
		entries = slices.DeleteFunc(entries, func(e incident.ListEntry) bool { return !filter.match(&e) })
		order.sort(entries)
		matched = len(entries)
		return entries[min(skip, matched):min(skip+top, matched)]
	})
	if err != nil {
		return err
	}
	out := incidentList{Value: []incidentResource{}}
	for _, inc := range page {
		out.Value = append(out.Value, incidentOf(inc))
	}
	if skip+top < matched {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("$skipToken", strconv.Itoa(skip+top))
		next.Set("$top", strconv.Itoa(top))
		out.NextLink = r.URL.Path + "?" + next.Encode()
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
