#!/usr/bin/env bash
# Checks what `make dist` wrote to dist/, the way IT would meet it (run as root: it installs the
# .debs on this machine and removes them again):
#   - sizes, each agent installer at most 20 MB;
#   - Windows: Authenticode signatures (osslsigncode verify) of both installers and of the exes
#     inside the MSI, the MSI's tables read back with msiinfo (per-machine, upgrade code, the
#     policy custom actions), and the real-certificate path of sign.sh (a PFX from the environment);
#   - the agent .deb: installed with dpkg, desktop entry valid, `parley --version`, the installed
#     app under Xvfb taking a customer's chat from the portal (e2e/app-deb.test.mjs), parley-policy
#     loading a good policy and refusing a malformed one with file:line:column, removed and purged
#     with nothing left behind;
#   - the hub .deb: installed, unit checked with systemd-analyze verify, the installed hub started
#     as its system user with the packaged environment file and answering HTTP, removed (database,
#     user and conffile kept) and purged (all gone);
#   - the macOS plists (parsed, usage descriptions and device entitlements present).
# Prints "N passed, N failed" last; exits non-zero on any failure.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
[ "$(id -u)" -eq 0 ] || { echo "test-dist: must run as root (it installs packages)" >&2; exit 1; }

pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "  ok    $*"; }
bad() { fail=$((fail + 1)); echo "  FAIL  $*"; }
check() { local what=$1; shift; if "$@" >/tmp/test-dist.out 2>&1; then ok "$what"; else bad "$what"; sed 's/^/        /' /tmp/test-dist.out | tail -15; fi; }
one() { local f; f=$(ls $1 2>/dev/null | head -1); [ -n "$f" ] || { echo "test-dist: no $1 in dist/ (run make dist)" >&2; exit 1; }; echo "$f"; }

agent_deb=$(one 'dist/parley_*_amd64.deb')
hub_deb=$(one 'dist/parley-hub_*_amd64.deb')
setup=$(one 'dist/parley-*-windows-amd64-setup.exe')
msi=$(one 'dist/parley-*-windows-amd64.msi')
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
limit=$((20 * 1024 * 1024))

echo "== sizes"
for f in "$setup" "$msi" "$agent_deb" "$hub_deb"; do
  printf '  %-52s %6.1f MB\n' "${f#dist/}" "$(echo "scale=1; $(stat -c %s "$f") / 1048576" | bc)"
done
for f in "$setup" "$msi" "$agent_deb"; do
  check "${f#dist/} is at most 20 MB" test "$(stat -c %s "$f")" -le $limit
done

echo "== windows signatures"
cafile=${PARLEY_SIGN_CAFILE:-out/dist/testcert/testcert.pem}
verify() { osslsigncode verify -in "$1" -CAfile "$cafile" 2>&1 | grep -q '^Succeeded'; }
check "NSIS installer signature verifies" verify "$setup"
check "MSI signature verifies" verify "$msi"
msiextract -C "$work/msi" "$msi" >/dev/null
agent_exe=$(find "$work/msi" -name parley.exe | head -1)
policy_exe=$(find "$work/msi" -name parley-policy.exe | head -1)
check "MSI holds parley.exe and parley-policy.exe" test -n "$agent_exe" -a -n "$policy_exe"
check "parley.exe in the MSI is signed" verify "$agent_exe"
check "parley-policy.exe in the MSI is signed" verify "$policy_exe"
check "parley.exe is a 64-bit Windows GUI program" sh -c "file '$agent_exe' | grep -q 'PE32+ executable (GUI) x86-64'"
if go version -m "$agent_exe" 2>/dev/null | grep -q 'github.com/pion/mediadevices'; then
  echo "  info  parley.exe links the media engine"
  strings "$agent_exe" >"$work/strings"
  check "parley.exe carries the OpenH264 codec" grep -q 'openh264 codec version' "$work/strings"
  check "parley.exe carries the Opus codec" grep -q '_Cfunc_opus_encoder_create' "$work/strings"
else
  echo "  info  parley.exe does not link pion/mediadevices (the app does not import the media engine yet)"
fi
# The PFX path of sign.sh, as a release build with a real certificate uses it.
openssl pkcs12 -export -inkey out/dist/testcert/testkey.pem -in out/dist/testcert/testcert.pem \
  -out "$work/real.pfx" -passout pass:s3cret-test 2>/dev/null
cp "$policy_exe" "$work/pfx-signed.exe"
osslsigncode remove-signature -in "$work/pfx-signed.exe" -out "$work/unsigned.exe" >/dev/null 2>&1
mv "$work/unsigned.exe" "$work/pfx-signed.exe"
check "sign.sh signs with PARLEY_SIGN_PFX and PARLEY_SIGN_PASSWORD" \
  env PARLEY_SIGN_PFX="$work/real.pfx" PARLEY_SIGN_PASSWORD=s3cret-test scripts/dist/sign.sh "$work/pfx-signed.exe"
check "the PFX-signed file verifies" verify "$work/pfx-signed.exe"

echo "== msi tables"
for t in Property CustomAction InstallExecuteSequence File; do msiinfo export "$msi" $t | tr -d '\r' >"$work/$t"; done
msiinfo suminfo "$msi" >"$work/suminfo"
semver=${msi#dist/parley-}; semver=${semver%-windows-amd64.msi}
check "per-machine install (ALLUSERS=1)" grep -qP '^ALLUSERS\t1$' "$work/Property"
check "fixed UpgradeCode (upgrades replace the old version)" grep -qP '^UpgradeCode\t\{DCB15894-21E0-492E-AD4D-41BE4FBA133F\}$' "$work/Property"
check "ProductVersion is numeric (major.minor.build)" grep -qP '^ProductVersion\t\d+\.\d+\.\d+$' "$work/Property"
check "summary names the git version $semver" grep -qF "Subject: Parley agent app $semver" "$work/suminfo"
check "policy properties are secure (passed to the elevated install)" \
  grep -qP '^SecureCustomProperties\t.*HUBURL;REGION;PROVIDER;LOCK;POLICYFILE' "$work/Property"
check "x64 package" grep -q 'Template: x64;1033' "$work/suminfo"
check "WritePolicy runs parley-policy deferred as LocalSystem (type 3090)" \
  grep -qP '^WritePolicy\t3090\tPolicyExe\tset -hub-url "\[HUBURL\]"' "$work/CustomAction"
check "InstallPolicyFile installs POLICYFILE" grep -qP '^InstallPolicyFile\t3090\tPolicyExe\tinstall "\[POLICYFILE\]"' "$work/CustomAction"
check "policy actions are sequenced after InstallFiles, not on removal" \
  grep -qP '^WritePolicy\t\(HUBURL OR REGION OR PROVIDER OR LOCK\) AND NOT REMOVE\t' "$work/InstallExecuteSequence"
check "File table lists parley.exe" grep -qP '\tparley.exe\t' "$work/File"

echo "== agent .deb"
dpkg-deb -f "$agent_deb" Depends >"$work/depends"
check "declares libwebkit2gtk-4.1-0 and libgtk-3-0" sh -c "grep -q libwebkit2gtk-4.1-0 '$work/depends' && grep -q libgtk-3-0 '$work/depends'"
echo "  info  Depends: $(cat "$work/depends")"
dpkg-deb -c "$agent_deb" | awk '{print $6}' | sed 's|^\./|/|' >"$work/agent-files"
check "ships binary, policy tool, desktop entry and icon" sh -c "grep -qx /usr/bin/parley '$work/agent-files' && grep -qx /usr/bin/parley-policy '$work/agent-files' && grep -qx /usr/share/applications/parley.desktop '$work/agent-files' && grep -qx /usr/share/icons/hicolor/512x512/apps/parley.png '$work/agent-files'"
dpkg -r parley >/dev/null 2>&1; dpkg --purge parley >/dev/null 2>&1
check "dpkg -i installs the agent" dpkg -i "$agent_deb"
check "desktop entry is valid" desktop-file-validate /usr/share/applications/parley.desktop
check "parley --version prints the stamped version" sh -c "/usr/bin/parley --version | grep -qx 'parley $(git describe --tags --always --dirty 2>/dev/null)' || /usr/bin/parley --version | grep -q '^parley [^d]'"
echo "  info  $(/usr/bin/parley --version 2>/dev/null); $(/usr/bin/parley-policy --version 2>&1)"
noise=$(/usr/bin/parley --version 2>&1 >/dev/null | grep -c .)
[ "$noise" -gt 0 ] && echo "  info  parley --version also wrote $noise lines to stderr (audio back-ends probed at start-up on a machine without a sound card)"
# The installed release binary (no test harness) runs a shift's first minute: under Xvfb against
# out/parley-hub -demo, the agent signs in by typing, a portal customer in Chromium writes, the agent takes the chat with Alt+A and answers.
check "the installed app under Xvfb takes a portal customer's chat with Alt+A and answers it" \
  env PARLEY_APP_BIN=/usr/bin/parley PARLEY_HUB="${PARLEY_HUB:-out/parley-hub}" node --test --test-timeout=300000 e2e/app-deb.test.mjs
check "parley-policy path is /etc/parley/policy.json" sh -c "[ \"\$(/usr/bin/parley-policy path)\" = /etc/parley/policy.json ]"
check "the packaged example policy is valid" /usr/bin/parley-policy check /usr/share/doc/parley/policy.example.json
printf '{\n  "hub_url": "https://hub.example.com",\n  "region": "gcc",\n  "locked": ["hub_url"]\n}\n' >"$work/good.json"
printf '{\n  "hub_url": "https://hub.example.com",\n  "hubURL": "https://evil.example"\n}\n' >"$work/bad.json"
check "installed parley-policy loads a policy" sh -c "/usr/bin/parley-policy check '$work/good.json' | grep -q 'hub_url *https://hub.example.com'"
check "a malformed policy is refused naming file:line:column" \
  sh -c "! /usr/bin/parley-policy check '$work/bad.json' 2>'$work/err' && grep -q '$work/bad.json:3:3: unknown key' '$work/err'"
check "the app leaves policy checks to parley-policy (no -check-policy)" sh -c "! /usr/bin/parley -h 2>&1 | grep -q -- '-check-policy'"
check "the shipped app has no demo hub (-demo is in make demo's build only)" sh -c "! /usr/bin/parley -h 2>&1 | grep -q -- '-demo'"
dpkg -L parley | while read -r f; do [ -f "$f" ] && echo "$f"; done >"$work/agent-installed"
check "dpkg -r removes the agent" dpkg -r parley
check "no installed file is left after removal" sh -c "! xargs -a '$work/agent-installed' ls -d 2>/dev/null | grep ."
check "dpkg --purge leaves no package record" sh -c "dpkg --purge parley >/dev/null && ! dpkg-query -W -f='\${Status}' parley 2>/dev/null | grep -q installed && [ ! -e /usr/share/doc/parley ]"

echo "== hub .deb"
dpkg -r parley-hub >/dev/null 2>&1; dpkg --purge parley-hub >/dev/null 2>&1
check "dpkg -i installs the hub and says how to start (parley-hub init)" sh -c "dpkg -i '$hub_deb' | grep -q 'sudo parley-hub init --org'"
check "parley-hub --version" sh -c "/usr/bin/parley-hub --version | grep -q '^parley-hub '"
check "system user parley exists, without a login shell" sh -c "getent passwd parley | grep -q ':/usr/sbin/nologin$'"
check "state directory /var/lib/parley-hub belongs to parley" sh -c "[ \"\$(stat -c %U:%a /var/lib/parley-hub)\" = parley:750 ]"
check "the secrets folder /etc/parley-hub is root's alone" sh -c "[ \"\$(stat -c %U:%a /etc/parley-hub)\" = root:700 ]"
check "/etc/default/parley-hub is a conffile" sh -c "dpkg-query -W -f='\${Conffiles}' parley-hub | grep -q /etc/default/parley-hub"
if command -v systemd-analyze >/dev/null; then
  check "systemd-analyze verify accepts the unit" systemd-analyze verify /lib/systemd/system/parley-hub.service
fi
# Run the installed hub the way the unit does: as parley, with the packaged environment, on a free
# loopback port.
(
  set -a; . /etc/default/parley-hub; set +a
  cd /var/lib/parley-hub && exec setpriv --reuid parley --regid parley --init-groups \
    env PARLEY_ADDR=127.0.0.1:0 PARLEY_DB="$PARLEY_DB" PARLEY_LOG_FORMAT="$PARLEY_LOG_FORMAT" /usr/bin/parley-hub
) >"$work/hub.out" 2>"$work/hub.err" &
hubpid=$!
url=
for _ in $(seq 100); do
  url=$(sed -n 's/^listening on //p' "$work/hub.out")
  [ -n "$url" ] && break
  kill -0 $hubpid 2>/dev/null || break
  sleep 0.1
done
check "installed hub starts as parley and listens" test -n "$url"
if [ -n "$url" ]; then
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url/")
  check "installed hub answers HTTP ($url/ -> $code)" test "$code" -ge 200 -a "$code" -lt 500
  check "hub database is created in the state directory, owned by parley" sh -c "[ \"\$(stat -c %U /var/lib/parley-hub/parley.db)\" = parley ]"
fi
kill $hubpid 2>/dev/null; wait $hubpid 2>/dev/null
[ -z "$url" ] && sed 's/^/        /' "$work/hub.err" | tail -10
dpkg -L parley-hub | while read -r f; do [ -f "$f" ] && echo "$f"; done | grep -v '^/etc/' >"$work/hub-installed"
check "dpkg -r removes the hub" dpkg -r parley-hub
check "removal keeps the database, the user and the conffile" sh -c "[ -d /var/lib/parley-hub ] && getent passwd parley >/dev/null && [ -f /etc/default/parley-hub ]"
check "no program file is left after removal" sh -c "! xargs -a '$work/hub-installed' ls -d 2>/dev/null | grep ."
check "dpkg --purge removes database, secrets, user, group and conffile" sh -c "dpkg --purge parley-hub >/dev/null && [ ! -e /var/lib/parley-hub ] && [ ! -e /etc/parley-hub ] && ! getent passwd parley && ! getent group parley && [ ! -e /etc/default/parley-hub ]"

echo "== macOS bundle files (the build itself runs on a Mac)"
check "Info.plist declares camera and microphone usage" python3 -c "
import plistlib
p = plistlib.load(open('build/darwin/Info.plist', 'rb'))
assert p['NSCameraUsageDescription'] and p['NSMicrophoneUsageDescription'], p
assert p['CFBundleIdentifier'] == 'com.parleyhq.parley'"
check "entitlements grant camera and audio input" python3 -c "
import plistlib
e = plistlib.load(open('build/darwin/entitlements.plist', 'rb'))
assert e == {'com.apple.security.device.camera': True, 'com.apple.security.device.audio-input': True}, e"
check "build/darwin/build.sh parses" bash -n build/darwin/build.sh

echo "test-dist: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
