#!/usr/bin/env bash
# Give the pods of the test cluster (../shared/k8s/cluster.sh) an address on an isolated bridge.
#
#   scripts/k8s-pod-network.sh DIR      (DIR: the cluster's, as given to cluster.sh up)
#
# Why: that cluster's kubelet runs pods with no network plugin on an engine without a bridge, so a
# pod has no IP, and a kubelet 1.20 that sees a pod sandbox without an IP kills it and makes a new
# one at its next sync: every pod but a hostNetwork one is killed a second or two after it starts
# (a restartPolicy: Always pod starts again, for ever). Giving pods an address fixes that.
#
# The network: CNI's `bridge` plugin on a bridge of its own with no address on the host side
# (isGateway false, no IPv6), no masquerade, no route: pods reach each other and nothing else, neither this
# host nor anything beyond it. Pod addresses come from 198.18.0.0/24 (a range reserved for
# benchmarks, routed nowhere). The kubelet is restarted with the same arguments plus the CNI ones,
# its new PID written where cluster.sh keeps it (so `cluster.sh down` stops it). Idempotent.
# Needs root and containernetworking-plugins (apt-get install containernetworking-plugins).
set -euo pipefail
dir="$(realpath "${1:?usage: k8s-pod-network.sh DIR}")"
export KUBECONFIG="$dir/kubeconfig"
cni_bin=/usr/lib/cni
[[ -x "$cni_bin/bridge" ]] || {
    echo "k8s-pod-network: CNI plugins missing: apt-get install containernetworking-plugins" >&2
    exit 1
}
pid="$(cat "$dir/kubelet.pid")"
mapfile -d '' args <"/proc/$pid/cmdline"
if printf '%s\n' "${args[@]}" | grep -q -- '--network-plugin=cni'; then
    echo "k8s-pod-network: the kubelet already runs with CNI" >&2
    exit 0
fi

mkdir -p "$dir/cni/conf" "$dir/cni/cache" "$dir/cni/ipam"
cat >"$dir/cni/conf/10-porter-pods.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "porter-pods",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "porter-pods0",
      "isGateway": false,
      "ipMasq": false,
      "hairpinMode": false,
      "ipam": {"type": "host-local", "dataDir": "$dir/cni/ipam", "ranges": [[{"subnet": "198.18.0.0/24"}]]}
    },
    {"type": "loopback"}
  ]
}
EOF

# The bridge made in advance without IPv6, so the host has no link-local address pods could reach.
if ! ip link show porter-pods0 >/dev/null 2>&1; then
    ip link add porter-pods0 type bridge
fi
sysctl -qw net.ipv6.conf.porter-pods0.disable_ipv6=1
ip link set porter-pods0 up

kill "$pid"
for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
kill -9 "$pid" 2>/dev/null || true
nohup "${args[@]}" --network-plugin=cni --cni-conf-dir="$dir/cni/conf" --cni-bin-dir="$cni_bin" \
    --cni-cache-dir="$dir/cni/cache" >>"$dir/logs/kubelet.log" 2>&1 &
echo $! >"$dir/kubelet.pid"
for _ in $(seq 60); do
    kubectl get node localhost 2>/dev/null | grep -q " Ready" && break
    sleep 1
done
kubectl get node localhost | grep -q " Ready" || { echo "k8s-pod-network: the node is not Ready; see $dir/logs/kubelet.log" >&2; exit 1; }
echo "k8s-pod-network: pods get addresses in 198.18.0.0/24 on an isolated bridge" >&2
