# shellcheck shell=bash
# Shared helpers for scripts/*. Sourced, not run.

# need_root_for_apt: prints the command prefix needed to run apt-get (sudo or nothing).
apt_prefix() {
    if [ "$(id -u)" -eq 0 ]; then
        echo ""
    elif command -v sudo >/dev/null 2>&1; then
        echo "sudo"
    else
        echo "error: installing packages needs root or sudo" >&2
        return 1
    fi
}

# apt_install PKG...: installs Debian packages (no recommends), quietly.
apt_install() {
    local sudo
    sudo=$(apt_prefix)
    echo "==> installing $* (apt)"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# ensure_packages CMD:PKG...: installs the Debian package PKG when command CMD is missing.
ensure_packages() {
    local missing=() pair
    for pair in "$@"; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    apt_install "${missing[@]}"
}

# ensure_unpacked_deb PKG FILE DIR: Debian's package PKG (this machine's
# architecture) unpacked into DIR, not installed (no maintainer scripts run,
# no service starts), unless DIR/FILE exists already.
ensure_unpacked_deb() {
    local pkg=$1 file=$2 dir=$3 tmp sudo
    [ -e "$dir/$file" ] && return 0
    tmp=$(mktemp -d)
    echo "==> unpacking Debian's $pkg into $dir"
    if ! (cd "$tmp" && apt-get download -q "$pkg" >/dev/null 2>&1); then
        sudo=$(apt_prefix)
        $sudo apt-get update -qq
        (cd "$tmp" && apt-get download -q "$pkg" >/dev/null)
    fi
    rm -rf "$dir"
    dpkg-deb -x "$tmp"/"$pkg"_*.deb "$dir"
    rm -rf "$tmp"
    [ -e "$dir/$file" ] || { echo "error: $pkg has no $file" >&2; return 1; }
}

# ensure_python_venv: python3 with its venv module (Debian: python3-venv).
ensure_python_venv() {
    ensure_packages python3:python3
    python3 -c 'import ensurepip, venv' 2>/dev/null && return 0
    apt_install python3-venv
}

# ensure_pinned_venv VENV REQS MODULES [PYTHON]: a Python venv with the pinned
# requirements file REQS installed, made again when it is missing or broken
# (python cannot import MODULES, a comma-separated list), or REQS changed
# since (a copy of it is kept in VENV). Made with PYTHON (default: Debian's
# python3). Never the system's Python packages. Playwright gets no browser of
# its own: the browser driver runs Debian's chromium.
ensure_pinned_venv() {
    local venv=$1 reqs=$2 modules=$3 python=${4:-}
    if "$venv/bin/python" -c "import $modules" 2>/dev/null && cmp -s "$reqs" "$venv/requirements.txt"; then
        return 0
    fi
    # Everything on stderr: callers print paths on stdout (build-python-wheel).
    {
        echo "==> creating the Python venv in $venv from $reqs${python:+ with $python}"
        [ -n "$python" ] || { ensure_python_venv; python=python3; }
        rm -rf "$venv"
        "$python" -m venv "$venv"
        PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
            "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$reqs"
    } >&2
    cp "$reqs" "$venv/requirements.txt"
}

# ensure_test_venv ROOT VENV: the venv the test fakes, the browser driver
# (tests/browser/driver.py) and the Python lint (scripts/lint-python) run in:
# ROOT/tests/fakes/requirements.txt.
ensure_test_venv() {
    ensure_pinned_venv "$2" "$1/tests/fakes/requirements.txt" \
        "aioesphomeapi, noise, pymodbus, serial, playwright, zigpy_znp"
}

# ensure_ha_venv ROOT VENV: the venv with Home Assistant Core that
# tests/tests/homeassistant.rs runs: ROOT/tests/homeassistant/requirements.txt.
ensure_ha_venv() {
    ensure_pinned_venv "$2" "$1/tests/homeassistant/requirements.txt" \
        "homeassistant, paho.mqtt, hass_frontend"
}

# find_python313: prints the path of a CPython 3.13 that runs and can make a
# venv (python3.13 on PATH, else pyenv's newest 3.13.x), or nothing. Debian 12
# has none of its own. A pyenv shim on PATH that is not selected fails the
# check and is passed over.
find_python313() {
    local p root candidates=()
    p=$(command -v python3.13 2>/dev/null) && candidates+=("$p")
    for root in "$(pyenv root 2>/dev/null)" "${HOME:-/root}/.pyenv" /root/.pyenv; do
        [ -n "$root" ] || continue
        while IFS= read -r p; do
            candidates+=("$p/bin/python3")
        done < <(ls -d "$root"/versions/3.13.* 2>/dev/null | sort -V -r)
    done
    for p in "${candidates[@]}"; do
        if "$p" -c 'import sys, ensurepip, venv; assert sys.version_info[:2] == (3, 13)' 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
}

# ensure_ha2025_venv ROOT VENV PYTHON: the venv with Home Assistant Core
# 2025.4.4 (ROOT/tests/homeassistant/requirements-2025.txt) for the
# device-based discovery test, made with PYTHON (a CPython 3.13).
ensure_ha2025_venv() {
    ensure_pinned_venv "$2" "$1/tests/homeassistant/requirements-2025.txt" \
        "homeassistant, paho.mqtt, hass_frontend" "$3"
}

# ensure_cargo: fails with instructions when the Rust toolchain is missing.
ensure_cargo() {
    if ! command -v cargo >/dev/null 2>&1; then
        [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
    fi
    if ! command -v cargo >/dev/null 2>&1; then
        echo "error: cargo not found. Install Rust with rustup (https://rustup.rs), then run this again." >&2
        return 1
    fi
}

# port_open HOST PORT: true when something accepts TCP connections there.
port_open() {
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# apt_source_uri SUITE: the first mirror URI the host's own apt sources use
# for SUITE (e.g. bookworm, bookworm-security), from deb822 `*.sources`
# stanzas (`URIs:` + `Suites:`, in any order) or one-line `deb URI SUITE`
# entries. Prints nothing when there is none. Mirrors are never written down
# in the scripts: they come from here.
apt_source_uri() {
    local suite=$1 f
    {
        for f in /etc/apt/sources.list.d/*.sources; do
            [ -f "$f" ] || continue
            awk -v want="$suite" '
                function flush() { if (has && uris != "") print uris; uris = ""; has = 0 }
                /^[[:space:]]*#/ { next }
                /^[[:space:]]*$/ { flush(); next }
                /^URIs:/ { uris = $2 }
                /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == want) has = 1 }
                END { flush() }' "$f"
        done
        for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
            [ -f "$f" ] || continue
            awk -v want="$suite" '$1 == "deb" {
                for (i = 2; i < NF; i++) if ($i ~ /^(https?|file):/ && $(i+1) == want) { print $i; break } }' "$f"
        done
    } | head -n 1
}

# ensure_backports_packages CMD:PKG...: installs the Debian package PKG from
# <codename>-backports (bookworm-backports on Debian 12) when command CMD is
# missing. Adds /etc/apt/sources.list.d/igloo-backports.sources first when no
# apt source for that suite exists yet, with the same mirror (`URIs:`) as the
# system's own Debian source: no mirror host is written down here.
# Used for QEMU: bookworm's own 7.2 would replace the newer qemu-utils.
ensure_backports_packages() {
    local missing=() pair
    for pair in "$@"; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo codename suite sources uris file=/etc/apt/sources.list.d/igloo-backports.sources
    sudo=$(apt_prefix)
    # shellcheck disable=SC1091
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    if [ -z "$codename" ]; then
        echo "error: cannot tell the Debian release (no VERSION_CODENAME in /etc/os-release)" >&2
        return 1
    fi
    suite="$codename-backports"
    # Any source apt reads (deb822 `Suites:` or one-line `deb URI SUITE`) for the suite?
    sources=$(find /etc/apt/sources.list /etc/apt/sources.list.d \( -name '*.list' -o -name '*.sources' \) \
        -type f -exec grep -hv '^[[:space:]]*#' {} + 2>/dev/null || true)
    if ! grep -qw -- "$suite" <<<"$sources"; then
        # The mirror that serves the release itself (not -security).
        uris=$(apt_source_uri "$codename")
        if [ -z "$uris" ]; then
            echo "error: no apt source for $codename in /etc/apt/sources.list(.d);" \
                "add a $suite apt source by hand" >&2
            return 1
        fi
        echo "==> adding the $suite apt source ($file, URIs: $uris)"
        printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
            "$uris" "$suite" | $sudo tee "$file" >/dev/null
    fi
    echo "==> installing ${missing[*]} from $suite (apt)"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        -t "$suite" "${missing[@]}" >/dev/null
}

# ensure_cross_gcc CMD:PKG LIBC_PKG: a Debian cross compiler (installed when
# command CMD is missing) and its target C library LIBC_PKG (crt1.o, libc.so;
# only a recommendation of the compiler package, so checked on its own).
ensure_cross_gcc() {
    ensure_packages "$1"
    if [ "$(dpkg-query -W -f='${Status}' "$2" 2>/dev/null)" != "install ok installed" ]; then
        apt_install "$2"
    fi
}

# ensure_files FILE:PKG...: installs the Debian package PKG when FILE is missing
# (for packages that ship data rather than a command, e.g. u-boot-qemu).
ensure_files() {
    local missing=() pair
    for pair in "$@"; do
        [ -e "${pair%%:*}" ] || missing+=("${pair#*:}")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    apt_install "${missing[@]}"
}

# rauc_dev_keys DIR: the development CA and bundle-signing certificate for
# RAUC bundles (docs/ota.md), made on first use in DIR, which is never
# committed: ca.cert.pem (what the image trusts, its keyring), ca.key.pem,
# signing.cert.pem and signing.key.pem (what scripts/make-bundle signs
# with). Keys are EC P-256, 0600. The signing certificate has no
# extendedKeyUsage: RAUC refuses codeSigning ("unsuitable certificate
# purpose"). Prints DIR.
rauc_dev_keys() {
    local dir=$1 tmp
    if [ ! -f "$dir/signing.cert.pem" ]; then
        ensure_packages openssl:openssl
        mkdir -p "$(dirname "$dir")"
        tmp=$(mktemp -d "${dir%/}.new.XXXXXX")
        (
            umask 077
            cd "$tmp"
            openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 \
                -days 3650 -subj "/O=Igloo development/CN=Igloo development CA" \
                -addext "basicConstraints=critical,CA:TRUE" \
                -addext "keyUsage=critical,keyCertSign,cRLSign" \
                -keyout ca.key.pem -out ca.cert.pem 2>/dev/null
            openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 \
                -subj "/O=Igloo development/CN=Igloo development bundle signing" \
                -keyout signing.key.pem -out signing.csr.pem 2>/dev/null
            printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n' >signing.ext
            openssl x509 -req -in signing.csr.pem -CA ca.cert.pem -CAkey ca.key.pem -CAcreateserial \
                -days 3650 -sha256 -extfile signing.ext -out signing.cert.pem 2>/dev/null
            rm -f signing.csr.pem signing.ext ca.cert.srl
            chmod 0644 ca.cert.pem signing.cert.pem
        ) || { rm -rf "$tmp"; echo "error: cannot make the development RAUC keys" >&2; return 1; }
        rm -rf "$dir"
        mv "$tmp" "$dir"
        echo "    made development RAUC keys in $dir (not for production: see docs/ota.md)" >&2
    fi
    echo "$dir"
}
