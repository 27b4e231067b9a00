package intake

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/socq/socq/incident"
)

const fixtures = "../testdata/intake"

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestParseMessageFixtures reads the real-world message fixtures: each
// row says what the incident made of it must show.
func TestParseMessageFixtures(t *testing.T) {
	tests := []struct {
		file        string
		messageID   string
		from        string
		fromName    string
		title       string
		date        time.Time
		fromHTML    bool
		bodyHas     []string // substrings the description must contain
		bodyLacks   []string // and must not
		attachments []Attachment
	}{
		{
			file: "alternative-qp.eml", messageID: "<AM6PR04MB5206.1@AM6PR04MB5206.eurprd04.prod.outlook.com>",
			from: "jonas.becker@contoso.com", fromName: "Jonas Becker",
			title: "Suspicious sign-in prompt on my laptop", date: time.Date(2026, 12, 1, 8, 12, 1, 0, time.UTC),
			// quoted-printable: soft line breaks joined, =C3=BC decoded
			bodyHas: []string{`"Microsoft 365 Sicherheitsprüfung" right after`, "Grüße,\nJonas"},
			// multipart/alternative: the plain text wins over the HTML
			bodyLacks: []string{"HTML version", "=C3", "\r"},
		},
		{
			file: "html-base64.eml", messageID: "<20261202073000.4711@micros0ft-support.example>",
			from: "helpdesk@micros0ft-support.example", fromName: "IT Service Desk", title: "Fwd: Mailbox almost full",
			date: time.Date(2026, 12, 2, 7, 30, 0, 0, time.UTC), fromHTML: true,
			bodyHas: []string{"Dear customer,\n\nYour mailbox is almost full & will be closed.",
				"Click here <https://login.micros0ft-support.example/verify?id=42> to keep it.",
				"- Quota: 99%\n- Deadline: today", "Account | mei.lin@contoso.com", "IT Service Desk\nContoso"},
			bodyLacks: []string{"<p>", "ignored title", "var x", "&amp;", "&nbsp;"},
		},
		{
			file: "subject-utf8.eml", messageID: "<b7c1e2d4-utf8@contoso.com>", from: "zoe.mueller@contoso.com", fromName: "Zoë Müller",
			title: "Verdächtige Anmeldung – Konto gesperrt 🔒", date: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC),
			// format=flowed: soft breaks joined, quotes kept as quotes
			bodyHas: []string{"und ich soll mich über einen Link neu anmelden.", "> Ihr Konto wurde aus Sicherheitsgründen gesperrt."},
		},
		{
			file: "subject-latin1.eml", messageID: "<latin1-0001@contoso.fr>", from: "renee.lefevre@contoso.fr", fromName: "Renée Lefèvre",
			title: "Problème de sécurité : clé USB trouvée", date: time.Date(2026, 12, 4, 13, 5, 0, 0, time.UTC),
			bodyHas: []string{"J'ai trouvé une clé USB dans la salle de réunion du 3e étage.", "Renée"},
		},
		{
			file: "no-subject.eml", messageID: "<nosubject-77@contoso.com>", from: "amir.haddad@contoso.com", fromName: "Amir Haddad",
			title: "(no subject) from amir.haddad@contoso.com", date: time.Date(2026, 12, 4, 16, 45, 10, 0, time.UTC),
			bodyHas: []string{"My badge stopped working"},
		},
		{
			file: "mixed-attachments.eml", messageID: "<mixed-42@contoso.com>", from: "mei.lin@contoso.com", fromName: "Mei Lin",
			title: "Invoice from unknown supplier – please check", date: time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC),
			bodyHas: []string{"Please check the attached invoice, I did not order anything.\n\nAttachments:\n" +
				"- Rechnung März.pdf (2.0 KB, application/pdf)\n- image001.png (70 B, image/png)"},
			bodyLacks: []string{"<i>", "multi-part message in MIME format", "JVBER"},
			attachments: []Attachment{{Name: "Rechnung März.pdf", ContentType: "application/pdf", Size: 2064},
				{Name: "image001.png", ContentType: "image/png", Size: 70}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m, err := ParseMessage(readFixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if m.MessageID != tt.messageID || m.From.Address != tt.from || m.From.Name != tt.fromName {
				t.Errorf("Message-ID %q from %q <%s>, want %q from %q <%s>", m.MessageID, m.From.Name, m.From.Address, tt.messageID, tt.fromName, tt.from)
			}
			if !m.Date.Equal(tt.date) || m.FromHTML != tt.fromHTML {
				t.Errorf("date %v fromHTML %v, want %v %v", m.Date, m.FromHTML, tt.date, tt.fromHTML)
			}
			if !slices.Equal(m.Attachments, tt.attachments) {
				t.Errorf("attachments %+v, want %+v", m.Attachments, tt.attachments)
			}
			in := m.NewIncident(tt.file, MailOptions{})
			if in.Title != tt.title {
				t.Errorf("title %q, want %q", in.Title, tt.title)
			}
			for _, s := range tt.bodyHas {
				if !strings.Contains(in.Description, s) {
					t.Errorf("description lacks %q:\n%s", s, in.Description)
				}
			}
			for _, s := range tt.bodyLacks {
				if strings.Contains(in.Description, s) {
					t.Errorf("description has %q:\n%s", s, in.Description)
				}
			}
			if in.ExternalID != "mail:"+tt.messageID {
				t.Errorf("external id %q", in.ExternalID)
			}
			if !slices.Equal(in.Tags[:2], []string{TagFromMail, "from:" + tt.from}) {
				t.Errorf("tags %v", in.Tags)
			}
			if in.Source["messageId"] != tt.messageID || in.Source["from"] != tt.from || in.Source["file"] != tt.file {
				t.Errorf("source %v", in.Source)
			}
		})
	}
}

// TestParseMessageRejects: messages that cannot be read say why.
func TestParseMessageRejects(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want string
	}{
		{"fixture: header line without a colon", string(readFixture(t, "malformed-header.eml")), "malformed header line: X-Mailer this line has no colon"},
		{"empty", "\r\n \n", "empty message"},
		{"no From", "To: soc@contoso.com\nSubject: hi\n\nbody\n", "no From address"},
		{"From without address", "From: just a name\nSubject: hi\n\nbody\n", `From "just a name"`},
		{"multipart without boundary", "From: a@b.org\nContent-Type: multipart/mixed\n\nx\n", "Content-Type multipart/mixed has no boundary"},
		{"broken Content-Type", "From: a@b.org\nContent-Type: text/\n\nx\n", `Content-Type "text/"`},
		{"not a message", "just some text\nwithout any header\n", "malformed header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseMessage([]byte(tt.raw))
			var me *MalformedError
			if !errors.As(err, &me) {
				t.Fatalf("err = %v, want a MalformedError", err)
			}
			if !strings.Contains(me.Reason, tt.want) {
				t.Errorf("reason %q, want it to contain %q", me.Reason, tt.want)
			}
		})
	}
}

// TestParseMessageCases covers the header and body forms real mailers
// send, built inline.
func TestParseMessageCases(t *testing.T) {
	tests := []struct {
		name      string
		raw       string
		title     string
		from      string
		messageID string
		body      string
		atts      int
	}{
		{
			name:  "folded subject, extra spaces",
			raw:   "From: a@contoso.com\nSubject:   Account\n   locked\t again  \nMessage-ID:  <x1@contoso.com>  \n\nbody\n",
			title: "Account locked again", from: "a@contoso.com", messageID: "<x1@contoso.com>", body: "body",
		},
		{
			name:  "Message-ID without brackets, bad encoded word kept as written",
			raw:   "From: a@contoso.com\nSubject: =?x-unknown?Q?abc?= report\nMessage-ID: x2@contoso.com\n\nbody\n",
			title: "=?x-unknown?Q?abc?= report", from: "a@contoso.com", messageID: "<x2@contoso.com>", body: "body",
		},
		{
			name:  "From display name net/mail refuses: address still taken",
			raw:   "From: John Doe (IT) [ext] <John.Doe@Contoso.com>\nSubject: s\n\nb\n",
			title: "s", from: "john.doe@contoso.com", body: "b",
		},
		{
			name:  "Sender when From is empty; Windows-1252 body without charset",
			raw:   "From: \nSender: ops@contoso.com\nSubject: s\n\ncaf\xe9 \x93quoted\x94\n",
			title: "s", from: "ops@contoso.com", body: "café “quoted”",
		},
		{
			name: "quoted-printable with a lone = and lower-case hex",
			raw: "From: a@contoso.com\nSubject: qp\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: Quoted-Printable\n\n" +
				"1 + 1 = 2, caf=c3=a9=\n au lait\n",
			title: "qp", from: "a@contoso.com", body: "1 + 1 = 2, café au lait",
		},
		{
			name: "base64 with spaces and no padding",
			raw: "From: a@contoso.com\nSubject: b64\nContent-Transfer-Encoding: base64\n\n" +
				"SGVsbG8g d29y\nbGQh\n",
			title: "b64", from: "a@contoso.com", body: "Hello world!",
		},
		{
			name: "HTML only inside alternative when the plain part is empty",
			raw: "From: a@contoso.com\nSubject: alt\nContent-Type: multipart/alternative; boundary=b\n\n" +
				"--b\nContent-Type: text/plain\n\n \n--b\nContent-Type: text/html\n\n<p>from <b>html</b></p>\n--b--\n",
			title: "alt", from: "a@contoso.com", body: "from html",
		},
		{
			name: "truncated multipart keeps what it read",
			raw: "From: a@contoso.com\nSubject: cut\nContent-Type: multipart/mixed; boundary=b\n\n" +
				"--b\nContent-Type: text/plain\n\nfirst part\n--b\nContent-Type: application/zip; name=x.zip\nContent-Transfer-Encoding: base64\n\nUEsDBA",
			title: "cut", from: "a@contoso.com", body: "first part\n\nAttachments:\n- x.zip (4 B, application/zip)", atts: 1,
		},
		{
			name: "attached text file and forwarded message are attachments",
			raw: "From: a@contoso.com\nSubject: fw\nContent-Type: multipart/mixed; boundary=b\n\n" +
				"--b\nContent-Type: text/plain\n\nsee attached\n" +
				"--b\nContent-Type: text/plain; name=\"log.txt\"\nContent-Disposition: attachment\n\nerror 1\n" +
				"--b\nContent-Type: message/rfc822\n\nFrom: x@y.org\nSubject: orig\n\nhi\n--b--\n",
			title: "fw", from: "a@contoso.com", body: "see attached\n\nAttachments:\n- log.txt (7 B, text/plain)\n- forwarded message.eml (31 B, message/rfc822)",
			atts: 2,
		},
		{
			name: "HTML naming its charset in a meta tag",
			raw: "From: a@contoso.com\nSubject: m\nContent-Type: text/html\n\n" +
				"<html><head><meta charset=\"iso-8859-15\"></head><body><p>Pr\xe9sident \xa4</p></body></html>\n",
			title: "m", from: "a@contoso.com", body: "Président €",
		},
		{
			name:  "invalid bytes in a UTF-8 part become replacement characters",
			raw:   "From: a@contoso.com\nSubject: u\nContent-Type: text/plain; charset=UTF-8\n\nok \xff\n",
			title: "u", from: "a@contoso.com", body: "ok \uFFFD",
		},
		{
			name:  "KOI8-R body",
			raw:   "From: a@contoso.com\nSubject: =?koi8-r?B?8NLJ18XU?=\nContent-Type: text/plain; charset=koi8-r\n\n\xf0\xd2\xc9\xd7\xc5\xd4\n",
			title: "Привет", from: "a@contoso.com", body: "Привет",
		},
		{
			name: "encoded-word file name",
			raw: "From: a@contoso.com\nSubject: n\nContent-Type: multipart/mixed; boundary=b\n\n" +
				"--b\nContent-Type: application/pdf; name=\"=?UTF-8?B?w5xiZXJzaWNodC5wZGY=?=\"\n\n%PDF\n--b--\n",
			title: "n", from: "a@contoso.com", body: "Attachments:\n- Übersicht.pdf (4 B, application/pdf)", atts: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMessage([]byte(tt.raw))
			if err != nil {
				t.Fatal(err)
			}
			in := m.NewIncident("x.eml", MailOptions{})
			if in.Title != tt.title || m.From.Address != tt.from || m.MessageID != tt.messageID {
				t.Errorf("title %q from %q id %q, want %q %q %q", in.Title, m.From.Address, m.MessageID, tt.title, tt.from, tt.messageID)
			}
			if in.Description != tt.body {
				t.Errorf("description\n%q\nwant\n%q", in.Description, tt.body)
			}
			if len(m.Attachments) != tt.atts {
				t.Errorf("attachments %+v, want %d", m.Attachments, tt.atts)
			}
		})
	}
}

// TestNoMessageID: a message without Message-ID is recorded under the hash
// of its bytes, so reading it again finds it.
func TestNoMessageID(t *testing.T) {
	raw := []byte("From: a@contoso.com\nSubject: s\n\nb\n")
	m1, err := ParseMessage(raw)
	if err != nil {
		t.Fatal(err)
	}
	m2, _ := ParseMessage(raw)
	other, _ := ParseMessage(append(raw, 'x'))
	if m1.ExternalID() != m2.ExternalID() || !strings.HasPrefix(m1.ExternalID(), "mail:sha256:") || m1.ExternalID() == other.ExternalID() {
		t.Errorf("ids %q %q %q", m1.ExternalID(), m2.ExternalID(), other.ExternalID())
	}
}

// TestHugeBody: a body longer than Sentinel's limit is cut with a marker
// and the attachments still listed, and the result fits the limit exactly
// as the Recorder checks it.
func TestHugeBody(t *testing.T) {
	var b strings.Builder
	b.WriteString("From: a@contoso.com\r\nSubject: huge\r\nMessage-ID: <huge@contoso.com>\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	line := "Ünïcödé log line that repeats, with a few words in it.\r\n"
	for b.Len() < 200_000 {
		b.WriteString(line)
	}
	b.WriteString("--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=dump.bin\r\n\r\nxyz\r\n--b--\r\n")
	m, err := ParseMessage([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	total := utf8.RuneCountInString(m.Body)
	if total < 150_000 {
		t.Fatalf("body has %d characters", total)
	}
	d := m.NewIncident("huge.eml", MailOptions{}).Description
	if n := utf8.RuneCountInString(d); n > incident.MaxDescription || n < incident.MaxDescription-250 {
		t.Errorf("description has %d characters, want close to %d", n, incident.MaxDescription)
	}
	marker := fmt.Sprintf("[… cut: the message text has %s characters; the first ", thousands(total))
	if !strings.Contains(d, marker) {
		t.Errorf("no marker %q in the end of the description:\n%s", marker, d[len(d)-300:])
	}
	if !strings.HasSuffix(d, "Attachments:\n- dump.bin (3 B, application/octet-stream)") {
		t.Errorf("attachments not listed at the end:\n%s", d[len(d)-200:])
	}
	if !strings.HasPrefix(d, strings.TrimSuffix(line, "\r\n")) || strings.Contains(d, "\uFFFD") {
		t.Errorf("the cut body does not start with the text or has a broken character")
	}
}

func TestDescribe(t *testing.T) {
	many := make([]Attachment, 25)
	for i := range many {
		many[i] = Attachment{Name: fmt.Sprintf("f%d.png", i), ContentType: "image/png", Size: int64(i) * 1500}
	}
	tests := []struct {
		name  string
		body  string
		atts  []Attachment
		want  string // prefix of the description
		check func(string) bool
	}{
		{"body only", "hello", nil, "hello", func(d string) bool { return d == "hello" }},
		{"attachments only", "", []Attachment{{Name: "", ContentType: "image/gif", Size: 3 << 20}}, "Attachments:\n- (unnamed image/gif part) (3.0 MB, image/gif)", nil},
		{"exactly at the limit is not cut", strings.Repeat("a", incident.MaxDescription), nil, "aaa", func(d string) bool { return len(d) == incident.MaxDescription }},
		{"one over is cut", strings.Repeat("a", incident.MaxDescription+1), nil, "aaa", func(d string) bool {
			return strings.Contains(d, "has 5,001 characters") && utf8.RuneCountInString(d) <= incident.MaxDescription
		}},
		{"long attachment names leave room for the text", strings.Repeat("b", 6000), longNames(25), "bbb", func(d string) bool {
			return utf8.RuneCountInString(d) <= incident.MaxDescription && strings.Count(d, "b") > 2500 && strings.Contains(d, "… and 14 more")
		}},
		{"many attachments are capped", "x", many, "x\n\nAttachments:\n- f0.png (0 B, image/png)\n- f1.png (1.5 KB", func(d string) bool {
			return strings.HasSuffix(d, "- … and 5 more")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Describe(tt.body, tt.atts)
			if !strings.HasPrefix(d, tt.want) || tt.check != nil && !tt.check(d) {
				t.Errorf("Describe = %q", d)
			}
		})
	}
}

func TestHumanSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KB", 1536: "1.5 KB", 5 << 20: "5.0 MB", 3 << 30: "3.0 GB"} {
		if got := HumanSize(n); got != want {
			t.Errorf("HumanSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func longNames(n int) []Attachment {
	atts := make([]Attachment, n)
	for i := range atts {
		atts[i] = Attachment{Name: strings.Repeat("n", 300) + ".pdf", ContentType: "application/" + strings.Repeat("x", 200), Size: 1}
	}
	return atts
}
