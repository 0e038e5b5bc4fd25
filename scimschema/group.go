package scimschema

import (
	"sort"
	"strings"

	"github.com/scim2/filter-parser/v2"
)

// GroupWrite is what one SCIM write asks of a group (a PermissionSet or PermissionSetGroup).
type GroupWrite struct {
	DisplayName *string // → Label; nil = not mentioned
	Members     *MemberChange
	Attributes  []string // SCIM attributes written, sorted, for the audit line
}

// GroupRecord is a permission set (or permission set group) as read.
type GroupRecord struct {
	ID, Name, Label, Description string
	Created, LastModified        string // Salesforce datetime strings
	Members                      []Ref  // only when MembersRead
	MembersRead                  bool
}

// GroupForCreate maps a POST /Groups body. Members, when given, are the complete initial set.
// externalId is not writable: a group's externalId is its Salesforce API name.
func GroupForCreate(attrs map[string]any) (GroupWrite, error) {
	w, err := groupResource(attrs)
	if err != nil {
		return GroupWrite{}, err
	}
	if _, ok := get(attrs, "members"); !ok {
		w.Members = nil
	}
	w.Attributes = groupAttributes(w)
	return w, nil
}

// GroupForReplace maps a PUT /Groups body: Members.Replace is true with the full list; members
// absent or [] means no members (provisioning.permission_sets decides whether others are removed).
func GroupForReplace(attrs map[string]any) (GroupWrite, error) {
	w, err := groupResource(attrs)
	if err != nil {
		return GroupWrite{}, err
	}
	w.Attributes = groupAttributes(w)
	return w, nil
}

func groupResource(attrs map[string]any) (GroupWrite, error) {
	var w GroupWrite
	v, _ := get(attrs, "displayName")
	name, err := toString(v)
	if err != nil || strings.TrimSpace(name) == "" {
		return GroupWrite{}, Errorf(KindInvalidValue, "displayName is required")
	}
	w.DisplayName = &name
	mv, _ := get(attrs, "members")
	ids, err := memberValues(mv)
	if err != nil {
		return GroupWrite{}, Errorf(KindInvalidValue, "members must be a list of {\"value\": user id}")
	}
	w.Members = &MemberChange{}
	w.Members.replace(ids)
	return w, nil
}

func groupAttributes(w GroupWrite) []string {
	var out []string
	if w.DisplayName != nil {
		out = append(out, "displayName")
	}
	if w.Members != nil {
		out = append(out, "members")
	}
	sort.Strings(out)
	return out
}

// GroupForPatch maps PATCH operations on a group, in every form IdPs send: add members
// [{value}] (with or without "$ref": null), remove members with a value list (Entra), remove
// members[value eq "x"] without value (Okta, Entra with the 2020 flag), remove members without
// value (all), replace members (the full set; [] empties the group), replace displayName, and
// path-less add/replace of {"displayName": …} or {"members": […]}. Op case is ignored.
func GroupForPatch(ops []PatchOp) (GroupWrite, error) {
	var w GroupWrite
	for _, op := range ops {
		name := strings.ToLower(strings.TrimSpace(op.Op))
		switch name {
		case "add", "replace", "remove":
		default:
			return GroupWrite{}, Errorf(KindInvalidSyntax, "PATCH op must be add, remove or replace")
		}
		if op.Path == nil {
			if name == "remove" {
				return GroupWrite{}, Errorf(KindNoTarget, "a remove operation needs a path")
			}
			obj, ok := toMap(op.Value)
			if !ok {
				return GroupWrite{}, Errorf(KindInvalidValue, "a PATCH operation without path needs an object value")
			}
			keys := make([]string, 0, len(obj))
			for k := range obj {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if strings.EqualFold(k, "id") || strings.EqualFold(k, "schemas") || strings.EqualFold(k, "meta") {
					continue // Okta repeats the resource id in values
				}
				p, err := filter.ParsePath([]byte(k))
				if err != nil {
					return GroupWrite{}, Errorf(KindInvalidPath, "%q is not an attribute path", k)
				}
				if err := groupPatch(&w, name, p, obj[k]); err != nil {
					return GroupWrite{}, err
				}
			}
			continue
		}
		if err := groupPatch(&w, name, *op.Path, op.Value); err != nil {
			return GroupWrite{}, err
		}
	}
	w.Attributes = groupAttributes(w)
	return w, nil
}

func groupPatch(w *GroupWrite, op string, p filter.Path, value any) error {
	name, sub, err := groupAttr(p.AttributePath)
	if err != nil {
		return &Error{Kind: KindInvalidPath, Detail: AsError(err).Detail}
	}
	if p.SubAttribute != nil {
		sub = *p.SubAttribute
	}
	switch name {
	case "displayName":
		if op == "remove" {
			return Errorf(KindInvalidValue, "displayName cannot be removed")
		}
		s, err := toString(value)
		if err != nil || strings.TrimSpace(s) == "" {
			return Errorf(KindInvalidValue, "displayName must be a non-empty string")
		}
		w.DisplayName = &s
		return nil
	case "members":
		if sub != "" && !strings.EqualFold(sub, "value") {
			return Errorf(KindInvalidPath, "members.%s cannot be changed", sub)
		}
		if w.Members == nil {
			w.Members = &MemberChange{}
		}
		ids, err := memberValues(value)
		if err != nil {
			return Errorf(KindInvalidValue, "members must be a list of {\"value\": user id}")
		}
		if p.ValueExpression != nil {
			fids, ok := idsOfFilter(p.ValueExpression)
			if !ok {
				return Errorf(KindInvalidPath, "members: only [value eq \"…\"] filters are supported")
			}
			if op != "remove" {
				return Errorf(KindInvalidPath, "members[…] can only be removed")
			}
			ids = append(ids, fids...)
		}
		switch op {
		case "add":
			w.Members.add(ids)
		case "replace":
			w.Members.replace(ids)
		case "remove":
			if len(ids) == 0 && p.ValueExpression == nil {
				w.Members.replace(nil)
			} else {
				w.Members.remove(ids)
			}
		}
		return nil
	case "id", "meta":
		return Errorf(KindMutability, "%s is read-only", name)
	case "externalId":
		return Errorf(KindMutability, "externalId of a group is its Salesforce API name and cannot be changed")
	}
	return Errorf(KindInvalidPath, "unknown SCIM attribute %q", name)
}

// GroupToResource maps a permission set to a SCIM Group: displayName = Label, externalId = the API
// name (Name) — the same attribute GroupFilter maps to Name — and, when read, members as [{value,
// display, type "User"}] ($ref is left to the server, which knows the base URL). The version comes
// from LastModifiedDate and the group's own fields; assignment changes do not move it.
func GroupToResource(g GroupRecord) Resource {
	res := Resource{
		ID:           g.ID,
		ExternalID:   g.Name,
		Attributes:   map[string]any{},
		Created:      parseSalesforceTime(g.Created),
		LastModified: parseSalesforceTime(g.LastModified),
		Version:      VersionOf(g.LastModified, map[string]any{"Name": g.Name, "Label": g.Label, "Description": g.Description}),
	}
	if g.Label != "" {
		res.Attributes["displayName"] = g.Label
	}
	if g.MembersRead && len(g.Members) > 0 {
		members := make([]any, 0, len(g.Members))
		for _, mb := range g.Members {
			el := map[string]any{"value": mb.ID, "type": "User"}
			if mb.Display != "" {
				el["display"] = mb.Display
			}
			members = append(members, el)
		}
		res.Attributes["members"] = members
	}
	return res
}
