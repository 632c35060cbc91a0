package hub

import (
	_ "embed"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parleyhq/parley/wire"
)

// commonPasswords is the small list of common and breached passwords the hub refuses
// (passwords/common.txt).
//
//go:embed passwords/common.txt
var commonPasswordsFile string

var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(commonPasswordsFile, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			m[line] = true
		}
	}
	return m
}()

// ErrWeakPassword refuses a password that is too short, or common, or built from a common word.
var ErrWeakPassword = &wire.Error{Code: wire.EWEAKPASSWORD, Message: "the password is too short or too common"}

// deleet undoes the usual letter-for-symbol swaps ("p@ssw0rd").
var deleet = strings.NewReplacer("@", "a", "4", "a", "0", "o", "1", "i", "!", "i", "3", "e", "$", "s", "5", "s", "7", "t", "+", "t")

// CheckPassword refuses (EWEAKPASSWORD) a password shorter than wire.MinPasswordLength
// characters, one on the common list, one that is a common word with digits or symbols around
// it ("Summer2024!"), one of fewer than four different characters, and one that contains the
// member's username or the organisation's id. One over wire.MaxPasswordBytes is ETOOLARGE.
func CheckPassword(password, username string, org wire.OrgID) error {
	if len(password) > wire.MaxPasswordBytes {
		return wire.Errorf(wire.ETOOLARGE, "the password is over %d bytes", wire.MaxPasswordBytes)
	}
	if !utf8.ValidString(password) || strings.ContainsFunc(password, isControl) {
		return wire.Errorf(wire.EINVALID, "the password has characters that are not allowed")
	}
	if utf8.RuneCountInString(password) < wire.MinPasswordLength {
		return ErrWeakPassword
	}
	lower := strings.ToLower(password)
	distinct := map[rune]bool{}
	for _, r := range lower {
		distinct[r] = true
	}
	if len(distinct) < 4 {
		return ErrWeakPassword
	}
	notLetter := func(r rune) bool { return !unicode.IsLetter(r) }
	for _, candidate := range []string{lower, strings.TrimFunc(lower, notLetter), deleet.Replace(lower), strings.TrimFunc(deleet.Replace(lower), notLetter)} {
		if commonPasswords[candidate] {
			return ErrWeakPassword
		}
	}
	// Two common words run together with digits, e.g. "welcome2parley".
	words := strings.FieldsFunc(deleet.Replace(lower), notLetter)
	if len(words) > 0 {
		allCommon := true
		for _, w := range words {
			allCommon = allCommon && commonPasswords[w]
		}
		if allCommon {
			return ErrWeakPassword
		}
	}
	for _, s := range []string{strings.ToLower(username), strings.ToLower(string(org))} {
		if len(s) >= 3 && strings.Contains(lower, s) {
			return ErrWeakPassword
		}
	}
	return nil
}
