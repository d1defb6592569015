#!/bin/bash
# Installs the Debian 12 packages needed to build, test and demo dailysyncd.
# Idempotent: does nothing when everything is already installed. Needs root.
set -euo pipefail
packages=(
    g++ cmake make pkg-config            # toolchain
    libboost1.81-dev libboost-filesystem1.81-dev   # Asio, Process v2 (which needs Boost.Filesystem)
    nlohmann-json3-dev libsystemd-dev    # JSON; sd-bus, sd-journal, sd-daemon
    libcurl4-openssl-dev                  # the alerts webhook (HTTP POST); libcurl over our own sockets
    libgtest-dev                          # tests
    rsync                                 # what dailysyncd drives
    dbus                                  # dbus-daemon for the D-Bus tests
    bash-completion                       # to test dailysyncctl's completion
    python3-dbusmock                      # a mock polkit authority for the authorization tests
    clang libclang-rt-14-dev              # libFuzzer (tests/fuzz/run.sh)
    bsdutils                              # script(1): pseudo-terminal for the live-view test
    tzdata                                # time zones for the schedule tests
    util-linux                            # unshare/mount namespaces used by the journal test
    dpkg-dev                              # dpkg-shlibdeps for the .deb's Depends (cpack)
    debootstrap systemd-container procps  # the end-to-end test boots a Debian root with systemd-nspawn
    openssh-server sshfs fuse3 iproute2   # the simulated NAS (scripts/simulated-nas.sh) of the bottleneck tests
    gdb                                   # stacks of a process a test finds hung (tests/integration/helpers.cpp)
    groff-base                            # renders the man pages for tests/docs/man_pages.sh
)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages: ${missing[*]}; run as root (or: sudo $0)" >&2
    exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
