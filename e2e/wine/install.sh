#!/usr/bin/env bash
# Installs, starts and uninstalls Parley's Windows installers from dist/ under Debian's Wine, the
# way IT rolls them out, each in a fresh prefix (e2e/wine/prefix.sh):
#   - silent install with IT's parameters (MSI: msiexec /i /qn HUBURL= LOCK=; NSIS: /S /HUBURL=
#     /LOCK=), exit code 0;
#   - the installed files are the signed ones from the build, plus the Start-menu shortcut, the
#     Apps & features entry, and %ProgramData%\Parley\policy.json holding the parameters, which
#     the installed parley-policy.exe reads back;
#   - the installed parley.exe starts, loads every DLL it imports, and gets as far as looking for
#     the WebView2 runtime (which Wine lacks): Wine names any DLL it cannot load, and the test
#     fails on it;
#   - silent uninstall: nothing is left of the install but what docs/deploy.md says stays (the
#     policy file and its folder), on disk and in the registry.
# Prints "N passed, N failed" last; exits non-zero on any failure.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
wine=/usr/lib/wine/wine64
wineserver=/usr/lib/wine/wineserver
hub=https://hub.example.com

pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "  ok    $*"; }
bad() { fail=$((fail + 1)); echo "  FAIL  $*"; }
check() { local what=$1; shift; if "$@" >"$work/check.out" 2>&1; then ok "$what"; else bad "$what"; sed 's/^/        /' "$work/check.out" | tail -15; fi; }
one() { local f; f=$(ls $1 2>/dev/null | head -1); [ -n "$f" ] || { echo "install.sh: no $1 (run make dist-windows)" >&2; exit 1; }; echo "$f"; }

msi=$(one 'dist/parley-*-windows-amd64.msi')
setup=$(one 'dist/parley-*-windows-amd64-setup.exe')
built=out/dist/windows
work=$(mktemp -d)
cleanup() {
  for p in "$work"/msi "$work"/nsis; do [ -d "$p" ] && WINEPREFIX=$p $wineserver -k 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

# Two fresh prefixes, copies of $PARLEY_WINE_TEMPLATE when make gives one (see prefix.sh).
t0=$(date +%s)
e2e/wine/prefix.sh "$work/msi" ${PARLEY_WINE_TEMPLATE:-} >"$work/msi.boot" 2>&1 & b1=$!
e2e/wine/prefix.sh "$work/nsis" ${PARLEY_WINE_TEMPLATE:-} >"$work/nsis.boot" 2>&1 & b2=$!
wait $b1 && wait $b2 || { cat "$work"/*.boot >&2; exit 1; }
echo "  info  two fresh Wine prefixes in $(( $(date +%s) - t0 )) s"

# w PREFIX PROGRAM ARGS... runs a Windows program in the prefix and waits for all its processes.
w() { local p=$1; shift; WINEPREFIX=$p WINEDEBUG=-all $wine "$@"; local rc=$?; WINEPREFIX=$p $wineserver -w; return $rc; }
winpath() { echo "Z:$(realpath "$1" | tr / '\\')"; }

# Registry keys that every Windows has from its own setup, which Wine makes only when first used:
# Windows Installer's containers (msiexec makes them at the first MSI; the uninstall empties them,
# and anything of Parley's inside them is a subkey, which still counts) and the audio endpoints
# (made when parley.exe first opens audio; a subtree of the system's, not of Parley's).
windows_own='^REG (Software\\\\Classes\\\\Installer\\\\(Features|Products|UpgradeCodes)|Software\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Installer\\\\(UpgradeCodes|UserData\\\\S-1-5-18\\\\(Components|Products)))$|^REG Software\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\MMDevices\\\\'

# snapshot PREFIX lists the prefix's files and registry keys outside Wine's own bookkeeping.
snapshot() {
  local p=$1
  (cd "$p/drive_c" && find . -path ./windows/Installer -prune -o -path './windows/temp' -prune \
    -o -path './users/*/AppData/Local/Temp' -prune -o -path './users/*/Temp' -prune -o -print | sort)
  WINEPREFIX=$p $wineserver -w
  for reg in system.reg user.reg; do sed -n 's/^\[\(.*\)\] [0-9]*$/REG \1/p' "$p/$reg"; done | grep -Ev "$windows_own" | sort
}

# installed PREFIX KIND checks an installed Parley.
installed() {
  local p=$1 kind=$2
  local dir="$p/drive_c/Program Files/Parley"
  local lnk="$p/drive_c/ProgramData/Microsoft/Windows/Start Menu/Programs/Parley.lnk"
  local policy="$p/drive_c/ProgramData/Parley/policy.json"
  check "$kind: parley.exe and parley-policy.exe in C:\\Program Files\\Parley, as built and signed" \
    sh -c "cmp '$dir/parley.exe' '$built/parley.exe' && cmp '$dir/parley-policy.exe' '$built/parley-policy.exe'"
  # Wine 8's msiexec puts ProgramMenuFolder in the installing user's Start menu even for an
  # ALLUSERS=1 package (Windows uses the all-users one): for the MSI either place counts.
  if [ "$kind" = MSI ] && [ ! -f "$lnk" ]; then
    lnk=$(ls "$p"/drive_c/users/*/AppData/Roaming/Microsoft/Windows/Start\ Menu/Programs/Parley.lnk 2>/dev/null | head -1)
    echo "  info  MSI: Parley.lnk is in the user's Start menu under Wine: $lnk"
  fi
  check "$kind: Start-menu shortcut Parley.lnk points at the installed parley.exe" \
    sh -c "{ strings '$lnk'; strings -el '$lnk'; } | grep -qi 'Program Files.Parley.parley.exe'"
  check "$kind: Apps & features lists Parley" \
    sh -c "WINEPREFIX='$p' WINEDEBUG=-all $wine reg query 'HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall' /s 2>/dev/null | tr -d '\\r' | grep -q 'DisplayName.*REG_SZ.*Parley'"
  check "$kind: policy.json holds the hub and the lock" python3 -c "
import json, sys
p = json.load(open(sys.argv[1], encoding='utf-8-sig'))
assert p == {'hub_url': '$hub', 'locked': ['hub_url']}, p" "$policy"
  check "$kind: the installed parley-policy.exe reads the machine's policy" \
    sh -c "WINEPREFIX='$p' WINEDEBUG=-all $wine 'C:\\Program Files\\Parley\\parley-policy.exe' check 2>&1 | tr -d '\r' | grep -q 'hub_url *$hub'"
  webview2 "$p" "$kind"
}

# webview2 PREFIX KIND starts the installed parley.exe with Wine's loader and registry traces on,
# and waits until it looks up the WebView2 runtime (Microsoft's EdgeUpdate client key).
webview2() {
  local p=$1 kind=$2 log=$work/$2-parley.log
  WINEPREFIX=$p WINEDEBUG=err+module,trace+reg timeout -k 5 120 \
    xvfb-run -a $wine 'C:\Program Files\Parley\parley.exe' >"$log" 2>&1 &
  local pid=$! found= started=$(date +%s)
  while [ $(( $(date +%s) - started )) -lt 90 ]; do
    # The WebView2 loader reads Software\Microsoft\EdgeUpdate\... key by key.
    if grep -q 'NtOpenKeyEx.*L"EdgeUpdate"' "$log"; then found=$(( $(date +%s) - started )); break; fi
    kill -0 $pid 2>/dev/null || break
    sleep 0.2
  done
  WINEPREFIX=$p $wineserver -k 2>/dev/null; wait $pid 2>/dev/null
  check "$kind: parley.exe loads every DLL it imports (no 'not found' from Wine's loader)" \
    sh -c "! grep -i 'err:module' '$log'"
  check "$kind: parley.exe gets as far as looking for the WebView2 runtime" test -n "$found"
  [ -n "$found" ] && echo "  info  $kind: the installed parley.exe looked for WebView2 ${found} s after it was started"
}

# removed PREFIX KIND BEFORE checks that the uninstall left only what docs/deploy.md says stays.
removed() {
  local p=$1 kind=$2 before=$3
  snapshot "$p" >"$work/$kind.after"
  comm -13 "$before" "$work/$kind.after" >"$work/$kind.left"
  check "$kind: uninstall leaves only %ProgramData%\\Parley\\policy.json (docs/deploy.md)" \
    bash -c "diff <(printf '%s\n' ./ProgramData/Parley ./ProgramData/Parley/policy.json) '$work/$kind.left'"
  check "$kind: no registry key or value names Parley after the uninstall" \
    sh -c "! grep -i -n parley '$p/system.reg' '$p/user.reg'"
}

echo "== MSI: msiexec /i $(basename "$msi") /qn HUBURL=$hub LOCK=hub_url"
snapshot "$work/msi" >"$work/msi.before"
w "$work/msi" msiexec /i "$(winpath "$msi")" /qn HUBURL=$hub LOCK=hub_url /l*v 'C:\msi-install.log'; rc=$?
check "msiexec /i exits 0 (got $rc)" test $rc -eq 0
[ $rc -eq 0 ] || iconv -f utf-16 -t utf-8 "$work/msi/drive_c/msi-install.log" 2>/dev/null | grep -iE 'error|return value 3' | head -20
installed "$work/msi" MSI
w "$work/msi" msiexec /x "$(winpath "$msi")" /qn; rc=$?
check "msiexec /x exits 0 (got $rc)" test $rc -eq 0
rm -f "$work/msi/drive_c/msi-install.log"
removed "$work/msi" MSI "$work/msi.before"

echo "== NSIS: $(basename "$setup") /S /HUBURL=$hub /LOCK=hub_url"
snapshot "$work/nsis" >"$work/nsis.before"
w "$work/nsis" "$(winpath "$setup")" /S /HUBURL=$hub /LOCK=hub_url; rc=$?
check "setup.exe /S exits 0 (got $rc)" test $rc -eq 0
installed "$work/nsis" NSIS
check "NSIS: uninstall.exe imports only DLLs a clean Windows has" \
  scripts/dist/windows-imports.sh "$work/nsis/drive_c/Program Files/Parley/uninstall.exe"
# The uninstaller copies itself to %TEMP% and starts the copy; w waits for both.
w "$work/nsis" 'C:\Program Files\Parley\uninstall.exe' /S; rc=$?
check "uninstall.exe /S exits 0 (got $rc)" test $rc -eq 0
removed "$work/nsis" NSIS "$work/nsis.before"

echo "install.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
