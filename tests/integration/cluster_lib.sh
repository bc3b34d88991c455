# cluster_lib.sh - a throwaway Redis Cluster for the shell tests: 3
# masters and 3 replicas on free ports, with the ACL user tester/s3cret
# (the default user off), made with redis-cli --cluster create.
# Usage: . lib.sh; . cluster_lib.sh; cluster_start
#   -> CLUSTER_PORTS (6 ports, masters first as created), CLUSTER_NODES
#      ("127.0.0.1:p,..." of all six), CLUSTER_PIDS; cluster_stop kills
#      them all (lib.sh's TMP holds their directories and logs).
CLUSTER_PORTS=()
CLUSTER_PIDS=()
CLUSTER_NODES=
RCLI=(redis-cli --no-auth-warning --user tester --pass s3cret)

cluster_node() { # cluster_node PORT: start (or restart) the node on PORT
	local p=$1
	mkdir -p "$TMP/node$p"
	"$REDIS_SERVER" --port "$p" --bind 127.0.0.1 --save '' --appendonly no \
		--dir "$TMP/node$p" --cluster-enabled yes \
		--cluster-config-file "$TMP/node$p/nodes.conf" \
		--cluster-node-timeout 1500 \
		--user default off --user tester on '>s3cret' '~*' '&*' '+@all' \
		--masteruser tester --masterauth s3cret \
		>>"$TMP/node$p.log" 2>&1 &
	CLUSTER_PIDS+=($!)
	eval "CLUSTER_PID_$p=$!"
}

# free_cluster_port: a port for a cluster node: free, and so is its
# cluster bus port (port + 10000), and neither is a port or bus port of a
# node started here already (a node that cannot bind its bus port does not
# start at all). Ports 10000-21999, so that bus ports stay below Linux's
# ephemeral range (32768-60999), where an outgoing connection of anyone's
# could hold the port between this check and redis-server's bind.
free_cluster_port() {
	local p q taken
	while :; do
		p=$((10000 + RANDOM % 12000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
		(exec 3<>"/dev/tcp/127.0.0.1/$((p + 10000))") 2>/dev/null && continue
		taken=0
		for q in "${CLUSTER_PORTS[@]}"; do
			[ "$p" = "$q" ] || [ "$p" = $((q + 10000)) ] ||
				[ $((p + 10000)) = "$q" ] || continue
			taken=1
		done
		[ "$taken" = 0 ] && { echo "$p"; return; }
	done
}

cluster_ok() { # does every node say cluster_state:ok?
	local p
	for p in "${CLUSTER_PORTS[@]}"; do
		"${RCLI[@]}" -p "$p" cluster info 2>/dev/null |
			grep -q '^cluster_state:ok' || return 1
	done
}

cluster_start() {
	local p i
	for i in 1 2 3 4 5 6; do
		p=$(free_cluster_port)
		CLUSTER_PORTS+=("$p")
		CLUSTER_NODES="$CLUSTER_NODES${CLUSTER_NODES:+,}127.0.0.1:$p"
		cluster_node "$p"
	done
	for p in "${CLUSTER_PORTS[@]}"; do
		wait_for 10 sh -c "${RCLI[*]} -p $p ping | grep -q PONG" ||
			{ cat "$TMP"/node*.log; return 1; }
	done
	"${RCLI[@]}" --cluster create $(echo "$CLUSTER_NODES" | tr , ' ') \
		--cluster-replicas 1 --cluster-yes >"$TMP/cluster-create.log" 2>&1 ||
		{ cat "$TMP/cluster-create.log"; return 1; }
	wait_for 30 cluster_ok || { echo "cluster did not come up"; return 1; }
}

cluster_stop() {
	local p
	for p in "${CLUSTER_PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	for p in "${CLUSTER_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}

cluster_masters() { # the ports of the current masters
	"${RCLI[@]}" -p "${1:-${CLUSTER_PORTS[0]}}" cluster nodes |
		awk '$3 ~ /master/ && $3 !~ /fail/ { split($2, a, "[:@]"); print a[2] }'
}
