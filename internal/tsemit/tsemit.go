// Package tsemit holds what the two TypeScript generators (wire/internal/tsgen for package wire,
// app/internal/viewgen for package app) write the same way: doc comments and the output file.
package tsemit

import (
	"bytes"
	"go/ast"
	"os"
	"strings"
)

// Comment writes doc as a /** ... */ block at indent; nothing when doc is empty.
func Comment(b *bytes.Buffer, doc *ast.CommentGroup, indent string) {
	if doc == nil {
		return
	}
	text := strings.TrimSpace(doc.Text())
	if text == "" {
		return
	}
	b.WriteString(indent + "/**\n")
	for _, l := range strings.Split(text, "\n") {
		b.WriteString(strings.TrimRight(indent+" * "+l, " ") + "\n")
	}
	b.WriteString(indent + " */\n")
}

// Write writes src to the file out, or to standard output when out is "".
func Write(out string, src []byte) error {
	if out == "" {
		_, err := os.Stdout.Write(src)
		return err
	}
	return os.WriteFile(out, src, 0o644)
}
