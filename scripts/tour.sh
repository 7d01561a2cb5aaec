#!/usr/bin/env bash
# A short tour of what Coral can do today, on a throw-away embedded datastore:
# resources in and out with coralctl, validation errors, compare-and-swap.
set -uo pipefail
cd "$(dirname "$0")/.."
ctl=${CORALCTL:-build/ctl/coralctl}
store=$(mktemp -d /tmp/coral-tour.XXXXXX)
trap 'rm -rf "$store"' EXIT
export CORAL_DATASTORE="file://$store"

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "$2"; eval "$2"; }

step "Apply every example resource (IP pools, BGP, nodes, policies, Kubernetes objects)" \
  "$ctl apply -f examples/resources"
step "IP pools, with the defaults Coral filled in" "$ctl get ippools -o wide"
step "BGP peers" "$ctl get bgppeers"
step "Policies in every namespace" "$ctl get networkpolicies -A"
step "One pool as YAML (resourceVersion, uid and creationTimestamp come from the store)" \
  "$ctl get ippool default-ipv4 -o yaml"
step "Applying the same files again changes nothing" "$ctl apply -f examples/resources/ippools.yaml"
step "A bad resource is rejected with the field and the reason, and nothing is written" \
  "printf 'apiVersion: coral.network/v1\nkind: IPPool\nmetadata: {name: blue}\nspec: {cidr: 10.0.0.0/33, blockSize: 40}\n' | $ctl apply -f - ; $ctl get ippool blue"
step "Delete by kind and name" "$ctl delete ippool default-ipv6 && $ctl get ippools"
printf '\nThe datastore was %s (removed on exit). Try: %s --help\n' "$store" "$ctl"
