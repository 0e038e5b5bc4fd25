package scimschema

import (
	"slices"
	"strings"
	"sync"
	"time"
)

// Picklists maps a restricted picklist field (TimeZoneSidKey, LocaleSidKey, …) to its active values,
// as read from the org's User describe. A field that is missing is not validated.
type Picklists map[string][]string

// UserDescribe is what the mapping knows of the org's User object, read from its describe by the
// caller (the mapping itself does no I/O).
type UserDescribe struct {
	// Picklists holds the restricted picklists' active values, in describe order.
	Picklists Picklists
	// Lengths holds the maximum length of string-like fields; a field that is missing falls back
	// to the documented length of standard fields (reference §3.3).
	Lengths map[string]int
	// Zones resolves time zone aliases (US/Pacific → America/Los_Angeles); nil resolves none.
	Zones *ZoneMatcher
}

// normalizePicklist finds the org's spelling of an IdP value for a restricted picklist field:
// exactly, then ignoring case, then by the field's rules — BCP 47 / POSIX / Accept-Language forms
// for LanguageLocaleKey and LocaleSidKey, tz database aliases for TimeZoneSidKey. ok is false
// when nothing in the org matches.
func normalizePicklist(field string, values []string, v string, zones *ZoneMatcher) (string, bool) {
	if a, ok := pickValue(values, strings.TrimSpace(v)); ok {
		return a, true
	}
	switch field {
	case "LanguageLocaleKey", "LocaleSidKey":
		return matchLocale(values, v)
	case "TimeZoneSidKey":
		return zones.match(v)
	case "EmailEncodingKey":
		// "utf8", "UTF8", "iso-8859-1": compare without punctuation.
		want := asciiAlnum(v)
		for _, a := range values {
			if asciiAlnum(a) == want {
				return a, true
			}
		}
	}
	return "", false
}

// pickValue finds v among a picklist's values: exactly, then ignoring case, then with "-" read as
// "_". The picklist's own spelling is returned.
func pickValue(values []string, v string) (string, bool) {
	for _, a := range values {
		if a == v {
			return a, true
		}
	}
	alt := strings.ReplaceAll(v, "-", "_")
	for _, a := range values {
		if strings.EqualFold(a, v) || strings.EqualFold(a, alt) {
			return a, true
		}
	}
	return "", false
}

// likelyRegion is the region a language alone most likely means (CLDR's likely subtags), for
// orgs whose picklist has only region forms of that language ("fr" → fr_FR, "pt" → pt_BR).
var likelyRegion = map[string]string{
	"ar": "AE", "cs": "CZ", "da": "DK", "de": "DE", "el": "GR", "en": "US", "es": "ES", "fi": "FI",
	"fr": "FR", "he": "IL", "hi": "IN", "hu": "HU", "id": "ID", "it": "IT", "ja": "JP", "ko": "KR",
	"ms": "MY", "nl": "NL", "no": "NO", "pl": "PL", "pt": "BR", "ro": "RO", "ru": "RU", "sk": "SK",
	"sv": "SE", "th": "TH", "tr": "TR", "uk": "UA", "vi": "VN", "zh": "CN",
}

// languageAlias maps deprecated or macro-language codes to current ones; legacyLanguage maps
// current codes to the old ones Salesforce still uses as keys (Hebrew "iw", Indonesian "in").
var (
	languageAlias  = map[string]string{"iw": "he", "in": "id", "nb": "no", "nn": "no", "ji": "yi"}
	legacyLanguage = map[string]string{"he": "iw", "id": "in", "yi": "ji"}
)

// matchLocale matches a language tag against Salesforce locale keys (language or language_REGION).
// It reads BCP 47 ("de-DE", "zh-Hant-TW"), POSIX ("de_DE.UTF-8@euro") and the first range of an
// Accept-Language list ("en-US,en;q=0.9"). It tries language_REGION, then the script's region
// (zh-Hans → zh_CN, zh-Hant → zh_TW), then the language alone, then the language's likely region,
// then the first value of that language in describe order.
func matchLocale(values []string, v string) (string, bool) {
	lang, script, region := parseLanguageTag(v)
	if lang == "" {
		return "", false
	}
	langs := []string{lang}
	if old, ok := legacyLanguage[lang]; ok {
		langs = append(langs, old)
	}
	var candidates []string
	for _, l := range langs {
		if region != "" {
			candidates = append(candidates, l+"_"+region)
		}
	}
	if lang == "zh" {
		switch script {
		case "hans":
			candidates = append(candidates, "zh_CN", "zh_SG")
		case "hant":
			candidates = append(candidates, "zh_TW", "zh_HK")
		}
	}
	candidates = append(candidates, langs...)
	for _, l := range langs {
		if r, ok := likelyRegion[lang]; ok && script == "" {
			candidates = append(candidates, l+"_"+r)
		}
	}
	for _, c := range candidates {
		for _, a := range values {
			if strings.EqualFold(a, c) {
				return a, true
			}
		}
	}
	if script != "" && lang == "zh" {
		return "", false // never Traditional for Simplified or the other way round
	}
	for _, a := range values {
		if l, _, _ := strings.Cut(a, "_"); slices.ContainsFunc(langs, func(x string) bool { return strings.EqualFold(l, x) }) {
			return a, true
		}
	}
	return "", false
}

// parseLanguageTag reads the language (lower case), script (lower case, "" when absent) and
// region (upper case, "" when absent) of a BCP 47, POSIX or Accept-Language value.
func parseLanguageTag(v string) (lang, script, region string) {
	v = strings.TrimSpace(v)
	if first, _, ok := strings.Cut(v, ","); ok {
		v = first // the first range of an Accept-Language list
	}
	v, _, _ = strings.Cut(v, ";") // its quality
	v, _, _ = strings.Cut(v, ".") // POSIX codeset
	v, _, _ = strings.Cut(v, "@") // POSIX modifier
	parts := strings.FieldsFunc(strings.TrimSpace(v), func(r rune) bool { return r == '-' || r == '_' })
	if len(parts) == 0 || !isLetters(parts[0]) || len(parts[0]) < 2 || len(parts[0]) > 3 {
		return "", "", ""
	}
	lang = strings.ToLower(parts[0])
	if a, ok := languageAlias[lang]; ok {
		lang = a
	}
	for _, p := range parts[1:] {
		switch {
		case len(p) == 4 && isLetters(p) && script == "" && region == "":
			script = strings.ToLower(p)
		case (len(p) == 2 && isLetters(p) || len(p) == 3 && isDigits(p)) && region == "":
			region = strings.ToUpper(p)
		}
	}
	return lang, script, region
}

func isLetters(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return s != ""
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// ZoneMatcher finds the org's time zone key for a tz database name the org does not list: a link
// such as US/Pacific (→ America/Los_Angeles) or UTC (→ GMT). Two names match when the tz database
// gives them the same UTC offsets with the same transitions from 1900 to 2040, so a link matches
// its target and nothing else (Vancouver and Los Angeles differ in their history). It is safe for
// concurrent use; the org's zones are loaded once, on the first miss.
type ZoneMatcher struct {
	values []string
	load   func(name string) (*time.Location, error)

	once   sync.Once
	prints map[string]string // fingerprint → the first org value with it, in describe order
}

// NewZoneMatcher returns a matcher of values (the org's TimeZoneSidKey picklist) that reads zones
// with load (time.LoadLocation).
func NewZoneMatcher(values []string, load func(name string) (*time.Location, error)) *ZoneMatcher {
	return &ZoneMatcher{values: slices.Clone(values), load: load}
}

func (z *ZoneMatcher) match(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if z == nil || z.load == nil || v == "" || strings.Contains(v, "..") {
		return "", false
	}
	z.once.Do(func() {
		z.prints = map[string]string{}
		for _, name := range z.values {
			if loc, err := z.load(name); err == nil {
				if fp := zoneFingerprint(loc); z.prints[fp] == "" {
					z.prints[fp] = name
				}
			}
		}
	})
	loc, err := z.load(v)
	if err != nil {
		return "", false
	}
	name, ok := z.prints[zoneFingerprint(loc)]
	return name, ok
}

// zoneFingerprint renders a zone's offsets and transition instants from 1900 to 2040.
// Abbreviation-only changes are not transitions (UTC and GMT are the same zone).
func zoneFingerprint(loc *time.Location) string {
	var b strings.Builder
	t := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC).In(loc)
	end := time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
	last := -1 << 31
	for i := 0; i < 2000 && t.Before(end); i++ {
		_, off := t.Zone()
		if off != last {
			b.WriteString(t.UTC().Format("2006-01-02T15:04 "))
			b.WriteString(time.Duration(off * int(time.Second)).String())
			b.WriteByte(';')
			last = off
		}
		_, next := t.ZoneBounds()
		if next.IsZero() || !next.After(t) {
			break
		}
		t = next
	}
	return b.String()
}
