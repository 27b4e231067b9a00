package gen

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// incident is the live state of one incident while its story plays.
type incident struct {
	rule           *analyticRule
	number         int
	name           string // IncidentName, a GUID
	severity       string
	status         string
	classification string
	reason         string
	closeComment   string
	owner          *analyst // nil when unassigned
	created        time.Time
	firstActivity  time.Time
	lastActivity   time.Time
	firstModified  *time.Time
	closed         *time.Time
	alertIDs       []string
	tasks          []Task
	playbooks      map[string]*playbook // taskId → the playbook that completes it
	labels         []Label
	comments       []Comment
}

// story plays one incident's life and collects a Snapshot per change.
type story struct {
	rng  *rand.Rand
	inc  incident
	now  time.Time // time of the change being made
	end  time.Time // nothing happens at or after end
	rows []Snapshot
}

func newStory(rng *rand.Rand, number int, created, end time.Time) *story {
	s := &story{rng: rng, now: created, end: end}
	rule := s.pickRule()
	s.inc = incident{
		rule:      rule,
		number:    number,
		name:      newGUID(rng),
		severity:  rule.severity,
		status:    StatusNew,
		created:   created,
		playbooks: map[string]*playbook{},
	}
	for range 1 + rng.IntN(rule.maxAlerts) {
		s.inc.alertIDs = append(s.inc.alertIDs, newGUID(rng))
	}
	// Alerts precede the incident: the activity they saw ended shortly before
	// creation and may have started hours earlier.
	s.inc.lastActivity = created.Add(-s.between(30*time.Second, 20*time.Minute))
	s.inc.firstActivity = s.inc.lastActivity.Add(-s.between(0, 6*time.Hour))
	return s
}

// play runs the incident's life from creation until it closes, stalls, or
// the period ends.
func (s *story) play() {
	inc := &s.inc
	s.record(inc.creator())

	if auto := inc.rule.automation; auto != nil && s.chance(0.95) {
		if !s.wait(s.between(2*time.Second, 45*time.Second)) {
			return
		}
		by := ruleIdentity(auto)
		for _, tmpl := range auto.tasks {
			s.addTask(tmpl, by)
		}
		s.addLabel(auto.label, "AutoAssigned")
		s.record(auto.modifiedBy())
	}

	if inc.severity == Informational && s.chance(0.3) {
		if !s.wait(s.between(5*time.Second, 90*time.Second)) {
			return
		}
		s.close(closing{classification: "BenignPositive", reason: "SuspiciousButExpected"},
			"Closed by automation: informational alert from an approved source.")
		s.record(autoClose.modifiedBy())
		return
	}
	if s.chance(0.04) {
		return // nobody ever picks it up
	}

	if !s.workWait(s.triageDelay()) {
		return
	}
	who := &team[s.rng.IntN(len(team))]
	inc.owner = who
	if s.chance(0.5) {
		inc.status = StatusActive
	}
	s.record(who.upn)
	if inc.status != StatusActive {
		if !s.workWait(s.between(time.Minute, 40*time.Minute)) {
			return
		}
		inc.status = StatusActive
		s.record(who.upn)
	}

	// Playbooks finish the tasks they own soon after triage starts.
	for _, id := range s.openTasks() {
		pb := inc.playbooks[id]
		if pb == nil || !s.chance(0.85) {
			continue
		}
		if !s.wait(s.between(time.Minute, 12*time.Minute)) {
			return
		}
		by := playbookIdentity(pb)
		s.setTaskStatus(id, TaskCompleted, by)
		s.comment(fmt.Sprintf(pb.comment, 1+s.rng.IntN(250)), by)
		s.record(pb.modifiedBy())
	}

	steps := 1 + s.rng.IntN(3)
	if inc.severity == High {
		steps += 2
	}
	for range steps {
		if !s.workWait(s.workGap()) {
			return
		}
		s.work()
	}
	if s.chance(0.1) {
		return // left Active
	}

	// Wrap up: finish most open tasks, each its own change, then close.
	for _, id := range s.openTasks() {
		if !s.chance(0.7) {
			continue
		}
		if !s.workWait(s.between(2*time.Minute, 30*time.Minute)) {
			return
		}
		s.setTaskStatus(id, TaskCompleted, inc.owner.identity())
		s.record(inc.owner.upn)
	}
	if !s.workWait(s.between(5*time.Minute, 2*time.Hour)) {
		return
	}
	c := s.pickClosing()
	s.close(c, c.comments[s.rng.IntN(len(c.comments))])
	s.record(inc.owner.upn)
}

// work makes one change by the owner, chosen among the changes that make
// sense for the incident's current state, and records it.
func (s *story) work() {
	inc := &s.inc
	who := inc.owner
	open, done := s.openTasks(), s.tasksWithStatus(TaskCompleted)
	type change struct {
		weight int
		do     func()
	}
	changes := []change{
		{3, func() { s.comment(workComments[s.rng.IntN(len(workComments))], who.identity()) }},
		{2, func() { s.addTask(adHocTasks[s.rng.IntN(len(adHocTasks))], who.identity()) }},
		{1, func() { s.addLabel(userLabels[s.rng.IntN(len(userLabels))], "User") }},
		{1, func() { s.changeSeverity() }},
		{1, func() { s.reassign() }},
	}
	if len(open) > 0 {
		changes = append(changes,
			change{6, func() { s.setTaskStatus(pick(s.rng, open), TaskCompleted, who.identity()) }},
			change{1, func() { s.setTaskStatus(pick(s.rng, open), TaskDeleted, who.identity()) }},
		)
	}
	if len(done) > 0 {
		changes = append(changes, change{1, func() { s.setTaskStatus(pick(s.rng, done), TaskNew, who.identity()) }})
	}
	total := 0
	for _, c := range changes {
		total += c.weight
	}
	n := s.rng.IntN(total)
	for _, c := range changes {
		if n < c.weight {
			c.do()
			break
		}
		n -= c.weight
	}
	s.record(who.upn) // the actor, even when the change was a reassignment
}

// record appends the incident's current state as a snapshot made by actor at
// s.now, then drops tasks that the snapshot showed as Deleted.
func (s *story) record(actor string) {
	inc := &s.inc
	if len(s.rows) > 0 && inc.firstModified == nil {
		t := s.now
		inc.firstModified = &t
	}
	snap := Snapshot{
		TenantID:               TenantID,
		TimeGenerated:          Timestamp(s.now),
		IncidentName:           inc.name,
		Title:                  inc.rule.title,
		Description:            inc.rule.description,
		Severity:               inc.severity,
		Status:                 inc.status,
		Classification:         inc.classification,
		ClassificationComment:  inc.closeComment,
		ClassificationReason:   inc.reason,
		Owner:                  string(jsonText(inc.owner.owner())),
		ProviderName:           inc.rule.provider,
		ProviderIncidentID:     inc.providerIncidentID(),
		FirstActivityTime:      Timestamp(inc.firstActivity),
		LastActivityTime:       Timestamp(inc.lastActivity),
		LastModifiedTime:       Timestamp(s.now),
		CreatedTime:            Timestamp(inc.created),
		IncidentNumber:         inc.number,
		RelatedAnalyticRuleIDs: jsonList(inc.ruleIDs()),
		AlertIDs:               jsonList(inc.alertIDs),
		BookmarkIDs:            "[]",
		Comments:               jsonList(inc.comments),
		Tasks:                  jsonList(inc.tasks),
		Labels:                 jsonList(inc.labels),
		IncidentURL:            inc.url(),
		AdditionalData:         string(jsonText(inc.additionalData())),
		ModifiedBy:             actor,
		SourceSystem:           "Azure",
		Type:                   "SecurityIncident",
		IsBillable:             "True",
	}
	if inc.firstModified != nil {
		snap.FirstModifiedTime = stamp(*inc.firstModified)
	}
	if inc.closed != nil {
		snap.ClosedTime = stamp(*inc.closed)
	}
	snap.BilledSize = billedSize(&snap)
	s.rows = append(s.rows, snap)
	inc.tasks = slices.DeleteFunc(inc.tasks, func(t Task) bool { return t.Status == TaskDeleted })
}

// billedSize estimates the row's size in bytes as Log Analytics bills it.
func billedSize(s *Snapshot) float64 {
	n := 8 * 8 // datetime and number columns
	for _, v := range []string{
		s.TenantID, s.IncidentName, s.Title, s.Description, s.Severity, s.Status,
		s.Classification, s.ClassificationComment, s.ClassificationReason, s.Owner,
		s.ProviderName, s.ProviderIncidentID, s.RelatedAnalyticRuleIDs, s.AlertIDs,
		s.BookmarkIDs, s.Comments, s.Tasks, s.Labels, s.IncidentURL, s.AdditionalData,
		s.ModifiedBy, s.SourceSystem, s.Type,
	} {
		n += len(v)
	}
	return float64(n)
}

func (s *story) addTask(tmpl taskTemplate, by Identity) {
	t := Task{
		TaskID:              newGUID(s.rng),
		Title:               tmpl.title,
		Description:         tmpl.description,
		Status:              TaskNew,
		CreatedTimeUTC:      Timestamp(s.now),
		LastModifiedTimeUTC: Timestamp(s.now),
		CreatedBy:           by,
		LastModifiedBy:      by,
	}
	if tmpl.playbook != nil {
		s.inc.playbooks[t.TaskID] = tmpl.playbook
	}
	s.inc.tasks = append(s.inc.tasks, t)
}

// setTaskStatus completes, reopens or deletes the task with id.
func (s *story) setTaskStatus(id, status string, by Identity) {
	for i := range s.inc.tasks {
		t := &s.inc.tasks[i]
		if t.TaskID != id {
			continue
		}
		t.Status = status
		t.LastModifiedTimeUTC = Timestamp(s.now)
		t.LastModifiedBy = by
		if status == TaskCompleted {
			t.LastCompletedTimeUTC = stamp(s.now)
		}
		return
	}
}

func (s *story) openTasks() []string { return s.tasksWithStatus(TaskNew) }

func (s *story) tasksWithStatus(status string) []string {
	var ids []string
	for _, t := range s.inc.tasks {
		if t.Status == status {
			ids = append(ids, t.TaskID)
		}
	}
	return ids
}

func (s *story) addLabel(name, labelType string) {
	for _, l := range s.inc.labels {
		if l.LabelName == name {
			return
		}
	}
	s.inc.labels = append(s.inc.labels, Label{LabelName: name, LabelType: labelType})
}

func (s *story) comment(message string, by Identity) {
	s.inc.comments = append(s.inc.comments, Comment{
		Message:             message,
		CreatedTimeUTC:      Timestamp(s.now),
		LastModifiedTimeUTC: Timestamp(s.now),
		Author:              by,
	})
}

// changeSeverity moves the severity one step up or down.
func (s *story) changeSeverity() {
	order := []string{Informational, Low, Medium, High}
	i := slices.Index(order, s.inc.severity)
	switch {
	case i == 0 || (i < len(order)-1 && s.chance(0.5)):
		s.inc.severity = order[i+1]
	default:
		s.inc.severity = order[i-1]
	}
}

// reassign hands the incident to another analyst, usually as an escalation.
func (s *story) reassign() {
	next := &team[s.rng.IntN(len(team))]
	for next == s.inc.owner {
		next = &team[s.rng.IntN(len(team))]
	}
	s.inc.owner = next
	if s.chance(0.6) {
		s.addLabel("Escalated", "User")
	}
}

func (s *story) close(c closing, comment string) {
	inc := &s.inc
	inc.status = StatusClosed
	inc.classification = c.classification
	inc.reason = c.reason
	inc.closeComment = comment
	t := s.now
	inc.closed = &t
}

func (s *story) pickRule() *analyticRule {
	total := 0
	for _, r := range analyticRules {
		total += r.weight
	}
	n := s.rng.IntN(total)
	for i := range analyticRules {
		if n < analyticRules[i].weight {
			return &analyticRules[i]
		}
		n -= analyticRules[i].weight
	}
	panic("unreachable")
}

func (s *story) pickClosing() closing {
	weights := make([]int, len(closings))
	total := 0
	for i, c := range closings {
		weights[i] = c.weight
		// Informational detections are mostly expected behaviour; High ones
		// are more often real.
		switch {
		case s.inc.severity == Informational && c.classification == "BenignPositive":
			weights[i] *= 2
		case s.inc.severity == High && c.classification == "TruePositive":
			weights[i] *= 3
		}
		total += weights[i]
	}
	n := s.rng.IntN(total)
	for i, w := range weights {
		if n < w {
			return closings[i]
		}
		n -= w
	}
	panic("unreachable")
}

// wait moves the clock on by d and reports whether that is still within
// the period.
func (s *story) wait(d time.Duration) bool {
	s.now = s.now.Add(max(d.Truncate(tick), tick))
	return s.now.Before(s.end)
}

// workWait is wait for an analyst: except on High incidents, work that would
// fall outside office hours waits for the next working morning.
func (s *story) workWait(d time.Duration) bool {
	if !s.wait(d) {
		return false
	}
	if s.inc.severity != High {
		s.now = nextOfficeTime(s.now, s.between(0, 3*time.Hour))
	}
	return s.now.Before(s.end)
}

// nextOfficeTime returns t if it falls in office hours (Monday–Friday
// 07:00–19:00 UTC), otherwise the next 07:00 plus jitter.
func nextOfficeTime(t time.Time, jitter time.Duration) time.Time {
	working := func(d time.Time) bool { return d.Weekday() != time.Saturday && d.Weekday() != time.Sunday }
	if working(t) && t.Hour() >= 7 && t.Hour() < 19 {
		return t
	}
	day := time.Date(t.Year(), t.Month(), t.Day(), 7, 0, 0, 0, time.UTC)
	if t.Hour() >= 19 {
		day = day.AddDate(0, 0, 1)
	}
	for !working(day) {
		day = day.AddDate(0, 0, 1)
	}
	return day.Add(jitter.Truncate(tick))
}

// triageDelay is how long an incident waits in the queue before someone
// takes it, by severity.
func (s *story) triageDelay() time.Duration {
	switch s.inc.severity {
	case High:
		return s.expDuration(12 * time.Minute)
	case Medium:
		return s.expDuration(90 * time.Minute)
	case Low:
		return s.expDuration(4 * time.Hour)
	default:
		return s.expDuration(8 * time.Hour)
	}
}

func (s *story) workGap() time.Duration {
	if s.inc.severity == High {
		return s.expDuration(30 * time.Minute)
	}
	return s.expDuration(2 * time.Hour)
}

// expDuration draws an exponential duration with the given mean, between a
// minute and six times the mean.
func (s *story) expDuration(mean time.Duration) time.Duration {
	d := time.Duration(s.rng.ExpFloat64() * float64(mean))
	return min(max(d, time.Minute), 6*mean)
}

// between draws a duration uniformly from [lo, hi).
func (s *story) between(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(s.rng.Int64N(int64(hi-lo)))
}

func (s *story) chance(p float64) bool { return s.rng.Float64() < p }

func pick(rng *rand.Rand, ids []string) string { return ids[rng.IntN(len(ids))] }

// creator is ModifiedBy on the creation row.
func (inc *incident) creator() string {
	if inc.rule.provider == providerDefender {
		return providerDefender
	}
	return "Incident created from alert"
}

func (inc *incident) providerIncidentID() string {
	if inc.rule.provider == providerDefender {
		return strconv.Itoa(41000 + inc.number)
	}
	return strconv.Itoa(inc.number)
}

func (inc *incident) ruleIDs() []string {
	if inc.rule.provider == providerDefender {
		return nil // Defender incidents come from no Sentinel analytic rule
	}
	return []string{nameGUID("analytic rule", inc.rule.title)}
}

func (inc *incident) url() string {
	return "https://portal.azure.com/#asset/Microsoft_Azure_Security_Insights/Incident/subscriptions/" + subscriptionID +
		"/resourceGroups/" + resourceGroup + "/providers/Microsoft.OperationalInsights/workspaces/" + workspace +
		"/providers/Microsoft.SecurityInsights/Incidents/" + inc.name
}

func (inc *incident) additionalData() AdditionalData {
	u := inc.url()
	if inc.rule.provider == providerDefender {
		u = "https://security.microsoft.com/incidents/" + inc.providerIncidentID() + "?tid=" + TenantID
	}
	return AdditionalData{
		AlertsCount:         len(inc.alertIDs),
		CommentsCount:       len(inc.comments),
		AlertProductNames:   inc.rule.products,
		Tactics:             inc.rule.tactics,
		Techniques:          inc.rule.techniques,
		ProviderIncidentURL: u,
	}
}

// owner is the Owner column for a (possibly nil, unassigned) analyst.
func (a *analyst) owner() Owner {
	if a == nil {
		return Owner{OwnerType: "Unknown"}
	}
	id := a.identity()
	return Owner{ObjectID: id.ObjectID, Email: id.Email, AssignedTo: id.Name, UserPrincipalName: id.UserPrincipalName, OwnerType: "User"}
}

func (a *analyst) identity() Identity {
	return Identity{Email: ptr(a.upn), Name: ptr(a.name), ObjectID: ptr(nameGUID("user", a.upn)), UserPrincipalName: ptr(a.upn)}
}

func ruleIdentity(r *automationRule) Identity {
	return Identity{Name: ptr(r.name), ObjectID: ptr(nameGUID("automation rule", r.name))}
}

func playbookIdentity(p *playbook) Identity {
	return Identity{Name: ptr(p.name), ObjectID: ptr(nameGUID("playbook", p.name))}
}

func (r *automationRule) modifiedBy() string { return "Automation rule - " + r.name }

func (p *playbook) modifiedBy() string { return "Playbook - " + p.name }

func ptr(s string) *string { return &s }

// jsonList encodes a slice as JSON text, nil as "[]".
func jsonList[T any](xs []T) string {
	if xs == nil {
		return "[]"
	}
	return string(jsonText(xs))
}
