package scimschema

import (
	"fmt"
	"strings"

	"github.com/scim2/filter-parser/v2"
)

// GroupFilter translates a SCIM filter on Groups: displayName (→ Label), id (→ Id), externalId
// (→ Name, the API name), members[value eq "…"] and members.value eq "…" (→ HasMember),
// meta.created and meta.lastModified, with and, or, not.
func GroupFilter(expr filter.Expression) (Cond, error) {
	c, err := groupTranslate(expr)
	if err != nil {
		return nil, err
	}
	return finish(c), nil
}

// groupTranslate translates a filter on Groups; groupLeaf does its comparisons and value paths.
func groupTranslate(expr filter.Expression) (Cond, error) {
	return foldFilter(expr, groupLeaf)
}

func groupLeaf(expr filter.Expression) (Cond, error) {
	switch e := expr.(type) {
	case *filter.ValuePath:
		name, _, err := groupAttr(e.AttributePath)
		if err != nil {
			return nil, err
		}
		if name != "members" {
			return nil, invalidFilter("%s takes no value filter", name)
		}
		return memberCond("members", e.ValueFilter, func(id string) Cond { return HasMember{UserID: id} })
	case *filter.AttributeExpression:
		return groupAttributeCond(e)
	}
	return nil, invalidFilter("unsupported filter expression")
}

// groupAttributeCond translates `attr op value` on a Group.
func groupAttributeCond(e *filter.AttributeExpression) (Cond, error) {
	name, sub, err := groupAttr(e.AttributePath)
	if err != nil {
		return nil, err
	}
	switch {
	case name == "displayName" && sub == "":
		return compareField(name, "Label", e, false)
	case name == "id" && sub == "":
		return compareID(name, "Id", e)
	case name == "externalId" && sub == "":
		return compareField(name, "Name", e, true)
	case name == "members" && (sub == "" || sub == "value"):
		if e.Operator != filter.EQ {
			return nil, invalidFilter("members can only be filtered by value eq \"…\"")
		}
		id, ok := e.CompareValue.(string)
		if !ok {
			return nil, invalidFilter("members.value needs a string value")
		}
		return HasMember{UserID: id}, nil
	case name == "meta" && sub == "created":
		return compareTime("meta.created", "CreatedDate", e)
	case name == "meta" && sub == "lastModified":
		return compareTime("meta.lastModified", "LastModifiedDate", e)
	}
	label := name
	if sub != "" {
		label += "." + sub
	}
	return nil, invalidFilter("cannot filter on %s", label)
}

// groupAttr resolves a Group attribute path case-insensitively to its schema-cased name.
func groupAttr(p filter.AttributePath) (name, sub string, err error) {
	if u := p.URI(); u != "" && !strings.EqualFold(u, GroupSchemaURN) {
		return "", "", invalidFilter("unknown SCIM attribute %q", p.String())
	}
	for _, known := range []string{"displayName", "id", "externalId", "members", "meta"} {
		if strings.EqualFold(p.AttributeName, known) {
			name = known
		}
	}
	if name == "" {
		return "", "", invalidFilter("unknown SCIM attribute %q", p.String())
	}
	sub = p.SubAttributeName()
	for _, known := range []string{"value", "display", "type", "$ref", "created", "lastModified"} {
		if strings.EqualFold(sub, known) {
			sub = known
		}
	}
	return name, sub, nil
}

// GroupSortField maps a sortBy path on Groups to a PermissionSet field ("" for "").
func GroupSortField(path string) (string, error) {
	path = strings.TrimSpace(path)
	if path == "" {
		return "", nil
	}
	unsortable := Errorf(KindInvalidValue, "cannot sort by %q", path)
	p, err := filter.ParseAttrPath([]byte(path))
	if err != nil {
		return "", unsortable
	}
	name, sub, err := groupAttr(p)
	if err != nil {
		return "", unsortable
	}
	switch fmt.Sprintf("%s.%s", name, sub) {
	case "displayName.":
		return "Label", nil
	case "id.":
		return "Id", nil
	case "externalId.":
		return "Name", nil
	case "meta.created":
		return "CreatedDate", nil
	case "meta.lastModified":
		return "LastModifiedDate", nil
	}
	return "", unsortable
}
