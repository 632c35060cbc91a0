#!/usr/bin/env bash
# Checks that Windows executables import only DLLs a clean Windows 10/11 has, as listed in
# build/windows/allowed-dlls.txt, and prints each one's imports:
#   windows-imports.sh FILE.exe...
# The import table is what the Windows loader resolves before the program's first instruction:
# a DLL missing there is the "The code execution cannot proceed because libstdc++-6.dll was not
# found" dialog, with nothing the program can do about it. (DLLs a program loads later by name,
# as Go's runtime and golang.org/x/sys/windows do from System32, are not in the table.)
# Exits non-zero naming each DLL that is not allowed.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
list=$root/build/windows/allowed-dlls.txt
objdump=x86_64-w64-mingw32-objdump
command -v $objdump >/dev/null || { echo "windows-imports: $objdump missing (apt binutils-mingw-w64-x86-64)" >&2; exit 1; }
[ $# -gt 0 ] || { echo "usage: windows-imports.sh FILE.exe..." >&2; exit 2; }
allowed=$(grep -v -e '^#' -e '^\s*$' "$list" | tr 'A-Z' 'a-z')

bad=0
for f in "$@"; do
  [ -f "$f" ] || { echo "windows-imports: $f: no such file" >&2; bad=1; continue; }
  dlls=$($objdump -p "$f" | sed -n 's/^\s*DLL Name: //p' | sort -fu)
  [ -n "$dlls" ] || { echo "windows-imports: $f: no import table (not a PE executable?)" >&2; bad=1; continue; }
  echo "  $(basename "$f"): $(echo $dlls)"
  while read -r dll; do
    if ! grep -qxF "$(echo "$dll" | tr 'A-Z' 'a-z')" <<<"$allowed"; then
      echo "  FAIL  $(basename "$f") imports $dll, which a clean Windows does not have (build/windows/allowed-dlls.txt)"
      bad=1
    fi
  done <<<"$dlls"
done
exit $bad
