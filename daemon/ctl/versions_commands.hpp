// dailysyncctl versions and restore: read the backup's versions (io/version_store.hpp)
// directly, with the caller's rights; the daemon need not run. Restore assembles the
// backup as it was at a version in a private folder of hard links beside the versions,
// then copies it with rsync, whose progress shows on the terminal.
#pragma once

#include "ctl/command_line.hpp"

namespace dailysync::ctl {

int list_versions(const CommandLine &cl);
int restore(const CommandLine &cl);

}  // namespace dailysync::ctl
