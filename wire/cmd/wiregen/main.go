// Command wiregen writes web/wire.gen.ts, the TypeScript twin of package wire.
package main

import (
	"flag"
	"log"

	"github.com/parleyhq/parley/internal/tsemit"
	"github.com/parleyhq/parley/wire/internal/tsgen"
)

func main() {
	out := flag.String("o", "", "output file (default stdout)")
	dir := flag.String("dir", ".", "directory of package wire")
	flag.Parse()
	src, err := tsgen.Generate(*dir)
	if err != nil {
		log.Fatal(err)
	}
	if err := tsemit.Write(*out, src); err != nil {
		log.Fatal(err)
	}
}
