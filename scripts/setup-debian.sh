#!/usr/bin/env bash
# Installs everything Coral's build, tests, benchmarks and lab need on Debian 12.
# Idempotent: packages already present are skipped by apt-get.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config clang libclang-rt-14-dev clang-format
  # libraries
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libnl-3-dev libnl-route-3-dev libnftables-dev libnftnl-dev libmnl-dev
  libboost-dev libboost-system-dev libyaml-cpp-dev nlohmann-json3-dev libabsl-dev
  libspdlog-dev libfmt-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev libssl-dev
  # etcd server and the v3 API protos
  etcd-server golang-etcd-server-dev
  # kernel tools and real peers for integration tests and the lab
  iproute2 nftables iptables iputils-ping netcat-openbsd procps psmisc tcpdump openssl
  bird2 gobgpd exabgp frr openbgpd
  containernetworking-plugins iperf3 graphviz
  # the manifests tests validate Kubernetes objects with node (tests/tools/k8s-validate)
  nodejs
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${#missing[@]} packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # The packaged daemons must not run in the machine's own namespace: tests start their own.
  for svc in bird frr etcd gobgpd openbgpd exabgp; do
    $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || true
  done
else
  echo "setup: all packages present"
fi

# npm ships inside some nodejs builds (NodeSource's) and is a package of its own in Debian's.
if ! command -v npm >/dev/null; then
  echo "setup: installing npm"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends npm
fi

# The Kubernetes API schemas for tests/unit/manifests: the npm package kubernetes-models at
# the versions package-lock.json pins, installed next to the validator (not global).
# Skipped when the installed tree matches the lock file.
validator="$(cd "$(dirname "$0")/.." && pwd)/tests/tools/k8s-validate"
stamp="$validator/node_modules/.coral-lock.sha256"
want=$(sha256sum "$validator/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: npm ci in $validator"
  (cd "$validator" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" >"$stamp"
else
  echo "setup: kubernetes-models present"
fi
