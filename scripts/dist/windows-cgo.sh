# Sourced (not run) by the Windows builds: sets the environment that cross-compiles Parley's cgo
# code for windows/amd64 with mingw-w64, against the static OpenH264 and Opus that
# pion/mediadevices ships (Debian has no mingw libvpx or libjpeg-turbo: build with
# -tags novpx,noturbojpeg, so Windows gets H.264 + Opus).
#
# The mingw runtime is linked statically (-static): without it every exe with C++ in it imports
# libgcc_s_seh-1.dll and libstdc++-6.dll (and C code may pull in libwinpthread-1.dll), which no
# Windows machine has. Linking them in, rather than shipping the DLLs beside parley.exe, keeps one
# signed file per program, leaves no DLL for another program's copy to shadow or for an attacker
# to plant in the install folder, and is what GCC's runtime library exception allows.
# scripts/dist/windows-imports.sh checks the result against build/windows/allowed-dlls.txt.
#
# Needs: the repository root as $root, and go on PATH (for the module's folder). The caller sets
# GOOS=windows GOARCH=amd64 on its go build (the Wails CLI does with -platform windows/amd64).
: "${root:?windows-cgo.sh: set root to the repository root before sourcing}"
_mdir=$(cd "$root" && go list -m -f '{{.Dir}}' github.com/pion/mediadevices)
mkdir -p "$root/out/win-include"
ln -sfn "$_mdir/pkg/codec/openh264/include/openh264" "$root/out/win-include/wels"
export CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc CXX=x86_64-w64-mingw32-g++
# -w: the vendored C (miniaudio, the DirectShow driver) warns by the hundred under mingw's gcc.
export CGO_CFLAGS="-O2 -w -I$root/out/win-include -I$_mdir/pkg/codec/opus/include"
export CGO_LDFLAGS="$_mdir/pkg/codec/openh264/lib/libopenh264-windows-x64.a $_mdir/pkg/codec/opus/lib/libopus-windows-x64.a -lssp -lstdc++ -static"
export WINDOWS_TAGS=novpx,noturbojpeg
unset _mdir
