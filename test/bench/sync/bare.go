package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/elimity-com/scim"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"
)

// runBareChild serves Users from memory with the SCIM library alone: the floor the bridge's CPU
// per request is compared with.
func runBareChild() error {
	h := &bareUsers{users: map[string]scim.ResourceAttributes{}}
	srv, err := scim.NewServer(&scim.ServerArgs{
		ServiceProviderConfig: &scim.ServiceProviderConfig{},
		ResourceTypes: []scim.ResourceType{{
			ID: optional.NewString("User"), Name: "User", Endpoint: "/Users",
			Schema: schema.CoreUserSchema(), Handler: h,
		}},
	})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", srv))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	ln, err := net.Listen("tcp", os.Getenv("BENCH_SYNC_LISTEN"))
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() { <-ctx.Done(); _ = hs.Close() }()
	if err := hs.Serve(ln); err != nil && err != http.ErrServerClosed {
		return err
	}
	return nil
}

// bareUsers is an in-memory ResourceHandler.
type bareUsers struct {
	mu    sync.Mutex
	seq   int
	users map[string]scim.ResourceAttributes
}

func (h *bareUsers) Create(_ *http.Request, attrs scim.ResourceAttributes) (scim.Resource, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	id := strconv.Itoa(h.seq)
	h.users[id] = attrs
	return h.resource(id, attrs), nil
}

func (h *bareUsers) resource(id string, attrs scim.ResourceAttributes) scim.Resource {
	now := time.Unix(1700000000, 0)
	return scim.Resource{ID: id, Attributes: attrs, Meta: scim.Meta{Created: &now, LastModified: &now, Version: fmt.Sprintf("W/%q", id)}}
}

func (h *bareUsers) Get(_ *http.Request, id string) (scim.Resource, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	attrs, ok := h.users[id]
	if !ok {
		return scim.Resource{}, fmt.Errorf("not found")
	}
	return h.resource(id, attrs), nil
}

func (h *bareUsers) GetAll(_ *http.Request, _ scim.ListRequestParams) (scim.Page, error) {
	return scim.Page{}, nil
}

func (h *bareUsers) Replace(r *http.Request, id string, attrs scim.ResourceAttributes) (scim.Resource, error) {
	return scim.Resource{}, fmt.Errorf("not supported")
}

func (h *bareUsers) Delete(*http.Request, string) error { return fmt.Errorf("not supported") }

func (h *bareUsers) Patch(*http.Request, string, []scim.PatchOperation) (scim.Resource, error) {
	return scim.Resource{}, fmt.Errorf("not supported")
}
