package serve

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gather-crawler/gather/storage"
)

// failureExamples is how many pages each failure group lists.
const failureExamples = 5

func (s *server) failures(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := storage.FailureFilter{Host: q.Get("host")}
	if v := q.Get("run"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			s.fail(w, http.StatusBadRequest, "Failures", errors.New("run: not a run id"))
			return
		}
		f.Run = n
	}
	groups, err := s.opts.Reader.Failures(r.Context(), f, failureExamples)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, "Failures", err)
		return
	}
	var total int64
	for _, g := range groups {
		total += g.Count
	}
	s.render(w, "failures", http.StatusOK, map[string]any{
		"Title": "Failures", "Groups": groups, "Total": total, "Filter": f,
	})
}

func (s *server) pageHistory(w http.ResponseWriter, r *http.Request) {
	u := r.URL.Query().Get("url")
	recs, changes, err := s.opts.Reader.PageHistory(r.Context(), u)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, "Page", err)
		return
	}
	outcomes, err := s.opts.Reader.PageOutcomes(r.Context(), u)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, "Page", err)
		return
	}
	status := http.StatusOK
	if len(recs) == 0 {
		status = http.StatusNotFound
	}
	s.render(w, "page", status, map[string]any{
		"Title": "Page", "URL": u, "Records": recs, "Changes": changes, "Outcomes": outcomes,
	})
}
