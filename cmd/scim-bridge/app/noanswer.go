package app

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
)

// noAnswer says in words why a local HTTP request got no answer (status, healthcheck), instead of
// Go's `Get "…": dial tcp …` text.
func noAnswer(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused (nothing listens on that address)"
	case errors.Is(err, context.DeadlineExceeded), os.IsTimeout(err):
		return "timeout (something listens but does not answer)"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the connection was closed without an answer (is it an HTTP listener? https for http or the reverse?)"
	}
	if _, ok := errors.AsType[*net.DNSError](err); ok {
		return "the host name does not resolve"
	}
	if _, ok := errors.AsType[tls.RecordHeaderError](err); ok || strings.Contains(err.Error(), "HTTP response to HTTPS client") {
		return "TLS handshake failed (an https URL for an http listener?)"
	}
	return "network error"
}
