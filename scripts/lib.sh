# scripts/lib.sh: shared by scripts/up and scripts/test (sourced, not run).
# Installs the Debian packages listed in scripts/packages.txt that are
# missing, and configures and builds the meson build directories:
#   build/release  release with LTO, -march from meson_options.txt
#   build/asan     ASan + UBSan (gcc), for the unit tests
#   build/fuzz     clang + libFuzzer + ASan + UBSan, for the fuzz targets
#   build/tsan     ThreadSanitizer, for the multi-threaded stress tests
# Everything is idempotent: a second run installs and reconfigures nothing.

BW_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

bw_log() { printf '== %s\n' "$*"; }
bw_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

bw_require_root() {
	[ "$(id -u)" = 0 ] || bw_die "run as root: packages, port 53 and hugepages need it"
}

# The packages of scripts/packages.txt that dpkg does not show as installed.
bw_missing_packages() {
	local pkg
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$BW_TOP/scripts/packages.txt" |
	while read -r pkg; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
			grep -q 'install ok installed' || echo "$pkg"
	done
}

bw_install_packages() {
	local missing
	missing=$(bw_missing_packages | tr '\n' ' ')
	if [ -z "${missing// /}" ]; then
		bw_log "Debian packages: all present"
		return
	fi
	bw_log "installing Debian packages: $missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null || bw_die "apt-get update failed"
	# shellcheck disable=SC2086 # one word per package
	apt-get install -y -q --no-install-recommends $missing >/dev/null ||
		bw_die "apt-get install failed for: $missing"
	# Debian starts NSD as a service when it is installed; the lab world
	# runs its own instances, so the packaged one must not hold port 53.
	if command -v systemctl >/dev/null && systemctl is-active -q nsd 2>/dev/null; then
		systemctl stop nsd || true
		systemctl disable nsd 2>/dev/null || true
	fi
}

# bw_build DIR [-Doption=value...]: configure (or bring an existing build
# directory to these options), then build (only $BW_TARGETS if set).
bw_build() {
	local dir=$1 log
	shift
	log=$(mktemp)
	if [ ! -f "$BW_TOP/$dir/build.ninja" ]; then
		meson setup "$BW_TOP/$dir" "$BW_TOP" "$@" >"$log" 2>&1 ||
			{ cat "$log"; rm -f "$log"; bw_die "meson setup $dir failed"; }
	else
		meson configure "$BW_TOP/$dir" "$@" >"$log" 2>&1 ||
			{ cat "$log"; rm -f "$log"; bw_die "meson configure $dir failed"; }
	fi
	rm -f "$log"
	# shellcheck disable=SC2086 # a list of targets
	ninja -C "$BW_TOP/$dir" ${BW_TARGETS:-} >/dev/null || {
		ninja -C "$BW_TOP/$dir" ${BW_TARGETS:-} | tail -40
		bw_die "build of $dir failed"
	}
}

bw_build_release() { bw_build build/release -Dbuildtype=release -Db_lto=true; }
bw_build_asan() {
	bw_build build/asan -Dbuildtype=debugoptimized -Db_lto=false \
		-Db_sanitize=address,undefined -Db_lundef=false
}
bw_build_fuzz() {
	CC=clang bw_build build/fuzz -Dbuildtype=debugoptimized -Db_lto=false \
		-Db_sanitize=address,undefined -Db_lundef=false -Dfuzz=true \
		-Dtests=disabled
}
bw_build_tsan() {
	BW_TARGETS="tests/cache/stress_msgcache tests/cache/stress_nsec" \
		bw_build build/tsan \
		-Dbuildtype=debugoptimized -Db_lto=false -Db_sanitize=thread \
		-Db_lundef=false
}
