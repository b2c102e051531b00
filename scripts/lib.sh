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

# ensure_packages CMD:PKG...: installs the Debian package PKG when command CMD is missing.
ensure_packages() {
    local missing=() pair
    for pair in "$@"; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo
    sudo=$(apt_prefix)
    echo "==> installing ${missing[*]} (apt)"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ensure_python_venv: python3 with its venv module (Debian: python3-venv).
ensure_python_venv() {
    ensure_packages python3:python3
    python3 -c 'import ensurepip, venv' 2>/dev/null && return 0
    local sudo
    sudo=$(apt_prefix)
    echo "==> installing python3-venv (apt)"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
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
