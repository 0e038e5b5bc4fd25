package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
)

// Typed decoding of the user read path (GET /Users/{id}, userName/externalId lookups): the
// composite answer of a user query and its UserLogin query is validated once (json.Valid) and
// read front to back by jsonScan into userRow and assignmentRow values, instead of being decoded
// into generic maps twice (the composite, then each subresponse body). Keys and strings are
// substrings of the answer. Any other answer (a failed subrequest, more rows than one batch,
// another shape) falls back to Composite's generic decoding, so errors are translated exactly as
// before (issue 13, CPU per request).

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
// batch are read with remaining, skipping the ones fn already had.
func (b *Backend) walkAssignments(ctx context.Context, c *assignmentChild, remaining *rest.Query, fn func(assignmentRow)) error {
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
	return b.readChildRest(ctx, remaining, seen, func(r map[string]any) bool {
		fn(assignmentOf(r))
		return true
	})
}

var errMalformedRow = errors.New("malformed User row")

// decode reads the row at s in one scan: scalar fields directly, "attributes" skipped, the
// assignment subquery into types; any other nested value (a relationship field) generically. Keys
// and strings without escapes are substrings of the answer (no copies).
func (r *userRow) decode(s *jsonScan) error {
	r.fields = make(map[string]any, 40)
	return s.object(func(key string) (err error) {
		switch key {
		case "attributes":
			return s.skip()
		case "PermissionSetAssignments":
			if s.null() {
				return nil
			}
			r.assignments = new(assignmentChild)
			return r.assignments.decode(s)
		default:
			r.fields[key], err = s.scalar()
			return err
		}
	})
}

// decode reads a PermissionSetAssignments child result (the fields of userAssignmentSelect).
func (c *assignmentChild) decode(s *jsonScan) error {
	return s.object(func(key string) (err error) {
		switch key {
		case "done":
			c.Done, err = s.boolean()
		case "nextRecordsUrl":
			c.NextRecordsURL, err = s.str()
		case "records":
			err = s.array(func() error {
				var a assignmentRow
				if err := a.decode(s); err != nil {
					return err
				}
				c.Records = append(c.Records, a)
				return nil
			})
		default:
			err = s.skip()
		}
		return err
	})
}

func (a *assignmentRow) decode(s *jsonScan) error {
	return s.object(func(key string) (err error) {
		switch key {
		case "Id":
			a.ID, err = s.str()
		case "PermissionSetId":
			a.PermissionSetID, err = s.str()
		case "PermissionSetGroupId":
			a.PermissionSetGroupID, err = s.str()
		case "PermissionSet":
			if !s.null() {
				a.PermissionSet = &permissionSetRef{}
				err = a.PermissionSet.decode(s)
			}
		case "PermissionSetGroup":
			if !s.null() {
				a.PermissionSetGroup = &permissionSetGroupRef{}
				err = a.PermissionSetGroup.decode(s)
			}
		default:
			err = s.skip()
		}
		return err
	})
}

func (p *permissionSetRef) decode(s *jsonScan) error {
	return s.object(func(key string) (err error) {
		switch key {
		case "Name":
			p.Name, err = s.str()
		case "Label":
			p.Label, err = s.str()
		case "IsOwnedByProfile":
			p.IsOwnedByProfile, err = s.boolean()
		case "PermissionSetGroupId":
			p.PermissionSetGroupID, err = s.str()
		default:
			err = s.skip()
		}
		return err
	})
}

func (p *permissionSetGroupRef) decode(s *jsonScan) error {
	return s.object(func(key string) (err error) {
		switch key {
		case "DeveloperName":
			p.DeveloperName, err = s.str()
		case "MasterLabel":
			p.MasterLabel, err = s.str()
		default:
			err = s.skip()
		}
		return err
	})
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
	s := &jsonScan{d: string(raw)}
	var subs []userReadSub
	err := s.object(func(key string) error {
		if key != "compositeResponse" {
			return s.skip()
		}
		return s.array(func() error {
			var sub userReadSub
			err := s.object(func(key string) (err error) {
				switch key {
				case "referenceId":
					sub.ref, err = s.str()
				case "httpStatusCode":
					var n string
					if n, err = s.raw(); err == nil {
						sub.status, err = strconv.Atoi(n)
					}
				case "body":
					err = sub.decodeBody(s)
				default:
					err = s.skip()
				}
				return err
			})
			subs = append(subs, sub)
			return err
		})
	})
	return subs, err
}

func (sub *userReadSub) decodeBody(s *jsonScan) error {
	return s.object(func(key string) (err error) {
		switch key {
		case "done":
			sub.done, err = s.boolean()
		case "nextRecordsUrl":
			sub.nextRecordsURL, err = s.str()
		case "records":
			err = s.array(func() error {
				var r userRow
				if err := r.decode(s); err != nil {
					return err
				}
				sub.records = append(sub.records, r)
				return nil
			})
		default:
			err = s.skip()
		}
		return err
	})
}

// readUsersTyped runs a user query (ref "users") and a UserLogin query (ref "logins") in one
// composite and decodes the answer into types. ok is false when the answer needs the generic
// path (a failed subrequest, more rows than one batch, another shape): subs then holds it decoded
// generically.
func (b *Backend) readUsersTyped(ctx context.Context, subs []rest.Subrequest) (found usersFound, generic []rest.SubResponse, err error) {
	raw, err := b.c.CompositeRaw(ctx, false, subs)
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
	generic, err = rest.DecodeComposite(raw)
	return usersFound{}, generic, err
}
