package server

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A client that writes its whole body before reading (no Expect: 100-continue) must get the SCIM
// 413, not a connection reset: the bridge reads and discards the rest of the body first.
func TestOversizeBodyFromAClientThatSendsItAllGets413(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil) // the default limit: 1 MiB
	body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a@example.com","title":"` +
		strings.Repeat("x", 2<<20) + `"}`

	tests := []struct {
		name    string
		path    string
		chunked bool
	}{
		{"declared length", "/scim/v2/Users", false},
		{"chunked, found while reading", "/scim/v2/Users", true},
		{"bulk, chunked", "/scim/v2/Bulk", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			conn, err := net.Dial("tcp", env.srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(30 * time.Second))

			var req bytes.Buffer
			fmt.Fprintf(&req, "POST %s HTTP/1.1\r\nHost: bridge\r\nAuthorization: Bearer %s\r\nContent-Type: application/scim+json\r\n", tt.path, entraToken)
			if tt.chunked {
				req.WriteString("Transfer-Encoding: chunked\r\n\r\n")
				for rest := body; rest != ""; {
					n := min(len(rest), 64<<10)
					fmt.Fprintf(&req, "%x\r\n%s\r\n", n, rest[:n])
					rest = rest[n:]
				}
				req.WriteString("0\r\n\r\n")
			} else {
				fmt.Fprintf(&req, "Content-Length: %d\r\n\r\n%s", len(body), body)
			}
			// All of it first, as such clients do, and at the pace of a link slower than loopback
			// (about a second in all, longer than the server's lingering close); only then the answer.
			for sent := 0; req.Len() > 0; sent++ {
				if _, err := conn.Write(req.Next(64 << 10)); err != nil {
					t.Fatalf("writing the request after %d KiB: %v; want the whole body accepted", sent*64, err)
				}
				time.Sleep(30 * time.Millisecond)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("reading the answer: %v; want a 413", err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			wantSCIMError(t, response{status: resp.StatusCode, header: resp.Header, body: b}, 413, "")
			if !resp.Close {
				t.Errorf("the 413 keeps the connection open; want Connection: close")
			}
		})
	}
}

// Every SCIM response carries personal data or says something about it: none may be cached or
// sniffed, whatever its status.
func TestSCIMResponsesAreNoStoreAndNoSniff(t *testing.T) {
	t.Parallel()
	env := newEnv(t, func(c *Config) { c.MaxBodyBytes = 512 })
	created := env.do(t, "POST", "/scim/v2/Users", userBody)
	if created.status != 201 {
		t.Fatalf("POST /Users = %d", created.status)
	}
	id, _ := created.json(t)["id"].(string)
	tests := []struct {
		name         string
		method, path string
		body         string
		headers      []string
	}{
		{"created", "POST", "/scim/v2/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"G"}`, nil},
		{"read", "GET", "/scim/v2/Users/" + id, "", nil},
		{"list", "GET", "/scim/v2/Users?filter=" + `userName%20eq%20%22alice%40example.com%22`, "", nil},
		{"discovery", "GET", "/scim/v2/ServiceProviderConfig", "", nil},
		{"not found", "GET", "/scim/v2/Users/005000000000000AAA", "", nil},
		{"unauthorized", "GET", "/scim/v2/Users", "", []string{"Authorization", ""}},
		{"too large", "POST", "/scim/v2/Users", strings.Repeat(" ", 1024), nil},
		{"deleted", "DELETE", "/scim/v2/Users/" + id, "", nil},
	}
	for _, tt := range tests {
		r := env.do(t, tt.method, tt.path, tt.body, tt.headers...)
		if got := r.header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s: %s %s (%d) Cache-Control = %q; want no-store", tt.name, tt.method, tt.path, r.status, got)
		}
		if got := r.header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: %s %s (%d) X-Content-Type-Options = %q; want nosniff", tt.name, tt.method, tt.path, r.status, got)
		}
	}
}
