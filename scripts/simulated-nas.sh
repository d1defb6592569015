#!/bin/bash
# A simulated NAS: sshd in a private network namespace, reached through
# latency_proxy (a fixed delay each way, since tc netem is not available), its
# shares mounted here with sshfs, so every file operation is a real network round
# trip through ssh. Used by bench/run.sh and by the integration tests.
#
#   simulated-nas.sh up DIR RTT_US SHARE...   serve DIR/nas/SHARE, mount it at DIR/mnt/SHARE
#   simulated-nas.sh remount DIR SHARE...     unmount, drop the page cache, mount again
#   simulated-nas.sh unmount DIR              unmount every share (the NAS keeps running)
#   simulated-nas.sh freeze DIR               the NAS stops answering (SIGSTOP to the proxy every
#                                             byte goes through): file calls on the mounts hang
#   simulated-nas.sh thaw DIR                 it answers again (SIGCONT)
#   simulated-nas.sh down DIR                 unmount, stop sshd and the proxy, delete the namespace
#
# NAS_CLIENT_TIMEOUT=SECONDS: the mounts give up on a NAS that stopped answering after
# about that long (ssh keepalives; requests then fail, and the next one reconnects), as
# NFS, SMB and a well-configured sshfs do. Without it a request the NAS never answers
# waits for ever, and FUSE lets no signal interrupt it: not even SIGKILL.
# LATENCY_PROXY: the latency_proxy binary (default: build/latency_proxy). Needs root,
# openssh-server, sshfs, fuse3, iproute2. The namespace is named after DIR, so several
# NASes can run at once; only its own loopback is addressed.
set -euo pipefail
command=${1:?usage: simulated-nas.sh up|remount|unmount|freeze|thaw|down DIR ...}
dir=$(realpath -m "${2:?DIR missing}")
repo=$(cd "$(dirname "$0")/.." && pwd)
proxy=${LATENCY_PROXY:-$repo/build/latency_proxy}
netns=dsnas-$(echo "$dir" | md5sum | cut -c1-8)
port=2222          # sshd
proxy_port=2223    # latency_proxy in front of it
in_ns() { nsenter --net="/var/run/netns/$netns" "$@"; }
client_timeout=
if [ -n "${NAS_CLIENT_TIMEOUT:-}" ]; then
    interval=$(( (NAS_CLIENT_TIMEOUT + 3) / 4 ))
    client_timeout=",ServerAliveInterval=$interval,ServerAliveCountMax=3,ConnectTimeout=$interval,reconnect"
fi

mount_shares() {
    for share in "$@"; do
        mkdir -p "$dir/nas/$share" "$dir/mnt/$share"
        in_ns sshfs -o "IdentityFile=$dir/ssh/client_key,StrictHostKeyChecking=no,UserKnownHostsFile=/dev/null,port=$proxy_port$client_timeout" \
            "root@127.0.0.1:$dir/nas/$share" "$dir/mnt/$share"
    done
}
unmount_shares() {
    for m in "$dir"/mnt/*; do
        [ -d "$m" ] || continue
        mountpoint -q "$m" && { fusermount3 -u "$m" 2>/dev/null || umount -l "$m"; }
    done
    return 0
}

case "$command" in
up)
    rtt_us=${3:?RTT_US missing}
    shift 3
    mkdir -p "$dir/ssh" /run/sshd
    ip netns add "$netns"
    ip -n "$netns" link set lo up
    [ -f "$dir/ssh/host_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$dir/ssh/host_key"
    [ -f "$dir/ssh/client_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$dir/ssh/client_key"
    cp "$dir/ssh/client_key.pub" "$dir/ssh/authorized_keys"
    cat >"$dir/ssh/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $dir/ssh/host_key
AuthorizedKeysFile $dir/ssh/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
PidFile $dir/ssh/sshd.pid
CONF
    in_ns /usr/sbin/sshd -f "$dir/ssh/sshd_config"
    # Not through in_ns: a function would run in a subshell, and $! would be that
    # subshell's pid instead of the proxy's (nsenter and setsid exec, keeping the pid).
    nsenter --net="/var/run/netns/$netns" setsid "$proxy" "$proxy_port" "$port" "$((rtt_us / 2))" </dev/null >/dev/null 2>&1 &
    echo $! >"$dir/ssh/proxy.pid"
    for _ in $(seq 50); do in_ns bash -c "echo >/dev/tcp/127.0.0.1/$proxy_port" 2>/dev/null && break; sleep 0.1; done
    mount_shares "$@"
    ;;
remount)
    shift 2
    unmount_shares
    sync
    echo 3 >/proc/sys/vm/drop_caches
    mount_shares "$@"
    ;;
unmount)
    unmount_shares
    ;;
freeze)
    kill -STOP "$(cat "$dir/ssh/proxy.pid")"
    ;;
thaw)
    kill -CONT "$(cat "$dir/ssh/proxy.pid")"
    ;;
down)
    unmount_shares
    for pidfile in "$dir/ssh/sshd.pid" "$dir/ssh/proxy.pid"; do
        [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
        rm -f "$pidfile"
    done
    ip netns del "$netns" 2>/dev/null || true
    ;;
*)
    echo "simulated-nas.sh: unknown command $command" >&2
    exit 64
    ;;
esac
