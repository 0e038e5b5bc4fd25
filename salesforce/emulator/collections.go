package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
)

// sObject Collections (/composite/sobjects): create, update and delete up to 200 records, and
// retrieve by ids. Well-formed calls answer 200 with one result per record in input order; record
// errors say "statusCode" (not "errorCode"). With allOrNone every change is rolled back when one
// record fails, and the others report ALL_OR_NONE_OPERATION_ROLLED_BACK.

const (
	maxCollectionRecords = 200
	maxRetrieveIDs       = 2000
)

func errTooManyRecords() *apiResponse {
	return errorResponse(newError(http.StatusBadRequest, "EXCEEDED_ID_LIMIT",
		"record limit reached. cannot submit more than 200 records into this call"))
}

type collectionRequest struct {
	AllOrNone bool             `json:"allOrNone"`
	Records   []map[string]any `json:"records"`
}

func (e *Emulator) collections(r *apiRequest, segs []string) *apiResponse {
	if len(segs) == 1 && segs[0] != "" {
		o := e.schema.object(segs[0])
		if o == nil {
			return errorResponse(errNotFound())
		}
		if r.method != http.MethodGet && r.method != http.MethodPost {
			return errorResponse(errMethodNotAllowed(r.method, "GET,POST"))
		}
		return e.retrieveCollection(r, o)
	}
	if len(segs) > 1 {
		return errorResponse(errNotFound())
	}
	switch r.method {
	case http.MethodPost, http.MethodPatch:
		return e.saveCollection(r, r.method == http.MethodPost)
	case http.MethodDelete:
		return e.deleteCollection(r)
	}
	return errorResponse(errMethodNotAllowed(r.method, "POST,PATCH,DELETE"))
}

func (e *Emulator) saveCollection(r *apiRequest, creating bool) *apiResponse {
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	var req collectionRequest
	if err := dec.Decode(&req); err != nil {
		return errorResponse(newError(http.StatusBadRequest, "JSON_PARSER_ERROR", "The request body is not valid JSON: "+parserMessage(err)))
	}
	if len(req.Records) > maxCollectionRecords {
		return errTooManyRecords()
	}
	allOrNone := req.AllOrNone || r.forceAllOrNone
	results := make([]saveResult, len(req.Records))
	sp := e.st.savepoint()
	failed := false
	for i, rec := range req.Records {
		var id string
		var err *Error
		o, terr := recordType(e.schema, rec)
		switch {
		case terr != nil:
			err = terr
		case creating:
			id, err = e.create(o, rec, r.userID)
		default:
			id, err = recordID(rec)
			if err == nil {
				err = e.update(o, id, withoutID(rec), r.userID)
			}
		}
		results[i] = saveResult{Success: err == nil, Errors: []recordError{}}
		if id != "" && (err == nil || !creating) {
			results[i].ID = &id
		}
		if err != nil {
			results[i].Errors = []recordError{toRecordError(err)}
			failed = true
			if allOrNone {
				break
			}
		}
	}
	if failed && allOrNone {
		e.st.rollback(sp)
		for i := range results {
			if results[i].Success || len(results[i].Errors) == 0 {
				if creating {
					results[i].ID = nil
				}
				results[i].Success = false
				results[i].Errors = []recordError{{StatusCode: "ALL_OR_NONE_OPERATION_ROLLED_BACK", Message: msgRecordRolledBack, Fields: []string{}}}
			}
		}
	}
	resp := jsonResponse(http.StatusOK, results)
	resp.partialFailure = failed
	return resp
}

// recordType reads attributes.type of a collection record.
func recordType(s *schema, rec map[string]any) (*objectDef, *Error) {
	attrs, _ := rec["attributes"].(map[string]any)
	name, _ := attrs["type"].(string)
	if name == "" {
		return nil, fieldError("INVALID_TYPE", "Must send a concrete entity type.")
	}
	o := s.object(name)
	if o == nil {
		return nil, fieldError("INVALID_TYPE", "sObject type '"+name+"' is not supported.")
	}
	return o, nil
}

func recordID(rec map[string]any) (string, *Error) {
	for k, v := range rec {
		if strings.EqualFold(k, "id") {
			if s, ok := v.(string); ok && s != "" {
				return s, nil
			}
		}
	}
	return "", fieldError("MISSING_ARGUMENT", "Id not specified in an update call", "Id")
}

func withoutID(rec map[string]any) map[string]any {
	out := make(map[string]any, len(rec))
	for k, v := range rec {
		if !strings.EqualFold(k, "id") {
			out[k] = v
		}
	}
	return out
}

func (e *Emulator) deleteCollection(r *apiRequest) *apiResponse {
	list := r.query.Get("ids")
	if list == "" {
		return errorResponse(newError(http.StatusBadRequest, "MISSING_ARGUMENT", "ids: at least one id is required"))
	}
	ids := strings.Split(list, ",")
	if len(ids) > maxCollectionRecords {
		return errTooManyRecords()
	}
	allOrNone := strings.EqualFold(r.query.Get("allOrNone"), "true") || r.forceAllOrNone
	results := make([]saveResult, len(ids))
	sp := e.st.savepoint()
	failed := false
	for i, raw := range ids {
		id := strings.TrimSpace(raw)
		results[i] = saveResult{ID: &id, Errors: []recordError{}}
		err := e.deleteByID(id)
		if err != nil {
			results[i].Errors = []recordError{toRecordError(err)}
			failed = true
			if allOrNone {
				break
			}
			continue
		}
		results[i].Success = true
	}
	if failed && allOrNone {
		e.st.rollback(sp)
		for i := range results {
			if len(results[i].Errors) == 0 {
				if results[i].ID == nil {
					id := strings.TrimSpace(ids[i])
					results[i].ID = &id
				}
				results[i].Success = false
				results[i].Errors = []recordError{{StatusCode: "ALL_OR_NONE_OPERATION_ROLLED_BACK", Message: msgRecordRolledBack, Fields: []string{}}}
			}
		}
	}
	resp := jsonResponse(http.StatusOK, results)
	resp.partialFailure = failed
	return resp
}

// deleteByID deletes a record whose type is known only from its id, with the per-record codes
// the SOAP-style delete uses.
func (e *Emulator) deleteByID(raw string) *Error {
	id, ok := normalizeID(raw)
	o := e.schema.objectForID(id)
	if !ok || o == nil {
		return fieldError("MALFORMED_ID", "malformed id "+raw)
	}
	if !o.Deletable {
		return fieldError("INVALID_TYPE", "entity type cannot be deleted: "+o.Name)
	}
	err := e.delete(o, id)
	if err != nil && err.Code == "NOT_FOUND" {
		return fieldError("ENTITY_IS_DELETED", "entity is deleted")
	}
	return err
}

func (e *Emulator) retrieveCollection(r *apiRequest, o *objectDef) *apiResponse {
	var ids, fieldNames []string
	if r.method == http.MethodGet {
		if s := r.query.Get("ids"); s != "" {
			ids = strings.Split(s, ",")
		}
		if s := r.query.Get("fields"); s != "" {
			fieldNames = strings.Split(s, ",")
		}
	} else {
		var body struct {
			IDs    []string `json:"ids"`
			Fields []string `json:"fields"`
		}
		if err := json.Unmarshal(r.body, &body); err != nil {
			return errorResponse(newError(http.StatusBadRequest, "JSON_PARSER_ERROR", "The request body is not valid JSON: "+parserMessage(err)))
		}
		ids, fieldNames = body.IDs, body.Fields
	}
	if len(ids) == 0 {
		return errorResponse(newError(http.StatusBadRequest, "MISSING_ARGUMENT", "ids: at least one id is required"))
	}
	if len(ids) > maxRetrieveIDs {
		return errorResponse(newError(http.StatusBadRequest, "EXCEEDED_ID_LIMIT", "Cannot retrieve more than 2000 records"))
	}
	fields := o.Fields
	if len(fieldNames) > 0 {
		fields = nil
		for _, name := range fieldNames {
			f := o.field(strings.TrimSpace(name))
			if f == nil {
				return errorResponse(newError(http.StatusBadRequest, "INVALID_FIELD",
					"No such column '"+strings.TrimSpace(name)+"' on entity '"+o.Name+"'."))
			}
			fields = append(fields, f)
		}
	}
	out := make([]json.RawMessage, len(ids))
	for i, raw := range ids {
		out[i] = json.RawMessage("null") // invalid or inaccessible ids answer null
		if id, ok := normalizeID(strings.TrimSpace(raw)); ok {
			if row := e.st.get(o.Name, id); row != nil {
				out[i] = encodeRecord(o, row, fields, r.version)
			}
		}
	}
	return jsonResponse(http.StatusOK, out)
}
