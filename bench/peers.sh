# shellcheck shell=bash
# bench/peers.sh: three peer recursive resolvers from Debian (unbound,
# kresd, pdns-recursor) for the benchmarks, each set up for the lab world
# with ONE worker thread. Sourced, not run (set -euo pipefail is the
# caller's); every function runs as root.
#   bw_peer_start NAME ADDR DIR [CPU]  config into DIR, start it in the
#       background (pinned to CPU with taskset if given) on ADDR port 53
#       UDP+TCP, its pid in DIR/NAME.pid, its log in DIR/NAME.log; waits up
#       to ~10 s until www.shop.lab A is answered right at ADDR, else stops
#       it and returns non-zero with the tail of the log.
#   bw_peer_stop NAME DIR     TERM, KILL after ~3 s; idempotent.
#   bw_peer_version NAME      "unbound 1.17.1", "kresd 5.6.0", ...
#   bw_peer_threads NAME      one line: how its one thread is configured.
# NAME is unbound | kresd | pdns. Common choices: 256 MB of cache (or the
# entry counts for as much) for ~300 000 names, no DNSSEC validation (the
# lab root has its own key and bailiwick does not validate yet), TTL-0
# answers not cached (*.miss.shop.bench must reach the authority on every
# query; kresd still answers a TTL-0 name again from its cache within the
# same second, see bw_peer_conf_kresd), no prefetch or serve-stale, QNAME
# minimisation left at each peer's default (on for all three), 127/8
# authorities allowed (the lab world is on 127.53.x.x), clients from 127/8
# and 198.18/15, no syslog, no chroot, running as root. Needs the world's
# root hints (BW_ROOT_HINTS of world.env) and kdig (knot-dnsutils).

bw_peer_hints() { echo "${BW_ROOT_HINTS:-${BW_WORLD_DIR:-/run/bailiwick-world}/root.hints}"; }

# The process name a peer's pid must have before we signal it.
bw_peer_comm() {
	case $1 in
	unbound) echo unbound ;;
	kresd) echo kresd ;;
	pdns) echo pdns_recursor ;;
	*) echo "bw_peer: unknown peer '$1' (unbound, kresd or pdns)" >&2; return 1 ;;
	esac
}

# Alive and not a zombie: a zombie child of ours still passes kill -0.
bw_peer_alive() {
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}

bw_peer_conf_unbound() { # ADDR DIR
	cat >"$2/unbound.conf" <<EOF
server:
  interface: $1
  port: 53
  num-threads: 1
  so-reuseport: no
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$2"
  pidfile: "$2/unbound.pid"
  use-syslog: no
  logfile: "$2/unbound.log"
  verbosity: 0
  root-hints: "$(bw_peer_hints)"
  do-not-query-localhost: no
  access-control: 127.0.0.0/8 allow
  access-control: 198.18.0.0/15 allow
  msg-cache-size: 256m
  rrset-cache-size: 256m
  # no validator at all (there is no trust anchor either)
  module-config: "iterator"
  # the defaults, written out: TTL 0 stays 0, no prefetch, no stale
  # answers; qname-minimisation is left at its default (yes, relaxed)
  cache-min-ttl: 0
  prefetch: no
  serve-expired: no
  harden-referral-path: no
EOF
}

bw_peer_conf_kresd() { # ADDR DIR
	cat >"$2/kresd.conf" <<EOF
-- one process = one worker (no forks); stderr goes to kresd.log
log_target('stderr')
net.listen('$1', 53, { kind = 'dns' })
-- the daemon's own root hints loader (what it does with Debian's file),
-- not the hints module, which would add a layer to every query
_hint_root_file('$(bw_peer_hints)')
-- the default drops 127/8 glue, and the lab world is on 127.53.x.x;
-- a context-wide flag, not a policy rule run for every query
option('ALLOW_LOCAL', true)
-- the real root's key cannot validate the lab: no validation
trust_anchors.remove('.')
cache.open(256 * MB, 'lmdb://$2/kresd-cache')
-- the default floor is 5 s. Even at 0 a TTL-0 answer is still a hit until
-- the clock's second ticks (the cache keeps whole seconds), so a name
-- asked again within that second does not reach the authority: use a new
-- *.miss.shop.bench name for every query
cache.min_ttl(0)
-- predict (prefetch) and serve_stale are not loaded; QNAME
-- minimisation is on by default
EOF
}

bw_peer_conf_pdns() { # ADDR DIR
	cat >"$2/recursor.conf" <<EOF
local-address=$1
local-port=53
# the main thread alone takes queries and resolves them
threads=1
pdns-distributes-queries=no
allow-from=127.0.0.0/8, 198.18.0.0/15
hint-file=$(bw_peer_hints)
# the default list holds 127.0.0.0/8, where the lab world is
dont-query=
socket-dir=$2
daemon=no
disable-syslog=yes
quiet=yes
setuid=
setgid=
# records and packets, for ~300 000 names with room to spare
max-cache-entries=2000000
max-packetcache-entries=1000000
# the default is 1: TTL-0 answers must not be served from cache
minimum-ttl-override=0
# DO bit out and DNSSEC records cached like unbound and kresd do, but
# never validated, even for clients that set DO or AD ('process' would)
dnssec=process-no-validate
# the defaults, written out: no prefetch, no stale answers;
# qname-minimization is left at its default (yes)
refresh-on-ttl-perc=0
serve-stale-extensions=0
# no secpoll.powerdns.com lookups through the lab root
security-poll-suffix=
EOF
}

bw_peer_start() {
	local name=$1 addr=$2 dir=$3 cpu=${4:-} pin=() cmd pid got end
	bw_peer_comm "$name" >/dev/null || return 1
	mkdir -p "$dir"
	bw_peer_stop "$name" "$dir"
	# else the check below could pass against someone else's server
	if [ -n "$(ss -Hlntu "src $addr and sport = :53")" ]; then
		echo "bw_peer_start: $addr port 53 is already in use" >&2
		return 1
	fi
	: >"$dir/$name.log"
	case $name in
	unbound)
		bw_peer_conf_unbound "$addr" "$dir"
		cmd=(unbound -c "$dir/unbound.conf")
		;;
	kresd)
		# a cold cache every start, like the other two
		rm -rf "$dir/kresd-cache"
		bw_peer_conf_kresd "$addr" "$dir"
		cmd=(kresd -n -c "$dir/kresd.conf" "$dir")
		;;
	pdns)
		bw_peer_conf_pdns "$addr" "$dir"
		cmd=(pdns_recursor --config-dir="$dir")
		;;
	esac
	[ -n "$cpu" ] && pin=(taskset -c "$cpu")
	# taskset execs the peer, so $! is the peer itself
	"${pin[@]}" "${cmd[@]}" </dev/null >>"$dir/$name.log" 2>&1 &
	pid=$!
	echo "$pid" >"$dir/$name.pid"
	end=$(($(date +%s) + 10))
	while bw_peer_alive "$pid" && [ "$(date +%s)" -lt "$end" ]; do
		got=$(kdig "@$addr" +time=1 +retry=0 +short www.shop.lab A 2>/dev/null || true)
		[ "$got" = 198.18.1.10 ] && return 0
		sleep 0.2
	done
	echo "bw_peer_start: $name at $addr did not answer www.shop.lab A; $dir/$name.log:" >&2
	tail -n 20 "$dir/$name.log" >&2
	bw_peer_stop "$name" "$dir"
	return 1
}

bw_peer_stop() {
	local name=$1 dir=$2 comm pid
	comm=$(bw_peer_comm "$name") || return 1
	[ -f "$dir/$name.pid" ] || return 0
	pid=$(cat "$dir/$name.pid")
	# only our peer: the pid may have been reused since
	if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ]; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 30); do
			bw_peer_alive "$pid" || break
			sleep 0.1
		done
		if bw_peer_alive "$pid"; then
			kill -KILL "$pid" 2>/dev/null || true
			for _ in $(seq 20); do
				bw_peer_alive "$pid" || break
				sleep 0.1
			done
		fi
		# reaps it when it is our child; harmless when it is not
		wait "$pid" 2>/dev/null || true
	fi
	rm -f "$dir/$name.pid"
}

bw_peer_version() {
	case $1 in
	# awk reads to the end: an early exit would be a SIGPIPE under pipefail
	unbound) unbound -V 2>&1 | awk '/^Version/ && !v { v = $2 } END { print "unbound", v }' ;;
	kresd) kresd --version 2>&1 | awk 'NR == 1 { v = $NF } END { print "kresd", v }' ;;
	pdns) { pdns_recursor --version 2>&1 || true; } |
		awk '{ for (i = 1; i < NF; i++) if ($i == "Recursor" && !v) v = $(i + 1) }
		     END { print "pdns-recursor", v }' ;;
	*) bw_peer_comm "$1" >/dev/null ;;
	esac
}

bw_peer_threads() {
	case $1 in
	unbound) echo "num-threads: 1 (one thread, the process itself, does everything)" ;;
	kresd) echo "one kresd process, no forks (kresd is one event-loop thread per process)" ;;
	pdns) echo "threads=1, pdns-distributes-queries=no (the main thread is the single distributor/worker and does all DNS work; rec/web+stat and rec/taskThread do no query work)" ;;
	*) bw_peer_comm "$1" >/dev/null ;;
	esac
}
