package scimschema

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Ref is a reference to another resource: its id and display name.
type Ref struct{ ID, Display string }

// UserRecord is a Salesforce User as read.
type UserRecord struct {
	// Fields is the row by canonical field name, values as decoded from JSON (string, bool,
	// float64, nil); datetimes are Salesforce strings ("2006-01-02T15:04:05.000+0000").
	Fields      map[string]any
	Frozen      bool
	ProfileName string
	// Groups are the exposed permission sets (or groups) assigned to the user.
	Groups []Ref
	// GroupsRead is false when assignments were not read (projection): groups and permissionSets
	// are then omitted.
	GroupsRead bool
}

// ToResource maps a User to a SCIM resource: every mapped field back to its attributes (emails as
// [{value, type "work", primary true}], typed phoneNumbers and addresses, …), active = IsActive ∧
// ¬frozen, the Salesforce extension's profile, userType, frozen and permissionSets, and groups.
// Empty values are omitted, never emitted as null.
func (m *UserMapper) ToResource(u UserRecord) Resource {
	f := u.Fields
	res := Resource{
		ID:           fieldString(f["Id"]),
		Attributes:   map[string]any{},
		Created:      parseSalesforceTime(fieldString(f["CreatedDate"])),
		LastModified: parseSalesforceTime(fieldString(f["LastModifiedDate"])),
		Version:      VersionOf(fieldString(f["SystemModstamp"]), f, u.Frozen),
	}
	attrs := res.Attributes
	if un := fieldString(f["Username"]); un != "" {
		attrs["userName"] = m.UsernameToSCIM(un)
	}
	for _, s := range m.slots {
		v := fieldString(f[s.field])
		if v == "" || s.field == "Username" {
			continue
		}
		if s.urn == "" && s.attr == "externalId" {
			res.ExternalID = v
			continue
		}
		put(attrs, s, v)
	}
	if m.slot("", "displayName", "", "") == nil {
		// displayName is not stored: it reads as Salesforce's Name (FirstName LastName).
		if name := fieldString(f["Name"]); name != "" {
			attrs["displayName"] = name
		} else if name := strings.TrimSpace(fieldString(f["FirstName"]) + " " + fieldString(f["LastName"])); name != "" {
			attrs["displayName"] = name
		}
	}
	active, _ := f["IsActive"].(bool)
	attrs["active"] = active && !u.Frozen

	sf := extension(attrs, SalesforceUserURN)
	if u.ProfileName != "" {
		sf["profile"] = u.ProfileName
	} else if id := fieldString(f["ProfileId"]); id != "" {
		sf["profile"] = id
	}
	if t := fieldString(f["UserType"]); t != "" {
		sf["userType"] = t
	}
	sf["frozen"] = u.Frozen
	if u.GroupsRead && len(u.Groups) > 0 {
		groups := make([]any, 0, len(u.Groups))
		sets := make([]any, 0, len(u.Groups))
		for _, g := range u.Groups {
			el := map[string]any{"value": g.ID, "type": "direct"}
			ps := map[string]any{"value": g.ID}
			if g.Display != "" {
				el["display"] = g.Display
				ps["display"] = g.Display
			}
			groups = append(groups, el)
			sets = append(sets, ps)
		}
		attrs["groups"] = groups
		sf["permissionSets"] = sets
	}
	return res
}

// extension returns the container of an extension's attributes, creating it.
func extension(attrs map[string]any, urn string) map[string]any {
	if m, ok := attrs[urn].(map[string]any); ok {
		return m
	}
	m := map[string]any{}
	attrs[urn] = m
	return m
}

// put stores a slot's value in a resource being built.
func put(attrs map[string]any, s *slot, v string) {
	target := attrs
	if s.urn != "" {
		target = extension(attrs, s.urn)
	}
	switch {
	case s.typ != "":
		list, _ := target[s.attr].([]any)
		var el map[string]any
		for _, e := range list {
			if em := e.(map[string]any); em["type"] == s.typ {
				el = em
			}
		}
		if el == nil {
			el = map[string]any{"type": s.typ}
			if s.isPrimaryEmail() {
				el["primary"] = true
			}
			list = append(list, el)
			target[s.attr] = list
		}
		el[s.sub] = v
	case s.sub != "":
		obj, _ := target[s.attr].(map[string]any)
		if obj == nil {
			obj = map[string]any{}
			target[s.attr] = obj
		}
		obj[s.sub] = v
	default:
		target[s.attr] = v
	}
}

// fieldString renders a field value as a SCIM string ("" for null).
func fieldString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case json.Number:
		return v.String()
	default:
		return fmt.Sprint(v)
	}
}

// parseSalesforceTime parses a Salesforce datetime ("2021-11-06T17:38:40.000+0000") or RFC 3339;
// the zero time when s is empty or malformed.
func parseSalesforceTime(s string) time.Time {
	for _, layout := range []string{"2006-01-02T15:04:05.999999999Z0700", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// VersionOf returns the weak entity tag of a record as read: a hash of its modification stamp
// (SystemModstamp, or LastModifiedDate) and of the content that SCIM shows. Salesforce's stamps have
// whole-second resolution, so a stamp alone would give two changes within one second the same
// version and let If-Match miss the second; the content catches those. "" when stamp is "".
// Values that are maps or lists (child subqueries, parent objects, "attributes") do not count:
// they depend on what a read selected, not on the record.
func VersionOf(stamp string, fields map[string]any, extra ...any) string {
	if stamp == "" {
		return ""
	}
	// The hashed content is written directly (no JSON encoding of the record): keys in sorted
	// order, every value tagged with its type, strings prefixed with their length, so equal content
	// hashes equally and different content differently.
	keys := make([]string, 0, len(fields))
	for k, v := range fields {
		switch v.(type) {
		case map[string]any, []any:
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	buf := make([]byte, 0, 64+32*len(keys))
	buf = appendVersionValue(buf, stamp)
	for _, k := range keys {
		buf = appendVersionValue(buf, k)
		buf = appendVersionValue(buf, fields[k])
	}
	for _, x := range extra {
		buf = appendVersionValue(buf, x)
	}
	sum := sha256.Sum256(buf)
	return `W/"` + hex.EncodeToString(sum[:12]) + `"`
}

// appendVersionValue appends one scalar with its type tag, its length and a terminating zero byte.
// Numbers read from JSON (float64, json.Number) and Go ints of the same value write alike.
func appendVersionValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		b = append(b, 'n')
	case string:
		b = append(b, 's')
		b = strconv.AppendInt(b, int64(len(x)), 10)
		b = append(append(b, ':'), x...)
	case bool:
		b = append(b, 'b')
		b = strconv.AppendBool(b, x)
	case float64:
		b = append(b, 'd')
		b = strconv.AppendFloat(b, x, 'g', -1, 64)
	case int:
		b = append(b, 'd')
		b = strconv.AppendInt(b, int64(x), 10)
	case json.Number:
		b = append(b, 'd')
		if f, err := x.Float64(); err == nil {
			b = strconv.AppendFloat(b, f, 'g', -1, 64)
		} else {
			b = append(b, x...)
		}
	default:
		text := fmt.Sprintf("%T:%v", x, x)
		b = append(b, 'x')
		b = strconv.AppendInt(b, int64(len(text)), 10)
		b = append(append(b, ':'), text...)
	}
	return append(b, 0)
}
