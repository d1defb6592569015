// The in-process alternative to rsync children, for the threads-vs-processes measurement
// (bench/models.sh): copies a tree with a pool of THREADS threads in one process, each
// taking the next file (open, read/write in 1 MiB blocks, mode and mtime kept). Folders and
// symlinks are made first, by the main thread; folder times are set last. THREADS=1 is
// the serial, one-file-at-a-time copy of the original script.
//   thread_copy THREADS SOURCE DESTINATION
// Prints "files BYTES" on success; exit 1 if any file failed (named on stderr).
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Item {
    std::string relative;
    struct stat st;
};

void walk(const std::string &root, const std::string &relative, std::vector<Item> &folders, std::vector<Item> &files,
          std::vector<Item> &links) {
    const std::string path = relative.empty() ? root : root + "/" + relative;
    for (const auto &entry : fs::directory_iterator(path)) {
        Item item{relative.empty() ? entry.path().filename().string() : relative + "/" + entry.path().filename().string(), {}};
        if (::lstat(entry.path().c_str(), &item.st) != 0) continue;
        if (S_ISDIR(item.st.st_mode)) {
            folders.push_back(item);
            walk(root, item.relative, folders, files, links);
        } else if (S_ISREG(item.st.st_mode)) {
            files.push_back(item);
        } else if (S_ISLNK(item.st.st_mode)) {
            links.push_back(item);
        }
    }
}

bool copy_file(const std::string &from, const std::string &to, const struct stat &st, std::vector<char> &buffer) {
    const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) return false;
    const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st.st_mode & 07777);
    bool ok = out >= 0;
    while (ok) {
        const ssize_t n = ::read(in, buffer.data(), buffer.size());
        if (n == 0) break;
        ok = n > 0 && ::write(out, buffer.data(), static_cast<std::size_t>(n)) == n;
    }
    if (ok) {
        const struct timespec times[2] = {st.st_atim, st.st_mtim};
        ok = ::fchmod(out, st.st_mode & 07777) == 0 && ::futimens(out, times) == 0;
    }
    ::close(in);
    if (out >= 0) ok = ::close(out) == 0 && ok;
    return ok;
}

}  // namespace

int main(int argc, char **argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: thread_copy THREADS SOURCE DESTINATION\n");
        return 64;
    }
    const int threads = std::max(1, std::atoi(argv[1]));
    const std::string source = argv[2], destination = argv[3];
    std::vector<Item> folders, files, links;
    walk(source, "", folders, files, links);
    for (const auto &f : folders) ::mkdir((destination + "/" + f.relative).c_str(), f.st.st_mode & 07777);
    for (const auto &l : links) {
        std::vector<char> target(static_cast<std::size_t>(l.st.st_size) + 1);
        const ssize_t n = ::readlink((source + "/" + l.relative).c_str(), target.data(), target.size());
        if (n >= 0) ::symlink(std::string(target.data(), static_cast<std::size_t>(n)).c_str(), (destination + "/" + l.relative).c_str());
    }
    std::atomic<std::size_t> next{0};
    std::atomic<std::uint64_t> bytes{0};
    std::atomic<int> failed{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&] {
            std::vector<char> buffer(1 << 20);
            for (std::size_t i; (i = next++) < files.size();) {
                const Item &f = files[i];
                if (copy_file(source + "/" + f.relative, destination + "/" + f.relative, f.st, buffer)) {
                    bytes += static_cast<std::uint64_t>(f.st.st_size);
                } else {
                    std::fprintf(stderr, "thread_copy: %s: %s\n", f.relative.c_str(), std::strerror(errno));
                    ++failed;
                }
            }
        });
    for (auto &t : pool) t.join();
    for (auto it = folders.rbegin(); it != folders.rend(); ++it) {   // deepest first: children would touch them
        const struct timespec times[2] = {it->st.st_atim, it->st.st_mtim};
        ::utimensat(AT_FDCWD, (destination + "/" + it->relative).c_str(), times, 0);
    }
    std::printf("%zu files %llu bytes\n", files.size(), static_cast<unsigned long long>(bytes.load()));
    return failed ? 1 : 0;
}
