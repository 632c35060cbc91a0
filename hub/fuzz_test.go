package hub_test

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/wire"
)

// FuzzFrames sends arbitrary frames to a real hub over a customer's and an agent's connections,
// and checks after each that the hub neither crashed nor dropped the connection: every frame
// under the size limit gets an answer or is ignored, and a ping still gets its ack.
func FuzzFrames(f *testing.F) {
	for _, s := range []string{
		`{"type":"chat.send","rid":"1","data":{"conv":"CONV","text":"hi","client_id":"a"}}`,
		`{"type":"chat.typing","data":{"conv":"CONV","typing":true}}`,
		`{"type":"chat.receipt","rid":"2","data":{"conv":"CONV","seq":1,"kind":"read"}}`,
		`{"type":"sync","rid":"3","data":{"conv":"CONV","after":-5}}`,
		`{"type":"offer.accept","rid":"4","data":{"offer":"o_x"}}`,
		`{"type":"presence.set","rid":"5","data":{"presence":"away"}}`,
		`{"type":"supervisor.assign","rid":"6","data":{"conv":"CONV","agent":"u"}}`,
		`{"type":"hello","data":{"token":"t"}}`,
		`{"type":"conv.end","rid":"7","data":{"conv":"c_1"}}`,
		`{"type":"chat.send","data":null}`, `{"type":"chat.send","data":[]}`, `{"type":"\u0000"}`,
		`{"type":"x","rid":"` + "\xff" + `"}`, `null`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	s := startHub(f)
	c := context.Background()
	started, err := client.StartConversation(c, s.URL(), "demo", "Fuzz")
	if err != nil {
		f.Fatal(err)
	}
	login, err := client.Login(c, s.URL(), "demo", "agent1", "demo")
	if err != nil {
		f.Fatal(err)
	}
	conns := []*rawConn{rawDial(f, s, started.Token), rawDial(f, s, login.Token)}
	f.Fuzz(func(t *testing.T, frame []byte) {
		r := conns[len(frame)%2]
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := r.ws.Write(c, websocket.MessageText, frame); err != nil {
			t.Fatalf("write: %v", err)
		}
		if err := r.ws.Write(c, websocket.MessageText, []byte(`{"type":"ping","rid":"fuzz-ping"}`)); err != nil {
			t.Fatalf("write ping: %v", err)
		}
		for {
			_, data, err := r.ws.Read(c)
			if err != nil {
				t.Fatalf("after %q the connection failed: %v", frame, err)
			}
			env, err := wire.Decode(data)
			if err != nil {
				t.Fatalf("hub sent an undecodable frame %q: %v", data, err)
			}
			if env.Type == wire.TypeAck && env.RID == "fuzz-ping" {
				return
			}
		}
	})
}
