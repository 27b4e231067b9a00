package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds Debian's chromium. Under CI=true a missing browser fails
// the test instead of skipping it (.ci/test installs it).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (apt-get install chromium); the browser tests must run in CI")
	}
	t.Skip("chromium is not installed (apt-get install chromium)")
	return ""
}

// browserPage is a headless chromium with a fresh profile, pointed at a
// test server. Its steps have a deadline each, so a step that waits in vain
// fails while the browser still answers: on failure the test logs the
// page's text and the server's incidents and saves a screenshot to
// $SOCQ_SCREENSHOTS, else to the test's temporary directory.
type browserPage struct {
	t   *testing.T
	ctx context.Context
	ts  *httptest.Server
}

// stepTimeout bounds one step; a step is a few clicks and page loads.
const stepTimeout = 30 * time.Second

func newBrowserPage(t *testing.T, ts *httptest.Server) *browserPage {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	p := &browserPage{t: t, ctx: ctx, ts: ts}
	t.Cleanup(func() {
		if t.Failed() {
			p.explain()
		}
		cancelCtx()
		cancelAlloc()
	})
	// The first action starts the browser; its context owns it, so the
	// step deadlines below end actions, never the browser.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return p
}

// step runs actions within stepTimeout, failing the test with what.
func (p *browserPage) step(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
}

// read runs one action that returns a value, within stepTimeout.
func read[T any](p *browserPage, what string, action chromedp.Action[T]) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// explain logs what a failed test saw: the page's text, the incidents the
// server holds, and a screenshot.
func (p *browserPage) explain() {
	t := p.t
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	if text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`)); err == nil {
		t.Logf("the page says:\n%s", text)
	} else {
		t.Logf("page text: %v", err)
	}
	t.Logf("the server holds: %s", do(t, p.ts, "GET", "/incidents", readTok, nil).body)
	dir := os.Getenv("SOCQ_SCREENSHOTS")
	keep := " (set SOCQ_SCREENSHOTS=DIR to keep it after the test)"
	if dir == "" {
		dir = t.TempDir()
	} else {
		keep = ""
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("screenshot: %v", err)
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot: %v", err)
		return
	}
	path := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Logf("screenshot: %v", err)
		return
	}
	t.Logf("screenshot of the page: %s%s", path, keep)
}

// TestBrowserIncidentTasksHistoryChart walks the web page as an analyst:
// create an incident, add a task and complete it, see both in the history,
// then run a query that ends in render timechart and check the chart is
// drawn.
func TestBrowserIncidentTasksHistoryChart(t *testing.T) {
	ts := newTestServer(t)
	p := newBrowserPage(t, ts)
	const taskTitle = "Reset the user's password"
	p.step("open the queue",
		chromedp.Navigate(ts.URL+"/#token="+writeTok),
		chromedp.WaitVisible(chromedp.CSS(`#queue`)),
		// Acting as: the token names nobody, so the page sends X-Socq-User.
		chromedp.SetValue(chromedp.CSS(`#actor`), "mei.lin@contoso.com"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("actor").dispatchEvent(new Event("change"))`))
	p.step("create an incident",
		chromedp.Click(chromedp.CSS(`nav a[data-nav="new"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#create-form`)),
		chromedp.SendKeys(chromedp.CSS(`#create-form input[name="title"]`), "Phishing: invoice from a lookalike domain"),
		chromedp.SetValue(chromedp.CSS(`#create-form select[name="severity"]`), "High"),
		chromedp.SendKeys(chromedp.CSS(`#create-form input[name="tag"]`), "phishing\r"),
		chromedp.Click(chromedp.CSS(`#create-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#incident-title`)))
	p.step("add a task and complete it",
		chromedp.SendKeys(chromedp.CSS(`#add-task input[name="title"]`), taskTitle),
		chromedp.Click(chromedp.CSS(`#add-task button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#tasks li[data-status="New"] button[data-action="complete"]`)),
		chromedp.Click(chromedp.CSS(`#tasks li[data-status="New"] button[data-action="complete"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#tasks li[data-status="Completed"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#history li[data-change="task completed"]`)))
	historyText := read(p, "read the history", chromedp.Text(chromedp.CSS(`#history`)))
	status := read(p, "read the task's status", chromedp.AttributeValue(chromedp.CSS(`#tasks li`), "data-status"))
	p.step("run a query with render timechart",
		chromedp.Click(chromedp.CSS(`nav a[data-nav="kql"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#kql-editor`)),
		chromedp.SetValue(chromedp.CSS(`#kql-editor`), "SecurityIncident\n| summarize Changes = count() by bin(TimeGenerated, 1s), Severity\n| render timechart"),
		chromedp.Click(chromedp.CSS(`#run`)),
		chromedp.WaitVisible(chromedp.CSS(`canvas#chart[data-drawn="true"]`)))
	points := read(p, "read the chart's points", chromedp.AttributeValue(chromedp.CSS(`canvas#chart`), "data-points"))
	// Something was painted: the canvas is not blank.
	painted := read(p, "look at the chart's pixels", chromedp.Evaluate[bool](`(() => {
		const c = document.getElementById("chart");
		const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
		for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true;
		return false;
	})()`))
	if status.Value != "Completed" {
		t.Errorf("task status on the page: %q", status.Value)
	}
	for _, want := range []string{"mei.lin@contoso.com — created", "mei.lin@contoso.com — task added “" + taskTitle + "”", "mei.lin@contoso.com — task completed “" + taskTitle + "”"} {
		if !strings.Contains(historyText, want) {
			t.Errorf("history on the page does not say %q:\n%s", want, historyText)
		}
	}
	if points.Value == "" || points.Value == "0" || !painted {
		t.Errorf("chart: %s points, painted %v", points.Value, painted)
	}

	// The queue lists it (New by default) and its severity filter keeps it;
	// the dashboard shows the example checks.
	p.step("queue and dashboard",
		chromedp.Click(chromedp.CSS(`nav a[data-nav="queue"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#queue tbody tr[data-number="1"]`)),
		chromedp.SetValue(chromedp.CSS(`.filters select`), "Low"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector(".filters select").dispatchEvent(new Event("change"))`),
		chromedp.WaitNotPresent(chromedp.CSS(`#queue tbody tr[data-number="1"]`)),
		chromedp.Click(chromedp.CSS(`nav a[data-nav="dashboard"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#metrics .metric[data-name="open-incidents-without-owner"]`)))
	unowned := read(p, "read the dashboard", chromedp.Text(chromedp.CSS(`#metrics .metric[data-name="open-incidents-without-owner"] .value`)))
	if unowned != "1" {
		t.Errorf("the dashboard counts %q open incidents without an owner, want 1", unowned)
	}

	// The API agrees: one incident (Enter in the tag field added the tag and
	// did not submit the form too), its task completed by the person acting.
	if all := do(t, ts, "GET", "/incidents", readTok, nil).json(t)["value"].([]any); len(all) != 1 {
		t.Errorf("the page created %d incidents, want 1", len(all))
	}
	r := do(t, ts, "GET", "/incidents/1/tasks", readTok, nil)
	var tasks taskList
	if err := json.Unmarshal(r.body, &tasks); err != nil || len(tasks.Value) != 1 {
		t.Fatalf("tasks: %s\nincidents: %s", r.body, do(t, ts, "GET", "/incidents", readTok, nil).body)
	}
	tp := tasks.Value[0].Properties
	if tp.Status != "Completed" || tp.LastModifiedBy.ModifiedBy() != "mei.lin@contoso.com" || tp.Title != taskTitle {
		t.Errorf("task: %+v", tp)
	}
	inc := do(t, ts, "GET", "/incidents/1", readTok, nil).json(t)
	if get(inc, "properties", "severity") != "High" || fmt.Sprint(get(inc, "properties", "labels")) != "[map[labelName:phishing labelType:User]]" {
		t.Errorf("incident: %v", inc["properties"])
	}
}

// TestBrowserValidationAndClose checks the create form's rules in the
// page (title required; closing needs a classification and a comment) and
// closes an incident from its page.
func TestBrowserValidationAndClose(t *testing.T) {
	ts := newTestServer(t)
	p := newBrowserPage(t, ts)
	// errorText waits for the message under a field and returns it.
	errorText := func(target string) string {
		t.Helper()
		return read(p, "read the error under "+target, chromedp.Poll[string](`document.querySelector('[data-error-for="`+target+`"]').textContent`))
	}
	p.step("submit an empty form",
		chromedp.Navigate(ts.URL+"/#token="+meiTok),
		chromedp.WaitVisible(chromedp.CSS(`#queue`)),
		chromedp.Click(chromedp.CSS(`nav a[data-nav="new"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#create-form`)),
		chromedp.SendKeys(chromedp.CSS(`#create-form input[name="title"]`), "   "),
		chromedp.Click(chromedp.CSS(`#create-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-error-for="properties.title"]`)))
	if got := errorText("properties.title"); got != "The title is required." {
		t.Errorf("empty title: %q", got)
	}
	p.step("create it closed without a classification",
		chromedp.SendKeys(chromedp.CSS(`#create-form input[name="title"]`), "Impossible travel"),
		chromedp.SetValue(chromedp.CSS(`#create-form select[name="status"]`), "Closed"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#create-form select[name="status"]').dispatchEvent(new Event("change"))`),
		chromedp.WaitVisible(chromedp.CSS(`#create-form select[name="closeChoice"]`)),
		chromedp.Click(chromedp.CSS(`#create-form button[type="submit"]`)))
	if got := errorText("properties.classification"); got != "Closing needs a classification." {
		t.Errorf("closed without classification: %q", got)
	}
	if n := len(do(t, ts, "GET", "/incidents", readTok, nil).json(t)["value"].([]any)); n != 0 {
		t.Fatalf("a refused form created %d incidents", n)
	}
	p.step("create it open, then close it from its page",
		chromedp.SetValue(chromedp.CSS(`#create-form select[name="status"]`), "New"),
		chromedp.Click(chromedp.CSS(`#create-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#edit-form`)),
		chromedp.SetValue(chromedp.CSS(`#edit-form select[name="status"]`), "Closed"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#edit-form select[name="status"]').dispatchEvent(new Event("change"))`),
		chromedp.WaitVisible(chromedp.CSS(`#edit-form select[name="closeChoice"]`)),
		// The comment is missing: the server refuses and the page says why.
		chromedp.SetValue(chromedp.CSS(`#edit-form select[name="closeChoice"]`), "3"),
		chromedp.Click(chromedp.CSS(`#edit-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-error-for="properties.classificationComment"]`)))
	if got := errorText("properties.classificationComment"); !strings.Contains(got, "needs a comment") {
		t.Errorf("close without a comment: %q", got)
	}
	p.step("close it with a comment",
		chromedp.SendKeys(chromedp.CSS(`#edit-form textarea[name="classificationComment"]`), "the VPN egress moved"),
		chromedp.Click(chromedp.CSS(`#edit-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#history li[data-change="status"]`)))
	status := read(p, "read the incident's status", chromedp.Text(chromedp.CSS(`#incident-status`)))
	// The queue shows New and Active incidents; ticking Closed brings it back.
	p.step("find it in the queue",
		chromedp.Click(chromedp.CSS(`nav a[data-nav="queue"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#queue`)),
		chromedp.WaitNotPresent(chromedp.CSS(`#queue tbody tr[data-number="1"]`)),
		chromedp.Click(chromedp.CSS(`input[name="status"][value="Closed"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#queue tbody tr[data-number="1"]`)))
	inc := do(t, ts, "GET", "/incidents/1", readTok, nil).json(t)
	if status != "Closed" || get(inc, "properties", "classification") != "FalsePositive" || get(inc, "properties", "classificationReason") != "InaccurateData" ||
		get(inc, "properties", "classificationComment") != "the VPN egress moved" {
		t.Errorf("closed: page says %q, API %v", status, inc["properties"])
	}
}
