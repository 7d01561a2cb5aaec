#!/usr/bin/env bash
# The main job: a two-datacenter Coral cluster on this machine, built with `coralctl lab`.
# Builds the lab, adds pods in both data centers, shows BGP and the connectivity matrix,
# draws the topology, and leaves the lab up to explore (--down tears it down at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
ctl=${CORALCTL:-build/ctl/coralctl}
name=${LAB_NAME:-demo}
# LAB_DATASTORE=etcd: the lab runs a real etcd (ctl/lab/README.md); the default is the file store.
datastore=${LAB_DATASTORE:-file}
down=false
[ "${1:-}" = "--down" ] && down=true

if [ "$(id -u)" -ne 0 ]; then
  echo "The lab creates network namespaces: run this as root (sudo $0)." >&2
  exit 1
fi

step() { printf '\n\033[1m== %s\033[0m\n' "$1"; }

step "Removing an earlier lab named $name, if any"
$ctl lab --name "$name" down

step "Building the lab: 2 data centers, each a BIRD router and 2 corald nodes"
if [ "$datastore" = file ]; then
  $ctl lab --name "$name" up
else
  $ctl lab --name "$name" up --datastore "$datastore"
fi

step "Adding pods through the real coral-cni, as a container runtime would"
$ctl lab --name "$name" pod add web --node dc1-n1 -n shop --labels app=web
$ctl lab --name "$name" pod add db --node dc1-n2 -n shop --labels app=db
$ctl lab --name "$name" pod add client --node dc2-n1 -n default --labels app=client
$ctl lab --name "$name" pod add batch --node dc2-n2 -n default --labels app=batch

step "Lab status: routers, BGP sessions, nodes, pods, router tables"
$ctl lab --name "$name" status

step "Connectivity matrix (TCP port 80 between every pair of pods)"
$ctl lab --name "$name" matrix

labdir="${CORAL_LAB_DIR:-/var/run/coral-lab}/$name"
store="file://$labdir/store"
[ "$datastore" = etcd ] && store="etcd+unix://$labdir/etcd/etcd.sock:2379"

step "Applying a Kubernetes NetworkPolicy: in shop, only web may reach db (on its named port http)"
cat examples/lab/policy.yaml
$ctl --datastore "$store" apply -f examples/lab/policy.yaml
sleep 1

step "The matrix again: db now accepts only web"
$ctl lab --name "$name" matrix

step "Why is client -> db blocked? policy trace explains it"
$ctl --datastore "$store" policy trace --from default/client --to shop/db --port 80/tcp

step "The topology"
graph="/var/run/coral-lab/$name-topology.svg"
[ -n "${CORAL_LAB_DIR:-}" ] && graph="$CORAL_LAB_DIR/$name-topology.svg"
$ctl lab --name "$name" graph -o "$graph"

if $down; then
  step "Tearing the lab down"
  $ctl lab --name "$name" down
else
  cat <<MSG

The lab is up. Explore it:
  $ctl lab --name $name status
  $ctl lab --name $name exec web -n shop -- ip route
  $ctl lab --name $name pod add more --node dc1-n2 --labels app=web
  $ctl --datastore $store get workloadendpoints -A
  ip netns list                       # every router, node and pod is a namespace
Tear it down:
  $ctl lab --name $name down
MSG
fi
