package relay

import (
	"bytes"
	"log/slog"
	"testing"
)

func TestLoggerFactory(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
		Level: slog.LevelInfo,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	l := LoggerFactory{Log: log}.NewLogger("ice")
	l.Tracef("trace %d", 1)
	l.Debug("debug")
	l.Infof("info %s", "two")
	l.Warn("warn")
	l.Errorf("error %d", 3)
	want := `level=INFO msg="info two" scope=ice
level=WARN msg=warn scope=ice
level=ERROR msg="error 3" scope=ice
`
	if buf.String() != want {
		t.Errorf("logged:\n%s\nwant:\n%s", buf.String(), want)
	}

}
