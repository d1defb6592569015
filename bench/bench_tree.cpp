// Benchmark trees: a media-like production tree, its daily changes, and a huge empty-file
// tree for the planner's memory benchmark. Deterministic for a given seed.
//
//   bench_tree generate DIR [SCALE]   ~21,000 files and ~1.6 GB at SCALE 1 (one project
//                                      holds > 40 % of the files; big and tiny files, deep
//                                      folders, odd names)
//   bench_tree mutate DIR             the daily change: 1 % of files rewritten, 0.5 % new,
//                                      0.2 % deleted
//   bench_tree million DIR            1,000,000 empty files in 2,000 folders
//   bench_tree files DIR N            N small files (100 B..4 KB, old times) in folders of
//                                      100, below 10 projects and 100 folders each (scale.sh)
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <fcntl.h>
#include <sys/stat.h>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Random {
    std::uint64_t state;
    std::uint64_t next() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    }
    std::uint64_t below(std::uint64_t n) { return next() % n; }
};

void write_data(const fs::path &path, std::uint64_t size, Random &random) {
    std::FILE *f = std::fopen(path.c_str(), "wb");
    if (!f) {
        std::perror(path.c_str());
        std::exit(1);
    }
    static std::vector<std::uint64_t> block(1 << 16);
    while (size > 0) {
        for (auto &word : block) word = random.next();
        const std::size_t chunk = std::min<std::uint64_t>(size, block.size() * sizeof(std::uint64_t));
        std::fwrite(block.data(), 1, chunk, f);
        size -= chunk;
    }
    std::fclose(f);
}

// 85 % under 4 KB, 14 % 20..200 KB, 1 % 1..4 MB.
std::uint64_t file_size(Random &random) {
    const auto roll = random.below(100);
    if (roll < 85) return 100 + random.below(4000);
    if (roll < 99) return 20'000 + random.below(180'000);
    return 1'000'000 + random.below(3'000'000);
}

void set_old_mtime(const fs::path &path, Random &random) {
    struct timespec times[2];
    times[0].tv_sec = times[1].tv_sec = 1'700'000'000 + static_cast<time_t>(random.below(30'000'000));
    times[0].tv_nsec = times[1].tv_nsec = 0;
    utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW);
}

int generate(const fs::path &root, int scale) {
    Random random{0x5eed1234abcdULL};
    struct Project {
        const char *name;
        int folders, depth, files_per_folder;
    };
    // feature_film: 9,600 of about 21,000 files (46 %).
    const std::vector<Project> projects = {{"feature_film", 160, 4, 60}, {"commercials", 100, 3, 50},
                                           {"documentary", 60, 3, 50},  {"music_video", 40, 2, 50},
                                           {"archive_2023", 30, 2, 50}};
    std::uint64_t files = 0, bytes = 0;
    for (const auto &p : projects) {
        for (int f = 0; f < p.folders * scale; ++f) {
            fs::path dir = root / p.name;
            for (int d = 0; d < p.depth; ++d) dir /= "level" + std::to_string(d) + "_" + std::to_string((f >> (d * 2)) % 4);
            dir /= "shot_" + std::to_string(f);
            fs::create_directories(dir);
            for (int i = 0; i < p.files_per_folder; ++i) {
                const auto size = file_size(random);
                write_data(dir / ("frame_" + std::to_string(i) + ".dpx"), size, random);
                set_old_mtime(dir / ("frame_" + std::to_string(i) + ".dpx"), random);
                ++files;
                bytes += size;
            }
        }
    }
    // A few big masters (> 50 MB).
    for (int i = 0; i < 8; ++i) {
        const fs::path path = root / projects[i % projects.size()].name / ("master_v" + std::to_string(i) + ".mov");
        const std::uint64_t size = 60'000'000 + random.below(40'000'000);
        write_data(path, size, random);
        set_old_mtime(path, random);
        ++files;
        bytes += size;
    }
    // Odd names.
    const fs::path odd = root / "commercials" / "odd names";
    fs::create_directories(odd);
    for (const char *name : {"-leading dash", "--delete", " leading space", "quote\"s 'and' apostrophes", "caf\xc3\xa9 \xe2\x98\x95",
                             "star*glob?[x]", "back\\slash"}) {
        write_data(odd / name, 1000, random);
        ++files;
        bytes += 1000;
    }
    write_data(root / "README.txt", 500, random);
    // Folders get old times too, last, so writing into them does not change them again.
    std::vector<fs::path> dirs;
    for (auto &entry : fs::recursive_directory_iterator(root))
        if (entry.is_directory()) dirs.push_back(entry.path());
    std::sort(dirs.begin(), dirs.end(), [](const fs::path &a, const fs::path &b) { return a.native().size() > b.native().size(); });
    for (const auto &d : dirs) set_old_mtime(d, random);
    std::printf("generated %llu files, %.2f GB in %s\n", static_cast<unsigned long long>(files + 1), bytes / 1e9, root.c_str());
    return 0;
}

int mutate(const fs::path &root) {
    Random random{0xda11e5ULL};
    std::vector<fs::path> files;
    for (auto &entry : fs::recursive_directory_iterator(root))
        if (entry.is_regular_file()) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    std::shuffle(files.begin(), files.end(), [&] {
        struct G {
            Random &r;
            using result_type = std::uint64_t;
            static constexpr result_type min() { return 0; }
            static constexpr result_type max() { return UINT64_MAX; }
            result_type operator()() { return r.next(); }
        };
        return G{random};
    }());
    const std::size_t modified = files.size() / 100, added = files.size() / 200, deleted = files.size() / 500;
    std::size_t i = 0;
    for (std::size_t k = 0; k < modified; ++k, ++i) write_data(files[i], fs::file_size(files[i]), random);
    for (std::size_t k = 0; k < deleted; ++k, ++i) fs::remove(files[i]);
    for (std::size_t k = 0; k < added; ++k) {
        const fs::path dir = files[i + k].parent_path();
        if (fs::exists(dir)) write_data(dir / ("new_" + std::to_string(k) + ".dpx"), file_size(random), random);
    }
    std::printf("mutated %s: %zu modified, %zu new, %zu deleted (of %zu files)\n", root.c_str(), modified, added, deleted, files.size());
    return 0;
}

int million(const fs::path &root) {
    for (int d = 0; d < 2000; ++d) {
        const fs::path dir = root / ("p" + std::to_string(d % 10)) / ("d" + std::to_string(d));
        fs::create_directories(dir);
        for (int f = 0; f < 500; ++f) {
            const std::string path = (dir / ("f" + std::to_string(f))).string();
            std::FILE *file = std::fopen(path.c_str(), "w");
            if (file) std::fclose(file);
        }
    }
    std::printf("generated 1,000,000 empty files in %s\n", root.c_str());
    return 0;
}

int files(const fs::path &root, std::uint64_t count) {
    Random random{0x5ca1eULL};
    std::vector<fs::path> dirs;
    for (std::uint64_t i = 0; i < count; ++i) {
        const std::uint64_t folder = i / 100;
        const fs::path dir = root / ("project" + std::to_string(folder % 10)) / ("part" + std::to_string(folder / 10 % 100)) /
                             ("shot" + std::to_string(folder / 1000));
        if (i % 100 == 0) fs::create_directories(dir);
        const fs::path path = dir / ("f" + std::to_string(i % 100) + ".dat");
        write_data(path, 100 + random.below(4000), random);
        set_old_mtime(path, random);
    }
    for (auto &entry : fs::recursive_directory_iterator(root))
        if (entry.is_directory()) dirs.push_back(entry.path());
    std::sort(dirs.begin(), dirs.end(), [](const fs::path &a, const fs::path &b) { return a.native().size() > b.native().size(); });
    for (const auto &d : dirs) set_old_mtime(d, random);
    std::printf("generated %llu files in %s\n", static_cast<unsigned long long>(count), root.c_str());
    return 0;
}

}  // namespace

int main(int argc, char **argv) {
    if (argc >= 3 && std::strcmp(argv[1], "generate") == 0) return generate(argv[2], argc > 3 ? std::atoi(argv[3]) : 1);
    if (argc == 3 && std::strcmp(argv[1], "mutate") == 0) return mutate(argv[2]);
    if (argc == 3 && std::strcmp(argv[1], "million") == 0) return million(argv[2]);
    if (argc == 4 && std::strcmp(argv[1], "files") == 0) return files(argv[2], std::strtoull(argv[3], nullptr, 10));
    std::fprintf(stderr, "usage: bench_tree generate DIR [SCALE] | mutate DIR | million DIR | files DIR N\n");
    return 64;
}
