package demo

import (
	"bytes"
	"fmt"
	"html"
	"strings"
)

// RenderClassic renders m in the classic table layout of the full-credits
// page, the structure of ../shared/fixtures/imdb-classic-*.html.
func RenderClassic(m Movie) []byte {
	var b bytes.Buffer
	e := html.EscapeString
	fmt.Fprintf(&b, `<!DOCTYPE html><html><head><title>%s (%d) - Full Cast &amp; Crew - IMDb</title></head><body><div id="main">`, e(m.Title), m.Year)
	fmt.Fprintf(&b, `<div class="subpage_title_block"><div class="parent"><h3 itemprop="name"><a href="/title/%s/?ref_=ttfc_fc_tt" itemprop='url'>%s</a> <span class="nobr"> (%d) </span></h3></div>`,
		m.ID, e(m.Title), m.Year)
	b.WriteString(`<h1 class="header">Full Cast &amp; Crew</h1></div><div id="fullcredits_content" class="header">`)
	section := ""
	for i, c := range m.Crew {
		if c.Section != section {
			if section != "" {
				b.WriteString("</tbody></table>\n")
			}
			section = c.Section
			fmt.Fprintf(&b, "<h4 class=\"dataHeaderWithBorder\">%s&nbsp;</h4>\n<table class=\"simpleTable simpleCreditsTable\"><tbody>\n", e(c.SectionName))
		}
		fmt.Fprintf(&b, "<tr><td class=\"name\">\n<a href=\"/name/%s/?ref_=ttfc_fc_cr%d\"> %s\n</a></td><td>...</td><td class=\"credit\">\n %s\n</td></tr>\n",
			c.PersonID, i+1, e(c.Name), e(c.Note))
		if i%4 == 3 {
			b.WriteString("<tr><td colspan=\"3\">&nbsp;</td></tr>\n")
		}
	}
	if section != "" {
		b.WriteString("</tbody></table>\n")
	}
	b.WriteString("<h4 name=\"cast\" id=\"cast\" class=\"dataHeaderWithBorder\">Cast <span>(in credits order)</span>&nbsp;</h4>\n<table class=\"cast_list\">\n<tr><td colspan=\"4\" class=\"castlist_label\"></td></tr>\n")
	for i, c := range m.Cast {
		class := "odd"
		if i%2 == 1 {
			class = "even"
		}
		fmt.Fprintf(&b, "<tr class=\"%s\"><td class=\"primary_photo\"><a href=\"/name/%s/?ref_=ttfc_fc_cl_i%d\"><img height=\"44\" width=\"32\" alt=\"%s\"></a></td>\n", class, c.PersonID, i+1, e(c.Name))
		fmt.Fprintf(&b, "<td class=\"itemprop\" itemprop=\"actor\"><a href=\"/name/%s/?ref_=ttfc_fc_cl_t%d\" itemprop='url'> <span class=\"itemprop\" itemprop=\"name\">%s</span>\n</a></td>\n", c.PersonID, i+1, e(c.Name))
		chars := make([]string, len(c.Characters))
		for j, ch := range c.Characters {
			chars[j] = e(ch)
		}
		fmt.Fprintf(&b, "<td class=\"ellipsis\"> ... </td><td class=\"character\">\n<div>\n %s \n</div></td></tr>\n", strings.Join(chars, " / "))
	}
	b.WriteString("</table></div></div></body></html>")
	return b.Bytes()
}
