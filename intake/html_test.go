package intake

import "testing"

func TestHTMLToText(t *testing.T) {
	tests := []struct {
		name, html, want string
	}{
		{"paragraphs and breaks", "<p>one<br>two</p><p>three</p>", "one\ntwo\n\nthree"},
		{"whitespace collapses", "<div>  a \n\t b  </div>", "a b"},
		{"entities", "<p>Tom &amp; Jerry &lt;3 &eacute;t&eacute; &#8364;5</p>", "Tom & Jerry <3 été €5"},
		{"script, style and head dropped", "<html><head><title>T</title><style>p{}</style></head><body><script>alert(1)</script>text</body></html>", "text"},
		{"link with a different target", `<a href="https://evil.example/x">https://bank.example</a>`, "https://bank.example <https://evil.example/x>"},
		{"link whose text is its target", `<a href="https://a.example">https://a.example</a>`, "https://a.example"},
		{"mailto link", `write to <a href="mailto:soc@contoso.com">the SOC</a>.`, "write to the SOC <mailto:soc@contoso.com>."},
		{"anchor without href", `<a name="top">top</a>`, "top"},
		{"javascript link not shown", `<a href="javascript:void(0)">x</a>`, "x"},
		{"lists", "<ul><li>a</li><li>b</li></ul><ol><li>c</li></ol>", "- a\n- b\n\n- c"},
		{"table", "<table><tr><th>k</th><th>v</th></tr><tr><td>1</td><td>2</td></tr></table>", "k | v\n1 | 2"},
		{"image alt", `<img src="cid:x" alt="Company logo"> hello`, "[Company logo] hello"},
		{"pre keeps spacing", "<pre>a  b\n  c</pre>", "a  b\n  c"},
		{"nbsp", "a&nbsp;&nbsp;b", "a b"},
		{"inline tags do not split words", "im<b>port</b>ant", "important"},
		{"unclosed tags", "<div><p>open", "open"},
		{"hr", "a<hr>b", "a\n----\nb"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HTMLToText(tt.html); got != tt.want {
				t.Errorf("HTMLToText(%q)\n got %q\nwant %q", tt.html, got, tt.want)
			}
		})
	}
}

func TestUnflow(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		delsp bool
		want  string
	}{
		{"soft breaks joined", "one \ntwo \nthree\nfour", false, "one two three\nfour"},
		{"delsp removes the space", "hyphen-\nated", false, "hyphen-\nated"},
		{"delsp=yes", "abc \ndef", true, "abcdef"},
		{"space-stuffing removed", " From me\n >not a quote", false, "From me\n>not a quote"},
		{"quotes joined at the same depth", "> a \n> b\n>> c \n>> d", false, "> a b\n>> c d"},
		{"signature separator is not flowed", "-- \nme", false, "-- \nme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := unflow(tt.text, tt.delsp); got != tt.want {
				t.Errorf("unflow(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}
