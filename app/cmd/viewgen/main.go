// Command viewgen writes frontend/src/api/app.gen.ts, the TypeScript twin of the agent app's
// services (package app): their views, bound methods and events.
package main

import (
	"flag"
	"log"

	"github.com/parleyhq/parley/app/internal/viewgen"
	"github.com/parleyhq/parley/internal/tsemit"
)

func main() {
	out := flag.String("o", "", "output file (default stdout)")
	dir := flag.String("dir", ".", "directory of package app")
	wire := flag.String("wire", "../../../web/wire.gen", "import path of web/wire.gen.ts from the output")
	flag.Parse()
	src, err := viewgen.Generate(*dir, *wire)
	if err != nil {
		log.Fatal(err)
	}
	if err := tsemit.Write(*out, src); err != nil {
		log.Fatal(err)
	}
}
