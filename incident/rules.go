package incident

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/socq/socq/engine"
	"github.com/socq/socq/parser"
)

// Rule triggers.
const (
	TriggerCreated = "created" // after Create
	TriggerUpdated = "updated" // after Update, Close and Reopen (not task changes)
)

// Rule is an automation rule: when an incident is created or updated and
// Condition (a KQL predicate over the incident's columns, as in
// `SecurityIncident | where <Condition>`) holds for its new row, the actions
// run, and their changes are a snapshot row of their own with ModifiedBy
// "Automation rule - Name". Changes made by rules never trigger rules.
// Enabled rules run in Order, then by Name, each seeing the changes of the
// ones before it.
type Rule struct {
	Name      string
	Trigger   string // TriggerCreated or TriggerUpdated
	Condition string
	Order     int // 1..1000; 0 in AddRule means after the last rule
	Enabled   bool
	// Actions; at least one.
	AddTasks    []NewTask // tasks created by the rule
	SetOwner    string    // UPN, email or name
	AddTags     []string  // labels of type AutoAssigned
	SetSeverity string
	// Who added the rule and when.
	CreatedBy   string
	CreatedTime time.Time
}

type ruleActions struct {
	AddTasks    []ruleTask `json:"addTasks,omitempty"`
	SetOwner    string     `json:"setOwner,omitempty"`
	AddTags     []string   `json:"addTags,omitempty"`
	SetSeverity string     `json:"setSeverity,omitempty"`
}

type ruleTask struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// ConditionError is a rule condition that does not parse or compile; its
// message shows the condition with a caret under the problem.
type ConditionError struct {
	Query string // SecurityIncident | where <condition>
	Err   error
}

func (e *ConditionError) Error() string {
	var perr *parser.Error
	if errors.As(e.Err, &perr) {
		return "condition: " + strings.TrimRight(perr.Render(e.Query), "\n")
	}
	return "condition: " + e.Err.Error()
}

func (e *ConditionError) Unwrap() error { return e.Err }

// CompileCondition compiles a rule condition with the query compiler, as
// `SecurityIncident | where <condition>`. Only a predicate is accepted: a
// condition that adds pipe stages or let statements is refused.
func CompileCondition(condition string) (*engine.Plan, error) {
	if strings.TrimSpace(condition) == "" {
		return nil, invalid("condition", "is required: a KQL predicate such as Severity == \"High\"")
	}
	text := "SecurityIncident | where " + condition
	q, err := parser.Parse(text)
	if err != nil {
		return nil, &ConditionError{Query: text, Err: err}
	}
	if len(q.Lets) > 0 || q.Pipe == nil || len(q.Pipe.Ops) != 1 {
		return nil, invalid("condition", "must be one predicate (what follows `where`), without `|` stages or let statements")
	}
	if _, ok := q.Pipe.Ops[0].(*parser.Where); !ok {
		return nil, invalid("condition", "must be one predicate (what follows `where`)")
	}
	plan, err := engine.Compile(q, engine.DefaultCatalog(), engine.CompileOptions{})
	if err != nil {
		return nil, &ConditionError{Query: text, Err: err}
	}
	return plan, nil
}

// checkRule validates a rule and canonicalises its fields.
func checkRule(rule *Rule) error {
	name := strings.TrimSpace(rule.Name)
	if name == "" {
		return invalid("rule name", "is required")
	}
	if strings.ContainsAny(name, "\r\n") {
		return invalid("rule name", "%q must be on one line", name)
	}
	rule.Name = name
	switch t := strings.ToLower(strings.TrimSpace(rule.Trigger)); t {
	case TriggerCreated, TriggerUpdated:
		rule.Trigger = t
	default:
		return invalid("rule trigger", "%q: want created or updated", rule.Trigger)
	}
	if _, err := CompileCondition(rule.Condition); err != nil {
		return err
	}
	if rule.Order < 0 || rule.Order > 1000 {
		return invalid("rule order", "%d: want 1 to 1000", rule.Order)
	}
	if len(rule.AddTasks) == 0 && rule.SetOwner == "" && len(rule.AddTags) == 0 && rule.SetSeverity == "" {
		return invalid("rule actions", "rule %q does nothing: give it a task to add, an owner, a tag or a severity", name)
	}
	for i, t := range rule.AddTasks {
		title, err := normTitle("rule task title", t.Title)
		if err != nil {
			return err
		}
		if err := checkDescription("rule task description", t.Description); err != nil {
			return err
		}
		rule.AddTasks[i] = NewTask{Title: title, Description: strings.TrimSpace(t.Description)}
	}
	if rule.SetOwner != "" {
		o, err := checkOwnerShape("rule owner", rule.SetOwner)
		if err != nil {
			return err
		}
		rule.SetOwner = o
	}
	for i, t := range rule.AddTags {
		tag, err := normTag(t)
		if err != nil {
			return err
		}
		rule.AddTags[i] = tag
	}
	if rule.SetSeverity != "" {
		s, err := ParseSeverity(rule.SetSeverity)
		if err != nil {
			return err
		}
		rule.SetSeverity = s
	}
	return nil
}

// AddRule adds an enabled automation rule. Names are unique.
func (r *Recorder) AddRule(ctx context.Context, by string, rule Rule) (*Rule, error) {
	if err := checkRule(&rule); err != nil {
		return nil, err
	}
	if _, err := checkOwnerShape("person acting (--as)", by); err != nil {
		return nil, err
	}
	rule.Enabled = true
	rule.CreatedTime = r.now(time.Time{})
	actions := ruleActions{SetOwner: rule.SetOwner, AddTags: rule.AddTags, SetSeverity: rule.SetSeverity}
	for _, t := range rule.AddTasks {
		actions.AddTasks = append(actions.AddTasks, ruleTask(t))
	}
	aj, err := json.Marshal(actions)
	if err != nil {
		return nil, err
	}
	err = r.write(ctx, func(tx *engine.Tx) error {
		actor, err := resolvePerson(ctx, tx, by)
		if err != nil {
			return err
		}
		rule.CreatedBy = actor.ModifiedBy()
		existing, err := loadRules(ctx, tx, "", false)
		if err != nil {
			return err
		}
		order := rule.Order
		for _, e := range existing {
			if strings.EqualFold(e.Name, rule.Name) {
				return invalid("rule name", "a rule called %q exists already (delete it first, or pick another name)", e.Name)
			}
			if rule.Order == 0 && e.Order >= order {
				order = e.Order + 1
			}
		}
		if order == 0 {
			order = 1
		}
		rule.Order = min(order, 1000)
		_, err = tx.Exec(ctx, `INSERT INTO socq_rules VALUES (?, ?, ?, CAST(? AS JSON), ?, true, ?, CAST(? AS TIMESTAMP_NS))`,
			rule.Name, rule.Trigger, rule.Condition, string(aj), rule.Order, rule.CreatedBy, Time{rule.CreatedTime}.sqlText())
		if err != nil {
			return fmt.Errorf("add rule %q: %w", rule.Name, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &rule, nil
}

// Rules lists every automation rule in the order they run.
func (r *Recorder) Rules(ctx context.Context) ([]Rule, error) {
	var rules []Rule
	err := r.db.Tx(ctx, func(tx *engine.Tx) error {
		var err error
		rules, err = loadRules(ctx, tx, "", false)
		return err
	})
	return rules, err
}

// SetRuleEnabled enables or disables the rule called name.
func (r *Recorder) SetRuleEnabled(ctx context.Context, name string, enabled bool) (*Rule, error) {
	var rule *Rule
	err := r.write(ctx, func(tx *engine.Tx) error {
		n, err := tx.Exec(ctx, `UPDATE socq_rules SET enabled = ? WHERE lower(name) = lower(?)`, enabled, strings.TrimSpace(name))
		if err != nil {
			return fmt.Errorf("change rule %q: %w", name, err)
		}
		if n == 0 {
			return &NotFoundError{What: fmt.Sprintf("rule %q", name)}
		}
		rules, err := loadRules(ctx, tx, "", false)
		for i := range rules {
			if strings.EqualFold(rules[i].Name, strings.TrimSpace(name)) {
				rule = &rules[i]
			}
		}
		return err
	})
	return rule, err
}

// DeleteRule deletes the rule called name. Changes it made stay recorded.
func (r *Recorder) DeleteRule(ctx context.Context, name string) error {
	return r.write(ctx, func(tx *engine.Tx) error {
		n, err := tx.Exec(ctx, `DELETE FROM socq_rules WHERE lower(name) = lower(?)`, strings.TrimSpace(name))
		if err != nil {
			return fmt.Errorf("delete rule %q: %w", name, err)
		}
		if n == 0 {
			return &NotFoundError{What: fmt.Sprintf("rule %q", name)}
		}
		return nil
	})
}

// loadRules reads the rules in run order; trigger "" means all, enabled
// only the enabled ones.
func loadRules(ctx context.Context, tx *engine.Tx, trigger string, enabled bool) ([]Rule, error) {
	rows, err := tx.Query(ctx, `SELECT name, trigger, condition, CAST(actions AS VARCHAR), run_order, enabled, created_by, created_time
		FROM socq_rules WHERE (? = '' OR trigger = ?) AND (enabled OR NOT ?) ORDER BY run_order, name`, trigger, trigger, enabled)
	if err != nil {
		return nil, fmt.Errorf("read automation rules: %w", err)
	}
	defer rows.Close()
	var out []Rule
	for rows.Next() {
		var rule Rule
		var actions string
		var created sql.NullTime
		if err := rows.Scan(&rule.Name, &rule.Trigger, &rule.Condition, &actions, &rule.Order, &rule.Enabled, &rule.CreatedBy, &created); err != nil {
			return nil, fmt.Errorf("read automation rules: %w", err)
		}
		rule.CreatedTime = created.Time.UTC()
		var a ruleActions
		if err := json.Unmarshal([]byte(actions), &a); err != nil {
			return nil, fmt.Errorf("rule %q: actions: %w", rule.Name, err)
		}
		for _, t := range a.AddTasks {
			rule.AddTasks = append(rule.AddTasks, NewTask(t))
		}
		rule.SetOwner, rule.AddTags, rule.SetSeverity = a.SetOwner, a.AddTags, a.SetSeverity
		out = append(out, rule)
	}
	return out, rows.Err()
}

// runRules runs the enabled rules of trigger on inc, whose latest row was
// written at at, recording each rule's changes as a snapshot row.
func (r *Recorder) runRules(ctx context.Context, tx *engine.Tx, inc *Incident, at time.Time, trigger string) (*Incident, error) {
	rules, err := loadRules(ctx, tx, trigger, true)
	if err != nil {
		return nil, err
	}
	for _, rule := range rules {
		ok, err := ruleMatches(ctx, tx, rule, inc.Name, at)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		before := inc.clone()
		by := rulePerson(rule.Name)
		next := r.now(at)
		if rule.SetSeverity != "" {
			inc.Severity = rule.SetSeverity
		}
		if rule.SetOwner != "" {
			p, err := resolvePerson(ctx, tx, rule.SetOwner)
			if err != nil {
				return nil, fmt.Errorf("automation rule %q: %w", rule.Name, err)
			}
			inc.Owner = ownerOf(p)
		}
		for _, t := range rule.AddTags {
			if err := addLabel(inc, t, LabelAutoAssigned); err != nil {
				return nil, fmt.Errorf("automation rule %q: %w", rule.Name, err)
			}
		}
		for _, t := range rule.AddTasks {
			inc.Tasks = append(inc.Tasks, newTask(uuid.NewString(), t.Title, t.Description, by, next))
		}
		if same(before, inc) {
			continue
		}
		at = next
		stamp(inc, before, at, RuleModifiedBy(rule.Name))
		if err := writeSnapshot(ctx, tx, inc, inc.Tasks, at, inc.ModifiedBy); err != nil {
			return nil, fmt.Errorf("automation rule %q: %w", rule.Name, err)
		}
		inc.Etag = etagOf(inc.Name, at)
	}
	return inc, nil
}

// ruleMatches evaluates the rule's condition on the incident's row written
// at at: the compiled query runs over a SecurityIncident holding that row.
func ruleMatches(ctx context.Context, tx *engine.Tx, rule Rule, name string, at time.Time) (bool, error) {
	plan, err := CompileCondition(rule.Condition)
	if err != nil {
		return false, fmt.Errorf("automation rule %q: %w", rule.Name, err)
	}
	q := `WITH "SecurityIncident" AS (SELECT * FROM main."SecurityIncident" WHERE "IncidentName" = ? AND "TimeGenerated" = CAST(? AS TIMESTAMP_NS))
SELECT count(*) FROM (` + plan.SQL + `) AS socq_rule_match`
	rows, err := tx.Query(ctx, q, name, Time{at}.sqlText())
	if err != nil {
		return false, fmt.Errorf("automation rule %q: condition %s: %w", rule.Name, rule.Condition, err)
	}
	defer rows.Close()
	var n int64
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return false, fmt.Errorf("automation rule %q: %w", rule.Name, err)
		}
	}
	return n > 0, rows.Err()
}
