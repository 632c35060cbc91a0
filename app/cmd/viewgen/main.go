// Command viewgen writes frontend/src/api/app.gen.ts, the TypeScript twin of the agent app's
// services (package app): their views, bound methods and events.
package main

import (
	"flag"
	"log"
	"os"

	"github.com/parleyhq/parley/app/internal/viewgen"
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
	if *out == "" {
		os.Stdout.Write(src)
		return
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}
