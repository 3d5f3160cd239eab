package crawler

import (
	"context"
	"regexp"

	"github.com/gather-crawler/gather/storage"
)

// SettleItems is how a change of items touches only the pages the
// changed items apply to. It records the current items' versions, then,
// for every earlier version of the items that stored pages carry, finds
// the items that changed since (added, or with another hash: their
// fields, rules or url pattern) and moves the pages none of them applies
// to — by the url pattern of the item now and then — to the current
// version: their rows are what the current items extract. The pages left
// on the earlier version are those a run re-extracts (or fetches). A
// version stored before gather recorded items' versions is left as it
// is: every page of it is re-extracted. It returns how many pages it
// moved. Call it before a run reads what is due; each move is guarded by
// the version the page was found on, so a page stored meanwhile is left
// to the version it was stored with.
func (c *Crawler) SettleItems(ctx context.Context) (int64, error) {
	job := c.cfg.Crawl.Name
	var now []storage.ItemVersion
	for _, v := range c.cfg.ItemVersions() {
		now = append(now, storage.ItemVersion{Item: v.Name, Hash: v.Hash, URL: v.URL})
	}
	if err := c.store.RecordItemVersions(ctx, job, c.items, now); err != nil {
		return 0, err
	}
	older, err := c.store.OlderItemsHashes(ctx, job, c.items)
	if err != nil {
		return 0, err
	}
	var moved int64
	for _, h := range older {
		then, err := c.store.ItemVersions(ctx, job, h)
		if err != nil {
			return moved, err
		}
		if len(then) == 0 {
			continue // unknown: every page of it is re-extracted
		}
		patterns, all := changedPatterns(then, now)
		if all {
			continue
		}
		if len(patterns) == 0 {
			// Only removed or reordered items: no page's rows change.
			n, err := c.store.MoveItemsVersion(ctx, job, h, c.items, nil)
			moved += n
			if err != nil {
				return moved, err
			}
			continue
		}
		after := ""
		for {
			urls, err := c.store.PagesOfItems(ctx, job, h, after, feedBatch)
			if err != nil {
				return moved, err
			}
			if len(urls) == 0 {
				break
			}
			after = urls[len(urls)-1]
			var untouched []string
			for _, u := range urls {
				if !matchesAny(patterns, u) {
					untouched = append(untouched, u)
				}
			}
			n, err := c.store.MoveItemsVersion(ctx, job, h, c.items, untouched)
			moved += n
			if err != nil {
				return moved, err
			}
		}
	}
	if moved > 0 {
		c.log.Info("pages that no changed item applies to keep their rows: they are not extracted again", "pages", moved)
	}
	return moved, nil
}

// changedPatterns are the url patterns of the items that changed from
// then to now (added, or with another hash), as now and as then; all is
// set when one of them applies to every page (no url pattern) or has a
// pattern that does not compile.
func changedPatterns(then, now []storage.ItemVersion) (patterns []*regexp.Regexp, all bool) {
	before := map[string]storage.ItemVersion{}
	for _, v := range then {
		before[v.Item] = v
	}
	for _, v := range now {
		old, ok := before[v.Item]
		if ok && old.Hash == v.Hash {
			continue
		}
		pats := []string{v.URL}
		if ok && old.URL != v.URL {
			pats = append(pats, old.URL)
		}
		for _, p := range pats {
			if p == "" {
				return nil, true
			}
			re, err := regexp.Compile(p)
			if err != nil {
				return nil, true
			}
			patterns = append(patterns, re)
		}
	}
	return patterns, false
}

func matchesAny(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}
