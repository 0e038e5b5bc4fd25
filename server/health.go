package server

import (
	"encoding/json"
	"net/http"

	"github.com/rs/zerolog"

	"github.com/scim-bridge/scim-bridge/scimschema"
)

type healthStatus struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

func writeHealth(w http.ResponseWriter, status int, body healthStatus) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// healthz answers while the process serves HTTP.
func (s *server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeHealth(w, http.StatusOK, healthStatus{Status: "ok"})
}

// readyz answers 200 when Config.Ready reports the process able to serve, else 503 with a
// client-safe reason (the Detail of a *scimschema.Error, "internal error" for anything else). The
// cause is logged at debug: probes repeat every few seconds, and the process logs the change itself.
func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Ready != nil {
		if err := s.cfg.Ready(r.Context()); err != nil {
			e := scimschema.AsError(err)
			zerolog.Ctx(r.Context()).Debug().AnErr("cause", err).Msg("not ready")
			reason := e.Detail
			if e.Kind == scimschema.KindInternal || reason == "" {
				reason = "internal error"
			}
			writeHealth(w, http.StatusServiceUnavailable, healthStatus{Status: "not ready", Reason: reason})
			return
		}
	}
	writeHealth(w, http.StatusOK, healthStatus{Status: "ready"})
}
