package relay

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pion/logging"
)

// LevelTrace is the slog level pion's trace messages are logged at.
const LevelTrace = slog.LevelDebug - 4

// LoggerFactory bridges pion's logging to log/slog: each pion subsystem ("turn", "ice"...) gets a
// child logger with a "scope" key. Hand it to turn.ServerConfig or webrtc.SettingEngine.
type LoggerFactory struct {
	// Log receives the messages; nil discards them.
	Log *slog.Logger
}

// NewLogger implements logging.LoggerFactory.
func (f LoggerFactory) NewLogger(scope string) logging.LeveledLogger {
	log := f.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return slogLogger{log: log.With("scope", scope)}
}

// slogLogger is a pion LeveledLogger writing to slog.
type slogLogger struct{ log *slog.Logger }

func (l slogLogger) print(level slog.Level, msg string) {
	l.log.Log(context.Background(), level, msg)
}

func (l slogLogger) printf(level slog.Level, format string, args ...any) {
	if l.log.Enabled(context.Background(), level) {
		l.log.Log(context.Background(), level, fmt.Sprintf(format, args...))
	}
}

func (l slogLogger) Trace(msg string)                  { l.print(LevelTrace, msg) }
func (l slogLogger) Tracef(format string, args ...any) { l.printf(LevelTrace, format, args...) }
func (l slogLogger) Debug(msg string)                  { l.print(slog.LevelDebug, msg) }
func (l slogLogger) Debugf(format string, args ...any) { l.printf(slog.LevelDebug, format, args...) }
func (l slogLogger) Info(msg string)                   { l.print(slog.LevelInfo, msg) }
func (l slogLogger) Infof(format string, args ...any)  { l.printf(slog.LevelInfo, format, args...) }
func (l slogLogger) Warn(msg string)                   { l.print(slog.LevelWarn, msg) }
func (l slogLogger) Warnf(format string, args ...any)  { l.printf(slog.LevelWarn, format, args...) }
func (l slogLogger) Error(msg string)                  { l.print(slog.LevelError, msg) }
func (l slogLogger) Errorf(format string, args ...any) { l.printf(slog.LevelError, format, args...) }
