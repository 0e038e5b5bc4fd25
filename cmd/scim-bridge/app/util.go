package app

import (
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/rs/zerolog"
)

// newStdLogger routes net/http's own error messages (TLS handshakes, bad requests) to zerolog.
func newStdLogger(logger zerolog.Logger) *log.Logger {
	return log.New(stdLogWriter{logger}, "", 0)
}

type stdLogWriter struct{ logger zerolog.Logger }

func (w stdLogWriter) Write(p []byte) (int, error) {
	w.logger.Warn().Str("component", "http").Msg(strings.TrimSpace(string(p)))
	return len(p), nil
}

func readFile(name string) ([]byte, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	return b, nil
}
