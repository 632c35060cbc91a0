package main

import (
	"context"
	"errors"
	"log/slog"
)

// startDemo starts the demo hub in-process. (Temporary until the hub library lands.)
func startDemo(ctx context.Context, addr string, log *slog.Logger) (string, func(), error) {
	return "", nil, errors.New("demo hub not available in this build")
}
