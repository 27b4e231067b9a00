package intake

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/socq/socq/incident"
)

// Tags every intake adds, so automation rules can pick its incidents.
const (
	TagFromMail = "from-mail"
	TagFromForm = "from-form"
)

// MailOptions are what `socq intake mail` adds to every message's incident.
type MailOptions struct {
	Severity string   // "" for the Recorder's default (Medium)
	Owner    string   // "" for none
	Tags     []string // besides from-mail and from:<address>
}

// ExternalID is the id a message is recorded under: its Message-ID, or the
// SHA-256 of its bytes when it has none (so a re-run still finds it).
func (m *Message) ExternalID() string {
	if m.MessageID != "" {
		return "mail:" + m.MessageID
	}
	return "mail:sha256:" + m.Hash
}

// Title is the decoded subject, or "(no subject) from SENDER".
func (m *Message) Title() string {
	if m.Subject != "" {
		return m.Subject
	}
	return "(no subject) from " + m.From.Address
}

// NewIncident is the incident a message becomes. place says where the
// message was read (kept in AdditionalData.socqSource.file).
func (m *Message) NewIncident(place string, opts MailOptions) incident.NewIncident {
	tags := append([]string{TagFromMail, "from:" + m.From.Address}, opts.Tags...)
	source := map[string]any{
		"kind": "mail",
		"from": m.From.Address,
		"file": place,
	}
	if m.From.Name != "" {
		source["fromName"] = m.From.Name
	}
	if m.MessageID != "" {
		source["messageId"] = m.MessageID
	} else {
		source["sha256"] = m.Hash
	}
	if !m.Date.IsZero() {
		source["date"] = m.Date.Format(time.RFC3339)
	}
	if len(m.Attachments) > 0 {
		source["attachments"] = m.Attachments
	}
	if m.FromHTML {
		source["bodyFromHtml"] = true
	}
	return incident.NewIncident{
		Title:       m.Title(),
		Description: Describe(m.Body, m.Attachments),
		Severity:    opts.Severity,
		Owner:       opts.Owner,
		Tags:        tags,
		ExternalID:  m.ExternalID(),
		Source:      source,
	}
}

// The description lists at most maxAttachmentLines attachments in at most
// maxAttachmentText characters.
const (
	maxAttachmentLines = 20
	maxAttachmentText  = 2000
)

// Describe is an incident description of a message body and its
// attachments that fits Sentinel's limit (incident.MaxDescription
// characters): the body, cut with a marker saying how much was left out
// when it is longer, then the attachments by name and size.
func Describe(body string, attachments []Attachment) string {
	var footer strings.Builder
	if len(attachments) > 0 {
		footer.WriteString("\n\nAttachments:")
		for i, a := range attachments {
			// Long names are shortened, and the list stops at 20 lines or
			// maxAttachmentText characters, so it never crowds out the text.
			contentType := oneLine(a.ContentType, 60)
			name := oneLine(a.Name, 100)
			if name == "" {
				name = "(unnamed " + contentType + " part)"
			}
			line := fmt.Sprintf("\n- %s (%s, %s)", name, HumanSize(a.Size), contentType)
			if i == maxAttachmentLines || utf8.RuneCountInString(footer.String()+line) > maxAttachmentText {
				fmt.Fprintf(&footer, "\n- … and %d more", len(attachments)-i)
				break
			}
			footer.WriteString(line)
		}
	}
	tail := footer.String()
	if body == "" {
		tail = strings.TrimPrefix(tail, "\n\n")
	}
	total := utf8.RuneCountInString(body) + utf8.RuneCountInString(tail)
	if total <= incident.MaxDescription {
		return body + tail
	}
	n := utf8.RuneCountInString(body)
	// The marker's length depends on the numbers in it; leave room for
	// the longest it can be.
	marker := func(shown int) string {
		return fmt.Sprintf("\n\n[… cut: the message text has %s characters; the first %s are shown]", thousands(n), thousands(shown))
	}
	budget := incident.MaxDescription - utf8.RuneCountInString(tail) - utf8.RuneCountInString(marker(n))
	if budget < 0 {
		budget = 0
	}
	shown := cutText(body, budget)
	return shown + marker(utf8.RuneCountInString(shown)) + tail
}

// cutText is the first at most n characters of s, ended at a word
// boundary when one is near the end.
func cutText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	cut := n
	for i := n; i > 0 && i > n-200; i-- {
		if unicode.IsSpace(r[i]) {
			cut = i
			break
		}
	}
	return strings.TrimRightFunc(string(r[:cut]), unicode.IsSpace)
}

// HumanSize is a byte count as a person reads it: 512 B, 12.3 KB, 4.0 MB.
func HumanSize(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.1f KB", float64(n)/1024)
	case n < 1024*1024*1024:
		return fmt.Sprintf("%.1f MB", float64(n)/(1024*1024))
	}
	return fmt.Sprintf("%.1f GB", float64(n)/(1024*1024*1024))
}

// thousands writes n with thousands separators: 12345 → 12,345.
func thousands(n int) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
