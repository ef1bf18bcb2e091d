#!/usr/bin/env bash
# mkcerts.sh DIR -- generate the TLS test certificates for hss_sim.py into DIR.
#
# Produces (EC P-256 keys, SHA-256 signatures):
#   ca.pem / ca.key               test CA
#   server.pem / server.key       signed by ca, SAN IP:127.0.0.1, IP:::1, DNS:localhost, 30 days
#   other-ca.pem                  a second, unrelated CA
#   untrusted.pem / .key          for 127.0.0.1, signed by other-ca (fails against ca.pem)
#   wronghost.pem / .key          signed by ca, only SAN DNS:wrong.example.invalid
#   expired.pem / .key            signed by ca, for 127.0.0.1, valid from 60 to 30 days ago
#
# Idempotent: if DIR already holds a complete, consistent set that is valid for at least one
# more day, nothing is regenerated. Quiet on success; on failure prints why and exits non-zero.
# Needs only the openssl CLI (tested with Debian 12's OpenSSL 3.0) and GNU date.
set -euo pipefail

dir=${1:?usage: mkcerts.sh DIR}
mkdir -p "$dir" && dir=$(cd "$dir" && pwd) # absolute: the script changes directory
mkdir -p "$dir"

outputs=(ca.pem ca.key server.pem server.key other-ca.pem untrusted.pem untrusted.key
         wronghost.pem wronghost.key expired.pem expired.key)

# verify_ok CAFILE CERT [EXTRA OPENSSL VERIFY ARGS]: true if CERT verifies.
verify_ok() {
    local cafile=$1 cert=$2
    shift 2
    openssl verify -CAfile "$cafile" "$@" "$cert" >/dev/null 2>&1
}

# check_set D: true if D holds every output and each cert passes/fails exactly as intended.
check_set() {
    local d=$1 f
    for f in "${outputs[@]}"; do
        [[ -s "$d/$f" ]] || return 1
    done
    for f in server untrusted wronghost; do
        openssl x509 -checkend 86400 -noout -in "$d/$f.pem" >/dev/null 2>&1 || return 1
    done
    verify_ok "$d/ca.pem" "$d/server.pem" -verify_ip 127.0.0.1 || return 1
    verify_ok "$d/ca.pem" "$d/server.pem" -verify_ip ::1 || return 1
    verify_ok "$d/ca.pem" "$d/server.pem" -verify_hostname localhost || return 1
    ! verify_ok "$d/ca.pem" "$d/untrusted.pem" || return 1
    verify_ok "$d/other-ca.pem" "$d/untrusted.pem" -verify_ip 127.0.0.1 || return 1
    verify_ok "$d/ca.pem" "$d/wronghost.pem" || return 1                 # chain is fine...
    ! verify_ok "$d/ca.pem" "$d/wronghost.pem" -verify_ip 127.0.0.1 || return 1   # ...name is not
    ! verify_ok "$d/ca.pem" "$d/wronghost.pem" -verify_hostname localhost || return 1
    # expired: must fail with X509_V_ERR_CERT_HAS_EXPIRED (10), and only because of its dates.
    local out
    out=$(openssl verify -CAfile "$d/ca.pem" "$d/expired.pem" 2>&1) && return 1
    [[ "$out" == *"error 10 "* ]] || return 1
    verify_ok "$d/ca.pem" "$d/expired.pem" -no_check_time -verify_ip 127.0.0.1 || return 1
    # Every key must match its certificate.
    for f in ca server untrusted wronghost expired; do
        [[ "$(openssl x509 -noout -pubkey -in "$d/$f.pem")" == \
           "$(openssl pkey -pubout -in "$d/$f.key")" ]] || return 1
    done
    return 0
}

if check_set "$dir"; then
    exit 0
fi

work=$(mktemp -d "$dir/.mkcerts.XXXXXX")
trap 'rm -rf "$work"' EXIT
umask 077
log="$work/openssl.log"

# run CMD...: run quietly, show openssl's output only if it fails.
run() {
    if ! "$@" >>"$log" 2>&1; then
        echo "mkcerts.sh: failed: $*" >&2
        cat "$log" >&2
        exit 1
    fi
}

cat >"$work/openssl.cnf" <<'EOF'
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = placeholder
[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ ca ]
default_ca = sim_ca
[ sim_ca ]
dir = .
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
default_md = sha256
policy = sim_policy
unique_subject = no
email_in_dn = no
copy_extensions = none
[ sim_policy ]
commonName = supplied
EOF

# ext_file NAME SAN: write the leaf extension section for a server cert with that SAN.
ext_file() {
    cat >"$work/$1.ext" <<EOF
[ leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
subjectAltName = $2
EOF
}

genkey() {
    run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/$1.key"
}

# make_ca NAME CN: self-signed CA, 30 days.
make_ca() {
    genkey "$1"
    run openssl req -x509 -new -config "$work/openssl.cnf" -extensions v3_ca -key "$work/$1.key" \
        -subj "/CN=$2" -days 30 -sha256 -out "$work/$1.pem"
}

# make_csr NAME CN
make_csr() {
    genkey "$1"
    run openssl req -new -config "$work/openssl.cnf" -key "$work/$1.key" -subj "/CN=$2" \
        -out "$work/$1.csr"
}

# make_leaf NAME CA CN SAN: leaf valid for 30 days from now, signed by CA.
make_leaf() {
    make_csr "$1" "$3"
    ext_file "$1" "$4"
    run openssl x509 -req -in "$work/$1.csr" -CA "$work/$2.pem" -CAkey "$work/$2.key" \
        -set_serial "0x$(openssl rand -hex 12)" -days 30 -sha256 \
        -extfile "$work/$1.ext" -extensions leaf -out "$work/$1.pem"
}

# make_expired NAME CA CN SAN: leaf whose whole validity lies in the past. `openssl x509 -days -1`
# also "works" in 3.0 but yields notAfter < notBefore; `openssl ca` sets a proper past window.
make_expired() {
    make_csr "$1" "$3"
    ext_file "$1" "$4"
    local cadir="$work/cadb"
    mkdir -p "$cadir/newcerts"
    : >"$cadir/index.txt"
    openssl rand -hex 12 >"$cadir/serial"
    (cd "$cadir" && run openssl ca -batch -notext -config "$work/openssl.cnf" \
        -cert "$work/$2.pem" -keyfile "$work/$2.key" -in "$work/$1.csr" -out "$work/$1.pem" \
        -startdate "$(date -u -d '60 days ago' +%y%m%d%H%M%SZ)" \
        -enddate "$(date -u -d '30 days ago' +%y%m%d%H%M%SZ)" \
        -extfile "$work/$1.ext" -extensions leaf)
}

make_ca ca "hss-sim test CA"
make_ca other-ca "hss-sim other (untrusted) CA"
make_leaf server ca 127.0.0.1 "IP:127.0.0.1, IP:::1, DNS:localhost"
make_leaf untrusted other-ca 127.0.0.1 "IP:127.0.0.1, IP:::1, DNS:localhost"
make_leaf wronghost ca wrong.example.invalid "DNS:wrong.example.invalid"
make_expired expired ca 127.0.0.1 "IP:127.0.0.1, IP:::1, DNS:localhost"

if ! check_set "$work"; then
    echo "mkcerts.sh: generated certificates do not verify as intended" >&2
    cat "$log" >&2
    exit 1
fi

chmod 644 "$work"/*.pem
for f in "${outputs[@]}"; do
    mv -f "$work/$f" "$dir/$f"
done
