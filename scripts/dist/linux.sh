#!/usr/bin/env bash
# Builds a Linux .deb into dist/ with nfpm (out/tools/nfpm, built from the Go module by mk/dist.mk).
#   linux.sh agent   dist/parley_<version>_amd64.deb: the agent app, parley-policy, desktop entry, icon
#   linux.sh hub     dist/parley-hub_<version>_amd64.deb: the hub with its systemd unit
# Needs frontend/dist (agent) or portal/dist (hub) built first. VERSION and LDFLAGS come from the
# Makefile; dependencies are computed from the binaries by dpkg-shlibdeps, so they name the
# library packages of the Debian release that built them.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
what=${1:?usage: linux.sh agent|hub}
: "${VERSION:?VERSION not set (run through make)}" "${LDFLAGS:?LDFLAGS not set (run through make)}"
debver=$(scripts/dist/version.sh deb)
stage=out/dist/linux-$what
rm -rf "$stage"; mkdir -p "$stage" dist
export CGO_ENABLED=1

case $what in
  agent)
    go build -trimpath -tags desktop,production,webkit2_41 -ldflags "-s -w $LDFLAGS" -o "$stage/parley" .
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $LDFLAGS" -o "$stage/parley-policy" ./cmd/parley-policy
    bins=("$stage/parley" "$stage/parley-policy")
    conf=build/linux/agent/nfpm.yaml ;;
  hub)
    go build -trimpath -ldflags "-s -w $LDFLAGS" -o "$stage/parley-hub" ./cmd/parley-hub
    bins=("$stage/parley-hub")
    conf=build/linux/hub/nfpm.yaml ;;
  *) echo "usage: linux.sh agent|hub" >&2; exit 2 ;;
esac

# Shared-library dependencies, the Debian way.
shl=$(mktemp -d); trap 'rm -rf "$shl"' EXIT
mkdir "$shl/debian"
printf 'Source: parley\n\nPackage: parley\nArchitecture: any\n' >"$shl/debian/control"
cp "${bins[@]}" "$shl/"
deps=$(cd "$shl" && dpkg-shlibdeps -O -e "${bins[@]##*/}" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$deps" ] || { echo "linux.sh: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
yamldeps=$(echo "$deps" | sed 's/, */\n/g' | sed 's/.*/"&"/' | paste -sd, | sed 's/,/, /g')

pkg=$(sed -n 's/^name: //p' "$conf")
rm -f dist/"${pkg}"_*_amd64.deb
sed -e "s|@VERSION@|$debver|" -e "s|@STAGE@|$stage|g" -e "s|@DEPENDS@|$yamldeps|" "$conf" >"$stage/nfpm.yaml"
out/tools/nfpm package --config "$stage/nfpm.yaml" --packager deb --target dist/ >/dev/null
deb=dist/${pkg}_${debver}_amd64.deb
[ -f "$deb" ] || { echo "linux.sh: nfpm did not write $deb" >&2; ls dist >&2; exit 1; }
echo "dist: $deb ($(du -k "$deb" | cut -f1) KiB) depends: $deps"
