package storage_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gather-crawler/gather/storage"
)

// A page's history keeps its failures and its moves between statuses,
// not the ok fetches that follow ok ones.
func TestWriter_PageOutcomes(t *testing.T) {
	path := t.TempDir() + "/out.db"
	s := open(t, path, castTable)
	const u = "https://example.com/title/tt1/"
	at := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	for run, p := range []storage.Page{
		{URL: u, Status: storage.PageFailed, HTTPStatus: 404, Attempts: 1, Error: "HTTP 404 Not Found"},
		{URL: u, Status: storage.PageFailed, HTTPStatus: 503, Attempts: 4, Error: "HTTP 503 Service Unavailable"},
		okPage(u, row("tt1", "nm1", 1)),
		okPage(u, row("tt1", "nm1", 1)),
		{URL: u, Status: storage.PageSkipped, Error: "robots.txt disallows it"},
		{URL: u, Status: storage.PageSkipped, Error: "robots.txt disallows it"},
	} {
		w := writer(t, s, int64(run+1))
		p.FetchedAt = at.Add(time.Duration(run) * time.Hour)
		must(t, w.Pending(context.Background(), u, 0))
		must(t, w.Put(context.Background(), p))
		must(t, w.Close())
	}
	r, err := storage.OpenReader(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := r.PageOutcomes(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, o := range got {
		lines = append(lines, strings.TrimSpace(strings.Join([]string{o.FetchedAt, o.Status, o.Error}, " ")))
	}
	want := []string{
		"2026-12-01T07:00:00.000Z skipped robots.txt disallows it",
		"2026-12-01T05:00:00.000Z ok",
		"2026-12-01T04:00:00.000Z failed HTTP 503 Service Unavailable",
		"2026-12-01T03:00:00.000Z failed HTTP 404 Not Found",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("history:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if got[2].Run.Int64 != 2 || got[2].Attempts != 4 || got[2].HTTPStatus.Int64 != 503 {
		t.Errorf("the second failure: %+v", got[2])
	}
}
