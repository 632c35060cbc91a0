package wire

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// Decode parses one frame into an Envelope. It rejects frames over MaxFrameBytes, text that is not
// UTF-8, JSON that is not a single object, and envelopes without a type, with an *Error.
func Decode(frame []byte) (Envelope, error) {
	var env Envelope
	if len(frame) > MaxFrameBytes {
		return env, Errorf(ETOOLARGE, "frame of %d bytes is over the %d-byte limit", len(frame), MaxFrameBytes)
	}
	if !utf8.Valid(frame) {
		return env, Errorf(EINVALID, "frame is not UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(frame))
	if err := dec.Decode(&env); err != nil {
		return Envelope{}, Errorf(EINVALID, "frame is not a JSON envelope")
	}
	if dec.More() {
		return Envelope{}, Errorf(EINVALID, "frame holds more than one JSON value")
	}
	if env.Type == "" {
		return Envelope{}, Errorf(EINVALID, "frame has no type")
	}
	if len(env.RID) > 64 {
		return Envelope{}, Errorf(EINVALID, "rid is longer than 64 bytes")
	}
	return env, nil
}

// Unmarshal decodes an envelope's payload into v, with an EINVALID *Error when it does not fit.
func (e Envelope) Unmarshal(v any) error {
	if len(e.Data) == 0 {
		return Errorf(EINVALID, "%s: missing data", e.Type)
	}
	if err := json.Unmarshal(e.Data, v); err != nil {
		return Errorf(EINVALID, "%s: malformed data", e.Type)
	}
	return nil
}

// Encode builds a frame of type t carrying payload (which may be nil), answering request rid.
func Encode(t Type, rid string, payload any) ([]byte, error) {
	env := Envelope{Type: t, RID: rid}
	if payload != nil {
		data, err := json.Marshal(payload)
		if err != nil {
			return nil, err
		}
		env.Data = data
	}
	return json.Marshal(env)
}
