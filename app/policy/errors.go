package policy

import (
	"errors"
	"fmt"
)

// ErrNoPolicy indicates that the policy file does not exist. LoadMachine treats it as "this
// machine is not managed"; Load returns it (wrapped, with fs.ErrNotExist) so callers that name
// a file explicitly hear about a typo.
var ErrNoPolicy = errors.New("no policy file")

// ErrSyntax indicates that the policy file is not valid JSON.
var ErrSyntax = errors.New("not valid JSON")

// ErrUnknownKey indicates a key the policy format does not define, usually a typo.
var ErrUnknownKey = errors.New("unknown key")

// ErrDuplicateKey indicates a key given twice in one object; JSON decoders disagree on which
// one wins, so the policy refuses both.
var ErrDuplicateKey = errors.New("duplicate key")

// ErrInvalidValue indicates a value of the wrong type or outside what the key accepts.
var ErrInvalidValue = errors.New("invalid value")

// ErrEncoding indicates a file that is neither UTF-8 nor UTF-16 with a byte-order mark.
var ErrEncoding = errors.New("unsupported text encoding")

// FileError is what Load returns for a policy file it refuses: the file, the 1-based line and
// column (in characters) of the offending key or value, and why. Line is 0 when the problem
// concerns the whole file (it cannot be read, or is empty).
type FileError struct {
	// Path is the policy file as given to Load.
	Path string
	// Line is the 1-based line of the problem, or 0 for the whole file.
	Line int
	// Column is the 1-based column, in characters, of the problem on Line.
	Column int
	// Err is the reason: one of this package's sentinel errors wrapped with detail, or an
	// error from the file system.
	Err error
}

// Error reads like a compiler message: "policy file /etc/parley/policy.json:3:5: unknown key ...".
func (e *FileError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("policy file %s: %v", e.Path, e.Err)
	}
	return fmt.Sprintf("policy file %s:%d:%d: %v", e.Path, e.Line, e.Column, e.Err)
}

// Unwrap gives the reason, so errors.Is(err, policy.ErrUnknownKey) works.
func (e *FileError) Unwrap() error { return e.Err }
