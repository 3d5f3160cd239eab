package extract_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"

	"github.com/gather-crawler/gather/config"
)

// itemsConfig is a config with the given items, for tests that extract
// from pages built in the test.
func itemsConfig(t testing.TB, items string) *config.Config {
	t.Helper()
	return parseConfig(t, "database: x.db\ncrawl:\n  name: x\n  start: {urls: [\"http://127.0.0.1/a\"]}\nitems:\n"+items)
}

// parseConfig parses a whole config written in the test, with no
// environment overrides.
func parseConfig(t testing.TB, yaml string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("t.yaml", []byte(yaml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func encode(t *testing.T, e encoding.Encoding, s string) []byte {
	t.Helper()
	b, err := e.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatalf("encode %q: %v", s, err)
	}
	return b
}

// Every page is stored as valid UTF-8 equal to the text it was written in,
// whatever encoding it was sent in and however that was declared.
func TestExtract_Charsets(t *testing.T) {
	cfg := itemsConfig(t, `  page:
    fields:
      title: {css: h1}
      note: {css: p}
`)
	ex := mustExtractor(t, cfg)
	page := func(meta, title, note string) string {
		return "<html><head>" + meta + "</head><body><h1>" + title + "</h1><p>" + note + "</p></body></html>"
	}
	const latin = "Café crème – naïve “quotes” €5"
	cases := []struct {
		name, contentType string
		body              []byte
		title, note       string
		warn              string
	}{
		{name: "windows-1252 by header", contentType: "text/html; charset=windows-1252",
			body: encode(t, charmap.Windows1252, page("", latin, "ok")), title: latin, note: "ok"},
		// WHATWG maps the ISO-8859-1 label to windows-1252, as browsers do.
		{name: "ISO-8859-1 by meta", contentType: "text/html",
			body: encode(t, charmap.Windows1252, page(`<meta charset="iso-8859-1">`, latin, "ok")), title: latin, note: "ok"},
		{name: "windows-1251 by http-equiv", contentType: "text/html",
			body:  encode(t, charmap.Windows1251, page(`<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">`, "Бойцовский клуб", "Фильм")),
			title: "Бойцовский клуб", note: "Фильм"},
		{name: "Shift_JIS by header", contentType: "text/html; charset=Shift_JIS",
			body: encode(t, japanese.ShiftJIS, page("", "ファイト・クラブ", "映画")), title: "ファイト・クラブ", note: "映画"},
		{name: "EUC-KR by meta", contentType: "text/html",
			body: encode(t, korean.EUCKR, page(`<meta charset="euc-kr">`, "파이트 클럽", "영화")), title: "파이트 클럽", note: "영화"},
		{name: "GB18030 by header", contentType: "text/html; charset=gb18030",
			body: encode(t, simplifiedchinese.GB18030, page("", "搏击俱乐部", "电影")), title: "搏击俱乐部", note: "电影"},
		{name: "UTF-16LE with BOM, no declaration", contentType: "text/html",
			body:  encode(t, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), page("", "Fight Club ☃", "ok")),
			title: "Fight Club ☃", note: "ok"},
		{name: "UTF-8 BOM, header says latin1", contentType: "text/html; charset=iso-8859-1",
			body: append([]byte{0xEF, 0xBB, 0xBF}, page("", "Café ☃", "ok")...), title: "Café ☃", note: "ok"},
		// The header wins over the document's own declaration.
		{name: "header and meta disagree", contentType: "text/html; charset=windows-1251",
			body:  encode(t, charmap.Windows1251, page(`<meta charset="shift_jis">`, "Привет", "мир")),
			title: "Привет", note: "мир"},
		{name: "undeclared, not UTF-8: windows-1252", contentType: "text/html",
			body: encode(t, charmap.Windows1252, page("", latin, "ok")), title: latin, note: "ok"},
		{name: "undeclared UTF-8", contentType: "",
			body: []byte(page("", "Fight Club ☃ 日本", "ok")), title: "Fight Club ☃ 日本", note: "ok"},
		// Bytes invalid in the declared charset are replaced, the page kept
		// and warned.
		{name: "invalid UTF-8", contentType: "text/html; charset=utf-8",
			body: []byte(page("", "Caf\xe9 ok", "bad \xff\xfe byte")), title: "Caf\uFFFD ok", note: "bad \uFFFD byte",
			warn: "not valid UTF-8"},
		{name: "invalid Shift_JIS", contentType: "text/html; charset=shift_jis",
			body: append(append(encode(t, japanese.ShiftJIS, "<h1>映画"), 0x85, 0x40), []byte("</h1><p>x</p>")...), title: "映画\uFFFD",
			note: "x", warn: "invalid in shift_jis"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := ex.Extract("http://127.0.0.1/a", c.body, c.contentType, false)
			if err != nil {
				t.Fatal(err)
			}
			got := records(t, cfg, res, "page")
			if len(got) != 1 {
				t.Fatalf("records: %v", got)
			}
			for _, v := range []any{got[0]["title"], got[0]["note"]} {
				if s, _ := v.(string); !utf8.ValidString(s) {
					t.Errorf("stored invalid UTF-8: %q", s)
				}
			}
			if got[0]["title"] != c.title || got[0]["note"] != c.note {
				t.Errorf("got title %q note %q, want %q, %q", got[0]["title"], got[0]["note"], c.title, c.note)
			}
			warned := strings.Join(res.Warnings, "; ")
			if c.warn == "" && warned != "" {
				t.Errorf("unexpected warnings: %s", warned)
			}
			if c.warn != "" && !strings.Contains(warned, c.warn) {
				t.Errorf("warnings %q, want one containing %q", warned, c.warn)
			}
		})
	}
}

// A JSON page declared in another charset, or with a UTF-16 BOM, is
// decoded before its paths are read.
func TestExtract_JSONCharsets(t *testing.T) {
	cfg := itemsConfig(t, `  page:
    fields:
      title: {json: "title"}
`)
	ex := mustExtractor(t, cfg)
	for _, c := range []struct {
		name, contentType string
		body              []byte
	}{
		{"utf-8", "application/json", []byte(`{"title":"Café ☃"}`)},
		{"latin1 declared", "application/json; charset=windows-1252", encode(t, charmap.Windows1252, `{"title":"Café"}`)},
		{"utf-16le BOM", "application/json", encode(t, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), `{"title":"Café ☃"}`)},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := ex.Extract("http://127.0.0.1/a", c.body, c.contentType, false)
			if err != nil {
				t.Fatal(err)
			}
			got := records(t, cfg, res, "page")
			if len(got) != 1 || !strings.HasPrefix(got[0]["title"].(string), "Café") {
				t.Errorf("got %v", got)
			}
		})
	}
}
