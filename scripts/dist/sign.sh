#!/usr/bin/env bash
# Authenticode-signs Windows files (exe, msi) in place with osslsigncode.
#   sign.sh FILE...
# A real certificate comes from the environment: PARLEY_SIGN_PFX (path to a .pfx/.p12) and
# PARLEY_SIGN_PASSWORD; PARLEY_SIGN_TIMESTAMP_URL adds an RFC 3161 timestamp (needs network).
# Without PARLEY_SIGN_PFX a throwaway self-signed code-signing certificate is made once under
# out/dist/testcert/ (testcert.pem is what `osslsigncode verify -CAfile` checks against). Files
# signed with it are for testing only: Windows shows them as from an unknown publisher.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
certdir=$root/out/dist/testcert

signargs=()
if [ -n "${PARLEY_SIGN_PFX:-}" ]; then
  [ -f "$PARLEY_SIGN_PFX" ] || { echo "sign: PARLEY_SIGN_PFX=$PARLEY_SIGN_PFX does not exist" >&2; exit 1; }
  passfile=$(mktemp); chmod 600 "$passfile"; trap 'rm -f "$passfile"' EXIT
  printf '%s' "${PARLEY_SIGN_PASSWORD:-}" >"$passfile"
  signargs=(-pkcs12 "$PARLEY_SIGN_PFX" -readpass "$passfile")
else
  if [ ! -f "$certdir/testcert.pem" ]; then
    mkdir -p "$certdir"
    openssl req -x509 -newkey rsa:3072 -sha256 -days 30 -nodes \
      -subj "/CN=Parley Test Signing (not trusted)/O=Parley" \
      -addext "keyUsage=critical,digitalSignature" -addext "extendedKeyUsage=codeSigning" \
      -keyout "$certdir/testkey.pem" -out "$certdir/testcert.pem" 2>/dev/null
    chmod 600 "$certdir/testkey.pem"
    echo "sign: made a throwaway test certificate in $certdir (not for release)"
  fi
  signargs=(-certs "$certdir/testcert.pem" -key "$certdir/testkey.pem")
fi
[ -n "${PARLEY_SIGN_TIMESTAMP_URL:-}" ] && signargs+=(-ts "$PARLEY_SIGN_TIMESTAMP_URL")

for f in "$@"; do
  osslsigncode sign "${signargs[@]}" -h sha256 -n "Parley" -i "https://parley.invalid/" \
    -in "$f" -out "$f.signed" >/dev/null
  mv "$f.signed" "$f"
  echo "sign: signed $(basename "$f")"
done
