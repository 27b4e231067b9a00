package server

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/socq/socq/check"
	"github.com/socq/socq/examples"
	"github.com/socq/socq/incident"
)

type nameList struct {
	Value []string `json:"value"`
}

// tags lists the tags used in the past two weeks, most recently used first:
// the portal's tag suggestions.
func (s *Server) tags(w http.ResponseWriter, r *http.Request) error {
	tags, err := s.rec.Tags(r.Context(), s.cfg.Now().Add(-14*24*time.Hour))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, nameList{Value: orEmpty(tags)})
	return nil
}

func (s *Server) owners(w http.ResponseWriter, r *http.Request) error {
	owners, err := s.rec.Owners(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, nameList{Value: orEmpty(owners)})
	return nil
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// historyEntry is one change in an incident's timeline (incident.Event).
type historyEntry struct {
	Time      string `json:"timeGenerated"`
	By        string `json:"by"`
	Change    string `json:"change"` // created, status, owner, tag added, …, task added, task completed, …
	Detail    string `json:"detail,omitempty"`
	TaskID    string `json:"taskId,omitempty"`
	TaskTitle string `json:"taskTitle,omitempty"`
}

type historyList struct {
	Value []historyEntry `json:"value"`
}

// history is the incident's change timeline, computed from its snapshot
// rows by the same code as socq history.
func (s *Server) history(w http.ResponseWriter, r *http.Request) error {
	inc, err := s.mustFindIncident(r)
	if err != nil {
		return err
	}
	events, err := s.rec.History(r.Context(), incident.HistoryFilter{IncidentNumber: inc.Number})
	if err != nil {
		return err
	}
	out := historyList{Value: []historyEntry{}}
	for _, e := range events {
		out.Value = append(out.Value, historyEntry{Time: e.Time.UTC().Format(time.RFC3339Nano), By: e.By, Change: e.Change,
			Detail: e.Detail, TaskID: e.TaskID, TaskTitle: e.TaskTitle})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// checkRunner runs the checks' KQL on the server's database.
type checkRunner struct{ s *Server }

func (c checkRunner) Run(ctx context.Context, query string, params map[string]string) (*check.Rows, error) {
	plan, err := c.s.compile(ctx, queryRequest{Query: query, Params: params})
	var qe *queryErr
	if errors.As(err, &qe) {
		return nil, errors.New(qe.body.Error.InnerError.Message)
	}
	if err != nil {
		return nil, err
	}
	defer c.s.cfg.DB.Release(plan) // when no run started (the run releases it)
	rows := &check.Rows{}
	for _, col := range plan.Columns {
		rows.Columns = append(rows.Columns, col.Name)
	}
	err = c.s.cfg.DB.Query(ctx, plan, func(vals []any) error {
		rows.Values = append(rows.Values, slices.Clone(vals))
		return nil
	})
	return rows, err
}

type metricsResponse struct {
	File    string         `json:"file"`
	Summary string         `json:"summary"`
	Worst   string         `json:"worst"`
	Results []metricResult `json:"results"`
}

type metricResult struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Status      string `json:"status"`
	Value       string `json:"value"`
	Threshold   string `json:"threshold"`
	Message     string `json:"message,omitempty"`
}

// metrics runs the checks file; query parameters are its workbook
// parameters (TimeRange=7d).
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) error {
	data := s.cfg.Checks
	name := s.cfg.ChecksName
	if data == nil {
		data, name = examples.SOCMetrics, examples.SOCMetricsPath
	}
	f, err := check.Load(name, data)
	if err != nil {
		return err
	}
	params := map[string]string{}
	for k, v := range r.URL.Query() {
		params[k] = v[0]
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.QueryTimeout)
	defer cancel()
	rep, err := check.Run(ctx, f, checkRunner{s}, params)
	if err != nil {
		return badRequest("", "%v", err)
	}
	out := metricsResponse{File: name, Summary: rep.Summary(), Worst: rep.Worst().String(), Results: []metricResult{}}
	for _, res := range rep.Results {
		out.Results = append(out.Results, metricResult{Name: res.Check.Name, Description: res.Check.Description, Status: res.Status.String(),
			Value: res.ValueText, Threshold: res.Check.Threshold(), Message: res.Message})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
