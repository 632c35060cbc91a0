package wire_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/parleyhq/parley/wire"
	"github.com/parleyhq/parley/wire/internal/tsgen"
)

// The portal and the agent UI compile against web/wire.gen.ts; a stale copy is a drift between them
// and the hub.
func TestTypeScriptIsCurrent(t *testing.T) {
	want, err := tsgen.Generate(".")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../web/wire.gen.ts")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("web/wire.gen.ts is stale: run `go generate ./wire`")
	}
}

func TestDecode(t *testing.T) {
	tests := []struct {
		frame string
		code  wire.Code
	}{
		{`{"type":"chat.send","rid":"1","data":{"conv":"c","text":"hi"}}`, ""},
		{`{"type":"ping"}`, ""},
		{``, wire.EINVALID},
		{`{}`, wire.EINVALID},
		{`[1,2]`, wire.EINVALID},
		{`{"type":"x"} {"type":"y"}`, wire.EINVALID},
		{`{"type":"x","rid":"` + strings.Repeat("r", 65) + `"}`, wire.EINVALID},
		{"{\"type\":\"\xff\"}", wire.EINVALID},
		{`{"type":"chat.send","data":"` + strings.Repeat("a", wire.MaxFrameBytes) + `"}`, wire.ETOOLARGE},
	}
	for _, tt := range tests {
		_, err := wire.Decode([]byte(tt.frame))
		if got := wire.ErrorCode(err); got != tt.code {
			t.Errorf("Decode(%.40q) code = %q; want %q (%v)", tt.frame, got, tt.code, err)
		}
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	frame, err := wire.Encode(wire.TypeChatSend, "r1", wire.ChatSend{Conv: "c1", Text: "<b>hi</b>", ClientID: "x"})
	if err != nil {
		t.Fatal(err)
	}
	env, err := wire.Decode(frame)
	if err != nil {
		t.Fatal(err)
	}
	var cs wire.ChatSend
	if err := env.Unmarshal(&cs); err != nil {
		t.Fatal(err)
	}
	if env.Type != wire.TypeChatSend || env.RID != "r1" || cs.Text != "<b>hi</b>" {
		t.Fatalf("round trip = %+v %+v", env, cs)
	}
}

// FuzzDecode checks that no frame makes the decoder panic, and that whatever it accepts has a type
// and re-encodes.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"type":"hello","data":{"token":"t","resume":{"c1":3}}}`,
		`{"type":"chat.send","rid":"1","data":{"conv":"c","text":"hi","client_id":"a"}}`,
		`{"type":"chat.typing","data":{"conv":"c","typing":true}}`,
		`{"type":"offer.accept","rid":"2","data":{"offer":"o"}}`,
		`{"type":""}`, `null`, `{"type":1}`, `{"type":"a","data":[`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := wire.Decode(b)
		if err != nil {
			if wire.ErrorCode(err) == wire.EINTERNAL {
				t.Fatalf("Decode error is not coded: %v", err)
			}
			return
		}
		if env.Type == "" {
			t.Fatal("accepted an envelope without a type")
		}
		var cs wire.ChatSend
		_ = env.Unmarshal(&cs)
	})
}
