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
	# The same for BIRD: the anycast test runs its own in namespaces, and a
	# packaged one in the host's namespace has no business here.
	local svc
	for svc in nsd bird; do
		if command -v systemctl >/dev/null && systemctl is-active -q "$svc" 2>/dev/null; then
			systemctl stop "$svc" || true
			systemctl disable "$svc" 2>/dev/null || true
		fi
	done
}

# bw_build DIR [-Doption=value...]: configure (or bring an existing build
# directory to these options), then build (only $BW_TARGETS if set). The
# packages come first when some are missing and we are root: a benchmark
# script run on a fresh machine builds what it runs, and needs meson and
# the libraries too (not root: a warning, and the build says what fails).
bw_build() {
	local dir=$1 log missing
	shift
	missing=$(bw_missing_packages | tr '\n' ' ')
	if [ -n "${missing// /}" ]; then
		if [ "$(id -u)" = 0 ]; then
			bw_install_packages
		else
			printf 'warning: Debian packages missing (run as root to install them): %s\n' \
				"$missing" >&2
		fi
	fi
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
	BW_TARGETS="tests/cache/stress_msgcache tests/cache/stress_nsec tests/control/stress_pool" \
		bw_build build/tsan \
		-Dbuildtype=debugoptimized -Db_lto=false -Db_sanitize=thread \
		-Db_lundef=false
}

# --- the dataplane's lab link -------------------------------------------------
# A veth pair: $BW_DP_IF stays in the host for the dataplane's af_packet
# port (no kernel address on it: the kernel's side of the link is the
# exception TAP); its peer goes into network namespace $BW_NS as the
# clients' interface, 198.18.0.2/24 and 2001:2::2/64 (benchmarking ranges,
# RFC 2544 and RFC 5180). The service addresses are 198.18.0.1 and 2001:2::1.
BW_NS=${BW_NS:-bw-client}
BW_DP_IF=${BW_DP_IF:-bw-dp}
BW_CL_IF=${BW_CL_IF:-bw-cl}
BW_EXC_IF=${BW_EXC_IF:-bwexc0}
BW_SVC4=${BW_SVC4:-198.18.0.1}
BW_SVC6=${BW_SVC6:-2001:2::1}
BW_CL4=${BW_CL4:-198.18.0.2}
BW_CL6=${BW_CL6:-2001:2::2}

bw_net_up() {
	bw_net_down
	ip netns add "$BW_NS"
	ip link add "$BW_DP_IF" type veth peer name "$BW_CL_IF"
	ip link set "$BW_CL_IF" netns "$BW_NS"
	# The host must not speak on the dataplane's side of the link itself:
	# its stack owns the service addresses (on the exception TAP) and would
	# answer what arrives here too (weak host model). No ARP, no IPv6, and
	# strict reverse-path filtering (the clients' route is the TAP's) keep
	# it out; af_packet still sees every frame.
	sysctl -qw "net.ipv6.conf.$BW_DP_IF.disable_ipv6=1"
	sysctl -qw "net.ipv4.conf.$BW_DP_IF.rp_filter=1"
	ip link set "$BW_DP_IF" arp off
	ip link set "$BW_DP_IF" up
	ip -n "$BW_NS" link set lo up
	ip -n "$BW_NS" addr add "$BW_CL4/24" dev "$BW_CL_IF"
	ip -n "$BW_NS" addr add "$BW_CL6/64" dev "$BW_CL_IF" nodad
	ip -n "$BW_NS" link set "$BW_CL_IF" up
	# veth leaves checksums to an offload that never happens; the kernel
	# behind the exception TAP would drop such TCP segments
	ip netns exec "$BW_NS" ethtool -K "$BW_CL_IF" tx off >/dev/null
}

bw_net_down() {
	ip link del "$BW_DP_IF" 2>/dev/null || true
	ip netns del "$BW_NS" 2>/dev/null || true
}

# Hugepages for DPDK: reserves BW_HUGEPAGES (512) 2 MiB pages if fewer are
# free; bw_hugepages_release gives back what bw_hugepages_reserve added.
bw_hugepages_reserve() {
	local want=${BW_HUGEPAGES:-512} now free
	now=$(cat /proc/sys/vm/nr_hugepages)
	free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
	BW_HUGEPAGES_BEFORE=$now
	# EAL finds hugepages through a mounted hugetlbfs
	if ! grep -q '^[^ ]* [^ ]* hugetlbfs ' /proc/mounts; then
		mkdir -p /dev/hugepages
		mount -t hugetlbfs nodev /dev/hugepages
	fi
	if [ "$free" -lt "$want" ]; then
		echo $((now + want - free)) >/proc/sys/vm/nr_hugepages
	fi
}

# bw_world_pin CPULIST: the lab world's NSD processes (each instance's
# first one, from its pid file, and its children; later children inherit
# it) on CPULIST: a benchmark keeps the authorities, which stand for remote
# servers, off the CPU of the worker it measures. For a world the caller
# started (another's may be pinned on purpose). Quiet; 0 when none runs.
bw_world_pin() {
	local f pid c
	for f in "${BW_WORLD_DIR:-/run/bailiwick-world}"/nsd-*/nsd.pid; do
		[ -r "$f" ] || continue
		pid=$(head -n1 "$f" 2>/dev/null | tr -dc 0-9) || true
		[ -n "$pid" ] && { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null |
			grep -q '^\([^ ]*/\)\{0,1\}nsd -c ' || continue
		taskset -a -p -c "$1" "$pid" >/dev/null 2>&1 || true
		for c in $(ps --ppid "$pid" -o pid= 2>/dev/null); do
			taskset -a -p -c "$1" "$c" >/dev/null 2>&1 || true
		done
	done
	return 0
}

bw_hugepages_release() {
	[ -n "${BW_HUGEPAGES_BEFORE:-}" ] && echo "$BW_HUGEPAGES_BEFORE" >/proc/sys/vm/nr_hugepages
	return 0
}

# --- the dataplane and control, started and stopped by pid --------------------
# bw_dp_config FILE ROOT_HINTS SOCKET [PREFIX [TRUST_ANCHOR]]: the
# configuration both processes read, for the lab link above; with a trust
# anchor (the lab world's root.key) answers are DNSSEC-validated. With
# BW_CONTROL_THREADS set, control resolves on that many threads.
bw_dp_config() {
	local anchor="" threads=""
	[ -n "${5:-}" ] && anchor="  trust-anchor: $5     # DNSSEC validation from the lab world's root key"
	[ -n "${BW_CONTROL_THREADS:-}" ] && threads="  threads: $BW_CONTROL_THREADS"
	cat >"$1" <<EOC
# Written by scripts/lib.sh: bailiwick-dataplane on the veth $BW_DP_IF
# (af_packet), clients in network namespace $BW_NS, the lab world's root.
resolver:
  root-hints: $2
$anchor
  do-query: [ 127.53.0.0/16 ]     # the lab world's authorities (127/8 is never asked otherwise)
listen: [ "$BW_SVC4@53", "[$BW_SVC6]@53" ]
access-control:
  - { prefix: 127.0.0.0/8, action: allow }
  - { prefix: $BW_CL4/32, action: allow }
  - { prefix: "$BW_CL6/128", action: allow }
  - { prefix: 0.0.0.0/0, action: refuse }
  - { prefix: "::/0", action: refuse }
control:
  socket: $3
$threads
dataplane:
  eal: [ "--file-prefix=${4:-bailiwick}", "-l", "0-1", "--log-level=lib.eal:warning" ]
  ports:
    - device: "net_af_packet0,iface=$BW_DP_IF"
      addresses: [ "$BW_SVC4/24", "$BW_SVC6/64" ]
      exception: $BW_EXC_IF
  workers: [ 1 ]
EOC
}

# bw_start_wait PROGRAM CONFIG LOG PIDFILE PATTERN WHAT: starts PROGRAM -c
# CONFIG in the background (appending to LOG) and waits up to 15 s for
# PATTERN in LOG, or dies with the log's end.
bw_start_wait() {
	"$1" -c "$2" >>"$3" 2>&1 &
	echo $! >"$4"
	for _ in $(seq 150); do
		grep -q "$5" "$3" && return 0
		kill -0 "$(cat "$4")" 2>/dev/null || break
		sleep 0.1
	done
	tail -20 "$3"
	bw_die "$6 (log: $3)"
}

# bw_start_dataplane BUILD CONFIG LOG PIDFILE: starts it (a fresh LOG) and
# waits until it is ready.
bw_start_dataplane() {
	: >"$3"
	bw_start_wait "$1/dataplane/bailiwick-dataplane" "$2" "$3" "$4" ': ready$' \
		"bailiwick-dataplane did not start"
}

# bw_start_control BUILD CONFIG LOG PIDFILE: starts it and waits until it
# has attached to the dataplane (LOG is appended to: a restart's "attached"
# must be a new line, so LOG is moved aside first).
bw_start_control() {
	[ -f "$3" ] && cat "$3" >>"$3.old" && : >"$3"
	bw_start_wait "$1/control/bailiwick-control" "$2" "$3" "$4" 'attached to the dataplane' \
		"bailiwick-control did not attach"
}

# bw_stat BUILD SOCKET NAME: one counter (e.g. dataplane.hits) from the
# control process's operator socket.
bw_stat() {
	"$1/control/bailiwick-ctl" -s "$2" stats | awk -v n="$3" '$2 == n { print $3 }'
}

# bw_dpdk_busy: "PID COMMAND" of every running bailiwick-dataplane and
# bailiwick-gen (whoever started them): busy-polling cores that a benchmark
# must not share without knowing.
bw_dpdk_busy() {
	local p exe
	for p in /proc/[0-9]*; do
		exe=$(readlink "$p/exe" 2>/dev/null) || continue
		case "${exe##*/}" in
		bailiwick-dataplane | bailiwick-gen)
			echo "${p#/proc/} $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" ;;
		esac
	done
	return 0
}

# bw_stop_pidfile PIDFILE NAME: stops the process we started (its pid, if
# its command line is still NAME's), waits for it, removes the file.
bw_stop_pidfile() {
	local pid
	[ -f "$1" ] || return 0
	pid=$(cat "$1")
	if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "$2"; then
		kill -TERM "$pid" 2>/dev/null
		for _ in $(seq 100); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
		[ -d "/proc/$pid" ] && kill -KILL "$pid" 2>/dev/null
	fi
	rm -f "$1"
}
