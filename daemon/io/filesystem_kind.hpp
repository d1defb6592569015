// What kind of filesystem a path lives on, as far as it changes how to copy to or from it.
#pragma once

#include <string>

namespace dailysync {

// NFS, SMB/CIFS, FUSE (sshfs, ...), AFS, Ceph: every file operation is a network round
// trip. False when the path cannot be examined.
bool is_remote_filesystem(const std::string &path);

}  // namespace dailysync
