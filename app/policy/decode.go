package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// decoder walks the policy JSON with encoding/json's tokenizer, keeping byte offsets so every
// error can name a line and column; it refuses unknown and duplicate keys, which
// json.Unmarshal would accept silently.
type decoder struct {
	// path names the file in errors.
	path string
	// data is the whole file as UTF-8; offsets index into it.
	data []byte
}

// errAt wraps err in a FileError at byte offset off of the file.
func (d *decoder) errAt(off int64, err error) *FileError {
	line, col := position(d.data, off)
	return &FileError{Path: d.path, Line: line, Column: col, Err: err}
}

// syntaxErr turns an error of dec, reading raw (which starts at base in the file), into a
// FileError. decodeStart is dec's offset when Decode was called, or -1 for an error of Token:
// Token's syntax errors carry the offending byte's offset, Decode's the count of bytes it read.
func (d *decoder) syntaxErr(err error, raw []byte, base int64, dec *json.Decoder, decodeStart int64) *FileError {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		off := base + se.Offset
		if decodeStart >= 0 {
			// Decode's offsets count only the bytes earlier Decode calls scanned: decode the
			// value again on its own, where the count starts at the value.
			vs := skipSpace(raw, decodeStart)
			var v json.RawMessage
			if err := json.NewDecoder(bytes.NewReader(raw[vs:])).Decode(&v); errors.As(err, &se) {
				off = base + vs + se.Offset - 1
			}
		}
		return d.errAt(off, fmt.Errorf("%w: %s", ErrSyntax, se.Error()))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return d.errAt(base+int64(len(raw)), fmt.Errorf("%w: the file ends before the JSON does (a missing '}' or ']'?)", ErrSyntax))
	}
	return d.errAt(base+dec.InputOffset(), fmt.Errorf("%w: %v", ErrSyntax, err))
}

// object decodes the JSON object raw, found at offset base, calling fields[key] with each value
// and its offset. where names the object in messages ("" for the top level).
func (d *decoder) object(raw []byte, base int64, where string, fields map[string]func(raw []byte, off int64) error) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	start := base + skipSpace(raw, 0)
	tok, err := dec.Token()
	if err != nil {
		return d.syntaxErr(err, raw, base, dec, -1)
	}
	if tok != json.Delim('{') {
		if where == "" {
			return d.errAt(start, fmt.Errorf("%w: the policy must be a JSON object ({ ... })", ErrSyntax))
		}
		return d.errAt(start, fmt.Errorf("%w: %s must be an object", ErrInvalidValue, where))
	}
	seen := map[string]bool{}
	for dec.More() {
		keyOff := base + skipSpace(raw, dec.InputOffset())
		tok, err := dec.Token()
		if err != nil {
			return d.syntaxErr(err, raw, base, dec, -1)
		}
		key, _ := tok.(string)
		var v json.RawMessage
		decodeStart := dec.InputOffset()
		valOff := base + skipSpace(raw, decodeStart)
		if err := dec.Decode(&v); err != nil {
			return d.syntaxErr(err, raw, base, dec, decodeStart)
		}
		name := key
		if where != "" {
			name = where + "." + key
		}
		if seen[key] {
			return d.errAt(keyOff, fmt.Errorf("%w: %q is given twice", ErrDuplicateKey, name))
		}
		seen[key] = true
		f, ok := fields[key]
		if !ok {
			return d.errAt(keyOff, fmt.Errorf("%w: %q; this object takes %s", ErrUnknownKey, name, keyList(fields)))
		}
		if err := f(v, valOff); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return d.syntaxErr(err, raw, base, dec, -1)
	}
	if where == "" {
		off := base + skipSpace(raw, dec.InputOffset())
		if _, err := dec.Token(); err != io.EOF {
			return d.errAt(off, fmt.Errorf("%w: text after the closing '}'", ErrSyntax))
		}
	}
	return nil
}

// str decodes a JSON string value.
func (d *decoder) str(raw []byte, off int64, name string) (string, error) {
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", d.errAt(off, fmt.Errorf("%w: %s must be a string, not %s", ErrInvalidValue, name, kind(raw)))
	}
	return s, nil
}

// strs decodes a JSON array of strings, with each element's offset.
func (d *decoder) strs(raw []byte, off int64, name string) ([]string, []int64, error) {
	if len(raw) == 0 || raw[0] != '[' {
		return nil, nil, d.errAt(off, fmt.Errorf("%w: %s must be a list of strings, not %s", ErrInvalidValue, name, kind(raw)))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil, nil, d.syntaxErr(err, raw, off, dec, -1)
	}
	out, offs := []string{}, []int64{}
	for dec.More() {
		var v json.RawMessage
		decodeStart := dec.InputOffset()
		elOff := off + skipSpace(raw, decodeStart)
		if err := dec.Decode(&v); err != nil {
			return nil, nil, d.syntaxErr(err, raw, off, dec, decodeStart)
		}
		s, err := d.str(v, elOff, name+" entry")
		if err != nil {
			return nil, nil, err
		}
		out, offs = append(out, s), append(offs, elOff)
	}
	return out, offs, nil
}

// kind names the JSON type of raw for messages.
func kind(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "a list"
	case 't', 'f':
		return "true/false"
	case 'n':
		return "null"
	}
	return "a number"
}

func keyList(fields map[string]func([]byte, int64) error) string {
	order := []string{"hub_url", "region", "provider", "allowed_devices", "locked", "cameras", "microphones", "speakers"}
	var s []byte
	for _, k := range order {
		if _, ok := fields[k]; ok {
			if len(s) > 0 {
				s = append(s, ", "...)
			}
			s = append(s, k...)
		}
	}
	return string(s)
}

// skipSpace returns the offset of the first byte at or after off that is not JSON whitespace or
// one of the separators ',' and ':' that the tokenizer consumes silently.
func skipSpace(b []byte, off int64) int64 {
	for off < int64(len(b)) {
		switch b[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
		default:
			return off
		}
	}
	return off
}

// position converts a byte offset into a 1-based line and character column.
func position(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line = bytes.Count(before, []byte{'\n'}) + 1
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	return line, utf8.RuneCount(before[lineStart:]) + 1
}
