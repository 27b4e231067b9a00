package incident

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ValidationError is a value the rules of Sentinel refuse: Field names the
// input ("title", "severity", "classification", …).
type ValidationError struct {
	Field string
	Msg   string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Msg }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// MaxDescription is the longest description Sentinel accepts, in characters.
const MaxDescription = 5000

// Severities, statuses, classifications and reasons in their canonical
// spellings, as Sentinel stores them.
var (
	Severities      = []string{"High", "Medium", "Low", "Informational"}
	Statuses        = []string{"New", "Active", "Closed"}
	Classifications = []string{"TruePositive", "BenignPositive", "FalsePositive", "Undetermined"}
	Reasons         = []string{"SuspiciousActivity", "SuspiciousButExpected", "IncorrectAlertLogic", "InaccurateData"}
)

// Status values.
const (
	StatusNew    = "New"
	StatusActive = "Active"
	StatusClosed = "Closed"
)

// closePairs are the portal's five close choices: classification → reasons
// allowed with it. Undetermined takes no reason.
var closePairs = map[string][]string{
	"TruePositive":   {"SuspiciousActivity"},
	"BenignPositive": {"SuspiciousButExpected"},
	"FalsePositive":  {"IncorrectAlertLogic", "InaccurateData"},
	"Undetermined":   nil,
}

// fold reduces a spelling to letters and digits, lower case, so
// "true-positive", "True Positive" and "TruePositive" meet.
func fold(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// canonical returns the member of choices s spells, ignoring case (and,
// when loose, dashes, underscores and spaces).
func canonical(field, s string, choices []string, loose bool) (string, error) {
	t := strings.TrimSpace(s)
	for _, c := range choices {
		if strings.EqualFold(t, c) || loose && fold(t) == fold(c) && fold(t) != "" {
			return c, nil
		}
	}
	return "", invalid(field, "%q is not one of %s", s, strings.Join(choices, ", "))
}

// ParseSeverity returns the canonical severity (case-insensitive).
func ParseSeverity(s string) (string, error) { return canonical("severity", s, Severities, false) }

// ParseStatus returns the canonical status (case-insensitive).
func ParseStatus(s string) (string, error) { return canonical("status", s, Statuses, false) }

// ParseClassification returns the canonical classification and reason. It
// accepts short forms (true-positive, benign-positive, false-positive,
// undetermined; suspicious-activity, …) in any case, defaults the reason
// where only one fits, and refuses pairs the portal does not offer.
func ParseClassification(classification, reason string) (string, string, error) {
	c, err := canonical("classification", classification, Classifications, true)
	if err != nil {
		return "", "", err
	}
	allowed := closePairs[c]
	if strings.TrimSpace(reason) == "" {
		switch len(allowed) {
		case 0:
			return c, "", nil
		case 1:
			return c, allowed[0], nil
		}
		return "", "", invalid("classification reason", "%s needs a reason: %s", c, strings.Join(allowed, " or "))
	}
	r, err := canonical("classification reason", reason, Reasons, true)
	if err != nil {
		return "", "", err
	}
	for _, a := range allowed {
		if a == r {
			return c, r, nil
		}
	}
	if len(allowed) == 0 {
		return "", "", invalid("classification reason", "%s takes no reason (got %s)", c, r)
	}
	return "", "", invalid("classification reason", "%s goes with %s, not %s", c, strings.Join(allowed, " or "), r)
}

// normTitle trims a title and refuses an empty one; there is no length limit.
func normTitle(field, s string) (string, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return "", invalid(field, "is required and must not be empty")
	}
	return t, nil
}

// checkDescription enforces the 5,000-character limit.
func checkDescription(field, s string) error {
	if n := utf8.RuneCountInString(s); n > MaxDescription {
		return invalid(field, "is %d characters long; at most %d are allowed", n, MaxDescription)
	}
	return nil
}

// normTag trims a tag and refuses an empty one or one with a line break.
func normTag(s string) (string, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return "", invalid("tag", "must not be empty")
	}
	if strings.ContainsAny(t, "\r\n") {
		return "", invalid("tag", "%q must be on one line", t)
	}
	return t, nil
}

// checkOwnerShape accepts an email address or UPN (one @, a non-empty local
// part, a dotted domain, no spaces) or a display name (no @, no line break).
func checkOwnerShape(field, s string) (string, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return "", invalid(field, "must not be empty (to unassign, use --unassign)")
	}
	if strings.ContainsAny(t, "\r\n\t") {
		return "", invalid(field, "%q must be on one line", t)
	}
	if !strings.Contains(t, "@") {
		return t, nil
	}
	local, domain, _ := strings.Cut(t, "@")
	switch {
	case strings.ContainsAny(t, " <>,;\""):
		return "", invalid(field, "%q is not an email address or UPN (it has spaces or punctuation)", t)
	case strings.Count(t, "@") != 1:
		return "", invalid(field, "%q is not an email address or UPN (more than one @)", t)
	case local == "":
		return "", invalid(field, "%q is not an email address or UPN (nothing before @)", t)
	case !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, "."):
		return "", invalid(field, "%q is not an email address or UPN (the domain needs a dot, like contoso.com)", t)
	}
	return t, nil
}

// closing checks the fields a Closed incident needs: a classification pair
// and a comment.
func checkClosed(inc *Incident) error {
	if inc.Classification == "" {
		return invalid("classification", "closing an incident needs a classification (%s) and a comment", strings.Join(Classifications, ", "))
	}
	if strings.TrimSpace(inc.ClassificationComment) == "" {
		return invalid("comment", "closing an incident needs a comment explaining the classification")
	}
	return nil
}
