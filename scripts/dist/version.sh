#!/usr/bin/env bash
# Prints the build's version in the form a package format wants, derived from git like the
# Makefile's VERSION (git describe --tags --always --dirty).
#   version.sh semver   0.3.0, 0.3.0-4-gabc1234, or 0.0.0-57-gabc1234 before the first tag
#   version.sh deb      0.3.0, 0.3.0+4.gabc1234, or 0.0.0+57.gabc1234 (sorts after the tag)
#   version.sh win      0.3.0.4: four numbers for Windows file versions and NSIS
#   version.sh msi      0.3.4 style: major.minor.build, where build = patch*1000 + commits since the
#                       tag, so every commit upgrades the last (MSI ignores a fourth number)
# PARLEY_COMMIT (set once by mk/dist.mk) pins the commit, so every artifact of one `make dist`
# carries the same version even while commits land.
set -euo pipefail
cd "$(dirname "$0")/../.."
rev=${PARLEY_COMMIT:-HEAD}
desc=$(git describe --tags --long --match 'v[0-9]*' "$rev" 2>/dev/null || true)
if [[ $desc =~ ^v([0-9]+)\.([0-9]+)\.([0-9]+)-([0-9]+)-g([0-9a-f]+)$ ]]; then
  maj=${BASH_REMATCH[1]} min=${BASH_REMATCH[2]} pat=${BASH_REMATCH[3]} n=${BASH_REMATCH[4]} h=${BASH_REMATCH[5]}
else
  maj=0 min=0 pat=0
  n=$(git rev-list --count "$rev" 2>/dev/null || echo 0)
  h=$(git rev-parse --short "$rev" 2>/dev/null || echo unknown)
fi
case "${1:-semver}" in
  semver) if [ "$n" = 0 ]; then echo "$maj.$min.$pat"; else echo "$maj.$min.$pat-$n-g$h"; fi ;;
  deb)    if [ "$n" = 0 ]; then echo "$maj.$min.$pat"; else echo "$maj.$min.$pat+$n.g$h"; fi ;;
  win)    echo "$maj.$min.$pat.$n" ;;
  msi)    echo "$maj.$min.$((pat * 1000 + n))" ;;
  *) echo "usage: version.sh semver|deb|win|msi" >&2; exit 2 ;;
esac
