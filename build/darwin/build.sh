#!/usr/bin/env bash
# Builds Parley.app and a signed, notarisation-ready installer package on a Mac:
#   build/darwin/build.sh            -> dist/parley-<version>-macos-<arch>.pkg
# It cannot run on Linux (it needs Xcode's codesign, pkgbuild, productbuild and notarytool).
#
# Needs: macOS 12+, Xcode command-line tools, Go (go.mod's version), Node 20.19+, and for the
# VP8 codec libvpx (brew install libvpx pkg-config); openh264 and opus come with pion/mediadevices.
#
# Signing and notarisation, all optional (without them: an ad-hoc signed app for local testing):
#   PARLEY_MAC_APP_IDENTITY        "Developer ID Application: Example Corp (TEAMID)"
#   PARLEY_MAC_INSTALLER_IDENTITY  "Developer ID Installer: Example Corp (TEAMID)"
#   PARLEY_NOTARY_PROFILE          a keychain profile made once with
#                                  xcrun notarytool store-credentials PROFILE --apple-id ... --team-id ...
#   PLATFORM                       darwin/arm64 or darwin/amd64 (default: this Mac's); darwin/universal
#                                  needs libvpx for both architectures.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
[ "$(uname -s)" = Darwin ] || { echo "build/darwin/build.sh runs on macOS only (it needs Xcode's signing and packaging tools)" >&2; exit 1; }
for t in go npm xcrun codesign pkgbuild productbuild /usr/libexec/PlistBuddy; do
  command -v "$t" >/dev/null || { echo "build.sh: $t not found" >&2; exit 1; }
done

VERSION=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS="-X github.com/parleyhq/parley/internal/version.Version=$VERSION"
semver=$(scripts/dist/version.sh semver)
short=$(scripts/dist/version.sh semver | cut -d- -f1)
bundlever=$(scripts/dist/version.sh msi)
PLATFORM=${PLATFORM:-darwin/$(go env GOARCH)}
arch=${PLATFORM#darwin/}
work=out/dist/macos
rm -rf "$work"; mkdir -p "$work" dist

echo "== frontend"
npm ci --no-audit --no-fund --loglevel=error
npm run --silent build:frontend

echo "== app ($PLATFORM)"
go build -o out/tools/wails github.com/wailsapp/wails/v2/cmd/wails
CGO_ENABLED=1 out/tools/wails build -platform "$PLATFORM" -s -m -skipbindings -nosyncgomod -trimpath \
  -ldflags "$LDFLAGS" -nocolour
app_built=$(find build/bin -maxdepth 1 -name '*.app' | head -1)
[ -n "$app_built" ] || { echo "build.sh: wails made no .app in build/bin" >&2; exit 1; }
app=$work/Parley.app
rm -rf "$app"; ditto "$app_built" "$app"
exe=$(/usr/libexec/PlistBuddy -c "Print :CFBundleExecutable" "$app/Contents/Info.plist")

# parley-policy next to the app binary, for MDM scripts:
#   sudo /Applications/Parley.app/Contents/MacOS/parley-policy set -hub-url https://hub.example.com -lock hub_url
GOOS=darwin GOARCH=$([ "$arch" = universal ] && echo arm64 || echo "$arch") CGO_ENABLED=0 \
  go build -trimpath -ldflags "-s -w $LDFLAGS" -o "$app/Contents/MacOS/parley-policy" ./cmd/parley-policy

# Versions from git, and the translated permission sentences.
/usr/libexec/PlistBuddy -c "Set :CFBundleShortVersionString $short" "$app/Contents/Info.plist"
/usr/libexec/PlistBuddy -c "Set :CFBundleVersion $bundlever" "$app/Contents/Info.plist"
cp -R build/darwin/en.lproj build/darwin/es.lproj "$app/Contents/Resources/"
plutil -lint "$app/Contents/Info.plist"
for key in NSCameraUsageDescription NSMicrophoneUsageDescription; do
  /usr/libexec/PlistBuddy -c "Print :$key" "$app/Contents/Info.plist" >/dev/null
done

echo "== codesign (hardened runtime)"
identity=${PARLEY_MAC_APP_IDENTITY:--}
tsflag=--timestamp
[ "$identity" = - ] && tsflag=--timestamp=none
codesign --force $tsflag --options runtime --sign "$identity" "$app/Contents/MacOS/parley-policy"
codesign --force $tsflag --options runtime --entitlements build/darwin/entitlements.plist \
  --sign "$identity" "$app"
codesign --verify --deep --strict --verbose=2 "$app"
codesign -d --entitlements - "$app" 2>/dev/null | grep -q com.apple.security.device.camera \
  || { echo "build.sh: the signature lacks the camera entitlement" >&2; exit 1; }
"$app/Contents/MacOS/$exe" --version

echo "== pkg"
pkgbuild --component "$app" --install-location /Applications \
  --identifier com.parleyhq.parley --version "$short" "$work/parley-component.pkg"
pkg=dist/parley-$semver-macos-$arch.pkg
signargs=()
[ -n "${PARLEY_MAC_INSTALLER_IDENTITY:-}" ] && signargs=(--sign "$PARLEY_MAC_INSTALLER_IDENTITY" --timestamp)
productbuild --identifier com.parleyhq.parley.installer --version "$short" \
  --package "$work/parley-component.pkg" "${signargs[@]}" "$pkg"

if [ -n "${PARLEY_NOTARY_PROFILE:-}" ]; then
  [ "$identity" != - ] && [ ${#signargs[@]} -gt 0 ] \
    || { echo "build.sh: notarisation needs PARLEY_MAC_APP_IDENTITY and PARLEY_MAC_INSTALLER_IDENTITY" >&2; exit 1; }
  echo "== notarise"
  xcrun notarytool submit "$pkg" --keychain-profile "$PARLEY_NOTARY_PROFILE" --wait
  xcrun stapler staple "$pkg"
  spctl --assess --type install --verbose "$pkg"
else
  echo "build.sh: not notarised (set PARLEY_NOTARY_PROFILE); Gatekeeper will refuse this pkg on other Macs"
fi
echo "dist: $pkg ($(du -k "$pkg" | cut -f1) KiB)"
