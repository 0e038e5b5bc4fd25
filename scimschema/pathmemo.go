package scimschema

import (
	"sync"

	filter "github.com/scim2/filter-parser/v2"
)

// pathMemoSize bounds a pathMemo: IdPs send the same few attribute names again and again, so a
// full memo only means an unusual client; its new paths are then parsed and not kept.
const pathMemoSize = 256

// pathMemo remembers the attribute paths the mapper parses itself (the keys of a PATCH operation
// without path, sortBy): each is parsed once per process. The SCIM library parses filters and
// PATCH paths on its own and is not covered. Parsed paths are shared and must not be modified;
// failures are not kept.
type pathMemo struct {
	mu    sync.RWMutex
	paths map[string]filter.Path
	attrs map[string]filter.AttributePath
}

func newPathMemo() *pathMemo {
	return &pathMemo{paths: map[string]filter.Path{}, attrs: map[string]filter.AttributePath{}}
}

// path is filter.ParsePath(raw), memoised.
func (pm *pathMemo) path(raw string) (filter.Path, error) {
	return memoised(pm, &pm.paths, raw, filter.ParsePath)
}

// attrPath is filter.ParseAttrPath(raw), memoised.
func (pm *pathMemo) attrPath(raw string) (filter.AttributePath, error) {
	return memoised(pm, &pm.attrs, raw, filter.ParseAttrPath)
}

func memoised[T any](pm *pathMemo, m *map[string]T, raw string, parse func([]byte) (T, error)) (T, error) {
	if pm == nil {
		return parse([]byte(raw))
	}
	pm.mu.RLock()
	v, ok := (*m)[raw]
	pm.mu.RUnlock()
	if ok {
		return v, nil
	}
	v, err := parse([]byte(raw))
	if err != nil {
		return v, err
	}
	pm.mu.Lock()
	if len(*m) < pathMemoSize {
		(*m)[raw] = v
	}
	pm.mu.Unlock()
	return v, nil
}
