#!/bin/sh
# install-cni.sh: the corald DaemonSet's init container. Installs coral-cni as the CNI
# plugin "coral" into the node's CNI bin directory, the reference plugins the conflist
# chains (portmap, bandwidth) when the node has none, and then the conflist, in that
# order: a runtime that finds the conflist finds every plugin it names.
#
# Every file is written to a temporary name in its target directory and renamed over the
# target, so the runtime sees the old file or the new one, never half of one (rename is
# atomic within a filesystem; a running plugin keeps its old inode). A file whose content
# is already right is left alone, so running it again changes nothing.
#
# Environment (defaults are the container's paths):
#   CNI_BIN_DIR        /host/opt/cni/bin         the node's /opt/cni/bin
#   CNI_NET_DIR        /host/etc/cni/net.d       the node's /etc/cni/net.d
#   CORAL_CNI_BINARY   /usr/local/bin/coral-cni
#   CORAL_CONFLIST     /etc/coral/config/10-coral.conflist
#   CNI_CONF_NAME      10-coral.conflist         sorts first, so the runtime picks it
#   EXTRA_PLUGINS_DIR  /usr/lib/cni              Debian's containernetworking-plugins
#   EXTRA_PLUGINS      "portmap bandwidth"
set -eu

CNI_BIN_DIR=${CNI_BIN_DIR:-/host/opt/cni/bin}
CNI_NET_DIR=${CNI_NET_DIR:-/host/etc/cni/net.d}
CORAL_CNI_BINARY=${CORAL_CNI_BINARY:-/usr/local/bin/coral-cni}
CORAL_CONFLIST=${CORAL_CONFLIST:-/etc/coral/config/10-coral.conflist}
CNI_CONF_NAME=${CNI_CONF_NAME:-10-coral.conflist}
EXTRA_PLUGINS_DIR=${EXTRA_PLUGINS_DIR:-/usr/lib/cni}
EXTRA_PLUGINS=${EXTRA_PLUGINS-portmap bandwidth}

log() { echo "install-cni: $*" >&2; }
die() { log "$*"; exit 1; }

# install_file SOURCE TARGET MODE: atomically make TARGET a copy of SOURCE with MODE.
install_file() {
  src=$1 dst=$2 mode=$3
  [ -f "$src" ] || die "$src does not exist"
  [ -s "$src" ] || die "$src is empty"
  if [ -f "$dst" ] && cmp -s "$src" "$dst"; then
    chmod "$mode" "$dst"
    log "$dst is up to date"
    return 0
  fi
  tmp=$(mktemp "$(dirname "$dst")/.$(basename "$dst").coral-tmp.XXXXXX") ||
    die "cannot create a temporary file next to $dst"
  # The temporary file goes away on any failure below.
  trap 'rm -f "$tmp"' EXIT
  cp "$src" "$tmp" || die "cannot copy $src to $tmp"
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$dst" || die "cannot rename $tmp to $dst"
  trap - EXIT
  log "installed $dst"
}

mkdir -p "$CNI_BIN_DIR" "$CNI_NET_DIR"
if ! [ -d "$CNI_BIN_DIR" ] || ! [ -w "$CNI_BIN_DIR" ]; then die "$CNI_BIN_DIR is not a writable directory"; fi
if ! [ -d "$CNI_NET_DIR" ] || ! [ -w "$CNI_NET_DIR" ]; then die "$CNI_NET_DIR is not a writable directory"; fi

# Remove what an interrupted earlier run left behind.
rm -f "$CNI_BIN_DIR"/.*.coral-tmp.* "$CNI_NET_DIR"/.*.coral-tmp.*

# The conflist must be a JSON object naming the "coral" plugin: a broken one on a node
# breaks every pod start there, so refuse it here instead.
head -c 1 "$CORAL_CONFLIST" 2>/dev/null | grep -q '{' ||
  die "$CORAL_CONFLIST is not a JSON object"
grep -q '"type"[[:space:]]*:[[:space:]]*"coral"' "$CORAL_CONFLIST" ||
  die "$CORAL_CONFLIST has no plugin of type \"coral\""

install_file "$CORAL_CNI_BINARY" "$CNI_BIN_DIR/coral" 0755

# The node's own reference plugins win: only missing ones are installed.
for plugin in $EXTRA_PLUGINS; do
  if [ -x "$CNI_BIN_DIR/$plugin" ]; then
    log "$CNI_BIN_DIR/$plugin exists, keeping the node's"
  elif [ -x "$EXTRA_PLUGINS_DIR/$plugin" ]; then
    install_file "$EXTRA_PLUGINS_DIR/$plugin" "$CNI_BIN_DIR/$plugin" 0755
  else
    die "the conflist chains $plugin, but neither $CNI_BIN_DIR nor $EXTRA_PLUGINS_DIR has it"
  fi
done

install_file "$CORAL_CONFLIST" "$CNI_NET_DIR/$CNI_CONF_NAME" 0644
log "done"
