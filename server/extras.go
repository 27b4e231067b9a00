package server

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/socq/socq/check"
	"github.com/socq/socq/engine"
	"github.com/socq/socq/examples/checks"
	"github.com/socq/socq/parser"
)

// runKQL compiles and runs a query of the server's own (the web page's
// suggestions), with now() at the server's clock.
func (s *Server) runKQL(ctx context.Context, text string, row func([]any) error) error {
	q, err := parser.Parse(text)
	if err != nil {
		return err
	}
	plan, err := engine.Compile(q, engine.DefaultCatalog(), engine.CompileOptions{Now: s.cfg.Now().UTC()})
	if err != nil {
		return err
	}
	return s.cfg.DB.Query(ctx, plan, row)
}

type nameList struct {
	Value []string `json:"value"`
}

// tagQuery lists the tags of the snapshots of the past two weeks, the
// portal's tag suggestions.
const tagQuery = `SecurityIncident
| where TimeGenerated > ago(14d)
| mv-expand Label = Labels
| extend Tag = tostring(Label.labelName)
| where isnotempty(Tag)
| summarize Incidents = dcount(IncidentNumber), Last = max(TimeGenerated) by Tag
| sort by Incidents desc, Last desc, Tag asc`

func (s *Server) tags(w http.ResponseWriter, r *http.Request) error {
	out := nameList{Value: []string{}}
	err := s.runKQL(r.Context(), tagQuery, func(vals []any) error {
		out.Value = append(out.Value, vals[0].(string))
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

const ownerQuery = `SecurityIncident
| extend UPN = tostring(Owner.userPrincipalName), Name = tostring(Owner.assignedTo)
| where isnotempty(UPN) or isnotempty(Name)
| summarize Last = max(TimeGenerated) by UPN, Name
| sort by Last desc`

func (s *Server) owners(w http.ResponseWriter, r *http.Request) error {
	out := nameList{Value: []string{}}
	err := s.runKQL(r.Context(), ownerQuery, func(vals []any) error {
		who := vals[0].(string)
		if who == "" {
			who = vals[1].(string)
		}
		if !slices.ContainsFunc(out.Value, func(v string) bool { return strings.EqualFold(v, who) }) {
			out.Value = append(out.Value, who)
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// historyEntry is one change in an incident's timeline.
type historyEntry struct {
	Time       string `json:"timeGenerated"`
	By         string `json:"by"`
	Change     string `json:"change"` // added, completed, reopened, edited, deleted
	TaskID     string `json:"taskId"`
	TaskTitle  string `json:"taskTitle"`
	TaskStatus string `json:"taskStatus"`
	CreatedBy  string `json:"createdBy"`
}

type historyList struct {
	Value []historyEntry `json:"value"`
}

func (s *Server) history(w http.ResponseWriter, r *http.Request) error {
	inc, err := s.mustFindIncident(r)
	if err != nil {
		return err
	}
	changes, err := s.cfg.DB.TaskChanges(r.Context(), engine.TaskChangeFilter{IncidentNumber: inc.Number, ChangesOnly: true})
	if err != nil {
		return err
	}
	out := historyList{Value: []historyEntry{}}
	for _, c := range changes {
		by := c.LastModifiedByUPN
		if by == "" {
			by = c.LastModifiedByName
		}
		created := c.CreatedByUPN
		if created == "" {
			created = c.CreatedByName
		}
		out.Value = append(out.Value, historyEntry{Time: c.TimeGenerated.UTC().Format(time.RFC3339Nano), By: by, Change: c.Change,
			TaskID: c.TaskID, TaskTitle: c.TaskTitle, TaskStatus: c.TaskStatus, CreatedBy: created})
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
	name := "soc-metrics.yaml"
	if data == nil {
		data = checks.SOCMetrics
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
