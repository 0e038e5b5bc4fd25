package salesforce

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/scimschema"
)

// A group's names, on create and on rename: its displayName is the permission set's Label (the
// permission set group's MasterLabel), from which a new permission set's API Name derives.

const maxLabel = 80 // PermissionSet.Label and Name

// apiName derives a PermissionSet API name from a label: ASCII letters, digits and single
// underscores, starting with a letter, no trailing underscore, at most 80 characters, made
// unique with _2, _3, … against taken.
func apiName(label string, taken func(string) bool) string {
	var sb strings.Builder
	under := true // suppress leading and double underscores
	for _, r := range label {
		if r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			sb.WriteRune(r)
			under = false
		} else if !under {
			sb.WriteByte('_')
			under = true
		}
	}
	name := strings.TrimRight(sb.String(), "_")
	switch {
	case name == "":
		name = "Group"
	case name[0] >= '0' && name[0] <= '9':
		name = "G_" + name
	}
	fit := func(base, suffix string) string {
		if len(base)+len(suffix) > maxLabel {
			base = strings.TrimRight(base[:maxLabel-len(suffix)], "_")
		}
		return base + suffix
	}
	base := fit(name, "")
	out := base
	for i := 2; taken(out); i++ {
		out = fit(base, "_"+strconv.Itoa(i))
	}
	return out
}

func validLabel(label string) error {
	if strings.TrimSpace(label) == "" {
		return invalid("displayName: required", nil)
	}
	if utf8.RuneCountInString(label) > maxLabel {
		return invalid(fmt.Sprintf("displayName: at most %d characters (Salesforce permission set label)", maxLabel), nil)
	}
	// A group name is matched by the IdP (Entra: displayName eq): a control or invisible
	// character is a broken export, refused like in a user's displayName.
	return scimschema.CheckText("displayName", label)
}

// labelTaken reports whether another exposed group has this displayName (Entra requires unique
// displayNames; Salesforce does not enforce unique labels).
func labelTaken(cat *catalog, label, except string) bool {
	for _, g := range cat.exposed {
		if strings.EqualFold(g.Label, label) && !rest.SameID(g.ID, except) {
			return true
		}
	}
	return false
}

// labelFree checks that no other exposed group has this displayName (Entra requires unique
// displayNames; Salesforce does not enforce unique labels). It uses the cached catalog: a group
// created through another replica and missing from it is caught by Salesforce's own duplicate API
// name error on create (the API name derives from the label); a cached group that has this label
// is re-checked on a reloaded catalog, as it may have been renamed or deleted meanwhile.
func (o *operation) labelFree(label, except string) (*catalog, error) {
	cat, free, err := o.find(func(c *catalog) bool { return !labelTaken(c, label, except) })
	if err != nil {
		return nil, err
	}
	if !free {
		return nil, &scimschema.Error{Kind: scimschema.KindUniqueness, Detail: "displayName: another group already has this name"}
	}
	return cat, nil
}

// relabel is the group's new label when displayName changes it, nil when it does not; the new
// label must be valid and free.
func (o *operation) relabel(g group, displayName *string) (*string, error) {
	if displayName == nil || *displayName == g.Label {
		return nil, nil
	}
	if err := validLabel(*displayName); err != nil {
		return nil, err
	}
	if _, err := o.labelFree(*displayName, g.ID); err != nil {
		return nil, err
	}
	return displayName, nil
}

// relabelSubrequests rename g in a group write's first composite (groupWrite): the label PATCH
// goes first (lbl), the group's read-back after the assignment writes (rec).
func relabelSubrequests(g group, label string) (lead, tail []rest.Subrequest, err error) {
	field := "Label"
	if g.IsPSG {
		field = "MasterLabel"
	}
	rq, err := groupRecordQuery(g.ID, g.IsPSG).String()
	if err != nil {
		return nil, nil, err
	}
	lead = []rest.Subrequest{{Method: "PATCH", Path: "sobjects/" + g.object() + "/" + g.ID, ReferenceID: "lbl", Body: map[string]any{field: label}}}
	tail = []rest.Subrequest{{Method: "GET", Path: rest.QueryPath(rq), ReferenceID: "rec"}}
	return lead, tail, nil
}

// labelResult reads the outcome of a label PATCH and the read-back after it into *g.
func (o *operation) labelResult(g *group, lbl, rec rest.SubResponse) error {
	b := o.b
	if lbl.Status >= 400 {
		e := lbl.Err
		if e == nil {
			e = &rest.Error{Status: lbl.Status, Code: "UNKNOWN", Kind: rest.KindOther}
		}
		switch rest.KindOf(e) {
		case rest.KindNotFound:
			b.removeGroup(g.ID)
			return notFound("group")
		case rest.KindInvalid:
			return invalid("displayName: Salesforce refused the permission set (check the name against Salesforce's rules for permission set labels)", e)
		}
		return b.fail(o.ctx, e)
	}
	if q, err := decodeQuery(rec); err == nil && len(q.Records) > 0 {
		*g = groupFromRecord(q.Records[0], g.IsPSG)
	}
	b.removeGroup(g.ID)
	b.addGroup(*g)
	return nil
}
