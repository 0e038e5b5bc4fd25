package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
)

// Typed decoding of the user read path (GET /Users/{id}, userName/externalId lookups): the
// composite answer of a user query and its UserLogin query is decoded in one pass into userRow
// and assignmentRow values instead of generic maps decoded twice (issue 13, CPU per request).
// Any other answer (a failed subrequest, an unexpected shape) falls back to Composite's generic
// decoding, so errors are translated exactly as before.

// userRow is one User query row: its scalar fields by name (values as encoding/json decodes them
// into any: string, bool, float64, nil), without "attributes", and its assignment subquery.
type userRow struct {
	fields      map[string]any
	assignments *assignmentChild // nil when the row has no assignments or they were not selected
}

// assignmentChild is the PermissionSetAssignments child result of a user row.
type assignmentChild struct {
	Done           bool
	Records        []assignmentRow
	NextRecordsURL string
}

// assignmentRow is one row of userAssignmentSelect.
type assignmentRow struct {
	ID                   string
	PermissionSetID      string
	PermissionSetGroupID string
	PermissionSet        *permissionSetRef
	PermissionSetGroup   *permissionSetGroupRef
}

// permissionSetRef is the PermissionSet of an assignment row.
type permissionSetRef struct {
	Name                 string
	Label                string
	IsOwnedByProfile     bool
	PermissionSetGroupID string
}

// permissionSetGroupRef is the PermissionSetGroup of an assignment row.
type permissionSetGroupRef struct {
	DeveloperName string
	MasterLabel   string
}

// rowOf is the userRow of a generically decoded record (list pages, queryMore batches, write
// paths).
func rowOf(rec map[string]any) userRow {
	fields := make(map[string]any, len(rec))
	for k, v := range rec {
		if k != "attributes" && k != "PermissionSetAssignments" {
			fields[k] = v
		}
	}
	row := userRow{fields: fields}
	if child := childResult(rec["PermissionSetAssignments"]); child != nil {
		row.assignments = &assignmentChild{Done: child.Done, NextRecordsURL: child.NextRecordsURL}
		for _, r := range child.Records {
			row.assignments.Records = append(row.assignments.Records, assignmentOf(r))
		}
	}
	return row
}

// assignmentOf is the assignmentRow of a generically decoded record.
func assignmentOf(r map[string]any) assignmentRow {
	a := assignmentRow{ID: str(r["Id"]), PermissionSetID: str(r["PermissionSetId"]), PermissionSetGroupID: str(r["PermissionSetGroupId"])}
	if p, ok := r["PermissionSet"].(map[string]any); ok {
		a.PermissionSet = &permissionSetRef{Name: str(p["Name"]), Label: str(p["Label"]), IsOwnedByProfile: p["IsOwnedByProfile"] == true,
			PermissionSetGroupID: str(p["PermissionSetGroupId"])}
	}
	if p, ok := r["PermissionSetGroup"].(map[string]any); ok {
		a.PermissionSetGroup = &permissionSetGroupRef{DeveloperName: str(p["DeveloperName"]), MasterLabel: str(p["MasterLabel"])}
	}
	return a
}

// walkAssignments is walkChild for a user row's typed assignments: rows past the child's first
// batch are read with rest, skipping the ones fn already had.
func (b *Backend) walkAssignments(ctx context.Context, c *assignmentChild, rest *Query, fn func(assignmentRow)) error {
	if c == nil {
		return nil
	}
	seen := make(map[string]bool, len(c.Records))
	for _, r := range c.Records {
		fn(r)
		seen[r.ID] = true
	}
	if c.Done || c.NextRecordsURL == "" {
		return nil
	}
	soql, err := rest.String()
	if err != nil {
		return err
	}
	_, err = b.c.QueryEach(ctx, soql, 0, func(r Record) error {
		if !seen[str(r["Id"])] {
			fn(assignmentOf(r))
		}
		return nil
	})
	return err
}

var errMalformedRow = errors.New("malformed User row")

// UnmarshalJSON decodes a User row in one scan: scalar fields directly, "attributes" skipped,
// the assignment subquery into types; any other nested value (a relationship field) generically.
// d must be valid JSON (encoding/json checks it before calling an Unmarshaler; decodeUserRead
// checks the whole answer first).
func (r *userRow) UnmarshalJSON(d []byte) error {
	return r.decode(string(d))
}

// decode is UnmarshalJSON on a string: the row's keys and strings without escapes are
// substrings of d (no copies).
func (r *userRow) decode(d string) error {
	r.fields = make(map[string]any, 40)
	return eachField(d, func(key, raw string) error {
		switch key {
		case "attributes":
		case "PermissionSetAssignments":
			if raw != "null" {
				r.assignments = new(assignmentChild)
				return r.assignments.decode(raw)
			}
		default:
			v, err := jsonScalar(raw)
			if err != nil {
				return err
			}
			r.fields[key] = v
		}
		return nil
	})
}

// decode reads a PermissionSetAssignments child result (the fields of userAssignmentSelect).
func (c *assignmentChild) decode(d string) error {
	return eachField(d, func(key, raw string) (err error) {
		switch key {
		case "done":
			c.Done = raw == "true"
		case "nextRecordsUrl":
			c.NextRecordsURL, err = jsonString(raw)
		case "records":
			err = eachElement(raw, func(raw string) error {
				var a assignmentRow
				if err := a.decode(raw); err != nil {
					return err
				}
				c.Records = append(c.Records, a)
				return nil
			})
		}
		return err
	})
}

func (a *assignmentRow) decode(d string) error {
	return eachField(d, func(key, raw string) (err error) {
		switch key {
		case "Id":
			a.ID, err = jsonString(raw)
		case "PermissionSetId":
			a.PermissionSetID, err = jsonString(raw)
		case "PermissionSetGroupId":
			a.PermissionSetGroupID, err = jsonString(raw)
		case "PermissionSet":
			if raw != "null" {
				a.PermissionSet = &permissionSetRef{}
				err = a.PermissionSet.decode(raw)
			}
		case "PermissionSetGroup":
			if raw != "null" {
				a.PermissionSetGroup = &permissionSetGroupRef{}
				err = a.PermissionSetGroup.decode(raw)
			}
		}
		return err
	})
}

func (p *permissionSetRef) decode(d string) error {
	return eachField(d, func(key, raw string) (err error) {
		switch key {
		case "Name":
			p.Name, err = jsonString(raw)
		case "Label":
			p.Label, err = jsonString(raw)
		case "IsOwnedByProfile":
			p.IsOwnedByProfile = raw == "true"
		case "PermissionSetGroupId":
			p.PermissionSetGroupID, err = jsonString(raw)
		}
		return err
	})
}

func (p *permissionSetGroupRef) decode(d string) error {
	return eachField(d, func(key, raw string) (err error) {
		switch key {
		case "DeveloperName":
			p.DeveloperName, err = jsonString(raw)
		case "MasterLabel":
			p.MasterLabel, err = jsonString(raw)
		}
		return err
	})
}

// eachField hands fn each member of the JSON object d with its raw value.
func eachField(d string, fn func(key, raw string) error) error {
	i := skipSpace(d, 0)
	if i >= len(d) || d[i] != '{' {
		return errMalformedRow
	}
	if i = skipSpace(d, i+1); i < len(d) && d[i] == '}' {
		return nil
	}
	for {
		if i >= len(d) || d[i] != '"' {
			return errMalformedRow
		}
		end, escaped := stringEnd(d, i)
		if end < 0 {
			return errMalformedRow
		}
		key := d[i+1 : end-1]
		if escaped {
			if err := json.Unmarshal([]byte(d[i:end]), &key); err != nil {
				return err
			}
		}
		if i = skipSpace(d, end); i >= len(d) || d[i] != ':' {
			return errMalformedRow
		}
		i = skipSpace(d, i+1)
		vend := valueEnd(d, i)
		if vend <= i {
			return errMalformedRow
		}
		if err := fn(key, d[i:vend]); err != nil {
			return err
		}
		switch i = skipSpace(d, vend); {
		case i < len(d) && d[i] == ',':
			i = skipSpace(d, i+1)
		case i < len(d) && d[i] == '}':
			return nil
		default:
			return errMalformedRow
		}
	}
}

// eachElement hands fn each element of the JSON array d (null: none).
func eachElement(d string, fn func(raw string) error) error {
	i := skipSpace(d, 0)
	if d[i:] == "null" {
		return nil
	}
	if i >= len(d) || d[i] != '[' {
		return errMalformedRow
	}
	if i = skipSpace(d, i+1); i < len(d) && d[i] == ']' {
		return nil
	}
	for {
		vend := valueEnd(d, i)
		if vend <= i {
			return errMalformedRow
		}
		if err := fn(d[i:vend]); err != nil {
			return err
		}
		switch i = skipSpace(d, vend); {
		case i < len(d) && d[i] == ',':
			i = skipSpace(d, i+1)
		case i < len(d) && d[i] == ']':
			return nil
		default:
			return errMalformedRow
		}
	}
}

// jsonString decodes a JSON string or null ("").
func jsonString(raw string) (string, error) {
	v, err := jsonScalar(raw)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok && v != nil {
		return "", errMalformedRow
	}
	return s, nil
}

func skipSpace(d string, i int) int {
	for i < len(d) && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r') {
		i++
	}
	return i
}

// stringEnd is the index after the closing quote of the JSON string opening at d[i] (-1 when
// unterminated), and whether it holds escapes.
func stringEnd(d string, i int) (int, bool) {
	escaped := false
	for j := i + 1; j < len(d); j++ {
		switch d[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j + 1, escaped
		}
	}
	return -1, escaped
}

// valueEnd is the index after the JSON value starting at d[i] (-1 when it does not end). The
// input was validated by encoding/json before UnmarshalJSON is called.
func valueEnd(d string, i int) int {
	depth := 0
	for j := i; j < len(d); j++ {
		switch d[j] {
		case '"':
			end, _ := stringEnd(d, j)
			if end < 0 {
				return -1
			}
			if depth == 0 {
				return end
			}
			j = end - 1
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return j
			}
			if depth--; depth == 0 {
				return j + 1
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return j
			}
		}
	}
	if depth == 0 {
		return len(d)
	}
	return -1
}

// jsonScalar decodes one JSON value as encoding/json decodes it into any.
func jsonScalar(raw string) (any, error) {
	switch raw[0] {
	case 'n':
		if raw == "null" {
			return nil, nil
		}
	case 't':
		if raw == "true" {
			return true, nil
		}
	case 'f':
		if raw == "false" {
			return false, nil
		}
	case '"':
		if strings.IndexByte(raw, '\\') < 0 {
			return raw[1 : len(raw)-1], nil
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if f, err := strconv.ParseFloat(raw, 64); err == nil {
			return f, nil
		}
	}
	var v any
	err := json.Unmarshal([]byte(raw), &v)
	return v, err
}

// userReadSub is one subresponse of a user read composite.
type userReadSub struct {
	ref            string
	status         int
	done           bool
	nextRecordsURL string
	records        []userRow
}

// decodeUserRead decodes a composite answer of query subresponses in one validation pass
// (json.Valid) and one scan, without reflection. A subresponse whose body is not a query result
// (an error list) fails it: the caller then takes the generic path.
func decodeUserRead(raw []byte) ([]userReadSub, error) {
	if !json.Valid(raw) {
		return nil, errMalformedRow
	}
	var subs []userReadSub
	err := eachField(string(raw), func(key, v string) error {
		if key != "compositeResponse" {
			return nil
		}
		return eachElement(v, func(v string) error {
			var sub userReadSub
			err := eachField(v, func(key, v string) (err error) {
				switch key {
				case "referenceId":
					sub.ref, err = jsonString(v)
				case "httpStatusCode":
					sub.status, err = strconv.Atoi(v)
				case "body":
					err = sub.decodeBody(v)
				}
				return err
			})
			subs = append(subs, sub)
			return err
		})
	})
	return subs, err
}

func (sub *userReadSub) decodeBody(d string) error {
	return eachField(d, func(key, v string) (err error) {
		switch key {
		case "done":
			sub.done = v == "true"
		case "nextRecordsUrl":
			sub.nextRecordsURL, err = jsonString(v)
		case "records":
			err = eachElement(v, func(v string) error {
				var r userRow
				if err := r.decode(v); err != nil {
					return err
				}
				sub.records = append(sub.records, r)
				return nil
			})
		}
		return err
	})
}

// readUsersTyped runs a user query (ref "users") and a UserLogin query (ref "logins") in one
// composite and decodes the answer into types. ok is false when the answer needs the generic
// path (a failed subrequest, more rows than one batch, another shape): subs then holds it decoded
// generically.
func (b *Backend) readUsersTyped(ctx context.Context, subs []Subrequest) (found usersFound, generic []SubResponse, err error) {
	raw, err := b.c.compositeRaw(ctx, false, subs)
	if err != nil {
		return usersFound{}, nil, err
	}
	if ans, err := decodeUserRead(raw); err == nil && len(ans) == 2 {
		us, ls := ans[0], ans[1]
		if us.ref == "users" && ls.ref == "logins" && us.status == 200 && ls.status == 200 &&
			(us.done || us.nextRecordsURL == "") && (ls.done || ls.nextRecordsURL == "") {
			found = usersFound{rows: us.records, logins: make(map[string]loginRow, len(ls.records))}
			for _, l := range ls.records {
				if id := str(l.fields["UserId"]); len(id) >= 15 {
					frozen, _ := l.fields["IsFrozen"].(bool)
					found.logins[id[:15]] = loginRow{id: str(l.fields["Id"]), frozen: frozen}
				}
			}
			return found, nil, nil
		}
	}
	generic, err = decodeComposite(raw)
	return usersFound{}, generic, err
}
