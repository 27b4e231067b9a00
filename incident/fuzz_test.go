package incident_test

import (
	"strings"
	"testing"

	"github.com/socq/socq/incident"
)

// FuzzCompileCondition feeds rule conditions (user text) to the compiler:
// no panic, and an accepted condition is a single where.
func FuzzCompileCondition(f *testing.F) {
	for _, s := range []string{`Severity == "High"`, `Title has "phish" and array_length(Tasks) == 0`, `true | take 1`,
		`Owner.email =~ "a@b.c"`, `Labels has "VIP"`, `x`, `"`, `1 +`, `Severity == "High"; let x = 1`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cond string) {
		plan, err := incident.CompileCondition(cond)
		if err == nil && !strings.Contains(plan.SQL, "WHERE") {
			t.Errorf("condition %q compiled without a WHERE: %s", cond, plan.SQL)
		}
	})
}

// FuzzParseClassification: any text is either refused or yields one of
// the portal's five pairs.
func FuzzParseClassification(f *testing.F) {
	for _, s := range [][2]string{{"true-positive", ""}, {"FalsePositive", "inaccurate data"}, {"undetermined", "x"}, {"", ""}, {"ü", "-"}} {
		f.Add(s[0], s[1])
	}
	valid := map[string]bool{"TruePositive/SuspiciousActivity": true, "BenignPositive/SuspiciousButExpected": true,
		"FalsePositive/IncorrectAlertLogic": true, "FalsePositive/InaccurateData": true, "Undetermined/": true}
	f.Fuzz(func(t *testing.T, class, reason string) {
		c, r, err := incident.ParseClassification(class, reason)
		if err == nil && !valid[c+"/"+r] {
			t.Errorf("ParseClassification(%q, %q) = %s/%s, not a portal pair", class, reason, c, r)
		}
	})
}
