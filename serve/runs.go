package serve

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/gather-crawler/gather/crawler/progress"
	"github.com/gather-crawler/gather/storage"
)

// runsShown is how many runs the history lists and charts.
const runsShown = 50

// runRow is a run as the history shows it.
type runRow struct {
	storage.RunInfo
	Duration time.Duration // 0 while running or when the end is unknown
	Rate     float64       // pages recorded per second
}

func newRunRow(r storage.RunInfo, now time.Time) runRow {
	row := runRow{RunInfo: r}
	start, end := since(r.StartedAt), since(r.FinishedAt)
	if r.Status == storage.RunRunning {
		end = now
	}
	if !start.IsZero() && !end.IsZero() && end.After(start) {
		row.Duration = end.Sub(start)
		row.Rate = float64(r.PagesOK+r.PagesFailed+r.PagesSkipped) / row.Duration.Seconds()
	}
	return row
}

func (s *server) runs(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	infos, err := s.opts.Reader.Runs(ctx, runsShown)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, "Runs", err)
		return
	}
	now := time.Now()
	var rows []runRow
	for i := range infos {
		x := &infos[i] // the chart below reads the counts too
		if x.Status == storage.RunRunning {
			// A running run's row is written at its end; until then its
			// pages say how far it got.
			counts, err := s.opts.Reader.RunPages(ctx, x.ID)
			if err != nil {
				s.fail(w, http.StatusInternalServerError, "Runs", err)
				return
			}
			x.PagesOK, x.PagesFailed, x.PagesSkipped = counts["ok"], counts["failed"], counts["skipped"]
		}
		rows = append(rows, newRunRow(*x, now))
	}
	changes, err := s.opts.Reader.ChangesPerDay(ctx, 30)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, "Runs", err)
		return
	}
	var jobs []LiveJob
	if s.opts.Live != nil {
		jobs = s.opts.Live()
	}
	s.render(w, "runs", http.StatusOK, map[string]any{
		"Title":        "Runs",
		"Runs":         rows,
		"Jobs":         jobs,
		"Every":        s.opts.ProgressEvery.Milliseconds(),
		"StatusChart":  statusChart(infos),
		"ChangesChart": barChart("changed records per day", changes),
	})
}

func (s *server) run(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.fail(w, http.StatusNotFound, "Run", errors.New("no such run"))
		return
	}
	ctx := r.Context()
	info, err := s.opts.Reader.RunByID(ctx, id)
	if errors.Is(err, sql.ErrNoRows) {
		s.fail(w, http.StatusNotFound, "Run", errors.New("no such run"))
		return
	}
	if err != nil {
		s.fail(w, http.StatusInternalServerError, "Run", err)
		return
	}
	rate, err := s.opts.Reader.RunRate(ctx, id)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, "Run", err)
		return
	}
	groups, err := s.opts.Reader.Failures(ctx, storage.FailureFilter{Run: id}, 3)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, "Run", err)
		return
	}
	changes, nChanges, err := s.opts.Reader.RunChanges(ctx, id, runChangesShown)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, "Run", err)
		return
	}
	s.render(w, "run", http.StatusOK, map[string]any{
		"Title":        "Run " + strconv.FormatInt(id, 10),
		"Run":          newRunRow(info, time.Now()),
		"RateChart":    lineChart("pages per second", rate, newRunRow(info, time.Now()).Rate),
		"Failures":     groups,
		"Changes":      changes,
		"ChangesTotal": nChanges,
	})
}

// Progress is what /api/progress answers: the running runs and the
// scheduled jobs. The page's script polls it.
type Progress struct {
	Runs []RunProgress `json:"runs"`
	Jobs []JobNext     `json:"jobs,omitempty"`
}

// RunProgress is a running run's progress. Queued, ETA and in-flight
// counts come from the live crawler: this process's (inside gather
// schedule), or the snapshot another process's crawl records every few
// seconds; without either (a shared crawl's sink, an older gather) they
// are unknown (-1, "").
type RunProgress struct {
	ID       int64            `json:"id"`
	Job      string           `json:"job"`
	Started  string           `json:"started"`
	Done     int64            `json:"done"`
	OK       int64            `json:"ok"`
	Failed   int64            `json:"failed"`
	Skipped  int64            `json:"skipped"`
	Queued   int64            `json:"queued"`
	Rate     float64          `json:"rate"`
	ETA      string           `json:"eta"`
	InFlight int64            `json:"in_flight"`
	Hosts    map[string]int64 `json:"hosts,omitempty"`
	// Source is where the counts come from: "crawler" (this process's),
	// "snapshot" (the crawl's last snapshot in the database) or
	// "database" (the pages committed so far).
	Source string `json:"source"`
}

// snapshotFresh is how old a crawl's progress snapshot may be and still be
// shown: it writes one every 2 s, so older means it has stalled or died.
const snapshotFresh = 15 * time.Second

// fromStats fills rp from a crawler's stats.
func (rp *RunProgress) fromStats(st *progress.Snapshot, source string) {
	rp.Source = source
	rp.Done, rp.OK, rp.Failed, rp.Skipped = st.Done, st.OK, st.Failed, st.Skipped
	rp.Queued, rp.InFlight, rp.Hosts = st.Queued(), st.InFlight, st.InFlightHosts
	if st.Total < 0 {
		rp.Queued = -1
	}
	if sec := st.Elapsed.Seconds(); sec > 0 {
		rp.Rate = float64(st.Done) / sec
	}
}

// JobNext is a scheduled job's next run.
type JobNext struct {
	Job     string `json:"job"`
	Running bool   `json:"running"`
	Next    string `json:"next"`
}

func (s *server) progress(w http.ResponseWriter, r *http.Request) {
	p, err := s.currentProgress(r.Context())
	if err != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(p)
}

func (s *server) currentProgress(ctx context.Context) (Progress, error) {
	p := Progress{Runs: []RunProgress{}}
	live := map[string]LiveJob{}
	if s.opts.Live != nil {
		for _, j := range s.opts.Live() {
			live[j.Name] = j
			n := JobNext{Job: j.Name, Running: j.Stats != nil}
			if !j.Next.IsZero() {
				n.Next = j.Next.UTC().Format(time.RFC3339)
			}
			p.Jobs = append(p.Jobs, n)
		}
		sort.Slice(p.Jobs, func(a, b int) bool { return p.Jobs[a].Job < p.Jobs[b].Job })
	}
	runs, err := s.opts.Reader.Runs(ctx, runsShown)
	if err != nil {
		return p, err
	}
	for _, x := range runs {
		if x.Status != storage.RunRunning {
			continue
		}
		rp := RunProgress{ID: x.ID, Job: x.Job, Started: x.StartedAt, Queued: -1, InFlight: -1, Source: "database"}
		snap, ok, err := s.snapshot(ctx, x.ID)
		if err != nil {
			return p, err
		}
		if j, live := live[x.Job]; live && j.Stats != nil {
			rp.fromStats(j.Stats, "crawler")
		} else if ok {
			rp.fromStats(snap, "snapshot")
		} else {
			counts, err := s.opts.Reader.RunPages(ctx, x.ID)
			if err != nil {
				return p, err
			}
			rp.OK, rp.Failed, rp.Skipped = counts["ok"], counts["failed"], counts["skipped"]
			rp.Done = rp.OK + rp.Failed + rp.Skipped
			if sec := time.Since(since(x.StartedAt)).Seconds(); sec > 0 {
				rp.Rate = float64(rp.Done) / sec
			}
		}
		if rp.Queued >= 0 && rp.Rate > 0 {
			rp.ETA = time.Duration(float64(rp.Queued) / rp.Rate * float64(time.Second)).Round(time.Second).String()
		}
		p.Runs = append(p.Runs, rp)
	}
	return p, nil
}

// snapshot is run's progress as its crawl last recorded it, if that is
// recent enough to stand for the crawl now.
func (s *server) snapshot(ctx context.Context, run int64) (*progress.Snapshot, bool, error) {
	b, at, ok, err := s.opts.Reader.Progress(ctx, run)
	if err != nil || !ok || time.Since(at) > snapshotFresh {
		return nil, false, err
	}
	var st progress.Snapshot
	if err := json.Unmarshal(b, &st); err != nil {
		s.log.Warn("a run's progress snapshot is unreadable", "run", run, "error", err)
		return nil, false, nil
	}
	if st.Version != progress.Version {
		return nil, false, nil // another gather's format: its next snapshot, or the committed pages, will do
	}
	return &st, true, nil
}
