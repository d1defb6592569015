#include "io/filesystem_kind.hpp"

#include <linux/magic.h>
#include <sys/statfs.h>

namespace dailysync {

bool is_remote_filesystem(const std::string &path) {
    struct statfs fs {};
    if (::statfs(path.c_str(), &fs) != 0) return false;
    switch (static_cast<unsigned long>(fs.f_type)) {
    case NFS_SUPER_MAGIC:
    case SMB_SUPER_MAGIC:
    case 0xFF534D42:   // CIFS
    case 0xFE534D42:   // SMB2
    case 0x65735546:   // FUSE (sshfs, ...)
    case 0x6B414653:   // AFS
    case 0x00C36400:   // Ceph
        return true;
    default:
        return false;
    }
}

}  // namespace dailysync
