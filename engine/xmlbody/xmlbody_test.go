package xmlbody

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"brief example", `<order id="1"><item>a</item><item>b</item></order>`, `{"order":{"@id":"1","item":["a","b"]}}`},
		{"text only", `<a>hello</a>`, `{"a":"hello"}`},
		{"empty element", `<a/>`, `{"a":""}`},
		{"empty pair", `<a></a>`, `{"a":""}`},
		{"blank text kept when alone", `<a>   </a>`, `{"a":"   "}`},
		{"text not trimmed", "<a>\n  John\n</a>", `{"a":"\n  John\n"}`},
		{"attributes only", `<a x="1" y=""/>`, `{"a":{"@x":"1","@y":""}}`},
		{"blank text beside attributes dropped", `<a x="1"> </a>`, `{"a":{"@x":"1"}}`},
		{"text beside attribute", `<a x="1">t</a>`, `{"a":{"@x":"1","#text":"t"}}`},
		{"mixed content joined, at first appearance", `<a><b/>x<c/>y</a>`, `{"a":{"b":"","#text":"xy","c":""}}`},
		{"text first", `<a>x<b/></a>`, `{"a":{"#text":"x","b":""}}`},
		{"repeats grouped at first appearance", `<r><b>1</b><c>2</c><b>3</b><d/><b>4</b></r>`, `{"r":{"b":["1","3","4"],"c":"2","d":""}}`},
		{"indentation dropped", "<r>\n  <a>1</a>\n  <a>2</a>\n</r>\n", `{"r":{"a":["1","2"]}}`},
		{"nested arrays of objects", `<r><i n="1"><v>a</v></i><i n="2"><v>b</v><v>c</v></i></r>`,
			`{"r":{"i":[{"@n":"1","v":"a"},{"@n":"2","v":["b","c"]}]}}`},
		{"attribute and child of one name", `<a b="1"><b>2</b></a>`, `{"a":{"@b":"1","b":"2"}}`},
		{"every value a string", `<n int="12345678901234567890">3.10</n>`, `{"n":{"@int":"12345678901234567890","#text":"3.10"}}`},
		{"predefined entities and references", `<a q='&quot;&apos;'>&lt;&gt;&amp;&#233;&#x1F600;</a>`, `{"a":{"@q":"\"'","#text":"<>&é😀"}}`},
		{"cdata is text", `<a><![CDATA[<b>not an element</b> ]]></a>`, `{"a":"<b>not an element</b> "}`},
		{"json escaping", "<a>\"\\\t\r\n\u2028/</a>", `{"a":"\"\\\t\n\u2028/"}`},
		{"comments and processing instructions dropped", `<?xml version="1.0"?><!-- c --><a><!-- c --><?pi x?>1</a><!-- end -->`, `{"a":"1"}`},
		{"BOM", "\xef\xbb\xbf<a>1</a>", `{"a":"1"}`},
		{"invalid UTF-8 replaced", "<a b=\"\xc0\">x\xffy</a>", "{\"a\":{\"@b\":\"\ufffd\",\"#text\":\"x\ufffdy\"}}"},
		{"latin-1 declared", "<?xml version='1.0' encoding='ISO-8859-1'?><a>caf\xe9 \x80 \xff</a>", `{"a":"café € ÿ"}`},
		{"windows-1252 declared", "<?xml version=\"1.0\" encoding=\"windows-1252\" ?>\n<a>\x93q\x94</a>", `{"a":"“q”"}`},
		{"utf-8 declared in capitals", `<?xml version="1.0" encoding="UTF-8"?><a>é</a>`, `{"a":"é"}`},
		{"empty body", ``, `{}`},
		{"blank body", " \r\n\t", `{}`},
		{"DOCTYPE without entities skipped", `<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss version="0.91"/>`,
			`{"rss":{"@version":"0.91"}}`},
		{"DOCTYPE with unused entities skipped", `<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>x</a>`, `{"a":"x"}`},
		{"SOAP keeps prefixes",
			`<?xml version="1.0"?>
<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" soap:encodingStyle="http://www.w3.org/2003/05/soap-encoding">
  <soap:Body xmlns:m="http://www.example.org/stock">
    <m:GetStockPriceResponse>
      <m:Price>34.5</m:Price>
    </m:GetStockPriceResponse>
  </soap:Body>
</soap:Envelope>`,
			`{"soap:Envelope":{"@xmlns:soap":"http://www.w3.org/2003/05/soap-envelope","@soap:encodingStyle":"http://www.w3.org/2003/05/soap-encoding",` +
				`"soap:Body":{"@xmlns:m":"http://www.example.org/stock","m:GetStockPriceResponse":{"m:Price":"34.5"}}}}`},
		{"default namespace is an attribute", `<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title></feed>`,
			`{"feed":{"@xmlns":"http://www.w3.org/2005/Atom","title":"t"}}`},
		{"RSS",
			`<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
<channel>
 <title>News</title>
 <link>https://example.com/</link>
 <item><title>One</title><guid isPermaLink="false">1</guid></item>
 <item><title>Two &amp; more</title><guid isPermaLink="false">2</guid><category>a</category><category>b</category></item>
</channel>
</rss>`,
			`{"rss":{"@version":"2.0","channel":{"title":"News","link":"https://example.com/","item":[` +
				`{"title":"One","guid":{"@isPermaLink":"false","#text":"1"}},` +
				`{"title":"Two & more","guid":{"@isPermaLink":"false","#text":"2"},"category":["a","b"]}]}}}`},
		{"Salesforce outbound message",
			`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>00Dxx0000001gPL</OrganizationId>
   <Notification>
    <Id>04l0x0000000001</Id>
    <sObject xsi:type="sf:Account" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>001x0000003DGb2</sf:Id>
     <sf:Name>Acme</sf:Name>
    </sObject>
   </Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>`,
			`{"soapenv:Envelope":{"@xmlns:soapenv":"http://schemas.xmlsoap.org/soap/envelope/","@xmlns:xsi":"http://www.w3.org/2001/XMLSchema-instance",` +
				`"soapenv:Body":{"notifications":{"@xmlns":"http://soap.sforce.com/2005/09/outbound","OrganizationId":"00Dxx0000001gPL",` +
				`"Notification":{"Id":"04l0x0000000001","sObject":{"@xsi:type":"sf:Account","@xmlns:sf":"urn:sobject.enterprise.soap.sforce.com",` +
				`"sf:Id":"001x0000003DGb2","sf:Name":"Acme"}}}}}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse([]byte(tc.in), 0)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if string(got) != tc.want {
				t.Fatalf("Parse =\n%s\nwant\n%s", got, tc.want)
			}
			if !json.Valid(got) {
				t.Fatalf("not valid JSON: %s", got)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in  string
		line, col int
		msg       string
	}{
		{"not XML", `{"a":1}`, 1, 1, "text outside the root element"},
		{"only a comment", `<!-- x -->`, 1, 11, "no root element"},
		{"two roots", "<a/>\n<b/>", 2, 1, "more than one root element (<b> after the root)"},
		{"text after the root", `<a/>x`, 1, 5, "text outside the root element"},
		{"mismatched end", "<a>\n  <b></a>", 2, 6, "<b> closed by </a>"},
		{"stray end", `</a>`, 1, 1, "</a> closes nothing"},
		{"truncated", "<a><b>1</b>", 1, 12, "unexpected end of the body: <a> is not closed"},
		{"truncated in a tag", `<a><b x="1`, 1, 11, "unexpected EOF"},
		{"duplicate attribute", `<a x="1" y="2" x="3"/>`, 1, 1, "attribute x repeated in <a>"},
		{"duplicate among many attributes", `<a a1="" a2="" a3="" a4="" a5="" a6="" a7="" a8="" a9="" a1=""/>`, 1, 1, "attribute a1 repeated in <a>"},
		{"prefixed duplicate attribute", `<a p:x="1" p:x="2"/>`, 1, 1, "attribute p:x repeated in <a>"},
		{"unquoted attribute", `<a x=1/>`, 1, 7, "unquoted or missing attribute value in element"},
		{"control character", "<a>\x01</a>", 1, 5, "illegal character code U+0001"},
		{"NUL reference", "<a>&#0;</a>", 1, 8, "illegal character code U+0000"},
		{"unknown entity", "<a>&nbsp;</a>", 1, 10,
			"invalid character entity &nbsp; (only &lt; &gt; &amp; &apos; &quot; and character references are expanded; entities declared in a DOCTYPE are not)"},
		{"unsupported encoding", `<?xml version="1.0" encoding="Shift_JIS"?><a/>`, 1, 1, `unsupported encoding "Shift_JIS" (use UTF-8)`},
		{"UTF-16", "\xff\xfe<\x00a\x00/\x00>\x00", 0, 0, "UTF-16 is not supported (use UTF-8)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := Parse([]byte(tc.in), 0)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse = %s, %v (%T), want *Error", out, err, err)
			}
			if e.Msg != tc.msg || e.Line != tc.line || e.Column != tc.col {
				t.Fatalf("Parse error = line %d, column %d, %q; want line %d, column %d, %q", e.Line, e.Column, e.Msg, tc.line, tc.col, tc.msg)
			}
			if !strings.HasPrefix(err.Error(), "invalid XML") {
				t.Fatalf("message %q", err)
			}
		})
	}
}

// TestEntityExpansion: the classic billion-laughs document and an external
// entity are refused at their first use, quickly and without expanding.
func TestEntityExpansion(t *testing.T) {
	t.Parallel()
	laughs := `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&lol9;</lolz>`
	xxe := `<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><foo>&xxe;</foo>`
	attr := `<!DOCTYPE a [<!ENTITY e "boom">]><a x="&e;"/>`
	for _, in := range []string{laughs, xxe, attr} {
		start := time.Now()
		out, err := Parse([]byte(in), 0)
		var e *Error
		if !errors.As(err, &e) || !strings.HasPrefix(e.Msg, "invalid character entity &") {
			t.Fatalf("Parse = %s, %v; want an undefined entity error", out, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("took %v", d)
		}
	}
}

func TestDepth(t *testing.T) {
	t.Parallel()
	nest := func(n int) string { return strings.Repeat("<a>", n) + "x" + strings.Repeat("</a>", n) }
	out, err := Parse([]byte(nest(MaxDepth)), 0)
	if err != nil {
		t.Fatalf("depth %d: %v", MaxDepth, err)
	}
	want := strings.Repeat(`{"a":`, MaxDepth) + `"x"` + strings.Repeat("}", MaxDepth)
	if string(out) != want {
		t.Fatalf("depth %d = %s", MaxDepth, out)
	}
	_, err = Parse([]byte(nest(MaxDepth+1)), 0)
	var e *Error
	if !errors.As(err, &e) || e.Msg != "elements nested deeper than 128" || e.Column != 3*MaxDepth+1 {
		t.Fatalf("depth %d: %+v", MaxDepth+1, err)
	}
	// Deep nesting does not blow up: a million opening tags stop at 129.
	_, err = Parse([]byte(strings.Repeat("<a>", 1_000_000)), 0)
	if !errors.As(err, &e) {
		t.Fatalf("deep: %v", err)
	}
}

func TestMaxOutput(t *testing.T) {
	t.Parallel()
	in := []byte(`<r><a>12345</a><a>12345</a></r>`)
	want := `{"r":{"a":["12345","12345"]}}`
	if out, err := Parse(in, len(want)); err != nil || string(out) != want {
		t.Fatalf("Parse at the limit = %s, %v", out, err)
	}
	if out, err := Parse(in, len(want)-1); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Parse one byte over = %s, %v; want ErrTooLarge", out, err)
	}
	// The count is of the JSON produced, not of copies made while
	// assembling it: deep documents are not charged per level.
	deep := []byte(strings.Repeat("<a>", 100) + strings.Repeat("y", 1000) + strings.Repeat("</a>", 100))
	out, err := Parse(deep, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(deep, len(out)); err != nil {
		t.Fatalf("Parse with maxOutput = len(output): %v", err)
	}
	// Many empty elements, the worst ratio of JSON to XML.
	many := []byte("<r>" + strings.Repeat("<a/><b/>", 100_000) + "</r>")
	if _, err := Parse(many, 500_000); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("many elements under 500 kB: %v", err)
	}
	// {"r":{"a":["",…],"b":["",…]}}: 2 × (100,000 × 2 + 99,999) + 21.
	if out, err := Parse(many, 600_019); err != nil || len(out) != 600_019 {
		t.Fatalf("many elements: %d bytes from %d, %v", len(out), len(many), err)
	}
	if _, err := Parse(many, 600_018); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("many elements one byte over: %v", err)
	}
}

// TestManyDistinctChildren covers the map index of a frame's groups and key
// order with many names.
func TestManyDistinctChildren(t *testing.T) {
	t.Parallel()
	var in, want strings.Builder
	in.WriteString("<r>")
	want.WriteString(`{"r":{`)
	for i := 0; i < 40; i++ {
		in.WriteString("<k" + itoa(i) + ">v</k" + itoa(i) + ">")
		if i > 0 {
			want.WriteString(",")
		}
		want.WriteString(`"k` + itoa(i) + `":`)
		if i%10 == 3 {
			want.WriteString(`["v","w"]`)
		} else {
			want.WriteString(`"v"`)
		}
	}
	for i := 3; i < 40; i += 10 {
		in.WriteString("<k" + itoa(i) + ">w</k" + itoa(i) + ">")
	}
	in.WriteString("</r>")
	want.WriteString("}}")
	out, err := Parse([]byte(in.String()), 0)
	if err != nil || string(out) != want.String() {
		t.Fatalf("Parse =\n%s, %v\nwant\n%s", out, err, want.String())
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func BenchmarkParse(b *testing.B) {
	in := []byte(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>News</title>` +
		strings.Repeat(`<item><title>One &amp; two</title><guid isPermaLink="false">123</guid><category>a</category><category>b</category></item>`, 20) +
		`</channel></rss>`)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(in, 0); err != nil {
			b.Fatal(err)
		}
	}
}
