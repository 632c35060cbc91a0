package media

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pion/logging"
)

// slogFactory hands pion's subsystems child loggers of the call's slog logger.
type slogFactory struct{ log *slog.Logger }

func (f slogFactory) NewLogger(scope string) logging.LeveledLogger {
	return slogLogger{f.log.With("pion", scope)}
}

type slogLogger struct{ l *slog.Logger }

func (s slogLogger) logf(level slog.Level, format string, args ...any) {
	if s.l.Enabled(context.Background(), level) {
		s.l.Log(context.Background(), level, fmt.Sprintf(format, args...))
	}
}

// Pion's trace and debug output is very chatty: both go to slog's debug level.
func (s slogLogger) Trace(msg string)                  {}
func (s slogLogger) Tracef(format string, args ...any) {}
func (s slogLogger) Debug(msg string)                  { s.logf(slog.LevelDebug, "%s", msg) }
func (s slogLogger) Debugf(format string, args ...any) { s.logf(slog.LevelDebug, format, args...) }
func (s slogLogger) Info(msg string)                   { s.logf(slog.LevelInfo, "%s", msg) }
func (s slogLogger) Infof(format string, args ...any)  { s.logf(slog.LevelInfo, format, args...) }
func (s slogLogger) Warn(msg string)                   { s.logf(slog.LevelWarn, "%s", msg) }
func (s slogLogger) Warnf(format string, args ...any)  { s.logf(slog.LevelWarn, format, args...) }
func (s slogLogger) Error(msg string)                  { s.logf(slog.LevelError, "%s", msg) }
func (s slogLogger) Errorf(format string, args ...any) { s.logf(slog.LevelError, format, args...) }
