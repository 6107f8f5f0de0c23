#include "common/atomic_file.h"

#include <dirent.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/fsuid.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace gcl {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::vector<std::string> Entries(const std::string& folder) {
  std::vector<std::string> names;
  DIR* dir = opendir(folder.c_str());
  if (dir == nullptr) return names;
  while (const dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(dir);
  return names;
}

// A fresh, empty folder per test under Bazel's TEST_TMPDIR.
class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    std::string pattern = std::string(tmp != nullptr ? tmp : "/tmp") + "/atomic_file_XXXXXX";
    ASSERT_NE(mkdtemp(&pattern[0]), nullptr);
    folder_ = pattern;
  }
  std::string folder_;
};

TEST_F(AtomicFileTest, CreatesAndOverwritesWithExactBytes) {
  const std::string path = folder_ + "/state.pb";
  const std::string first("binary\0bytes\xff", 13);
  WriteFileAtomically(path, first);
  EXPECT_EQ(ReadAll(path), first);
  WriteFileAtomically(path, "shorter");
  EXPECT_EQ(ReadAll(path), "shorter");
  WriteFileAtomically(path, "");
  EXPECT_EQ(ReadAll(path), "");
  EXPECT_THAT(Entries(folder_), ::testing::ElementsAre("state.pb"));
}

TEST_F(AtomicFileTest, NewFilesFollowTheUmaskAndOverwritesKeepPermissions) {
  const mode_t mask = umask(022);
  const std::string path = folder_ + "/report.md";
  WriteFileAtomically(path, "a");
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  ASSERT_EQ(chmod(path.c_str(), 0640), 0);
  WriteFileAtomically(path, "b");
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  umask(mask);
}

TEST_F(AtomicFileTest, RelativePathsWriteIntoTheWorkingFolder) {
  char* old = getcwd(nullptr, 0);
  ASSERT_EQ(chdir(folder_.c_str()), 0);
  WriteFileAtomically("relative.txt", "here");
  ASSERT_EQ(chdir(old), 0);
  free(old);
  EXPECT_EQ(ReadAll(folder_ + "/relative.txt"), "here");
}

TEST_F(AtomicFileTest, AFailedWriteLeavesTheOldFileAndNoTemporary) {
  const std::string path = folder_ + "/checkpoint.pb";
  const std::string old_contents(100, 'o');
  WriteFileAtomically(path, old_contents);
  // Make the write fail half-way: files of this process may not grow past 4 KiB (write() then gets EFBIG).
  struct rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  struct rlimit small = saved;
  small.rlim_cur = 4096;
  const auto old_handler = signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string error;
  try {
    WriteFileAtomically(path, std::string(64 * 1024, 'n'));
  } catch (const std::runtime_error& e) {
    error = e.what();
  }
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &saved), 0);
  signal(SIGXFSZ, old_handler);
  EXPECT_THAT(error,
              AllOf(HasSubstr("cannot write " + path), HasSubstr("writing 65536 bytes"), HasSubstr("File too large")));
  EXPECT_EQ(ReadAll(path), old_contents);
  EXPECT_THAT(Entries(folder_), ::testing::ElementsAre("checkpoint.pb"));
}

TEST_F(AtomicFileTest, ReadersSeeOnlyWholeVersions) {
  const std::string path = folder_ + "/bank.bin";
  const std::string small(1000, 'a');
  const std::string large(300000, 'b');
  WriteFileAtomically(path, small);
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::atomic<int> torn{0};
  std::thread reader([&] {
    while (!done) {
      const std::string seen = ReadAll(path);
      if (seen != small && seen != large) ++torn;
      ++reads;
    }
  });
  for (int i = 0; i < 40; ++i) WriteFileAtomically(path, i % 2 == 0 ? large : small);
  done = true;
  reader.join();
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(torn.load(), 0);
  EXPECT_EQ(Entries(folder_).size(), 1u);
}

TEST_F(AtomicFileTest, ErrorsNameThePathAndTheReason) {
  const std::string missing = folder_ + "/no/such/folder/file.txt";
  EXPECT_THAT([&] { WriteFileAtomically(missing, "x"); },
              ::testing::ThrowsMessage<std::runtime_error>(
                  AllOf(HasSubstr("cannot write " + missing), HasSubstr("No such file or directory"))));

  const std::string regular = folder_ + "/plain";
  WriteFileAtomically(regular, "x");
  const std::string under_file = regular + "/child.txt";
  EXPECT_THAT([&] { WriteFileAtomically(under_file, "x"); },
              ::testing::ThrowsMessage<std::runtime_error>(
                  AllOf(HasSubstr("cannot write " + under_file), HasSubstr("Not a directory"))));

  const std::string folder_target = folder_ + "/sub";
  ASSERT_EQ(mkdir(folder_target.c_str(), 0755), 0);
  EXPECT_THAT([&] { WriteFileAtomically(folder_target, "x"); },
              ::testing::ThrowsMessage<std::runtime_error>(
                  AllOf(HasSubstr("cannot write " + folder_target), HasSubstr("Is a directory"))));

  EXPECT_THAT([&] { WriteFileAtomically(folder_ + "/", "x"); },
              ::testing::ThrowsMessage<std::runtime_error>(HasSubstr("names a folder, not a file")));
  EXPECT_THAT([] { WriteFileAtomically("", "x"); },
              ::testing::ThrowsMessage<std::runtime_error>(HasSubstr("the path is empty")));
  // Nothing was left behind by the failures.
  EXPECT_THAT(Entries(folder_), ::testing::UnorderedElementsAre("plain", "sub"));
  EXPECT_TRUE(Entries(folder_target).empty());
}

TEST_F(AtomicFileTest, UnwritableFolderIsRefused) {
  const std::string locked = folder_ + "/locked";
  ASSERT_EQ(mkdir(locked.c_str(), 0555), 0);
  const std::string path = locked + "/file.txt";
  // Root ignores permission bits; as root, check files as user "nobody" (65534) on this thread. A file-system
  // user ID other than 0 drops CAP_DAC_OVERRIDE until it is set back.
  const bool root = geteuid() == 0;
  if (root) {
    setfsuid(65534);
    // setfsuid returns the previous ID whether or not it succeeded; asking again tells which ID is in effect.
    if (setfsuid(static_cast<uid_t>(-1)) != 65534) {
      setfsuid(0);
      GTEST_SKIP() << "running as root where user 65534 is not mapped (e.g. a user-namespace sandbox)";
    }
  }
  std::string error;
  try {
    WriteFileAtomically(path, "x");
  } catch (const std::runtime_error& e) {
    error = e.what();
  }
  if (root) setfsuid(0);
  EXPECT_THAT(error, AllOf(HasSubstr("cannot write " + path), HasSubstr("Permission denied")));
  EXPECT_TRUE(Entries(locked).empty());
}

}  // namespace
}  // namespace gcl
