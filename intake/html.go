package intake

import (
	"strings"

	"golang.org/x/net/html"
)

// HTMLToText converts an HTML mail body to readable text: paragraphs,
// line breaks, list items and table rows become lines; links keep their
// target ("text <https://…>", which an analyst looking at a phishing report
// needs); images show their alt text; scripts, styles and the head are
// dropped; entities are decoded and whitespace collapsed outside <pre>.
func HTMLToText(src string) string {
	z := html.NewTokenizer(strings.NewReader(src))
	c := &htmlText{}
	skip := 0 // depth inside script, style, head, title, template
	pre := 0
	var links []string // the href of each open <a>, "" when none
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return normText(c.b.String())
		case html.TextToken:
			if skip > 0 {
				continue
			}
			c.text(string(z.Text()), pre > 0)
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			attrs := map[string]string{}
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				attrs[string(k)] = string(v)
			}
			end := tt == html.EndTagToken
			switch tag {
			case "script", "style", "head", "title", "template", "noscript":
				if tt == html.SelfClosingTagToken {
					continue
				}
				if end {
					skip = max(0, skip-1)
				} else {
					skip++
				}
				continue
			}
			if skip > 0 {
				continue
			}
			switch tag {
			case "br":
				c.newline(1)
			case "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "ul", "ol", "section", "article", "header", "footer", "address", "dl":
				c.newline(2)
			case "tr", "dt", "dd", "center":
				c.newline(1)
			case "pre":
				c.newline(2)
				if end {
					pre = max(0, pre-1)
				} else if tt == html.StartTagToken {
					pre++
				}
			case "hr":
				c.newline(1)
				c.write("----")
				c.newline(1)
			case "li":
				if !end {
					c.newline(1)
					c.write("- ")
				}
			case "td", "th":
				if !end && !c.atLineStart() {
					c.write(" | ")
				}
			case "img":
				if alt := strings.TrimSpace(attrs["alt"]); alt != "" {
					c.text("["+alt+"]", false)
				}
			case "a":
				switch {
				case tt == html.StartTagToken:
					links = append(links, strings.TrimSpace(attrs["href"]))
					c.linkStart = c.b.Len()
				case end && len(links) > 0:
					href := links[len(links)-1]
					links = links[:len(links)-1]
					shown := strings.TrimSpace(c.b.String()[min(c.linkStart, c.b.Len()):])
					if linkWorthShowing(href, shown) {
						c.write(" <" + href + ">")
					}
				}
			}
		}
	}
}

// linkWorthShowing: a web or mail link whose target is not already the
// text shown.
func linkWorthShowing(href, shown string) bool {
	lower := strings.ToLower(href)
	if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") && !strings.HasPrefix(lower, "mailto:") {
		return false
	}
	target := strings.TrimPrefix(href, "mailto:")
	return shown != href && shown != target
}

// htmlText accumulates text with collapsed whitespace.
type htmlText struct {
	b         strings.Builder
	space     bool // a space is pending before the next word
	linkStart int
}

func (c *htmlText) atLineStart() bool {
	s := c.b.String()
	return s == "" || strings.HasSuffix(s, "\n")
}

func (c *htmlText) write(s string) {
	c.b.WriteString(s)
	c.space = false
}

// text adds a text node: whitespace collapses to one space unless inside <pre>.
func (c *htmlText) text(s string, pre bool) {
	if pre {
		c.write(s)
		return
	}
	s = strings.ReplaceAll(s, "\u00a0", " ")
	if s != "" && isHTMLSpace(s[0]) && !c.atLineStart() {
		c.space = true
	}
	words := strings.Fields(s)
	for i, w := range words {
		if (i > 0 || c.space) && !c.atLineStart() {
			c.b.WriteByte(' ')
		}
		c.write(w)
	}
	if len(words) > 0 && isHTMLSpace(s[len(s)-1]) {
		c.space = true
	}
}

func isHTMLSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f' }

// newline ends the current line and, for n == 2, leaves a blank line
// (never more than one blank line in a row, none at the start).
func (c *htmlText) newline(n int) {
	s := c.b.String()
	if s == "" {
		return
	}
	have := len(s) - len(strings.TrimRight(s, "\n"))
	for ; have < n; have++ {
		c.b.WriteByte('\n')
	}
	c.space = false
}
