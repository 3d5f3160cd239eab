// Package demo is gather's built-in web site: deterministic synthetic movie
// full-credits pages in IMDB's current layout (data in a __NEXT_DATA__
// script) and its classic table layout, with configurable latency and
// fault injection, and the ground truth every page was made from. It backs
// `gather demo`, `gather bench` and the tests.
package demo

import (
	"bufio"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Movie is the ground truth of one credits page.
type Movie struct {
	ID    string
	Title string
	Year  int
	Cast  []CastMember
	Crew  []Credit
}

// CastMember is one row of the cast list.
type CastMember struct {
	PersonID   string
	Name       string
	Characters []string // may be empty
}

// Credit is one crew credit.
type Credit struct {
	Section     string // category id in today's layout, e.g. "director"
	SectionName string // heading, e.g. "Directed by" (the classic layout's section)
	PersonID    string
	Name        string
	Note        string // credit note, may be empty
}

// ID returns the i-th demo movie id (i from 1): tt0000001, tt0000002, …
func ID(i int) string { return fmt.Sprintf("tt%07d", i) }

// IDs returns the first n demo ids.
func IDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = ID(i + 1)
	}
	return out
}

// WriteIDs writes the demo ids first..last to w, one per line, as an
// ids_file holds them.
func WriteIDs(w io.Writer, first, last int) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	for i := first; i <= last; i++ {
		bw.WriteString(ID(i))
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

var crewSections = []struct{ id, name string }{
	{"director", "Directed by"},
	{"writer", "Writing Credits"},
	{"producer", "Produced by"},
	{"composer", "Music by"},
	{"cinematographer", "Cinematography by"},
	{"editor", "Film Editing by"},
	{"casting_director", "Casting By"},
	{"production_designer", "Production Design by"},
	{"art_director", "Art Direction by"},
	{"costume_designer", "Costume Design by"},
	{"make_up_department", "Makeup Department"},
	{"sound_department", "Sound Department"},
	{"visual_effects", "Visual Effects by"},
	{"stunts", "Stunts"},
	{"camera_department", "Camera and Electrical Department"},
	{"music_department", "Music Department"},
	{"thanks", "Thanks"},
}

var crewNotes = map[string][]string{
	"director": {"", "directed by"},
	"writer":   {"screenplay", "story", "written by", "based on the novel by", "characters"},
	"producer": {"producer", "executive producer", "co-producer", "line producer"},
	"thanks":   {"special thanks", "the producers wish to thank"},
}

var (
	firstNames = strings.Fields("Ada Alan Ann Ben Bruno Carla Chen Dana Dev Eli Emma Femi Gil Grace Hana Ivan Ines Jack Jin Kate Kofi Lena Luis Mara Mia Nico Nora Omar Olga Pat Priya Quinn Rosa Sam Sara Tom Uma Vera Wade Xia Yuki Zoe")
	lastNames  = strings.Fields("Abbott Baker Cohen Dawson D'Amico Evans Fischer García Hughes Ito Jensen Kowalski López Müller Nakamura O'Brien Petrov Quist Rossi Smith Tanaka Ueda Vargas Walsh Xu Young Zhang")
	titleWords = strings.Fields("Silent Harbor Night Iron Garden Last Winter Broken Signal Crimson River Hidden Empire Paper Moon Northern Light Glass City Wild Echo Distant Shore Golden Hour Lost Orbit")
	roleWords  = strings.Fields("Captain Doctor Waiter Officer Reporter Pilot Nurse Guard Teacher Driver Singer Sailor Clerk Detective Mother Father Stranger Neighbor")
)

// MovieFor generates the movie behind id deterministically. version > 0
// alters a few credits, as a site's data changes over time.
func MovieFor(id string, version int) Movie {
	h := fnv.New64a()
	h.Write([]byte(id))
	seed := h.Sum64()
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	m := Movie{ID: id, Year: 1950 + r.IntN(76)}
	m.Title = titleWords[r.IntN(len(titleWords))] + " " + titleWords[r.IntN(len(titleWords))]
	if r.IntN(4) == 0 {
		m.Title += ": Part " + strconv.Itoa(2+r.IntN(3))
	}
	person := func() (string, string) {
		return fmt.Sprintf("nm%07d", 1+r.IntN(9_999_999)), firstNames[r.IntN(len(firstNames))] + " " + lastNames[r.IntN(len(lastNames))]
	}
	// Page sizes then range from about 30 KB to 400 KB, as real ones do.
	nCast := 15 + r.IntN(60)
	if r.IntN(3) == 0 {
		nCast += r.IntN(700)
	}
	seen := map[string]bool{}
	for len(m.Cast) < nCast {
		pid, name := person()
		if seen[pid] {
			continue
		}
		seen[pid] = true
		c := CastMember{PersonID: pid, Name: name}
		switch k := r.IntN(10); {
		case k < 7:
			c.Characters = []string{roleWords[r.IntN(len(roleWords))] + " " + lastNames[r.IntN(len(lastNames))]}
		case k < 9:
			c.Characters = []string{roleWords[r.IntN(len(roleWords))], "Self"}
		}
		m.Cast = append(m.Cast, c)
	}
	for _, sec := range crewSections {
		if sec.id != "director" && sec.id != "writer" && r.IntN(3) == 0 {
			continue
		}
		n := 1 + r.IntN(8)
		secSeen := map[string]bool{}
		for i := 0; i < n; i++ {
			pid, name := person()
			if secSeen[pid] {
				continue
			}
			secSeen[pid] = true
			note := ""
			if notes := crewNotes[sec.id]; notes != nil {
				note = notes[r.IntN(len(notes))]
			}
			m.Crew = append(m.Crew, Credit{Section: sec.id, SectionName: sec.name, PersonID: pid, Name: name, Note: note})
		}
		// Real pages credit some writers twice in one section (for the
		// story and for the screenplay): both credits are rows.
		if sec.id == "writer" && r.IntN(2) == 0 {
			last := m.Crew[len(m.Crew)-1]
			for _, note := range crewNotes["writer"] {
				if note != last.Note {
					last.Note = note
					m.Crew = append(m.Crew, last)
					break
				}
			}
		}
	}
	if version > 0 {
		m.applyVersion(version)
	}
	return m
}

// applyVersion changes the movie the way sites do between visits: a role
// renamed, a cast member added, another removed.
func (m *Movie) applyVersion(version int) {
	for v := 1; v <= version; v++ {
		switch v % 3 {
		case 1:
			i := (v * 7) % len(m.Cast)
			m.Cast[i].Characters = []string{fmt.Sprintf("Revised Role %d", v)}
		case 2:
			m.Cast = append(m.Cast, CastMember{PersonID: fmt.Sprintf("nm9%06d", v), Name: fmt.Sprintf("Added Actor %d", v),
				Characters: []string{"Newcomer"}})
		case 0:
			if len(m.Cast) > 2 {
				i := (v * 5) % len(m.Cast)
				m.Cast = append(m.Cast[:i], m.Cast[i+1:]...)
			}
		}
	}
}
