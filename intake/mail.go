package intake

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding/charmap"
)

// Message is an email read for intake: its decoded headers, its text and
// the attachments it carries (listed, not kept).
type Message struct {
	MessageID string // "<id@host>"; "" when the message has none
	From      mail.Address
	Subject   string    // decoded (RFC 2047), whitespace collapsed, trimmed; "" for none
	Date      time.Time // zero when missing or unreadable
	// Body is the readable text: the text/plain parts, or the HTML ones
	// converted to text where a message has no plain text.
	Body     string
	FromHTML bool // Body was converted from HTML
	// Attachments are the parts that are not body text, in order.
	Attachments []Attachment
	// Hash is the SHA-256 of the raw message, which names a message that
	// has no Message-ID.
	Hash string
}

// Attachment is a part of a message that is not its body text.
type Attachment struct {
	Name        string `json:"name"` // file name, decoded; "" when the part has none
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"` // decoded bytes
}

// MalformedError is a message that cannot be read as an email: a header
// that does not parse, no sender, a broken Content-Type.
type MalformedError struct{ Reason string }

func (e *MalformedError) Error() string { return e.Reason }

func malformed(format string, args ...any) error {
	return &MalformedError{Reason: fmt.Sprintf(format, args...)}
}

// maxDepth bounds the nesting of multipart parts that is read.
const maxDepth = 20

// wordDecoder decodes RFC 2047 encoded words in any charset x/text knows
// (UTF-8, ISO-8859-*, Windows-125*, KOI8-R, Shift_JIS, GB18030, …).
func wordDecoder() *mime.WordDecoder {
	return &mime.WordDecoder{CharsetReader: charset.NewReaderLabel}
}

// ParseMessage reads one RFC 5322 message. It returns a *MalformedError
// for a message whose headers cannot be read; a body that is damaged
// (truncated multipart, bad base64) is read as far as it goes.
func ParseMessage(raw []byte) (*Message, error) {
	sum := sha256.Sum256(raw)
	m := &Message{Hash: hex.EncodeToString(sum[:])}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, malformed("empty message")
	}
	msg, err := mail.ReadMessage(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		return nil, malformed("%s", headerError(err))
	}
	if len(msg.Header) == 0 {
		return nil, malformed("malformed header: the message has no header fields")
	}
	dec := wordDecoder()
	if err := m.readFrom(msg.Header, dec); err != nil {
		return nil, err
	}
	m.Subject = decodeHeader(dec, msg.Header.Get("Subject"))
	m.MessageID = normMessageID(msg.Header.Get("Message-Id"))
	if d, err := mail.ParseDate(msg.Header.Get("Date")); err == nil {
		m.Date = d.UTC()
	}
	var w walker
	if err := w.part(textproto.MIMEHeader(msg.Header), msg.Body, 0, true); err != nil {
		return nil, err
	}
	m.Body, m.FromHTML = w.body()
	m.Attachments = w.attachments
	return m, nil
}

// headerError is the reason net/mail gives, without its package prefix.
func headerError(err error) string {
	s := err.Error()
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "the header ends without a blank line before the body"
	}
	s = strings.TrimPrefix(s, "mail: ")
	if !strings.Contains(s, "header") {
		s = "malformed header: " + s
	}
	return s
}

// readFrom sets From: the first address of From (else Sender). An address
// net/mail refuses is still taken when it has a plain <local@domain> part.
func (m *Message) readFrom(h mail.Header, dec *mime.WordDecoder) error {
	field := "From"
	raw := h.Get("From")
	if strings.TrimSpace(raw) == "" {
		field, raw = "Sender", h.Get("Sender")
	}
	if strings.TrimSpace(raw) == "" {
		return malformed("malformed header: no From address (who sent it is needed for the from: label)")
	}
	p := mail.AddressParser{WordDecoder: dec}
	list, err := p.ParseList(raw)
	if err == nil && len(list) > 0 && utf8.ValidString(list[0].Address) {
		m.From = *list[0]
		m.From.Address = strings.ToLower(m.From.Address)
		return nil
	}
	// Real-world mail: `"Doe, John" <j.doe@contoso.com>` is fine, but
	// `John Doe (IT) <j@x.org>` or a bare `<j@x.org>` with junk are not to
	// net/mail; keep the <...> address when there is one that parses.
	if i, j := strings.LastIndex(raw, "<"), strings.LastIndex(raw, ">"); i >= 0 && j > i {
		if a, err2 := mail.ParseAddress(raw[i : j+1]); err2 == nil && utf8.ValidString(a.Address) {
			name := strings.Trim(strings.TrimSpace(raw[:i]), `"`)
			m.From = mail.Address{Name: decodeHeader(dec, name), Address: strings.ToLower(a.Address)}
			return nil
		}
	}
	if err == nil {
		err = errors.New("no address")
	}
	return malformed("malformed header: %s %q: %s", field, oneLine(raw, 80), strings.TrimPrefix(err.Error(), "mail: "))
}

// decodeHeader decodes RFC 2047 encoded words (keeping the text as it is
// where a word does not decode) and collapses whitespace.
func decodeHeader(dec *mime.WordDecoder, s string) string {
	if d, err := dec.DecodeHeader(s); err == nil {
		s = d
	}
	return strings.Join(strings.FieldsFunc(toValidText(s), isSpaceOrControl), " ")
}

func isSpaceOrControl(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }

// normMessageID is the first <...> of a Message-ID header, or its trimmed
// text in angle brackets when it has none.
func normMessageID(s string) string {
	s = strings.Join(strings.FieldsFunc(toValidText(s), isSpaceOrControl), "")
	if s == "" {
		return ""
	}
	if i := strings.Index(s, "<"); i >= 0 {
		if j := strings.Index(s[i:], ">"); j > 1 {
			return s[i : i+j+1]
		}
	}
	s = strings.Trim(s, "<>")
	if s == "" {
		return ""
	}
	return "<" + s + ">"
}

// oneLine shortens s to at most n characters on one line, for messages.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > n {
		r := []rune(s)
		s = string(r[:n]) + "…"
	}
	return s
}

// walker collects the body text and the attachments of a MIME tree.
type walker struct {
	texts       []bodyText
	attachments []Attachment
}

type bodyText struct {
	text string
	html bool
}

// body joins the text parts: plain text where there is any, else the
// converted HTML.
func (w *walker) body() (string, bool) {
	var plain, html []string
	for _, t := range w.texts {
		if strings.TrimSpace(t.text) == "" {
			continue
		}
		if t.html {
			html = append(html, t.text)
		} else {
			plain = append(plain, t.text)
		}
	}
	if len(plain) > 0 {
		return strings.Join(plain, "\n\n"), false
	}
	return strings.Join(html, "\n\n"), len(html) > 0
}

// part reads one MIME entity: a multipart recurses, a text part without a
// file name is body text, anything else an attachment.
func (w *walker) part(h textproto.MIMEHeader, body io.Reader, depth int, top bool) error {
	mediaType, params, err := contentType(h.Get("Content-Type"))
	if err != nil {
		if top {
			return err
		}
		// A broken Content-Type on an inner part: read it as bytes.
		mediaType, params = "application/octet-stream", map[string]string{}
	}
	encoding := strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding")))
	disposition, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	name := fileName(dparams["filename"], params["name"])
	if strings.HasPrefix(mediaType, "multipart/") && depth < maxDepth {
		boundary := params["boundary"]
		if boundary == "" {
			if top {
				return malformed("malformed header: Content-Type %s has no boundary", mediaType)
			}
			return nil
		}
		return w.multipart(mediaType, boundary, body, depth)
	}
	isText := mediaType == "text/plain" || mediaType == "text/html"
	if isText && disposition != "attachment" && name == "" {
		data, _ := io.ReadAll(decodeTransfer(encoding, body))
		label := params["charset"]
		if mediaType == "text/html" && strings.TrimSpace(label) == "" {
			// An HTML part may name its charset in a <meta> tag; without
			// one this is UTF-8 when valid, else Windows-1252.
			_, label, _ = charset.DetermineEncoding(data, "text/html")
		}
		text := decodeCharset(data, label)
		if mediaType == "text/html" {
			w.texts = append(w.texts, bodyText{text: HTMLToText(text), html: true})
			return nil
		}
		if strings.EqualFold(params["format"], "flowed") {
			text = unflow(text, strings.EqualFold(params["delsp"], "yes"))
		}
		w.texts = append(w.texts, bodyText{text: normText(text)})
		return nil
	}
	size := transferSize(encoding, body)
	if name == "" && mediaType == "message/rfc822" {
		name = "forwarded message.eml"
	}
	w.attachments = append(w.attachments, Attachment{Name: name, ContentType: mediaType, Size: size})
	return nil
}

// multipart reads the parts of a multipart entity. Of a
// multipart/alternative it keeps the plain-text alternative when there is
// one (else the richest that has text); the others are neither body nor
// attachments. A multipart cut short is read as far as it goes.
func (w *walker) multipart(mediaType, boundary string, body io.Reader, depth int) error {
	r := multipart.NewReader(body, boundary)
	var alternatives []*walker
	for {
		p, err := r.NextRawPart()
		if err != nil {
			break // io.EOF, or a truncated/damaged multipart: keep what was read
		}
		sub := w
		if mediaType == "multipart/alternative" {
			sub = &walker{}
			alternatives = append(alternatives, sub)
		}
		err = sub.part(p.Header, p, depth+1, false)
		p.Close()
		if err != nil {
			return err
		}
	}
	if mediaType != "multipart/alternative" || len(alternatives) == 0 {
		return nil
	}
	best := alternatives[len(alternatives)-1] // the richest, by convention last
	for _, a := range alternatives {
		if _, html := a.body(); hasText(a) && !html {
			best = a
			break
		}
	}
	if !hasText(best) {
		for i := len(alternatives) - 1; i >= 0; i-- {
			if hasText(alternatives[i]) {
				best = alternatives[i]
				break
			}
		}
	}
	w.texts = append(w.texts, best.texts...)
	w.attachments = append(w.attachments, best.attachments...)
	return nil
}

func hasText(w *walker) bool {
	b, _ := w.body()
	return b != ""
}

// contentType parses a Content-Type header; a missing one is text/plain.
// A parameter that does not parse is dropped where the type itself is
// readable (as mail clients do).
func contentType(v string) (string, map[string]string, error) {
	if strings.TrimSpace(v) == "" {
		return "text/plain", map[string]string{}, nil
	}
	mediaType, params, err := mime.ParseMediaType(v)
	if err != nil && !(errors.Is(err, mime.ErrInvalidMediaParameter) && mediaType != "") {
		return "", nil, malformed("malformed header: Content-Type %q: %s", oneLine(v, 80), strings.TrimPrefix(err.Error(), "mime: "))
	}
	if params == nil {
		params = map[string]string{}
	}
	return strings.ToLower(mediaType), params, nil
}

// fileName is a part's file name: Content-Disposition's filename (RFC
// 2231 handled by mime.ParseMediaType), else Content-Type's name, with RFC
// 2047 words decoded as many mailers (wrongly, but commonly) send them.
func fileName(names ...string) string {
	dec := wordDecoder()
	for _, n := range names {
		if n = decodeHeader(dec, n); n != "" {
			return n
		}
	}
	return ""
}

// decodeTransfer undoes a Content-Transfer-Encoding. Damaged base64 or
// quoted-printable decodes as far as it can.
func decodeTransfer(encoding string, r io.Reader) io.Reader {
	switch encoding {
	case "base64":
		data, _ := io.ReadAll(r)
		return bytes.NewReader(decodeBase64(data))
	case "quoted-printable":
		data, _ := io.ReadAll(r)
		return bytes.NewReader(decodeQP(data))
	}
	return r
}

// decodeBase64 decodes the base64 alphabet characters of data, ignoring
// line breaks, spaces and anything after the padding.
func decodeBase64(data []byte) []byte {
	clean := make([]byte, 0, len(data))
	for _, c := range data {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/':
			clean = append(clean, c)
		case c == '=':
			goto done
		}
	}
done:
	if len(clean)%4 == 1 {
		clean = clean[:len(clean)-1]
	}
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
	n, _ := base64.RawStdEncoding.Decode(out, clean)
	return out[:n]
}

// decodeQP decodes quoted-printable the forgiving way mail readers do:
// =XX where XX is hex, soft line breaks (= at the end of a line) removed,
// anything else (a lone =, lower-case hex) kept or read as written.
func decodeQP(data []byte) []byte {
	var b bytes.Buffer
	for i := 0; i < len(data); i++ {
		c := data[i]
		if c != '=' {
			b.WriteByte(c)
			continue
		}
		rest := data[i+1:]
		switch {
		case len(rest) >= 2 && rest[0] == '\r' && rest[1] == '\n':
			i += 2
		case len(rest) >= 1 && rest[0] == '\n':
			i++
		case len(rest) >= 2 && isHex(rest[0]) && isHex(rest[1]):
			b.WriteByte(unhex(rest[0])<<4 | unhex(rest[1]))
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.Bytes()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// transferSize is the decoded size of an attachment, read without keeping it.
func transferSize(encoding string, r io.Reader) int64 {
	switch encoding {
	case "base64":
		var n int64
		buf := make([]byte, 32*1024)
		padded := false
		for {
			k, err := r.Read(buf)
			for _, c := range buf[:k] {
				if c == '=' {
					padded = true
				}
				if !padded && (c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/') {
					n++
				}
			}
			if err != nil {
				break
			}
		}
		return n * 6 / 8
	case "quoted-printable":
		data, _ := io.ReadAll(r)
		return int64(len(decodeQP(data)))
	}
	n, _ := io.Copy(io.Discard, r)
	return n
}

// decodeCharset turns text in the named charset into UTF-8 (invalid
// UTF-8 in a UTF-8 part becomes U+FFFD). Without a charset, with US-ASCII
// or an unknown one, valid UTF-8 is kept and anything else is read as
// Windows-1252, the most common unlabelled 8-bit charset.
func decodeCharset(data []byte, label string) string {
	label = strings.TrimSpace(label)
	if strings.EqualFold(label, "utf-8") || strings.EqualFold(label, "utf8") {
		return toValidText(string(data))
	}
	if label != "" && !strings.EqualFold(label, "us-ascii") {
		if r, err := charset.NewReaderLabel(label, bytes.NewReader(data)); err == nil {
			if out, err := io.ReadAll(r); err == nil {
				return toValidText(string(out))
			}
		}
	}
	if utf8.Valid(data) {
		return toValidText(string(data))
	}
	out, err := charmap.Windows1252.NewDecoder().Bytes(data)
	if err != nil {
		return toValidText(string(data))
	}
	return toValidText(string(out))
}

// toValidText replaces invalid UTF-8 and drops NUL bytes.
func toValidText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "")
}

// unflow joins the soft line breaks of format=flowed text (RFC 3676): a
// line ending in a space continues on the next line of the same quote
// depth; space-stuffing is removed, and with DelSp=yes the space too.
func unflow(text string, delsp bool) string {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	var out []string
	var cur strings.Builder
	depth, open := 0, false
	flush := func() {
		prefix := strings.Repeat(">", depth)
		if depth > 0 {
			prefix += " "
		}
		out = append(out, prefix+cur.String())
		cur.Reset()
	}
	for _, line := range lines {
		d := len(line) - len(strings.TrimLeft(line, ">"))
		content := strings.TrimPrefix(line[d:], " ")
		flowed := strings.HasSuffix(content, " ") && content != "-- "
		if flowed && delsp {
			content = content[:len(content)-1]
		}
		if open && d != depth {
			flush()
		}
		depth = d
		cur.WriteString(content)
		open = flowed
		if !flowed {
			flush()
		}
	}
	if open {
		flush()
	}
	return strings.Join(out, "\n")
}

// normText turns line breaks into \n, drops control characters other than
// tab and line break, trims trailing spaces of lines, and trims the text.
func normText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || !unicode.IsControl(r) {
			return r
		}
		return -1
	}, s)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	s = strings.Join(lines, "\n")
	for strings.Contains(s, "\n\n\n\n") {
		s = strings.ReplaceAll(s, "\n\n\n\n", "\n\n\n")
	}
	return strings.Trim(s, "\n ")
}
