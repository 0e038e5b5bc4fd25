package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
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
	r.fields = make(map[string]any, 40)
	return eachField(d, func(key string, raw []byte) error {
		switch key {
		case "attributes":
		case "PermissionSetAssignments":
			if string(raw) != "null" {
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
func (c *assignmentChild) decode(d []byte) error {
	return eachField(d, func(key string, raw []byte) (err error) {
		switch key {
		case "done":
			c.Done = string(raw) == "true"
		case "nextRecordsUrl":
			c.NextRecordsURL, err = jsonString(raw)
		case "records":
			err = eachElement(raw, func(raw []byte) error {
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

func (a *assignmentRow) decode(d []byte) error {
	return eachField(d, func(key string, raw []byte) (err error) {
		switch key {
		case "Id":
			a.ID, err = jsonString(raw)
		case "PermissionSetId":
			a.PermissionSetID, err = jsonString(raw)
		case "PermissionSetGroupId":
			a.PermissionSetGroupID, err = jsonString(raw)
		case "PermissionSet":
			if string(raw) != "null" {
				a.PermissionSet = &permissionSetRef{}
				err = a.PermissionSet.decode(raw)
			}
		case "PermissionSetGroup":
			if string(raw) != "null" {
				a.PermissionSetGroup = &permissionSetGroupRef{}
				err = a.PermissionSetGroup.decode(raw)
			}
		}
		return err
	})
}

func (p *permissionSetRef) decode(d []byte) error {
	return eachField(d, func(key string, raw []byte) (err error) {
		switch key {
		case "Name":
			p.Name, err = jsonString(raw)
		case "Label":
			p.Label, err = jsonString(raw)
		case "IsOwnedByProfile":
			p.IsOwnedByProfile = string(raw) == "true"
		case "PermissionSetGroupId":
			p.PermissionSetGroupID, err = jsonString(raw)
		}
		return err
	})
}

func (p *permissionSetGroupRef) decode(d []byte) error {
	return eachField(d, func(key string, raw []byte) (err error) {
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
func eachField(d []byte, fn func(key string, raw []byte) error) error {
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
		key := string(d[i+1 : end-1])
		if escaped {
			if err := json.Unmarshal(d[i:end], &key); err != nil {
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
func eachElement(d []byte, fn func(raw []byte) error) error {
	i := skipSpace(d, 0)
	if string(d[i:]) == "null" {
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
func jsonString(raw []byte) (string, error) {
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

func skipSpace(d []byte, i int) int {
	for i < len(d) && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r') {
		i++
	}
	return i
}

// stringEnd is the index after the closing quote of the JSON string opening at d[i] (-1 when
// unterminated), and whether it holds escapes.
func stringEnd(d []byte, i int) (int, bool) {
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
func valueEnd(d []byte, i int) int {
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
func jsonScalar(raw []byte) (any, error) {
	switch raw[0] {
	case 'n':
		if string(raw) == "null" {
			return nil, nil
		}
	case 't':
		if string(raw) == "true" {
			return true, nil
		}
	case 'f':
		if string(raw) == "false" {
			return false, nil
		}
	case '"':
		if bytes.IndexByte(raw, '\\') < 0 {
			return string(raw[1 : len(raw)-1]), nil
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if f, err := strconv.ParseFloat(string(raw), 64); err == nil {
			return f, nil
		}
	}
	var v any
	err := json.Unmarshal(raw, &v)
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
	err := eachField(raw, func(key string, v []byte) error {
		if key != "compositeResponse" {
			return nil
		}
		return eachElement(v, func(v []byte) error {
			var sub userReadSub
			err := eachField(v, func(key string, v []byte) (err error) {
				switch key {
				case "referenceId":
					sub.ref, err = jsonString(v)
				case "httpStatusCode":
					sub.status, err = strconv.Atoi(string(v))
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

func (sub *userReadSub) decodeBody(d []byte) error {
	return eachField(d, func(key string, v []byte) (err error) {
		switch key {
		case "done":
			sub.done = string(v) == "true"
		case "nextRecordsUrl":
			sub.nextRecordsURL, err = jsonString(v)
		case "records":
			err = eachElement(v, func(v []byte) error {
				var r userRow
				if err := r.UnmarshalJSON(v); err != nil {
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
