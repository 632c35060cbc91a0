#!/usr/bin/env bash
# Makes a fresh 64-bit Wine prefix for the Windows tests (TEST ONLY):
#   e2e/wine/prefix.sh DIR [TEMPLATE]       (DIR must not exist yet)
# then run programs with WINEPREFIX=DIR /usr/lib/wine/wine64 PROGRAM.exe.
# With TEMPLATE (a prefix this script made and nothing has run in), DIR is a copy of it: wineboot
# writes some 700 MB of DLLs and takes from 20 s (idle machine) to minutes (busy one), so
# `make test-windows` boots one template and gives each test its own copy. The DLLs of System32
# and WinSxS, which no test writes to, are hard links; everything else is copied.
# Debian 12's Wine 8 lacks bcryptprimitives.dll, which Go >= 1.24 programs need at start (see
# bcryptprimitives.c): the stand-in is built into the prefix's System32 and set as a native DLL
# override. Mono and Gecko are switched off (mscoree, mshtml): nothing here needs .NET or
# Internet Explorer, and their installers would look for downloads. winemenubuilder is off too:
# it would turn the installers' Start-menu shortcuts into .desktop files in this machine's $HOME.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: prefix.sh DIR}
[ ! -e "$dir" ] || { echo "prefix.sh: $dir exists; a test prefix is always made fresh" >&2; exit 1; }
if [ -n "${2:-}" ]; then
  tpl=$2 win=drive_c/windows
  [ -f "$tpl/system.reg" ] || { echo "prefix.sh: $tpl is not a Wine prefix" >&2; exit 1; }
  mkdir -p "$dir/$win"
  (cd "$tpl" && tar --exclude="./$win/system32" --exclude="./$win/winsxs" -cf - .) | (cd "$dir" && tar -xf -)
  cp -al "$tpl/$win/system32" "$tpl/$win/winsxs" "$dir/$win/"
  echo "wine prefix $dir copied from $tpl"
  exit 0
fi
# Wine makes the prefix's own folder, not its parents.
mkdir -p "$(dirname "$dir")"
export WINEPREFIX=$dir WINEARCH=win64 WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
wine=/usr/lib/wine/wine64
[ -x $wine ] || { echo "prefix.sh: $wine missing (apt wine64; make test-windows installs it)" >&2; exit 1; }
started=$(date +%s%N)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# wineboot complains that the 32-bit side (syswow64) is missing: Parley is 64-bit only.
if ! $wine wineboot -i >"$log" 2>&1; then
  cat "$log" >&2; exit 1
fi
# The overrides live in the prefix, so every later start obeys them without an environment.
$wine reg add 'HKCU\Software\Wine\DllOverrides' /v bcryptprimitives /d native /f >/dev/null 2>&1
$wine reg add 'HKCU\Software\Wine\DllOverrides' /v winemenubuilder.exe /d '' /f >/dev/null 2>&1
# Wine 8 tells programs it is Windows 7 unless told otherwise; Parley's installers want 10.
$wine reg add 'HKCU\Software\Wine' /v Version /d win10 /f >/dev/null 2>&1
/usr/lib/wine/wineserver -w
sys32=$dir/drive_c/windows/system32
[ -f "$sys32/kernel32.dll" ] || { echo "prefix.sh: wineboot made no $sys32" >&2; cat "$log" >&2; exit 1; }
x86_64-w64-mingw32-gcc -shared -O2 -s -o "$sys32/bcryptprimitives.dll" \
  "$here/bcryptprimitives.c" "$here/bcryptprimitives.def" -ladvapi32
echo "wine prefix $dir ready in $(( ($(date +%s%N) - started) / 1000000 )) ms"
