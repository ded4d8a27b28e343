#!/usr/bin/env bash
# Builds runnel and installs it with its shell completions and man pages:
#
#   Scripts/install.sh                      # release build into /usr/local (root, or sudo)
#   Scripts/install.sh --prefix ~/.local    # into ~/.local/bin, ~/.local/share/…
#
# Run with --help for the options and the list of files.
set -euo pipefail
cd -P "$(dirname "$0")/.."

usage() {
  cat <<'EOF'
Usage: Scripts/install.sh [--prefix DIR] [--debug | --bin PATH]

Builds runnel (release mode unless --debug) and installs:
  PREFIX/bin/runnel
  PREFIX/share/bash-completion/completions/runnel
  PREFIX/share/zsh/site-functions/_runnel
  PREFIX/share/fish/vendor_completions.d/runnel.fish
  PREFIX/share/man/man1/runnel.1 and one page per subcommand (runnel.cat.1, …)

The completions come from `runnel --generate-completion-script`, the man pages from
swift-argument-parser's generate-manual tool, built from the package's own checkout
(offline). Debian packages the build needs are installed with apt-get (Scripts/lib/setup.sh).

Options:
  --prefix DIR   where to install (default: /usr/local)
  --debug        build in debug mode: minutes instead of ~20, but a slower runnel
  --bin PATH     install this runnel binary instead of building one (no swift build of
                 the package: usable while another SwiftPM command holds .build)
  -h, --help     print this and exit
EOF
}

prefix=/usr/local
configuration=release
bin=""
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=${2:?--prefix needs a directory}; shift 2 ;;
    --prefix=*) prefix=${1#--prefix=}; shift ;;
    --debug) configuration=debug; shift ;;
    --bin) bin=${2:?--bin needs a path}; shift 2 ;;
    --bin=*) bin=${1#--bin=}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install.sh: unknown argument: $1 (see --help)" >&2; exit 64 ;;
  esac
done

if [ -z "$bin" ]; then
  . Scripts/lib/setup.sh
  # What the C shims build against (Package.swift's system libraries).
  need_debian pkg-config libzstd-dev libxml2-dev libgumbo-dev libcld2-dev libsqlite3-dev libnats-dev libdeflate-dev
  echo "==> building runnel ($configuration; a release build takes ~20 minutes from clean)" >&2
  # A release build links the Swift runtime and Foundation in: a start ~6 ms shorter and 5-10 %
  # less CPU in every stage (BENCHMARKS.md, "Start-up").
  static=()
  [ "$configuration" = release ] && static=(--static-swift-stdlib)
  swift build -c "$configuration" "${static[@]}" --product runnel
  bin="$(swift build -c "$configuration" --show-bin-path)/runnel"
fi
[ -x "$bin" ] || { echo "install.sh: no runnel executable at $bin" >&2; exit 66; }

# generate-manual, built from the argument parser's checkout into its own scratch directory (its
# own SwiftPM lock, so this works while the package's .build is busy).
parser=.build/checkouts/swift-argument-parser
if [ ! -f "$parser/Package.swift" ]; then
  swift package resolve
fi
tool_dir=.build/generate-manual
tool=$tool_dir/debug/generate-manual
if [ ! -x "$tool" ]; then
  echo "==> building swift-argument-parser's generate-manual (about a minute, once)" >&2
  swift build --package-path "$parser" --scratch-path "$tool_dir" --product generate-manual >&2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/man"
"$tool" "$bin" --multi-page --authors 'Runnel maintainers' --output-directory "$work/man"
for shell in bash zsh fish; do
  "$bin" --generate-completion-script "$shell" >"$work/completion.$shell"
done

echo "==> installing into $prefix" >&2
install -D -m 755 "$bin" "$prefix/bin/runnel"
install -D -m 644 "$work/completion.bash" "$prefix/share/bash-completion/completions/runnel"
install -D -m 644 "$work/completion.zsh" "$prefix/share/zsh/site-functions/_runnel"
install -D -m 644 "$work/completion.fish" "$prefix/share/fish/vendor_completions.d/runnel.fish"
install -d "$prefix/share/man/man1"
install -m 644 "$work"/man/*.1 "$prefix/share/man/man1/"
echo "installed: $prefix/bin/runnel, completions for bash, zsh and fish, $(ls "$work"/man/*.1 | wc -l) man pages in $prefix/share/man/man1" >&2
