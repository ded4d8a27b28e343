# Shared by the project's scripts: installs what a fresh Debian machine lacks, once.
# Source it, then call `need_debian PACKAGE…` and `need_python MODULE=PACKAGE…`.

need_debian() {
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> installing Debian packages: ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# need_python zstandard jsonschema readability=readability-lxml
need_python() {
  local missing=()
  for spec in "$@"; do
    local module=${spec%%=*} package=${spec#*=}
    python3 -c "import $module" 2>/dev/null || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> installing Python packages: ${missing[*]}" >&2
  python3 -m pip install -q --disable-pip-version-check "${missing[@]}" 2>&1 | grep -v 'WARNING: Running pip as' >&2 || true
}

# The Debian packages the build and the tests need.
RUNNEL_DEBIAN_PACKAGES=(pkg-config libzstd-dev zstd jq curl libxml2-dev libcld2-dev libsqlite3-dev sqlite3 libnats-dev nats-server postgresql)
# openssl: certificates for the tls:// tests; iproute2: the network namespaces of Scripts/two-hosts.sh.
RUNNEL_DEBIAN_PACKAGES+=(openssl iproute2)
RUNNEL_PYTHON_PACKAGES=(zstandard jsonschema)
