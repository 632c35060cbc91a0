#!/usr/bin/env bash
# Builds the signed Windows installers of the agent app into dist/:
#   parley-<version>-windows-amd64-setup.exe   NSIS, per-machine (build/windows/installer/parley.nsi)
#   parley-<version>-windows-amd64.msi         wixl, per-machine (build/windows/msi/parley.wxs)
# The app is cross-compiled with cgo by mingw-w64 through the Wails CLI (out/tools/wails), so it
# carries whatever media engine the app links: H.264 and Opus from the static libraries that
# pion/mediadevices ships for windows/amd64; -tags novpx,noturbojpeg because Debian has no mingw
# libvpx or libjpeg-turbo (no VP8 on Windows; the render bridge uses Go's image/jpeg there). The
# mingw runtime is linked in statically (scripts/dist/windows-cgo.sh says why), and every exe is
# checked to import only DLLs a clean Windows has (scripts/dist/windows-imports.sh). Every exe, the
# uninstaller included, and both installers are Authenticode-signed by scripts/dist/sign.sh.
# Needs frontend/dist built first; VERSION and LDFLAGS come from the Makefile.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
: "${VERSION:?VERSION not set (run through make)}" "${LDFLAGS:?LDFLAGS not set (run through make)}"
semver=$(scripts/dist/version.sh semver)
stage=out/dist/windows
rm -rf "$stage"; mkdir -p "$stage" dist
rm -f dist/parley-*-windows-amd64-setup.exe dist/parley-*-windows-amd64.msi

# The media engine's codecs and the static mingw runtime (scripts/dist/windows-cgo.sh).
. scripts/dist/windows-cgo.sh

echo "dist: cross-compiling parley.exe (windows/amd64, cgo with mingw-w64)"
out/tools/wails build -platform windows/amd64 -tags "$WINDOWS_TAGS" -s -m -skipbindings -nosyncgomod -trimpath \
    -ldflags "$LDFLAGS" -o parley-dist.exe -nocolour -v 1 >"$stage/wails.log" 2>&1 \
  || { tail -40 "$stage/wails.log" >&2; exit 1; }
mv build/bin/parley-dist.exe "$stage/parley.exe"
GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $LDFLAGS" \
  -o "$stage/parley-policy.exe" ./cmd/parley-policy
scripts/dist/sign.sh "$stage/parley.exe" "$stage/parley-policy.exe"
echo "dist: DLLs the Windows programs import"
scripts/dist/windows-imports.sh "$stage/parley.exe" "$stage/parley-policy.exe"

webview2=$(go env GOMODCACHE)/github.com/wailsapp/wails/v2@$(go list -m -f '{{.Version}}' github.com/wailsapp/wails/v2)/internal/webview2runtime/MicrosoftEdgeWebview2Setup.exe
[ -f "$webview2" ] || { echo "windows.sh: no WebView2 bootstrapper at $webview2" >&2; exit 1; }
cp build/windows/icon.ico "$stage/icon.ico"

# NSIS: makensis signs the uninstaller it writes through !uninstfinalize.
setup=dist/parley-$semver-windows-amd64-setup.exe
makensis -V2 -INPUTCHARSET UTF8 \
  -DVERSION="$semver" -DNUMVER="$(scripts/dist/version.sh win)" \
  -DAGENT_EXE="$root/$stage/parley.exe" -DPOLICY_EXE="$root/$stage/parley-policy.exe" \
  -DWEBVIEW2_SETUP="$webview2" -DICON="$root/$stage/icon.ico" -DOUTFILE="$root/$setup" \
  -DSIGN="$root/scripts/dist/sign.sh" \
  build/windows/installer/parley.nsi
scripts/dist/sign.sh "$setup"
scripts/dist/windows-imports.sh "$setup"

# MSI: wixl wants source paths relative to the working directory.
msi=dist/parley-$semver-windows-amd64.msi
(cd "$stage" && wixl -a x64 -D Version="$(../../../scripts/dist/version.sh msi)" -D DisplayVersion="$semver" \
  -D AgentExe=parley.exe -D PolicyExe=parley-policy.exe -D Icon=icon.ico \
  -o "$root/$msi" "$root/build/windows/msi/parley.wxs" 2> >(grep -v -e '^$' -e GLib-GObject-WARNING >&2))
# wixl has no Secure="yes": make the policy properties secure by hand, so they reach the elevated
# part of the install when a standard user starts it and Windows asks for elevation.
msibuild "$msi" -q "UPDATE \`Property\` SET \`Value\` = 'WIX_DOWNGRADE_DETECTED;WIX_UPGRADE_DETECTED;HUBURL;REGION;PROVIDER;LOCK;POLICYFILE' WHERE \`Property\` = 'SecureCustomProperties'"
scripts/dist/sign.sh "$msi"
for f in "$setup" "$msi"; do echo "dist: $f ($(du -k "$f" | cut -f1) KiB)"; done
