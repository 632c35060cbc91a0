# macOS (issue 16): `make vet-darwin` (part of `make test`) compiles and vets for darwin every
# package that needs no cgo; the app itself is built and signed on a Mac (build/darwin/build.sh).
E2E_TARGETS += vet-darwin
.PHONY: vet-darwin

vet-darwin: deps web
	build/darwin/vet.sh
