#!/usr/bin/env bash
# Installs everything Coral's build, tests, benchmarks and lab need on Debian 12.
# Idempotent: packages already present are skipped by apt-get.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config clang libclang-rt-14-dev clang-format
  # libraries
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libnl-3-dev libnl-route-3-dev libnftables-dev
  libboost-dev libboost-system-dev libyaml-cpp-dev nlohmann-json3-dev libabsl-dev
  libspdlog-dev libfmt-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev libssl-dev
  # etcd server and the v3 API protos
  etcd-server golang-etcd-server-dev
  # kernel tools and real peers for integration tests and the lab
  iproute2 nftables iptables iputils-ping netcat-openbsd procps psmisc tcpdump openssl
  bird2 gobgpd exabgp frr openbgpd
  containernetworking-plugins iperf3 graphviz
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
